"""The instructor's grade command on good, broken and tampered submissions: each gets the right status, the others are
graded correctly, and no failure is a silent zero."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from massage_course.grade_run import grade_quiz
from massage_course.grading import course_api

from .conftest import QUIZ, copy_course

CORRECT = {"q1-answer": "b", "q2-answer": "b", "q3-answer": "c", "q4-answer": "c", "q5-answer": "c"}
WRONG = {"q1-answer": "a", "q2-answer": "c", "q3-answer": "a", "q4-answer": "b", "q5-answer": "b"}


def released(root):
    return nbformat.read(root / "release" / QUIZ / f"{QUIZ}.ipynb", as_version=4)


def answered(root, answers, written=None):
    nb = released(root)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            letter_or_code = answers[grade_id]  # one letter, or a whole cell of code
            cell.source = letter_or_code if len(letter_or_code) > 1 else f'answer = "{letter_or_code}"'
        if written and grade_id == "q6-written":
            cell.source = written
    return nb


def place(root, student, nb=None, raw: str | None = None):
    target = root / "submitted" / student / QUIZ / f"{QUIZ}.ipynb"
    target.parent.mkdir(parents=True)
    if raw is not None:
        target.write_text(raw)
    else:
        nbformat.write(nb, target)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("MASSAGE_COURSE_CELL_TIMEOUT", "4")
    mp.delenv("MASSAGE_COURSE_GRADEBOOK_URL", raising=False)
    root = copy_course(tmp_path_factory.mktemp("grade") / "course")
    assert course_api(root).generate_assignment(QUIZ)["success"]

    place(root, "ana", answered(root, CORRECT, "I would ask the nurse first and stay light."))
    place(root, "ben", answered(root, WRONG, "I would press hard."))
    place(root, "cora", released(root))  # submitted untouched
    place(root, "dev", raw='{"cells": [ this is not json')
    copied = answered(root, CORRECT)
    copied.cells.insert(3, nbformat.v4.new_code_cell('answer = "a"', metadata=copied.cells[2].metadata))
    place(root, "eli", copied)
    deleted = answered(root, CORRECT, "Written.")
    deleted.cells = [c for c in deleted.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "q3-check"]
    place(root, "fay", deleted)
    retyped = answered(root, CORRECT, "Written.")
    for cell in retyped.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "q1-answer":
            cell.cell_type, cell.pop("outputs", None), cell.pop("execution_count", None)
            cell.cell_type = "markdown"
    place(root, "gus", retyped)
    place(root, "hal", answered(root, {**CORRECT, "q2-answer": "while True:\n    pass"}, "Written."))
    stubborn = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    place(root, "ivy", answered(root, {**CORRECT, "q2-answer": stubborn}, "Written."))
    results = {r.student: r for r in grade_quiz(QUIZ, root, workers=2)}
    yield root, results
    mp.undo()


def test_good_submissions_are_graded_exactly(graded):
    _, results = graded
    assert (results["ana"].status, results["ana"].score, results["ana"].max_score) == ("needs_manual_grading", 5, 7)
    assert (results["ben"].status, results["ben"].score) == ("needs_manual_grading", 0)


def test_untouched_submission_is_graded_and_its_blank_written_answer_is_named(graded):
    _, results = graded
    assert results["cora"].status == "graded" and results["cora"].score == 0
    assert any("written answer 'q6-written' was left blank" in p for p in results["cora"].problems)


@pytest.mark.parametrize(
    ("student", "problem"),
    [("dev", "is not a readable notebook file"), ("eli", "appears 2 times (a copied cell)"),
     ("gus", "'q1-answer' was changed from code to markdown")],
)
def test_broken_and_tampered_submissions_fail_with_a_reason_and_no_score(graded, student, problem):
    _, results = graded
    assert results[student].status == "failed" and results[student].score is None
    assert any(problem in p for p in results[student].problems), results[student].problems


def test_a_deleted_check_cell_is_restored_and_graded(graded):
    _, results = graded
    assert results["fay"].status == "needs_manual_grading" and results["fay"].score == 5
    assert any("'q3-check' was restored" in p for p in results["fay"].problems)


def test_a_cell_that_never_finishes_costs_that_item_only(graded):
    _, results = graded
    assert results["hal"].status == "needs_manual_grading" and results["hal"].score == 4


def test_a_loop_that_cannot_be_interrupted_fails_that_trainee_only_with_a_reason(graded):
    _, results = graded
    assert results["ivy"].status == "failed" and results["ivy"].score is None
    assert any("could not be interrupted" in p for p in results["ivy"].problems), results["ivy"].problems
    assert results["ana"].score == 5  # graded in the same run


def test_report_file_lists_every_trainee_with_status_score_and_problems(graded):
    root, results = graded
    report = json.loads((root / "reports" / f"{QUIZ}-grading.json").read_text())
    assert [row["student"] for row in report] == sorted(results)
    assert all(set(row) == {"student", "status", "score", "max_score", "problems"} for row in report)


def test_grade_command_prints_a_table_and_exits_1_when_a_submission_failed(graded, monkeypatch):
    root, _ = graded
    monkeypatch.setenv("MASSAGE_COURSE_CELL_TIMEOUT", "4")
    result = subprocess.run([sys.executable, "-m", "massage_course", "grade", QUIZ, f"--course={root}"],
                            capture_output=True, text=True, env={**__import__("os").environ, "COLUMNS": "200"})
    assert result.returncode == 1, result.stderr
    assert "Grading of quiz-hospital-basics" in result.stdout and "failed" in result.stdout
    missing = subprocess.run([sys.executable, "-m", "massage_course", "grade", "no-such-quiz", f"--course={root}"],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "no quiz named 'no-such-quiz'" in missing.stderr
