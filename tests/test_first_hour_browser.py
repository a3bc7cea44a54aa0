"""The first hour end to end, as README.md and the two guides write it (issue 21): the instructor's commands in their
documented form from a shell whose PATH does not hold the course's environment (test_first_hour.documented), and the
trainee's part in a real JupyterLab, started with the course's trainee settings, driven in Debian's Chromium.

One quiz, one trainee, one pass through every step: the instructor releases quiz 1; the trainee finds it in the
Assignments list, fetches it, opens it, answers one question right, one wrong and one with a word, runs the check
cells, validates and submits; the instructor collects, grades, releases feedback and writes the report; the trainee
fetches the feedback and reads it. Each step's failure message carries what the trainee's page or the command said.
"""

from __future__ import annotations

import csv
import json
import re
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from massage_course.grading.answer_key import answer_key_fragments, find_leaks
from massage_course.grading.quiz_bank import load_quiz
from massage_course.hub import local_lab
from massage_course.paths import PROJECT_ROOT

from . import test_lab
from .conftest import QUIZ, copy_course
from .test_first_hour import documented
from .test_lab import KERNEL_SECONDS, Lab, choice_answers, launch, menu, stop, wait_until_up

pytestmark = pytest.mark.browser
open_lab = test_lab.open_lab  # the fixture: a page in a fresh browser context that records every console error

WORD = "Explain"  # what a trainee types instead of a letter (issue 21, finding 2)
# What trainees must never see: Python's traceback, the package's code, the hidden tests and the key in code form.
NEVER_SHOWN = ("Traceback", "AssertionError", "AnswerProblem", "massage_course", "assert_choice", "BEGIN HIDDEN TESTS",
               "### ", "File \"")
DIGEST = re.compile(r"\b[0-9a-f]{64}\b")


def text_of(locator) -> str:
    """A part of the page as the trainee reads it, spaces normalised (textContent: JupyterLab renders lazily)."""
    return " ".join((locator.text_content() or "").split())


@pytest.fixture(scope="module")
def first_hour(tmp_path_factory):
    """A throwaway course (copied from assignments/) with its own exchange and gradebook; the instructor's shell (a
    home folder and a minimal environment) and JupyterLab (for the formgrader, over the copy); the trainee's
    JupyterLab over an empty folder of its own. Each JupyterLab's Jupyter state (nbgrader's cache of submissions and
    feedback, settings, workspaces) is this test's alone, so a run never sees an earlier run's submissions."""
    tmp = tmp_path_factory.mktemp("first-hour")
    course = copy_course(tmp / "course")
    home = tmp / "instructor"
    home.mkdir()
    exchange = home / "exchange"  # where documented() points the instructor's commands
    trainee_folder = tmp / "trainee"
    trainee_folder.mkdir()
    for folder in ("trainee-home", "instructor-home"):
        (tmp / folder).mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(local_lab, "STATE", tmp / "state")
        mp.setattr(local_lab, "JUPYTER_CONFIG", tmp / "state" / "jupyter")
        mp.setattr(local_lab, "COURSE_ROOT", course)  # the instructor's JupyterLab starts in the course, as serve's
        mp.delenv("MASSAGE_COURSE_GRADEBOOK_URL", raising=False)  # the copy's own gradebook, as the commands use
        trainee = launch(trainee_folder, tmp / "trainee-home", {"MASSAGE_COURSE_EXCHANGE": str(exchange)}, trainee=True)
        instructor = launch(tmp, tmp / "instructor-home", {"MASSAGE_COURSE_EXCHANGE": str(exchange)}, trainee=False)
    try:
        wait_until_up(trainee)
        wait_until_up(instructor)
        yield {"course": course, "home": home, "exchange": exchange, "lab": trainee, "instructor": instructor}
    finally:
        for lab in (trainee, instructor):
            stop(lab)


def formgrader(lab: Lab, method: str, path: str, body: dict | None = None):
    """A request to the formgrader's API, as its Manual Grading page sends it; the answer's JSON."""
    request = urllib.request.Request(lab.url(f"/formgrader/api{path}"), method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def instructor_runs(hour: dict, *args: str) -> str:
    """One documented instructor command (``python -m massage_course ...``); its output, or a failure that shows it."""
    started = time.monotonic()
    result = documented(hour["course"], hour["home"], *args)
    said = result.stdout + result.stderr
    hour.setdefault("timings", {})[args[0]] = round(time.monotonic() - started, 1)
    assert result.returncode == 0, f"`python -m massage_course {' '.join(args)}` exited {result.returncode}:\n{said}"
    assert "Traceback" not in said, f"`python -m massage_course {' '.join(args)}` printed a traceback:\n{said}"
    return said


def assignment_list(page):
    """Nbgrader > Assignment List, as the trainee guide says; the list's panel."""
    menu(page, "Nbgrader").get_by_role("menuitem", name="Assignment List").click()
    panel = page.locator("#released_assignments_list").locator("xpath=ancestor::div[contains(@class,'lm-Widget')][1]")
    panel.wait_for()
    return panel


def run_cell(page, cell, typed: str | None = None) -> None:
    """Click into a cell, type ``typed`` over what it holds (if given), press Shift+Enter and wait until it has run."""
    cell.scroll_into_view_if_needed()
    cell.locator(".cm-content").click()
    if typed is not None:
        page.keyboard.press("Control+a")
        page.keyboard.type(typed)
    page.keyboard.press("Shift+Enter")
    prompt = cell.locator(".jp-InputArea-prompt")
    try:
        page.wait_for_function("p => /\\[\\d+\\]/.test(p.textContent)", arg=prompt.element_handle(),
                               timeout=KERNEL_SECONDS * 1000)
    except PlaywrightTimeout as error:  # say which cell, and what the page showed
        raise AssertionError(f"the cell did not run: its prompt says {prompt.text_content()!r}; the cell shows "
                             f"{text_of(cell)!r}") from error


def trainee_fetches_and_opens_the_quiz(page, lab: Lab):
    """Assignments list: Fetch next to the quiz, then the notebook's link under Downloaded assignments."""
    released = page.locator("#released_assignments_list")
    released.locator(".list_item", has_text=QUIZ).wait_for()
    released.locator(".list_item", has_text=QUIZ).get_by_role("button", name="Fetch").click()
    fetched = page.locator("#fetched_assignments_list")
    fetched.get_by_role("button", name="Submit").wait_for()
    assert (lab.root / QUIZ / f"{QUIZ}.ipynb").is_file(), \
        f"Fetch did not put the quiz in the trainee's folder: {sorted(p.name for p in lab.root.iterdir())}"
    # The assignment's name folds out its notebooks; the list redraws itself after a fetch, which can fold it again.
    notebook_link = fetched.locator(".assignment-notebooks a", has_text=QUIZ)
    for _ in range(5):
        if not notebook_link.is_visible():
            fetched.locator("a.assignment-notebooks-link", has_text=QUIZ).click()
        try:
            notebook_link.wait_for(state="visible", timeout=3000)
            notebook_link.click()
            break
        except PlaywrightTimeout:  # folded again by a redraw: unfold it again
            continue
    notebook = page.locator(".jp-NotebookPanel", has=page.locator(".jp-Cell"))
    try:
        notebook.first.wait_for(timeout=30_000)
    except PlaywrightTimeout as error:
        raise AssertionError(f"the quiz did not open from Downloaded assignments; the list shows: "
                             f"{text_of(fetched)!r}") from error
    # Run All before the kernel is connected runs nothing, and so does Shift+Enter: wait for "Idle", as the guide says.
    page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$")).wait_for(timeout=KERNEL_SECONDS * 1000)
    return notebook.first


def test_a_new_instructor_and_a_new_trainee_get_through_the_first_hour_as_the_guides_write_it(first_hour, open_lab):
    hour, lab = first_hour, first_hour["lab"]
    bank = load_quiz(PROJECT_ROOT / "assignments" / "quizzes" / f"{QUIZ}.yaml")
    # The quiz's first three multiple-choice questions: one answered right, one wrong, one with a word.
    right, wrong, word = [item for item in bank.items if item.kind == "choice"][:3]
    [written] = [item for item in bank.items if item.kind == "written"]
    typed = {right.id: f'answer = "{right.answer}"', wrong.id: f'answer = "{min(set(wrong.letters) - {wrong.answer})}"',
             word.id: f'answer = "{WORD}"'}
    letters = ", ".join(f'"{letter}"' for letter in word.letters)
    word_sentence = f"Question {bank.number(word)}: {WORD!r} is not one of the choices; type one of {letters}."
    started = time.monotonic()

    # Before the release, the trainee's list says there is nothing to fetch (trainee guide, step 1).
    page = open_lab(lab, "/lab?reset")
    panel = assignment_list(page)
    placeholder = page.locator("#released_assignments_list_placeholder")
    placeholder.wait_for()
    assert "There are no assignments to fetch" in text_of(placeholder), text_of(panel)

    # 1. The instructor releases quiz 1.
    said = instructor_runs(hour, "release", QUIZ)
    assert f"Released {QUIZ}" in said, said

    # 2. The trainee refreshes the list, fetches the quiz and opens it from Downloaded assignments.
    page.locator("#refresh_assignments_list").click()
    notebook = trainee_fetches_and_opens_the_quiz(page, lab)

    # 3. The first code cell loads the checks; then three answers, each run with its check cell (Shift+Enter twice).
    run_cell(page, notebook.locator(".jp-CodeCell").first)
    assert notebook.locator(".jp-CodeCell").first.locator(".jp-OutputArea-output").count() == 0, \
        f"the first code cell showed: {text_of(notebook.locator('.jp-CodeCell').first.locator('.jp-OutputArea'))!r}"
    checks = {}
    for item in (right, wrong, word):
        number = bank.number(item)
        check = notebook.locator(".jp-CodeCell", has_text=f"# Question {number}: checks")
        answer = check.locator("xpath=preceding-sibling::div[contains(@class,'jp-Cell')][1]")
        assert 'answer = ""' in text_of(answer), f"no answer cell above question {number}'s check: {text_of(answer)!r}"
        run_cell(page, answer, typed[item.id])
        run_cell(page, check)
        checks[number] = text_of(check.locator(".jp-OutputArea"))
    assert checks[bank.number(right)] == "" and checks[bank.number(wrong)] == "", \
        f"a check cell said something about a well-formed answer (it must not tell right from wrong): {checks}"
    assert checks[bank.number(word)] == word_sentence, \
        f"the word answer's check cell should show only {word_sentence!r}; it shows {checks[bank.number(word)]!r}"

    # 4. Validate in the notebook toolbar (it saves first): the word answer is named, in a sentence, no traceback.
    page.locator(".jp-NotebookPanel-toolbar").get_by_role("button", name="Validate").click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_text("Validation Results").wait_for(timeout=KERNEL_SECONDS * 1000)
    validation = text_of(dialog.locator(".jp-Dialog-body"))
    assert word_sentence in validation, f"Validate does not show {word_sentence!r}; it shows: {validation}"
    assert "Traceback" not in validation and "AssertionError" not in validation, f"Validate shows: {validation}"
    dialog.get_by_role("button", name="Ok").click()
    dialog.wait_for(state="detached")
    saved = choice_answers(lab.root / QUIZ / f"{QUIZ}.ipynb")
    assert {item: saved[item].strip() for item in typed} == typed, f"Validate did not save the answers: {saved}"

    # 5. Submit in the Assignments list.
    assignment_list(page)
    fetched = page.locator("#fetched_assignments_list")
    fetched.locator(".list_item", has_text=QUIZ).get_by_role("button", name="Submit").click()
    page.locator("#submitted_assignments_list .list_item", has_text=QUIZ).wait_for()
    inbound = list(hour["exchange"].glob(f"*/inbound/*+{QUIZ}+*/{QUIZ}.ipynb"))
    assert len(inbound) == 1, f"expected one submission in the exchange, found {inbound}"

    # 6. The instructor collects, grades, writes and releases feedback, and writes the report.
    said = instructor_runs(hour, "collect", QUIZ)
    assert "1 submission(s)" in said, said
    said = instructor_runs(hour, "grade", QUIZ)
    flat = " ".join(said.split())
    # one point, the word answer named and scored 0, the blank written answer listed (instructor's guide, step 3)
    expected = ("needs_manual_grading", f"1 / {bank.max_score}", f"the written question {written.id!r} was left blank",
                f"question {bank.number(word)}: {WORD!r} is not one of {', '.join(word.letters)}: scored 0")
    assert all(line in flat for line in expected), f"grade's table should say {expected}:\n{said}"

    # The written answer waits for hand grading (instructor's guide, step 4): the formgrader offers it, and only it;
    # the instructor gives the blank answer 0, as the Manual Grading page sends it.
    [submission] = formgrader(hour["instructor"], "GET", f"/submitted_notebooks/{QUIZ}/{QUIZ}")
    grades = formgrader(hour["instructor"], "GET", f"/grades?submission_id={submission['id']}")
    waiting = [grade for grade in grades if grade["needs_manual_grade"]]
    assert [grade["name"] for grade in waiting] == [f"{written.id}-task"], \
        f"the formgrader should offer the written answer, and only it, to grade by hand: {waiting}"
    formgrader(hour["instructor"], "PUT", f"/grade/{waiting[0]['id']}", {"manual_score": 0, "extra_credit": 0})

    said = instructor_runs(hour, "feedback", QUIZ, "--release")
    assert "Released feedback for 1 trainee(s)" in said and "no feedback yet" not in said, said
    said = instructor_runs(hour, "report", QUIZ)
    reports = hour["course"] / "reports"
    files = [line.strip() for line in said.split("Files:", 1)[-1].splitlines() if line.strip()]
    assert files, f"the report names no files:\n{said}"
    missing = [name for name in files if not (Path(name) if Path(name).is_absolute() else reports / name).is_file()]
    assert not missing, f"the report names files that are not there: {missing}\n{said}"
    unnamed = [name for name in files if QUIZ not in Path(name).name]
    assert not unnamed, f"report files that do not name the quiz: {unnamed}"
    grades = next((reports / Path(name).name for name in files if name.endswith(".csv") and "grade" in name), None)
    assert grades is not None, f"no grades CSV among the report's files: {files}"
    rows = list(csv.DictReader(grades.open(encoding="utf-8")))
    assert [(row["status"], float(row["score"])) for row in rows] == [("graded", 1.0)], \
        f"the grades CSV should hold the one trainee, graded, with 1 point: {rows}"

    # 7. The trainee fetches the feedback and opens the page from the list's "view feedback" link.
    assignment_list(page)
    page.locator("#refresh_assignments_list").click()
    submitted = page.locator("#submitted_assignments_list")
    submitted.get_by_role("button", name="Fetch Feedback").click()
    view = submitted.get_by_text("(view feedback)")
    try:
        view.wait_for()
    except PlaywrightTimeout as error:
        raise AssertionError(f"no feedback to view after Fetch Feedback; the list shows: {text_of(submitted)!r}") \
            from error
    view.click()
    page_file = page.locator(".jp-DirListing-item", has_text=f"{QUIZ}.html")
    page_file.wait_for()
    page_file.dblclick()
    viewer = page.frame_locator(".jp-HTMLViewer iframe").locator("main")
    viewer.wait_for()
    feedback = " ".join(viewer.inner_text().split())  # as laid out: "right</span>(0" reads "right(0"
    score = f"Your score: 1 of {bank.max_score} points ({100 / bank.max_score:.0f}%)"
    assert score in feedback, f"the feedback page does not show the score: {feedback}"
    verdicts = [f"Question {bank.number(right)}: right (1 of 1 point)",
                f"Question {bank.number(wrong)}: not right (0 of 1 point)",
                f"Question {bank.number(word)}: not right (0 of 1 point)",
                f"Question {bank.number(written)} (written answer): not right (0 of {written.points} points)"]
    assert [line for line in verdicts if line not in feedback] == [], f"the feedback page reads: {feedback}"
    note = f"you wrote \u201c{WORD}\u201d, which is not one of the choices ({', '.join(word.letters)}), so it scored 0"
    assert note in feedback, f"the feedback page has no plain note for the word answer: {feedback}"
    shown = [text for text in NEVER_SHOWN if text in feedback] + DIGEST.findall(feedback)
    assert not shown, f"the feedback page shows {shown}: {feedback}"
    [fetched_page] = (lab.root / QUIZ / "feedback").glob(f"*/{QUIZ}.html")  # and its source holds no key either
    leaks = find_leaks(fetched_page.read_text(encoding="utf-8"),
                       answer_key_fragments(hour["course"] / "source" / QUIZ / f"{QUIZ}.ipynb"))
    assert leaks == [] and not DIGEST.findall(fetched_page.read_text(encoding="utf-8")), f"the page leaks {leaks}"
    assert page.errors == [], f"console errors in the trainee's JupyterLab: {page.errors}"
    print(f"\nfirst hour: {time.monotonic() - started:.0f} s; instructor's commands: {hour['timings']}")
