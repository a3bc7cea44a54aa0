"""Shared fixtures: the strict book build (made once per test run) and a throwaway copy of the nbgrader course."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Tests keep the course's local state (Jupyter state per mode, a trainee's workspace, what is running) in a folder of
# their own, so that they never meet, or disturb, a course a person is running from this checkout.
os.environ.setdefault("MASSAGE_COURSE_STATE", str(Path(__file__).resolve().parent.parent / ".course" / "tests"))

from massage_course.paths import BUILD_HTML, PROJECT_ROOT  # noqa: E402
from massage_course.site.build import STRICT_BUILD  # noqa: E402

QUIZ = "quiz-1-hospital"  # the quiz the grading tests use (all quizzes share one generator)


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
    shutil.copytree(PROJECT_ROOT / "assignments" / "quizzes", root / "quizzes")
    return root


def course_command(root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """An instructor's command on the course at ``root``, as ``python -m massage_course ... --course=ROOT``, with a
    terminal wide enough that its tables do not wrap."""
    return subprocess.run([sys.executable, "-m", "massage_course", *args, f"--course={root}"], capture_output=True,
                          text=True, env={**os.environ, "COLUMNS": "250", **(env or {})})


def quiz_key(quiz: str = QUIZ) -> dict[str, str]:
    """{item id: right letter} from the item bank."""
    from massage_course.grading.quiz_bank import load_quiz

    bank = load_quiz(PROJECT_ROOT / "assignments" / "quizzes" / f"{quiz}.yaml")
    return {item.id: item.answer for item in bank.items if item.kind == "choice"}


def wrong_key(quiz: str = QUIZ) -> dict[str, str]:
    """{item id: a wrong letter} for every multiple-choice item."""
    return {item: next(x for x in "abcd" if x != letter) for item, letter in quiz_key(quiz).items()}


def fill_quiz(release_nb, answers: dict[str, str] | None = None, written: str | None = None):
    """The released quiz filled in as a trainee would: ``answers`` maps an item id to a letter (typed as
    ``answer = "x"``) or to a whole cell of code; ``written`` fills every written answer."""
    import nbformat

    nb = nbformat.from_dict(release_nb)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        item = grade_id.removesuffix("-answer")
        if answers and grade_id.endswith("-answer") and item in answers:
            value = answers[item]
            cell.source = value if len(value) > 1 else f'answer = "{value}"'
        if written is not None and "written_answer_for" in cell.metadata.get("massage_course", {}):
            cell.source = written
    return nb


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture(scope="module")
def site(built_html):
    """The built book served on 127.0.0.1 only, as ./course start serves it."""
    from massage_course.hub.local_lab import free_port
    from massage_course.site.serve import serve_book

    port = free_port(0)
    server = serve_book(port)
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: ./course test installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def outside(urls: list[str], site: str) -> list[str]:
    """The requests that left the site."""
    from urllib.parse import urlparse

    host = urlparse(site).netloc
    return [u for u in urls if urlparse(u).scheme not in ("data", "blob", "about") and urlparse(u).netloc != host]


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
