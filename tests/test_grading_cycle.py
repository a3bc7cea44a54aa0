"""The whole nbgrader cycle, through nbgrader's own API and gradebook: release, submit, autograde, feedback, export."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from massage_course.grading.answer_key import answer_key_fragments, find_leaks, visible_text
from massage_course.grading.nbgrader_api import course_api, validate_notebook
from massage_course.grading.quiz_bank import answer_digest

from .conftest import QUIZ, copy_course, fill_quiz, quiz_key, wrong_key

CORRECT = quiz_key()
WRONG = wrong_key()
ITEMS = sorted(CORRECT)
# Two right, one of them typed sloppily ("B " is read as "b"), one typed without quotes; the rest wrong.
PARTLY = {**WRONG, ITEMS[0]: f'answer = "{CORRECT[ITEMS[0]].upper()} "', ITEMS[1]: f"answer = {CORRECT[ITEMS[1]]}"}
# A str subclass that claims to equal anything must not pass a hidden test.
CHEAT_CLASS = 'class Anything(str):\n    def __eq__(self, other):\n        return True\n    __hash__ = str.__hash__\n'
WRITTEN = "I would check the chart and ask the nurse before the session, and stay gentle whatever the patient asks."
POINTS = float(len(CORRECT) + 3)  # the multiple-choice items, 1 point each, and a written answer of 3


def notebook_path(root: Path, kind: str, student: str | None = None) -> Path:
    parts = [kind] + ([student] if student else []) + [QUIZ, f"{QUIZ}.ipynb"]
    return root.joinpath(*parts)


def submit(root: Path, student: str, answers: dict[str, str] | None, written: str | None, cheat: bool = False) -> None:
    """Fill in the released quiz as a trainee would and place it where nbgrader collects submissions."""
    release = nbformat.read(notebook_path(root, "release"), as_version=4)
    if cheat:
        answers = {item: CHEAT_CLASS + 'answer = Anything("z")' for item in answers}
    target = notebook_path(root, "submitted", student)
    target.parent.mkdir(parents=True)
    nbformat.write(fill_quiz(release, answers, written), target)


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    """Release the quiz, grade five trainees' submissions, and write their feedback, once for this module."""
    root = copy_course(tmp_path_factory.mktemp("cycle") / "course")
    api = course_api(root, db_url=f"sqlite:///{root / 'gradebook.db'}")
    generated = api.generate_assignment(QUIZ)
    assert generated["success"], generated["log"]

    submit(root, "correct", CORRECT, WRITTEN)
    submit(root, "wrong", WRONG, WRITTEN)
    submit(root, "blank", None, None)
    submit(root, "partly", PARTLY, None)
    submit(root, "cheater", CORRECT, WRITTEN, cheat=True)
    students = ["correct", "wrong", "blank", "partly", "cheater"]
    for student in students:
        result = api.autograde(QUIZ, student)
        assert result["success"], f"autograde failed for {student}: {result['log']}"
        feedback = api.generate_feedback(QUIZ, student)
        assert feedback["success"], feedback["log"]
    return root, api


def test_source_passes_and_release_fails_validation(graded_course):
    root, _ = graded_course
    assert validate_notebook(notebook_path(root, "source")).passed
    release = validate_notebook(notebook_path(root, "release"))
    assert not release.passed
    assert "VALIDATION FAILED" in release.report


def test_release_holds_no_answer_key(graded_course):
    root, _ = graded_course
    key = answer_key_fragments(notebook_path(root, "source"))
    assert find_leaks(notebook_path(root, "release").read_text(), key) == []


def test_release_keeps_one_clear_answer_line_per_item(graded_course):
    root, _ = graded_course
    nb = nbformat.read(notebook_path(root, "release"), as_version=4)
    answer_cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").endswith("-answer")]
    assert len(answer_cells) == len(CORRECT) >= 12
    for cell in answer_cells:
        assert cell.source.splitlines()[0].startswith('answer = ""'), cell.source


def test_the_rubric_is_shown_to_the_grader_but_not_to_the_trainee(graded_course):
    """The written question's rubric is an nbgrader mark scheme: gone from the release, back in the graded notebook
    that the formgrader shows."""
    root, _ = graded_course

    def task_cell(kind, student=None):
        nb = nbformat.read(notebook_path(root, kind, student), as_version=4)
        return next(c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "w01-task")

    assert "Rubric" not in task_cell("release") and "Model answer" not in task_cell("release")
    graded = task_cell("autograded", "correct")
    assert "Rubric (3 points)" in graded and "Model answer" in graded


@pytest.mark.parametrize(
    ("student", "items_right"),
    [("correct", set(ITEMS)), ("wrong", set()), ("blank", set()), ("partly", set(ITEMS[:2])), ("cheater", set())],
)
def test_autograde_scores_are_exact(graded_course, student, items_right):
    _, api = graded_course
    with api.gradebook as gradebook:
        submission = gradebook.find_submission_notebook(QUIZ, QUIZ, student)
        assert submission.max_score == POINTS
        checks = {g.name.removesuffix("-check"): g for g in submission.grades if g.name.endswith("-check")}
        assert {name for name, g in checks.items() if g.score == 1.0} == items_right
        assert sum(g.score for g in checks.values()) == len(items_right)
        written = next(g for g in submission.grades if g.name == "w01-task")
        # A written answer is a task for the instructor: it always waits for hand grading, never a silent 0.
        assert written.needs_manual_grade and written.score == 0 and written.max_score == 3
        assert submission.score == len(items_right)


def test_the_check_cells_hold_the_key_only_as_digests(graded_course):
    root, _ = graded_course
    source = nbformat.read(notebook_path(root, "source"), as_version=4)
    checks = [c.source for c in source.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").endswith("-check")]
    assert len(checks) == len(CORRECT)
    for item, text in zip(ITEMS, checks):
        hidden = text.split("### BEGIN HIDDEN TESTS")[1]
        assert f'"{CORRECT[item]}"' not in hidden and "==" not in hidden
        assert answer_digest(QUIZ, item, CORRECT[item]) in hidden


def test_feedback_shows_scores_but_no_hidden_test_or_traceback(graded_course):
    root, _ = graded_course
    key = answer_key_fragments(notebook_path(root, "source"))
    assert any("assert_choice(" in line for line in key) and any("Model answer" in line for line in key)
    for student in ["correct", "wrong", "blank", "partly", "cheater"]:
        text = visible_text(notebook_path(root, "feedback", student).with_suffix(".html").read_text())
        assert find_leaks(text, key) == [], student
        assert "most recent call last" not in text and "Cell In[" not in text
    wrong = visible_text(notebook_path(root, "feedback", "wrong").with_suffix(".html").read_text())
    assert "AssertionError: That is not the best answer" in wrong
    assert f"Score: 0.0 / {POINTS}" in wrong


def test_export_csv_has_every_trainee_with_exact_scores(graded_course):
    root, _ = graded_course
    out = root / "grades.csv"
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "export", f"--to={out}"], cwd=root, check=True, capture_output=True
    )
    rows = {row["student_id"]: row for row in csv.DictReader(out.open())}
    assert {s: float(r["score"]) for s, r in rows.items()} == {
        "correct": float(len(CORRECT)), "wrong": 0.0, "blank": 0.0, "partly": 2.0, "cheater": 0.0,
    }
    assert {float(r["max_score"]) for r in rows.values()} == {POINTS}
