"""The course hub's setup without root: the roster's clear messages, and the Jupyter settings each role gets."""

from __future__ import annotations

import json
import runpy

import pytest

from massage_course.hub import machine as hub
from massage_course.hub.local_lab import INSTRUCTOR_LAB_PLUGINS, INSTRUCTOR_SERVER_EXTENSIONS
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
    assert page == {name: True for name in INSTRUCTOR_LAB_PLUGINS}
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
