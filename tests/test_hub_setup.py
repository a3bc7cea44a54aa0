"""The course hub's setup without root: the roster's clear messages, and the Jupyter settings each role gets."""

from __future__ import annotations

import grp
import json
import os
import pwd
import runpy
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from massage_course.hub import machine as hub
from massage_course.hub.local_lab import INSTRUCTOR_SERVER_EXTENSIONS, TRAINEE_LAB_PLUGINS_OFF
from massage_course.paths import PROJECT_ROOT


def roster(tmp_path, text: str):
    path = tmp_path / "roster.yaml"
    path.write_text(text)
    return hub.load_roster(path)


def test_a_good_roster_is_read_in_order(tmp_path):
    read = roster(tmp_path, "instructors: [rivera]\ntrainees: [chen, okafor-2, smith]\n")
    assert read.instructors == ("rivera",) and read.trainees == ("chen", "okafor-2", "smith")
    assert hub.load_roster(PROJECT_ROOT / "deploy" / "hub" / "roster.example.yaml").instructors == ("rivera",)


@pytest.mark.parametrize("text, words", [
    ("instructors: [rivera]\ntrainees: [Chen]\n", "not usable as login names"),
    ("instructors: [rivera]\ntrainees: [a+b]\n", "not usable as login names"),
    ("instructors: [rivera]\ntrainees: [rivera]\n", "named more than once"),
    ("trainees: [chen]\n", "names no instructor"),
    ("instructors: rivera\n", "must be a list"),
    ("instructors: [rivera]\nstudents: [chen]\n", "two lists"),
    ("instructors: [rivera\n", "not valid YAML"),
])
def test_a_bad_roster_gets_a_message_that_says_what_to_fix(tmp_path, text, words):
    with pytest.raises(hub.HubError, match=words):
        roster(tmp_path, text)


def test_a_missing_roster_is_named(tmp_path):
    with pytest.raises(hub.HubError, match="cannot read the roster"):
        hub.load_roster(tmp_path / "nowhere.yaml")


def test_the_hub_uses_the_course_id_of_the_nbgrader_course():
    config = (PROJECT_ROOT / "assignments" / "nbgrader_config.py").read_text()
    assert f'c.CourseDirectory.course_id = "{hub.COURSE_ID}"' in config


def test_trainees_settings_switch_off_the_instructor_tools_and_name_no_gradebook(tmp_path):
    site = hub.Site(tmp_path)
    folders = hub.write_jupyter_settings(site)
    trainee, instructor = folders["trainee"], folders["instructor"]
    server = json.loads((trainee / "jupyter_server_config.json").read_text())["ServerApp"]["jpserver_extensions"]
    assert server == {name: False for name in INSTRUCTOR_SERVER_EXTENSIONS}
    page = json.loads((trainee / "labconfig" / "page_config.json").read_text())["disabledExtensions"]
    assert page == {name: True for name in TRAINEE_LAB_PLUGINS_OFF}
    # what a trainee's nbgrader reads: the course id and the exchange, nothing of the course folder or the gradebook
    loaded = {}
    exec((trainee / "nbgrader_config.py").read_text(), {"c": _Recorder(loaded)})
    assert loaded == {"CourseDirectory.course_id": hub.COURSE_ID, "Exchange.root": str(site.exchange)}
    assert "gradebook" not in (trainee / "nbgrader_config.py").read_text().lower()
    assert str(site.course) in (instructor / "nbgrader_config.py").read_text()


class _Recorder:
    """Stands for traitlets' config object: records ``c.Section.name = value``."""

    def __init__(self, store, prefix=""):
        object.__setattr__(self, "_store", store)
        object.__setattr__(self, "_prefix", prefix)

    def __getattr__(self, name):
        return _Recorder(self._store, f"{self._prefix}{name}.")

    def __setattr__(self, name, value):
        self._store[f"{self._prefix}{name}"] = value


def test_the_hub_refuses_to_start_without_root_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setattr(hub.os, "geteuid", lambda: 1000)
    with pytest.raises(hub.HubError, match="must run as root"):
        hub.prepare(tmp_path / "roster.yaml", tmp_path / "state")


def test_the_hub_configuration_gives_the_gradebook_address_to_instructors_only(tmp_path, monkeypatch):
    """The pre-spawn hook, run on two spawners (tests/test_hub.py checks the same on real servers)."""
    settings = {
        "ip": "127.0.0.1", "port": 8000, "hub_port": 8081, "proxy_api_port": 8001, "book_port": 8002,
        "instructors": ["rivera"], "trainees": ["chen"], "course": str(tmp_path / "course"),
        "exchange": str(tmp_path / "exchange"), "hub_state": str(tmp_path),
        "jupyter": {"trainee": str(tmp_path / "t"), "instructor": str(tmp_path / "i")},
        "python_bin": "/usr/bin", "python": "/usr/bin/python3", "notebooks": str(tmp_path / "nb"),
        "proxy": "configurable-http-proxy", "gradebook_url": "postgresql:///gradebook",
        "admin_token": None,
    }
    (tmp_path / "settings.json").write_text(json.dumps(settings))
    monkeypatch.setenv("MASSAGE_COURSE_HUB_SETTINGS", str(tmp_path / "settings.json"))
    from traitlets.config import Config

    config = Config()
    namespace = runpy.run_path(str(hub.HUB_CONFIG), init_globals={"get_config": lambda: config})
    class Spawner:  # the attributes the hook reads and writes
        def __init__(self, name):
            self.user = type("User", (), {"name": name})()
            self.environment = {"JUPYTERHUB_API_URL": "kept"}
            self.notebook_dir = "~"

    monkeypatch.setattr(namespace["pwd"], "getpwnam", lambda name: type("Account", (), {"pw_dir": str(tmp_path)}))
    (tmp_path / "notebooks").mkdir()  # a trainee's copy exists already
    instructor, trainee = Spawner("rivera"), Spawner("chen")
    config.Spawner.pre_spawn_hook(instructor)
    config.Spawner.pre_spawn_hook(trainee)
    assert instructor.environment["MASSAGE_COURSE_GRADEBOOK_URL"] == "postgresql:///gradebook"
    assert instructor.notebook_dir == settings["course"] and trainee.notebook_dir == "~"
    assert trainee.environment["JUPYTERHUB_API_URL"] == "kept"
    assert "MASSAGE_COURSE_GRADEBOOK_URL" not in trainee.environment
    assert trainee.environment["JUPYTER_CONFIG_PATH"] == str(tmp_path / "t")
    assert config.Authenticator.allowed_users == {"rivera", "chen"}


def test_the_hub_refuses_a_bank_setting_that_names_a_folder_of_folders_and_changes_nothing(tmp_path, monkeypatch):
    """The setup closes the bank folder to trainees: a setting naming /srv (say) must not close all of it."""
    (tmp_path / "banks" / "other").mkdir(parents=True)
    monkeypatch.setenv("MASSAGE_COURSE_BANKS", str(tmp_path / "banks"))
    before = (tmp_path / "banks").stat().st_mode
    with pytest.raises(hub.HubError, match="holds folders"):
        hub.close_checkout(os.getgid())
    assert (tmp_path / "banks").stat().st_mode == before


# --- with real accounts (root only, as CI runs): what a trainee's account can read of the checkout -------------------

SETUP_INSTRUCTOR, SETUP_TRAINEE = "mc-setup-instructor", "mc-setup-trainee"
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="makes real accounts: needs root (CI runs as root)")


def _remove_setup_accounts() -> None:
    for name in (SETUP_INSTRUCTOR, SETUP_TRAINEE):
        if subprocess.run(["id", name], capture_output=True).returncode == 0:
            subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
            subprocess.run(["userdel", "--remove", name], capture_output=True)


@pytest.fixture
def accounts():
    """An instructor and a trainee, real Linux accounts made the way the hub makes them; removed afterwards."""
    group_existed = subprocess.run(["getent", "group", hub.INSTRUCTOR_GROUP], capture_output=True).returncode == 0
    _remove_setup_accounts()
    roster = hub.Roster((SETUP_INSTRUCTOR,), (SETUP_TRAINEE,))
    hub.ensure_accounts(roster)
    try:
        yield roster
    finally:
        _remove_setup_accounts()
        if not group_existed:
            subprocess.run(["groupdel", hub.INSTRUCTOR_GROUP], capture_output=True)


@pytest.fixture
def checkout(monkeypatch):
    """A course checkout as git leaves it (everything readable by all), with a gradebook from a local run, and a
    private bank folder named by MASSAGE_COURSE_BANKS; the hub's setup is pointed at it."""
    work = Path(tempfile.mkdtemp(prefix="massage-checkout-"))
    work.chmod(0o755)  # as a checkout under /srv or /opt: every account can reach it
    course = work / "assignments"
    course.mkdir()
    shutil.copy(PROJECT_ROOT / "assignments" / "nbgrader_config.py", course)
    for name in ("quizzes", "source"):
        shutil.copytree(PROJECT_ROOT / "assignments" / name, course / name)
    (course / "gradebook.db").write_bytes(b"SQLite format 3\x00")
    banks = work / "private-banks"
    banks.mkdir()
    (banks / "quiz-1-hospital.yaml").write_text((course / "quizzes" / "quiz-1-hospital.yaml").read_text()
                                                .replace('title: "Part 1:', 'title: "Private part 1:', 1))
    for path in [work, *work.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    monkeypatch.setattr(hub, "COURSE_ROOT", course)
    monkeypatch.setenv("MASSAGE_COURSE_BANKS", str(banks))
    yield work
    shutil.rmtree(work, ignore_errors=True)


def read_as(account: str, paths: list[Path]) -> list[str]:
    """The paths ``account`` can open (files) or list (folders), tried from that account's own Python process."""
    probe = ("import json, os, sys\nfound = []\nfor path in sys.argv[1:]:\n    try:\n"
             "        os.listdir(path) if os.path.isdir(path) else open(path, 'rb').read(1)\n"
             "        found.append(path)\n    except OSError:\n        pass\nprint(json.dumps(found))")
    result = subprocess.run(["runuser", "-u", account, "--", sys.executable, "-c", probe, *map(str, paths)],
                            capture_output=True, text=True, cwd="/")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@needs_root
def test_a_trainee_account_cannot_read_the_checkouts_banks_sources_or_gradebook_but_instructors_can(accounts,
                                                                                                      checkout):
    """Issue 16, item 8: the hub's setup closes the checkout's nbgrader course and the private banks to trainees."""
    course = checkout / "assignments"
    secret = [course / "quizzes" / "quiz-1-hospital.yaml", course / "quizzes",
              course / "source" / "quiz-1-hospital" / "quiz-1-hospital.ipynb", course / "source",
              course / "gradebook.db", course / "nbgrader_config.py", checkout / "private-banks" / "quiz-1-hospital.yaml",
              checkout / "private-banks"]
    assert read_as(SETUP_TRAINEE, secret) == [str(p) for p in secret]  # as git leaves a checkout: open to all
    hub.close_checkout(grp.getgrnam(hub.INSTRUCTOR_GROUP).gr_gid)
    assert read_as(SETUP_TRAINEE, secret) == []
    assert read_as(SETUP_INSTRUCTOR, secret) == [str(p) for p in secret]


@needs_root
def test_a_trainee_account_still_imports_the_course_and_reads_the_notebooks_after_the_hubs_setup(accounts, checkout):
    hub.close_checkout(grp.getgrnam(hub.INSTRUCTOR_GROUP).gr_gid)
    notebooks = sorted((PROJECT_ROOT / "notebooks").rglob("*.ipynb"))[:3]
    assert notebooks and read_as(SETUP_TRAINEE, notebooks) == [str(p) for p in notebooks]
    result = subprocess.run(["runuser", "-u", SETUP_TRAINEE, "--", sys.executable, "-c",
                             "from massage_course.grading.quiz_checks import take_answer, a; print(a)"],
                            capture_output=True, text=True, cwd="/")
    assert result.returncode == 0 and result.stdout.strip() == "a", result.stderr


@needs_root
def test_the_hubs_course_gets_the_private_banks_and_sources_written_from_them(accounts, checkout):
    """Issue 16, item 7 on one machine: with MASSAGE_COURSE_BANKS set, the course folder is made from the private
    banks (its sources written from them), never from the repository's practice banks."""
    site = hub.Site(checkout / "state")
    hub.prepare_course(site, accounts)
    assert sorted(p.name for p in (site.course / "quizzes").iterdir()) == ["quiz-1-hospital.yaml"]
    assert 'title: "Private part 1:' in (site.course / "quizzes" / "quiz-1-hospital.yaml").read_text()
    sources = sorted(p.relative_to(site.course).as_posix() for p in (site.course / "source").rglob("*.ipynb"))
    assert sources == ["source/quiz-1-hospital/quiz-1-hospital.ipynb"]
    assert "# Private part 1:" in (site.course / sources[0]).read_text()
    assert read_as(SETUP_TRAINEE, [site.course / sources[0], site.course]) == []


@needs_root
def test_a_trainee_drops_an_evaluation_in_the_box_but_cannot_list_or_read_it_and_instructors_can(accounts, checkout):
    """Issue 20: the anonymous evaluations' drop box, with real accounts."""
    from massage_course.topics.course_evaluation import DROP_BOX

    site = hub.Site(checkout / "state")
    hub.prepare_course(site, accounts)
    box = site.exchange / DROP_BOX
    send = ("import sys\nfrom pathlib import Path\nfrom massage_course.lessons.evaluation_form import send\n"
            "print(send({'objectives_met': 5, 'improve': 'More figures.'}, Path(sys.argv[1])))")
    sent = subprocess.run(["runuser", "-u", SETUP_TRAINEE, "--", sys.executable, "-c", send, str(box)],
                          capture_output=True, text=True, cwd="/")
    assert sent.returncode == 0, sent.stderr
    response = Path(sent.stdout.strip())
    assert read_as(SETUP_TRAINEE, [box]) == []  # cannot list the box, so cannot find anyone's file
    assert read_as(SETUP_INSTRUCTOR, [box, response]) == [str(box), str(response)]
    # a box someone else made first is refused, not used
    shutil.rmtree(box)
    box.mkdir()
    os.chown(box, pwd.getpwnam(SETUP_TRAINEE).pw_uid, 0)
    with pytest.raises(hub.HubError, match="not the course's own folder"):
        hub.prepare_course(site, accounts)


@needs_root
def test_a_notebook_added_to_the_course_reaches_a_trainee_who_started_before_and_their_own_copies_stay(accounts):
    """The course evaluation came after some trainees' first sign-in: the next server start gives it to them, as
    their own account, without touching their notebooks or following a link they planted."""
    account = pwd.getpwnam(SETUP_TRAINEE)
    tmp_path = Path(tempfile.mkdtemp(prefix="massage-notebooks-"))  # a folder every account can reach, as a checkout
    tmp_path.chmod(0o755)
    course = tmp_path / "course-notebooks"
    course.mkdir()
    for name in ("anatomy-map.ipynb", "course-evaluation.ipynb", "secret-target.ipynb"):
        (course / name).write_text(f'{{"course": "{name}"}}')
    for path in [course, *course.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    mine = Path(account.pw_dir) / "notebooks"
    mine.mkdir(exist_ok=True)
    (mine / "anatomy-map.ipynb").write_text('{"mine": "my notes"}')
    root_only = tmp_path / "root-only.txt"
    root_only.write_text("ROOT ONLY")
    root_only.chmod(0o600)
    (mine / "secret-target.ipynb").symlink_to(root_only)  # a link the trainee planted
    for path in [mine, *mine.iterdir()]:
        os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)
    hub.give_new_notebooks(SETUP_TRAINEE, course, mine)
    assert (mine / "course-evaluation.ipynb").read_text() == '{"course": "course-evaluation.ipynb"}'
    assert (mine / "course-evaluation.ipynb").stat().st_uid == account.pw_uid  # written by the trainee's account
    assert (mine / "anatomy-map.ipynb").read_text() == '{"mine": "my notes"}'
    assert root_only.read_text() == "ROOT ONLY"
    shutil.rmtree(tmp_path)
