"""The first hour of a new instructor, as README.md and the guides write the commands (issue 21): each documented
command works in its documented form from a shell whose PATH does not hold the course's environment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import copy_course

QUIZ = "quiz-1-hospital"


def documented(root: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    """`.venv/bin/python -m massage_course ...` with only a minimal environment: no activated environment on PATH."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "COLUMNS": "200",
           "MASSAGE_COURSE_EXCHANGE": str(home / "exchange")}
    return subprocess.run([sys.executable, "-m", "massage_course", *args, f"--course={root}"], capture_output=True,
                          text=True, env=env, cwd=home)


def test_the_first_release_works_without_the_environment_on_path(tmp_path):
    """It failed with "generate_assignment failed ... see the above traceback": nbgrader runs `alembic` by name."""
    root = copy_course(tmp_path / "course")
    result = documented(root, tmp_path, "release", QUIZ)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (root / "release" / QUIZ / f"{QUIZ}.ipynb").exists()


def test_the_demo_class_works_without_the_environment_on_path(tmp_path):
    root = copy_course(tmp_path / "course")
    result = documented(root, tmp_path, "demo", "--trainees", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(list((root / "submitted").glob(f"demo0*/{QUIZ}"))) == 3  # and one broken submission, on purpose


def test_each_mode_keeps_its_jupyter_state_inside_the_course(tmp_path, monkeypatch):
    """A fresh clone showed an old submission and a "Fetch Feedback" button from nbgrader's cache in the home folder,
    and an old workspace tab: Jupyter's data, runtime, settings and workspaces now live in the course's state folder,
    one set per mode, and the news prompt is off."""
    from massage_course.hub import local_lab

    monkeypatch.setattr(local_lab, "STATE", tmp_path / "state")
    monkeypatch.setattr(local_lab, "JUPYTER_CONFIG", tmp_path / "state" / "jupyter")
    trainee, instructor = local_lab.lab_environment(trainee=True), local_lab.lab_environment(trainee=False)
    for name in ("JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR"):
        assert Path(trainee[name]).is_relative_to(tmp_path / "state" / "lab" / "trainee"), name
        assert Path(instructor[name]).is_relative_to(tmp_path / "state" / "lab" / "instructor"), name
    # nbgrader's cache of fetched quizzes and feedback follows Jupyter's data folder
    data_dir = subprocess.run([sys.executable, "-c", "from jupyter_core.paths import jupyter_data_dir; "
                               "print(jupyter_data_dir())"], env=trainee, capture_output=True, text=True).stdout.strip()
    assert Path(data_dir) == tmp_path / "state" / "lab" / "trainee" / "data"
    news = Path(trainee["JUPYTERLAB_SETTINGS_DIR"]) / "@jupyterlab" / "apputils-extension"
    assert '"fetchNews": "false"' in (news / "notification.jupyterlab-settings").read_text()


def test_a_second_start_is_refused_and_says_where_the_first_runs(tmp_path, monkeypatch, capsys):
    """A second `./course start` rebuilt the book the first was serving and started a second JupyterLab on the same
    gradebook: now the build and the serve step both refuse, naming the running one."""
    import json
    import os

    from massage_course import cli
    from massage_course.hub import local_lab

    running = tmp_path / "running.json"
    monkeypatch.setattr(local_lab, "RUNNING", running)
    running.write_text(json.dumps({"pid": os.getpid(), "addresses": "\n  Book:        http://127.0.0.1:8000/\n",
                                   "trainee": False}))
    assert cli.main(["build"]) == 1
    assert "already running from this folder" in capsys.readouterr().err
    assert local_lab.serve(0, 0) == 1
    said = capsys.readouterr().err
    assert f"process {os.getpid()}" in said and "http://127.0.0.1:8000/" in said and "Stop it first" in said
    # a run that crashed leaves its file behind; a dead process is not "running"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    running.write_text(json.dumps({"pid": dead.pid, "addresses": "", "trainee": False}))
    assert local_lab.running_course() is None



def test_the_demo_makes_its_own_clean_copy_and_its_hint_names_that_copy(tmp_path):
    """The demo's hint left out --course (so following it graded the real course), and a copy of assignments/ made
    after real use was refused as holding real submissions: the demo now copies the course into a new folder."""
    target = tmp_path / "demo-course"
    result = documented(target, tmp_path, "demo", "--trainees", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (target / "nbgrader_config.py").exists() and (target / "quizzes").is_dir()
    assert f"--course {target}" in " ".join(result.stdout.split())
    assert {p.name for p in (target / "submitted").iterdir()} == {"demo01", "demo02", "demo-broken"}
