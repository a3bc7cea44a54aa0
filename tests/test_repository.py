"""Trainee work and grades can never be committed by accident; the release is generated, never stored."""

from __future__ import annotations

import subprocess

import pytest

from massage_course.paths import PROJECT_ROOT

MUST_BE_IGNORED = [
    "assignments/release/quiz-1-hospital/quiz-1-hospital.ipynb",
    "assignments/submitted/trainee1/quiz-1-hospital/quiz-1-hospital.ipynb",
    "assignments/autograded/trainee1/quiz-1-hospital/quiz-1-hospital.ipynb",
    "assignments/feedback/trainee1/quiz-1-hospital/quiz-1-hospital.html",
    "assignments/gradebook.db",
    "assignments/reports/quiz-1-hospital-grading.json",
    "assignments/exchange/hospital-massage/inbound/x.ipynb",
    "gradebook.db",
    "_build/html/index.html",
    ".venv/bin/python",
    "venv/bin/python",
    "book/_static/vendor/requirejs/require.js",
    "_output/index.html",
    "lite/static/pyodide/pyodide.asm.wasm",
    "lite/wheels/ipywidgets-8.1.9-py3-none-any.whl",
    "_contents/anatomy-map.ipynb",
    ".course/hub-proxy/node_modules/configurable-http-proxy/package.json",
    "roster.yaml",  # the course hub's roster names real people
    "deploy/hub/roster.yaml",
    # issue 20: attempts, completion records and certificates, evaluations (names and grades)
    "assignments/attempts/quiz-7-final-post-test.json",
    "assignments/completion/2027-spring/2027-spring-completion.csv",
    "assignments/completion/2027-spring/certificates/chen.pdf",
    "assignments/evaluations/2027-spring/2027-spring-evaluations.csv",
]


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True)


@pytest.mark.skipif(git("rev-parse").returncode != 0, reason="not a git checkout")
@pytest.mark.parametrize("path", MUST_BE_IGNORED)
def test_generated_and_trainee_files_are_ignored(path):
    assert git("check-ignore", "--no-index", "-q", path).returncode == 0, f"{path} could be committed"


@pytest.mark.skipif(git("rev-parse").returncode != 0, reason="not a git checkout")
def test_course_sources_are_not_ignored():
    for path in ["assignments/source/quiz-1-hospital/quiz-1-hospital.ipynb", "assignments/nbgrader_config.py",
                 "lite/jupyter-lite.json", "lite/wheels.txt", "deploy/hub/roster.example.yaml",
                 "deploy/hub/package-lock.json"]:
        assert git("check-ignore", "--no-index", "-q", path).returncode == 1, path


def test_the_package_builds_without_a_licence_deprecation_banner_and_states_its_licences(tmp_path):
    """Issue 21, item 7: setuptools printed a licence deprecation banner three times during setup."""
    import shutil
    import subprocess
    import sys
    import zipfile

    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(PROJECT_ROOT / "pyproject.toml", source)
    shutil.copytree(PROJECT_ROOT / "massage_course", source / "massage_course",
                    ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check", "--no-deps",
                             "--no-build-isolation", "-w", str(tmp_path / "out"), str(source)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "license" not in (result.stdout + result.stderr).lower(), (result.stdout + result.stderr)[-2000:]
    (wheel,) = (tmp_path / "out").glob("*.whl")
    metadata = next(name for name in zipfile.ZipFile(wheel).namelist() if name.endswith("METADATA"))
    assert "License-Expression: CC-BY-4.0 AND MIT" in zipfile.ZipFile(wheel).read(metadata).decode()
