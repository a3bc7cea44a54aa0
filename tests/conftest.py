"""Shared fixtures: the strict book build (made once per test run) and a throwaway copy of the nbgrader course."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from massage_course.cli import BUILD_HTML, PROJECT_ROOT, STRICT_BUILD

QUIZ = "quiz-hospital-basics"


@pytest.fixture(scope="session", autouse=True)
def venv_tools_on_path():
    """nbgrader calls its own tools (alembic, jupyter) by name, as in an activated environment."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ["PATH"].split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ["PATH"]


@pytest.fixture(scope="session")
def strict_build():
    """Build the book from scratch with warnings as errors; every notebook executes."""
    shutil.rmtree(PROJECT_ROOT / "_build", ignore_errors=True)
    result = subprocess.run(STRICT_BUILD, cwd=PROJECT_ROOT, capture_output=True, text=True)
    return result


@pytest.fixture(scope="session")
def built_html(strict_build) -> Path:
    if strict_build.returncode != 0:
        pytest.fail("the strict book build failed; see test_book_builds_strictly")
    return BUILD_HTML


def copy_course(root: Path) -> Path:
    """The nbgrader course (its config and quiz sources) copied to ``root``, so a test grades in a throwaway course."""
    root.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "assignments" / "nbgrader_config.py", root)
    shutil.copytree(PROJECT_ROOT / "assignments" / "source", root / "source")
    return root


def linked_in_browser(source: tuple, target: tuple) -> bool:
    """Whether a jslink joins two widget traits: the link that keeps a control working in the static book."""
    from ipywidgets.widgets.widget import _instances
    from ipywidgets.widgets.widget_link import Link

    return any(isinstance(w, Link) and w.source == source and w.target == target for w in _instances.values())


def http_get(url: str, timeout: float = 60) -> tuple[int, str]:
    """GET a page from a server that may still be starting: retry until it answers or ``timeout`` seconds pass."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
