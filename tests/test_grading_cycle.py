"""The whole nbgrader cycle, through nbgrader's own API and gradebook: release, submit, autograde, feedback, export."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from massage_course.answer_key import answer_key_fragments, find_leaks, visible_text
from massage_course.grading import course_api, validate_notebook

from .conftest import QUIZ, copy_course

CORRECT = {"q1-answer": "b", "q2-answer": "b", "q3-answer": "c", "q4-answer": "c", "q5-answer": "c"}
WRONG = {"q1-answer": "a", "q2-answer": "c", "q3-answer": "a", "q4-answer": "b", "q5-answer": "b"}
# Two right, and a typo-tolerant third ("B " is read as "b").
PARTLY = {"q1-answer": "b", "q2-answer": "B ", "q3-answer": "a", "q4-answer": "d", "q5-answer": "a"}
# A str subclass that claims to equal anything must not pass a hidden test.
CHEAT_CLASS = 'class Anything(str):\n    def __eq__(self, other):\n        return True\n    __hash__ = str.__hash__\n'
WRITTEN = "I would check the chart and ask the nurse before the session, and stay gentle whatever the patient asks."


def notebook_path(root: Path, kind: str, student: str | None = None) -> Path:
    parts = [kind] + ([student] if student else []) + [QUIZ, f"{QUIZ}.ipynb"]
    return root.joinpath(*parts)


def submit(root: Path, student: str, answers: dict[str, str] | None, written: str | None, cheat: bool = False) -> None:
    """Fill in the released quiz as a trainee would and place it where nbgrader collects submissions."""
    nb = nbformat.read(notebook_path(root, "release"), as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if answers and grade_id in answers:
            letter = answers[grade_id]
            cell.source = (CHEAT_CLASS + 'answer = Anything("z")') if cheat else f'answer = "{letter}"'
        if written and grade_id == "q6-written":
            cell.source = written
    target = notebook_path(root, "submitted", student)
    target.parent.mkdir(parents=True)
    nbformat.write(nb, target)


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
    assert len(answer_cells) == 5
    for cell in answer_cells:
        assert cell.source.splitlines()[0].startswith('answer = ""'), cell.source


@pytest.mark.parametrize(
    ("student", "auto_points", "items_right"),
    [
        ("correct", 5.0, {"q1-check", "q2-check", "q3-check", "q4-check", "q5-check"}),
        ("wrong", 0.0, set()),
        ("blank", 0.0, set()),
        ("partly", 2.0, {"q1-check", "q2-check"}),
        ("cheater", 0.0, set()),
    ],
)
def test_autograde_scores_are_exact(graded_course, student, auto_points, items_right):
    _, api = graded_course
    with api.gradebook as gradebook:
        submission = gradebook.find_submission_notebook(QUIZ, QUIZ, student)
        assert submission.max_score == 7.0
        checks = {g.name: g for g in submission.grades if g.name.endswith("-check")}
        assert {name for name, g in checks.items() if g.score == 1.0} == items_right
        assert sum(g.score for g in checks.values()) == auto_points
        written = next(g for g in submission.grades if g.name == "q6-written")
        # A written answer waits for the instructor; an untouched one is scored 0 by nbgrader itself.
        assert written.needs_manual_grade is (student in {"correct", "wrong", "cheater"})
        assert submission.score == auto_points


def test_feedback_shows_scores_but_no_hidden_test_or_traceback(graded_course):
    root, _ = graded_course
    key = answer_key_fragments(notebook_path(root, "source"))
    assert any(".strip().lower()" in line for line in key) and any("Model answer" in line for line in key)
    for student in ["correct", "wrong", "blank", "partly", "cheater"]:
        text = visible_text(notebook_path(root, "feedback", student).with_suffix(".html").read_text())
        assert find_leaks(text, key) == [], student
        assert "most recent call last" not in text and "Cell In[" not in text
    wrong = visible_text(notebook_path(root, "feedback", "wrong").with_suffix(".html").read_text())
    assert "AssertionError: That is not the best answer" in wrong
    assert "Score: 0.0 / 7.0" in wrong


def test_export_csv_has_every_trainee_with_exact_scores(graded_course):
    root, _ = graded_course
    out = root / "grades.csv"
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "export", f"--to={out}"], cwd=root, check=True, capture_output=True
    )
    rows = {row["student_id"]: row for row in csv.DictReader(out.open())}
    assert {s: float(r["score"]) for s, r in rows.items()} == {
        "correct": 5.0, "wrong": 0.0, "blank": 0.0, "partly": 2.0, "cheater": 0.0,
    }
    assert {float(r["max_score"]) for r in rows.values()} == {7.0}
