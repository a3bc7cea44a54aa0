"""The Kubernetes deployment (deploy/) agrees with itself: the Helm values, the operations guide and the Dockerfile.

Fast and offline: nothing is deployed and no image is built. Each test reads the files fresh, so a change to one of
them that the others do not follow fails here.
"""

from __future__ import annotations

import re
import sys
import textwrap
import tomllib
import types
from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from massage_course.hub.local_lab import INSTRUCTOR_SERVER_EXTENSIONS, TRAINEE_LAB_PLUGINS_OFF

ROOT = Path(__file__).resolve().parent.parent
VALUES = ROOT / "deploy" / "kubernetes" / "values.yaml"
GUIDE = ROOT / "deploy" / "OPERATIONS.md"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
GRADEBOOK_VARIABLE = "MASSAGE_COURSE_GRADEBOOK_URL"
TRAINEES = 100  # the guide sizes per 100 concurrent trainees

# Every key the values use, as looked up in the chart's values.schema.yaml; "*" where the chart passes anything on.
CHART_KEYS = [
    "hub.db.type", "hub.db.url", "hub.config.*", "hub.extraConfig.*",
    "singleuser.image.name", "singleuser.image.tag", "singleuser.image.pullPolicy", "singleuser.cmd",
    "singleuser.defaultUrl", "singleuser.uid", "singleuser.fsGid",
    "singleuser.memory.guarantee", "singleuser.memory.limit", "singleuser.cpu.guarantee", "singleuser.cpu.limit",
    "singleuser.storage.capacity", "singleuser.storage.extraVolumes", "singleuser.storage.extraVolumeMounts",
    "singleuser.extraEnv.*", "singleuser.extraFiles.*.mountPath", "singleuser.extraFiles.*.data.*",
    "singleuser.extraFiles.*.stringData", "singleuser.lifecycleHooks.postStart.*", "singleuser.networkPolicy.egress",
    "cull.enabled", "cull.timeout", "cull.every", "custom.*",
]


@pytest.fixture
def values() -> dict:
    return yaml.safe_load(VALUES.read_text())


@pytest.fixture
def guide() -> str:
    return GUIDE.read_text()


def section(text: str, title: str) -> str:
    """The body of the markdown section ``## title``."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    assert match, f"the guide has no section '## {title}'"
    return match.group(1)


def table(text: str) -> dict[str, str]:
    """{first cell: second cell} for every row of the markdown tables in ``text``."""
    rows = {}
    for line in text.splitlines():
        if line.startswith("|") and not set(line) <= set("|- "):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            rows[cells[0]] = cells[1]
    return rows


def number(cell: str) -> float:
    return float(re.search(r"\d+(?:\.\d+)?", cell).group())


def mebibytes(size: str | int) -> float:
    """'512M', '1G', '2Gi', '50 GiB', '150 MB' in MiB (the chart's M and G are binary units, as KubeSpawner's)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B?|i)\s*", str(size))
    assert match, f"not a size: {size!r}"
    return float(match.group(1)) * 1024 ** "KMGT".index(match.group(2) or "M") / 1024


def code_blocks(text: str, language: str) -> list[str]:
    """The code blocks of ``language`` in ``text``, unindented (some sit inside a list item)."""
    return [textwrap.dedent(block) for block in re.findall(rf"```{language}\n(.*?)^\s*```", text, flags=re.S | re.M)]


def roles(values: dict) -> dict:
    return values["custom"]["massageCourse"]["roles"]


def extra_file(values: dict, name: str) -> dict:
    return values["singleuser"]["extraFiles"][name]


def leaf_paths(node: dict, prefix: str = ""):
    for key, value in node.items():
        if isinstance(value, dict) and value:
            yield from leaf_paths(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def test_values_use_only_keys_checked_in_the_chart_schema(values):
    unknown = [path for path in leaf_paths(values) if not any(fnmatch(path, key) for key in CHART_KEYS)]
    assert not unknown, f"keys not checked against the chart's schema: {unknown}"


def test_the_chart_version_and_its_jupyterhub_are_named_alike(guide):
    chart, hub = re.search(r"chart version (\d+\.\d+\.\d+) \(JupyterHub (\d+\.\d+\.\d+)", VALUES.read_text()).groups()
    assert f"**version {chart}**" in guide and f"JupyterHub {hub}" in guide
    dockerfile = DOCKERFILE.read_text()
    assert f" jupyterhub=={hub}" in dockerfile, "the image's jupyterhub-singleuser must match the hub"
    pinned = re.search(r"^jupyterhub==(\S+)", (ROOT / "requirements.txt").read_text(), flags=re.M)
    if pinned and pinned.group(1) != hub:  # the one-machine hub's pin must not reach the image
        assert "grep -v '^jupyterhub==' requirements.txt" in dockerfile
    assert f"--version {chart}" in VALUES.read_text() and f"--version {chart}" in guide


def test_the_image_is_named_alike_in_values_guide_and_dockerfile(values, guide):
    image = values["singleuser"]["image"]
    name, tag = image["name"], str(image["tag"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", tag), f"pin a version tag, not {tag!r}"
    assert tag == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert f"`{name}:{tag}`" in guide
    dockerfile = DOCKERFILE.read_text()
    assert re.search(rf"^#\s+Image: {re.escape(name)}:{re.escape(tag)}$", dockerfile, flags=re.M)
    assert f'org.opencontainers.image.version="{tag}"' in dockerfile
    assert f"--tag {name}:{tag}" in dockerfile


def test_the_dockerfile_makes_what_the_values_start(values):
    dockerfile = DOCKERFILE.read_text()
    singleuser = values["singleuser"]
    assert re.search(r"^FROM python:3\.11\.\d+-slim-bookworm$", dockerfile, flags=re.M), "pin the Python image"
    assert re.search(rf"useradd .*--uid {singleuser['uid']} --gid {singleuser['fsGid']} .*jovyan$", dockerfile,
                     flags=re.M)
    assert "\nUSER jovyan\nWORKDIR /home/jovyan\n" in dockerfile
    assert singleuser["cmd"] == "jupyterhub-singleuser" and f'CMD ["{singleuser["cmd"]}"]' in dockerfile
    assert singleuser["defaultUrl"] == "/lab"
    assert "bubblewrap" in dockerfile and "massage-course install-sandbox" in dockerfile
    # the first start copies from the image's course folder: each folder it names is copied there
    assert "WORKDIR /opt/massage-course\n" in dockerfile
    start = " ".join(singleuser["lifecycleHooks"]["postStart"]["exec"]["command"])
    for folder in set(re.findall(r"/opt/massage-course/(\w+)", start)):
        assert re.search(rf"^COPY \S+ {folder}/", dockerfile, flags=re.M), f"the image has no {folder}/"


def copied_into_the_image(dockerfile: str) -> list[str]:
    """Every file of the repository that the Dockerfile's COPY and ADD lines take into the image."""
    files = [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*") if p.is_file() and ".git" not in p.parts]
    copied = []
    for line in re.findall(r"^(?:COPY|ADD)\s+(.*)$", dockerfile, flags=re.M):
        assert not line.lstrip().startswith("["), "write COPY lines in the plain form, which this test reads"
        for source in [word for word in line.split() if not word.startswith("--")][:-1]:
            source = source.removeprefix("./").rstrip("/")
            copied += [f for f in files if source in ("", ".") or f == source or f.startswith(source + "/")
                       or fnmatch(f, source)]
    return copied


def test_no_item_bank_and_no_quiz_source_is_copied_into_the_image_every_trainee_runs():
    """Issue 16, item 7: the banks and the source notebooks hold the answer key; the image needs only the config."""
    copied = copied_into_the_image(DOCKERFILE.read_text())
    assert "massage_course/grading/quiz_checks.py" in copied and "notebooks/" in " ".join(copied)
    course = [path for path in copied if path.startswith("assignments/")]
    assert course == ["assignments/nbgrader_config.py"], f"copied into the trainees' image: {course}"
    assert not [path for path in copied if path.endswith(".yaml") and "quiz-" in path]


def test_the_guide_says_where_instructors_keep_the_real_item_banks(guide):
    banks = section(guide, "Item banks: practice banks here, real banks private")
    assert "MASSAGE_COURSE_BANKS" in banks and "practice" in banks and "course volume" in banks
    assert "/srv/massage-course/banks" in banks


def test_every_test_the_threat_model_names_exists_and_each_layer_names_one(guide):
    threat_model = section(guide, "Threat model")
    named = set(re.findall(r"`(test_[a-z0-9_]+)`", threat_model))
    defined = {name for path in (ROOT / "tests").glob("test_*.py")
               for name in re.findall(r"^def (test_[a-z0-9_]+)\(", path.read_text(), flags=re.M)}
    assert len(named) >= 10 and not named - defined, f"named in the threat model but not a test: {named - defined}"
    for layer in ("Sandbox", "Exchange", "Answer key", "Formgrader", "Hub accounts"):
        assert layer in threat_model, f"the threat model does not say what '{layer}' stops"
    for operator_job in ("TLS", "ackup", "single sign-on"):
        assert operator_job in threat_model


def test_the_sizing_table_is_what_the_values_ask_for(values, guide):
    rows = table(section(guide, "Sizing per 100 trainees"))
    trainee, instructor = roles(values)["trainees"]["resources"], roles(values)["instructors"]["resources"]
    singleuser = values["singleuser"]
    assert trainee == {"mem_guarantee": singleuser["memory"]["guarantee"], "mem_limit": singleuser["memory"]["limit"],
                       "cpu_guarantee": singleuser["cpu"]["guarantee"], "cpu_limit": singleuser["cpu"]["limit"]}
    for who, resources in (("Trainee", trainee), ("Instructor", instructor)):
        assert rows[f"{who} server: memory guaranteed"] == str(resources["mem_guarantee"])
        assert rows[f"{who} server: memory limit"] == str(resources["mem_limit"])
        assert number(rows[f"{who} server: CPU guaranteed"]) == resources["cpu_guarantee"]
        assert number(rows[f"{who} server: CPU limit"]) == resources["cpu_limit"]
    total_memory = mebibytes(rows["100 concurrent trainees: memory guaranteed"])
    total_cpu = number(rows["100 concurrent trainees: CPU guaranteed"])
    assert total_memory == TRAINEES * mebibytes(trainee["mem_guarantee"])
    assert total_cpu == pytest.approx(TRAINEES * trainee["cpu_guarantee"])
    count, cpus, memory = map(int, re.fullmatch(r"(\d+) × \((\d+) vCPU, (\d+) GiB\)",
                                                rows["100 concurrent trainees: nodes"]).groups())
    assert (count - 1) * memory * 1024 >= total_memory and (count - 1) * cpus >= total_cpu, "one node spare"
    assert rows["Home folder per trainee"] == singleuser["storage"]["capacity"]


def test_the_guarantees_cover_the_measured_memory(values, guide):
    rows = table(section(guide, "Sizing per 100 trainees"))
    idle = mebibytes(rows["JupyterLab server, idle (RSS)"])
    lesson = mebibytes(rows["Python kernel, typical lesson (RSS)"])
    evidence = mebibytes(rows["Python kernel, evidence explorer (RSS)"])
    trainee = roles(values)["trainees"]["resources"]
    assert mebibytes(trainee["mem_guarantee"]) >= idle + evidence + lesson
    assert mebibytes(trainee["mem_limit"]) >= idle + 3 * evidence


def test_the_volumes_and_secret_the_guide_creates_are_those_the_values_mount(values, guide):
    rows = table(section(guide, "Sizing per 100 trainees"))
    claims = {doc["metadata"]["name"]: doc["spec"]["resources"]["requests"]["storage"]
              for block in code_blocks(guide, "yaml") for doc in yaml.safe_load_all(block)
              if doc.get("kind") == "PersistentVolumeClaim"}
    exchange = values["singleuser"]["storage"]["extraVolumes"][0]["persistentVolumeClaim"]["claimName"]
    course = roles(values)["instructors"]["volumes"][0]["persistentVolumeClaim"]["claimName"]
    assert claims == {exchange: rows["Exchange volume (shared)"], course: rows["Course volume (instructors)"]}
    secret = roles(values)["instructors"]["environment"][GRADEBOOK_VARIABLE]["valueFrom"]["secretKeyRef"]
    assert f"create secret generic {secret['name']}" in guide and f"--from-literal={secret['key']}=" in guide
    cronjob = next(doc for block in code_blocks(guide, "yaml") for doc in yaml.safe_load_all(block)
                   if doc.get("kind") == "CronJob")
    container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["env"][0]["valueFrom"]["secretKeyRef"] == secret


def test_the_grading_figures_add_up(values, guide):
    text = section(guide, "Grading load")
    rows = table(text)
    submissions = number(rows["Submissions"])
    wall, cpu = number(rows["`massage-course grade`, wall time"]), number(rows["`massage-course grade`, CPU time"])
    assert number(rows["Per submission, wall time on 2 cores"]) == pytest.approx(wall / submissions, abs=0.01)
    per_cpu = number(rows["Per submission, CPU time"])
    assert per_cpu == pytest.approx(cpu / submissions, abs=0.05)
    assert number(rows["100 submissions, CPU time"]) == pytest.approx(100 * per_cpu)
    assert number(rows["100 submissions, wall time on 2 cores at the measured rate"]) == pytest.approx(
        100 * wall / submissions, abs=1)
    assert number(rows["100 submissions, wall time on 2 cores if both stay busy"]) == pytest.approx(
        100 * per_cpu / 2, abs=1)
    cpu_limit = roles(values)["instructors"]["resources"]["cpu_limit"]
    assert f"--workers {cpu_limit}" in text
    assert f"--workers {cpu_limit}" in section(guide, "Roles: instructors and trainees")


def test_idle_servers_are_culled_after_the_time_the_guide_states(values, guide):
    cull = values["cull"]
    assert cull["enabled"] is True
    assert number(table(section(guide, "Sizing per 100 trainees"))["Idle server stopped after"]) == cull["timeout"]
    culling = section(guide, "Culling idle servers")
    assert f"checks every {cull['every']} s" in culling and f"unused for {cull['timeout']} s" in culling


def test_the_hub_database_is_postgresql(values):
    assert values["hub"]["db"]["type"] == "postgres"
    assert values["hub"]["db"]["url"].startswith("postgresql")
    assert "password" not in values["hub"]["db"], "pass the password with --set, never in the file"


def test_only_instructors_get_the_gradebook_address(values):
    paths = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == GRADEBOOK_VARIABLE:
                    paths.append(f"{path}{key}")
                walk(value, f"{path}{key}.")
        elif isinstance(node, list):
            for item in node:
                walk(item, path)

    walk(values, "")
    assert paths == [f"custom.massageCourse.roles.instructors.environment.{GRADEBOOK_VARIABLE}"]
    assert GRADEBOOK_VARIABLE not in values["singleuser"]["extraEnv"]
    assert set(roles(values)["instructors"]["environment"][GRADEBOOK_VARIABLE]) == {"valueFrom"}, "from a Secret"


def test_trainees_jupyter_config_switches_off_the_instructor_parts(values):
    config_path = values["singleuser"]["extraEnv"]["JUPYTER_CONFIG_PATH"]
    assert roles(values)["trainees"]["environment"]["JUPYTER_CONFIG_PATH"] == config_path
    server, page = extra_file(values, "trainee-server-config"), extra_file(values, "trainee-page-config")
    assert server["mountPath"] == f"{config_path}/jupyter_server_config.json"
    assert server["data"] == {"ServerApp": {"jpserver_extensions": dict.fromkeys(INSTRUCTOR_SERVER_EXTENSIONS, False)}}
    assert page["mountPath"] == f"{config_path}/labconfig/page_config.json"
    assert page["data"] == {"disabledExtensions": dict.fromkeys(TRAINEE_LAB_PLUGINS_OFF, True)}
    instructor_path = roles(values)["instructors"]["environment"]["JUPYTER_CONFIG_PATH"]
    assert instructor_path != config_path
    instructor_files = [f["mountPath"] for f in values["singleuser"]["extraFiles"].values()
                        if f["mountPath"].startswith(instructor_path + "/")]
    assert instructor_files == [f"{instructor_path}/nbgrader_config.py"], "instructors keep every nbgrader tool"


def test_trainees_and_instructors_use_the_course_and_exchange_of_the_course(values, tmp_path, monkeypatch):
    exchange = values["singleuser"]["storage"]["extraVolumeMounts"][0]["mountPath"]
    assert roles(values)["instructors"]["environment"]["MASSAGE_COURSE_EXCHANGE"] == exchange
    monkeypatch.delenv("MASSAGE_COURSE_EXCHANGE", raising=False)
    course_config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT / "assignments")).load_config()
    trainee = Config()
    exec(extra_file(values, "trainee-nbgrader-config")["stringData"], {"c": trainee})
    assert trainee.CourseDirectory.course_id == course_config.CourseDirectory.course_id
    assert trainee.Exchange.root == exchange
    # the instructors' config reads the course's own config from the course volume (here a copy in tmp_path)
    mount = roles(values)["instructors"]["volumeMounts"][0]["mountPath"]
    code = extra_file(values, "instructor-nbgrader-config")["stringData"]
    assert f'course = "{mount}"' in code
    assert f"test -d {mount} " in " ".join(values["singleuser"]["lifecycleHooks"]["postStart"]["exec"]["command"])
    (tmp_path / "nbgrader_config.py").write_text((ROOT / "assignments" / "nbgrader_config.py").read_text())
    monkeypatch.setenv(GRADEBOOK_VARIABLE, "postgresql+psycopg2://grader@db.invalid/gradebook")
    monkeypatch.setenv("MASSAGE_COURSE_EXCHANGE", exchange)
    instructor = Config()
    exec(code.replace(mount, str(tmp_path)), {"c": instructor})
    assert instructor.CourseDirectory.root == str(tmp_path)
    assert instructor.CourseDirectory.db_url == "postgresql+psycopg2://grader@db.invalid/gradebook"
    assert instructor.Exchange.root == exchange
    # one uid for every server: the one-machine hub's owner check at collect would refuse every submission
    assert course_config.ExchangeFactory.collect == "massage_course.grading.exchange.OwnerCheckedCollect"
    assert instructor.ExchangeFactory.collect == "nbgrader.exchange.default.collect.ExchangeCollect"


def test_the_hub_extra_config_compiles(values):
    assert values["hub"]["extraConfig"]
    for name, code in values["hub"]["extraConfig"].items():
        compile(code, name, "exec")


class StandInSpawner:
    """What the role hook touches of a KubeSpawner, as the chart configures it."""

    def __init__(self, groups: list[str], values: dict, as_dicts: bool = False):
        self.user = types.SimpleNamespace(groups=[types.SimpleNamespace(name=group) for group in groups])
        self.environment = dict(values["singleuser"]["extraEnv"])
        storage = values["singleuser"]["storage"]
        self.volumes = [{"name": "home", "persistentVolumeClaim": {"claimName": "claim-x"}}, *storage["extraVolumes"]]
        self.volume_mounts = [{"name": "home", "mountPath": "/home/jovyan"}, *storage["extraVolumeMounts"]]
        if as_dicts:
            self.volumes = {str(i): v for i, v in enumerate(self.volumes)}
            self.volume_mounts = {str(i): v for i, v in enumerate(self.volume_mounts)}


def role_hook(values: dict, monkeypatch):
    """Run hub.extraConfig as the chart does (with its z2jh.get_config), and return the pre-spawn hook it sets."""

    def get_config(key, default=None):
        node = values
        for level in key.split("."):
            if not isinstance(node, dict) or level not in node:
                return default
            node = node[level]
        return node

    monkeypatch.setitem(sys.modules, "z2jh", types.SimpleNamespace(get_config=get_config))
    c = Config()
    for name, code in sorted(values["hub"]["extraConfig"].items()):
        exec(compile(code, name, "exec"), {"c": c})
    return c.KubeSpawner.pre_spawn_hook


def names(items) -> list[str]:
    return sorted(item.get("name") for item in (items.values() if isinstance(items, dict) else items))


@pytest.mark.parametrize("as_dicts", [False, True], ids=["lists", "dicts"])
def test_the_role_hook_gives_each_group_its_own_set(values, monkeypatch, as_dicts):
    hook = role_hook(values, monkeypatch)
    instructor, trainee = roles(values)["instructors"], roles(values)["trainees"]
    teacher = StandInSpawner(["instructors", "trainees"], values, as_dicts)
    for _ in range(2):  # every start runs the hook again: nothing doubles
        hook(teacher)
    assert {k: teacher.environment[k] for k in instructor["environment"]} == instructor["environment"]
    assert names(teacher.volumes) == sorted(["home", "nbgrader-exchange", *(v["name"] for v in instructor["volumes"])])
    assert len(names(teacher.volume_mounts)) == 2 + len(instructor["volumeMounts"])
    assert all(getattr(teacher, trait) == value for trait, value in instructor["resources"].items())

    learner = StandInSpawner(["trainees"], values, as_dicts)
    hook(learner)
    assert GRADEBOOK_VARIABLE not in learner.environment
    assert learner.environment["JUPYTER_CONFIG_PATH"] == trainee["environment"]["JUPYTER_CONFIG_PATH"]
    assert names(learner.volumes) == ["home", "nbgrader-exchange"] and len(names(learner.volume_mounts)) == 2
    assert all(getattr(learner, trait) == value for trait, value in trainee["resources"].items())

    teacher.user.groups = [types.SimpleNamespace(name="trainees")]  # moved out of the instructors group
    hook(teacher)
    assert GRADEBOOK_VARIABLE not in teacher.environment and names(teacher.volumes) == ["home", "nbgrader-exchange"]
    assert teacher.cpu_limit == trainee["resources"]["cpu_limit"]


def test_the_guide_has_its_sections(guide):
    for title in ("Sizing per 100 trainees", "Grading load", "Backing up the gradebook", "Culling idle servers",
                  "Authentication in production", "What is checked and what is not"):
        assert section(guide, title).strip()
    one_machine = section(guide, "One machine: the course hub")
    assert "./course hub --roster" in one_machine and "MASSAGE_COURSE_GRADEBOOK_URL=" in one_machine
    backup = section(guide, "Backing up the gradebook")
    assert 'sqlite3 gradebook.db ".backup ' in backup and "pg_restore " in backup
    cronjob = next(doc for block in code_blocks(backup, "yaml") for doc in yaml.safe_load_all(block)
                   if doc.get("kind") == "CronJob")
    command = " ".join(cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"])
    assert "pg_dump --format=custom " in command
