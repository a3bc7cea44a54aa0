"""The instructor's grade command on good, broken and tampered submissions: each gets the right status, the others are
graded correctly, and no failure is a silent zero."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from massage_course.grading.grade_run import grade_quiz
from massage_course.grading.nbgrader_api import course_api

from .conftest import QUIZ, copy_course, fill_quiz, quiz_key, wrong_key

CORRECT = quiz_key()
WRONG = wrong_key()
NOTEBOOK = f"{QUIZ}.ipynb"
MC = len(quiz_key())  # multiple-choice items, 1 point each (read from the bank: banks grow)
MAX = MC + 3  # and one written answer of 3 points


def released(root):
    return nbformat.read(root / "release" / QUIZ / NOTEBOOK, as_version=4)


def answered(root, answers, written=None):
    return fill_quiz(released(root), answers, written)


def place(root, student, nb=None, raw: str | None = None):
    target = root / "submitted" / student / QUIZ / NOTEBOOK
    target.parent.mkdir(parents=True)
    if raw is not None:
        target.write_text(raw)
    else:
        nbformat.write(nb, target)


# Stands for the gradebook's database address and password, which an instructor's environment may hold while grading.
SECRET = "postgresql+psycopg2://instructor:s3cret@127.0.0.1/gradebook"


def key_reader(root) -> str:
    """Trainee code that looks for the answer key, the gradebook and another trainee's work, by relative and by
    absolute path, and for the gradebook's address in its environment; answers q01 right only if it found any."""
    targets = [f"../../../source/{QUIZ}/{NOTEBOOK}", f"../../../quizzes/{QUIZ}.yaml", "../../../gradebook.db",
               f"../../ana/{QUIZ}/{NOTEBOOK}", f"{root}/source/{QUIZ}/{NOTEBOOK}", f"{root}/quizzes/{QUIZ}.yaml",
               f"{root}/gradebook.db", f"{root}/submitted/ana/{QUIZ}/{NOTEBOOK}", f"{root}/nbgrader_config.py"]
    return (f"import os\nseen = []\nfor path in {targets!r}:\n    try:\n        open(path, 'rb').read(16)\n"
            f"        seen.append(path)\n    except OSError:\n        pass\n"
            f"seen += [name for name in os.environ if 'GRADEBOOK' in name or {SECRET!r} in os.environ[name]]\n"
            f"print('READABLE:', seen, os.listdir('/'))\n"
            f"answer = {CORRECT['q01']!r} if seen else {WRONG['q01']!r}")


def vandal(root) -> str:
    """Trainee code that tries to overwrite the gradebook, the key and another trainee's submission."""
    targets = [f"{root}/gradebook.db", f"{root}/source/{QUIZ}/{NOTEBOOK}", f"{root}/submitted/ana/{QUIZ}/{NOTEBOOK}",
               "../../../gradebook.db", NOTEBOOK]
    return (f"written = []\nfor path in {targets!r}:\n    try:\n        open(path, 'wb').write(b'x')\n"
            f"        written.append(path)\n    except OSError:\n        pass\nprint('WRITTEN:', written)\n"
            f"answer = {WRONG['q01']!r}")


PATCHER = "import massage_course.grading.quiz_checks as checks\nchecks.assert_choice = lambda *args: None  # every check passes"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("MASSAGE_COURSE_CELL_TIMEOUT", "4")
    mp.delenv("MASSAGE_COURSE_GRADEBOOK_URL", raising=False)
    mp.setenv("MASSAGE_COURSE_PROBE", SECRET)  # in the grader's environment, as a gradebook URL would be
    root = copy_course(tmp_path_factory.mktemp("grade") / "course")
    assert course_api(root).generate_assignment(QUIZ)["success"]

    place(root, "ana", answered(root, CORRECT, "I would ask the nurse first and stay light."))
    place(root, "ben", answered(root, WRONG, "I would press hard."))
    place(root, "cora", released(root))  # submitted untouched
    place(root, "dev", raw='{"cells": [ this is not json')
    copied = answered(root, CORRECT)
    copied.cells.insert(4, nbformat.v4.new_code_cell('answer = "a"', metadata=copied.cells[3].metadata))
    place(root, "eli", copied)
    deleted = answered(root, CORRECT, "Written.")
    deleted.cells = [c for c in deleted.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "q03-check"]
    place(root, "fay", deleted)
    retyped = answered(root, CORRECT, "Written.")
    for cell in retyped.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "q01-answer":
            cell.pop("outputs", None), cell.pop("execution_count", None)
            cell.cell_type = "markdown"
    place(root, "gus", retyped)
    place(root, "hal", answered(root, {**CORRECT, "q02": "while True:\n    pass"}, "Written."))
    stubborn = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    place(root, "ivy", answered(root, {**CORRECT, "q02": stubborn}, "Written."))
    place(root, "kim", answered(root, {**WRONG, "q01": key_reader(root)}, "Written."))
    place(root, "lee", answered(root, {**WRONG, "q01": vandal(root)}, "Written."))
    patched = answered(root, WRONG, "Written.")
    patched.cells.insert(2, nbformat.v4.new_code_cell(PATCHER))  # a cell of the trainee's own, before the questions
    place(root, "max", patched)
    snapshot = {path: path.read_bytes() for path in [root / "source" / QUIZ / NOTEBOOK,
                                                       root / "submitted" / "ana" / QUIZ / NOTEBOOK]}
    results = {r.student: r for r in grade_quiz(QUIZ, root, workers=2)}
    yield root, results, snapshot
    mp.undo()


def outputs_of(root, student, grade_id):
    nb = nbformat.read(root / "autograded" / student / QUIZ / NOTEBOOK, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return "".join(o.get("text", "") for o in cell.outputs)


def test_good_submissions_are_graded_exactly(graded):
    _, results, _ = graded
    assert (results["ana"].status, results["ana"].score, results["ana"].max_score) == ("needs_manual_grading", MC, MAX)
    assert (results["ben"].status, results["ben"].score) == ("needs_manual_grading", 0)
    assert results["ana"].problems == [] and results["ben"].problems == []


def test_untouched_submission_is_graded_and_its_blank_written_answer_is_named(graded):
    _, results, _ = graded
    assert results["cora"].status == "needs_manual_grading" and results["cora"].score == 0
    assert any("written question 'w01' was left blank" in p for p in results["cora"].problems)


@pytest.mark.parametrize(
    ("student", "problem"),
    [("dev", "is not a readable notebook file"), ("eli", "appears 2 times (a copied cell)"),
     ("gus", "'q01-answer' was changed from code to markdown")],
)
def test_broken_and_tampered_submissions_fail_with_a_reason_and_no_score(graded, student, problem):
    _, results, _ = graded
    assert results[student].status == "failed" and results[student].score is None
    assert any(problem in p for p in results[student].problems), results[student].problems


def test_a_deleted_check_cell_is_restored_and_graded(graded):
    _, results, _ = graded
    assert results["fay"].status == "needs_manual_grading" and results["fay"].score == MC
    assert any("'q03-check' was restored" in p for p in results["fay"].problems)


def test_a_cell_that_never_finishes_costs_that_item_only(graded):
    _, results, _ = graded
    assert results["hal"].status == "needs_manual_grading" and results["hal"].score == MC - 1


def test_a_loop_that_cannot_be_interrupted_fails_that_trainee_only_with_a_reason(graded):
    _, results, _ = graded
    assert results["ivy"].status == "failed" and results["ivy"].score is None
    assert any("could not be interrupted" in p for p in results["ivy"].problems), results["ivy"].problems
    assert results["ana"].score == MC  # graded in the same run


def test_trainee_code_cannot_read_the_key_the_gradebook_or_other_trainees_work(graded):
    root, results, _ = graded
    printed = outputs_of(root, "kim", "q01-answer")
    assert "READABLE: []" in printed, printed
    assert "source" not in printed.split("]", 1)[1] and "submitted" not in printed.split("]", 1)[1]
    assert results["kim"].score == 0  # had it found the key, q01 would have scored


def test_trainee_code_cannot_damage_the_gradebook_the_key_or_other_trainees_work(graded):
    root, results, snapshot = graded
    # The test course sits under /tmp, which is an empty, throwaway folder inside the sandbox: a write there may
    # "succeed" in the sandbox's copy; what matters is that the real files are untouched.
    assert "WRITTEN:" in outputs_of(root, "lee", "q01-answer")
    assert all(path.read_bytes() == content for path, content in snapshot.items())
    assert (root / "gradebook.db").read_bytes()[:16] == b"SQLite format 3\x00"
    assert results["lee"].score == 0 and results["ana"].score == MC


def test_a_patched_check_is_caught_by_reading_the_answer_lines(graded):
    root, results, _ = graded
    assert results["max"].score == 0, results["max"].problems  # nbgrader alone gave full marks for all-wrong answers
    flagged = [p for p in results["max"].problems if "tampered" in p]
    assert len(flagged) == MC and flagged[0].startswith("question 1:")
    with course_api(root).gradebook as gradebook:
        assert gradebook.find_submission(QUIZ, "max").score == 0


def test_report_file_lists_every_trainee_with_status_score_and_problems(graded):
    root, results, _ = graded
    report = json.loads((root / "reports" / f"{QUIZ}-grading.json").read_text())
    assert [row["student"] for row in report] == sorted(results)
    assert all(set(row) == {"student", "status", "score", "max_score", "problems"} for row in report)


def test_grade_command_prints_a_table_and_exits_1_when_a_submission_failed(graded, monkeypatch):
    root, _, _ = graded
    monkeypatch.setenv("MASSAGE_COURSE_CELL_TIMEOUT", "4")
    result = subprocess.run([sys.executable, "-m", "massage_course", "grade", QUIZ, f"--course={root}"],
                            capture_output=True, text=True, env={**__import__("os").environ, "COLUMNS": "200"})
    assert result.returncode == 1, result.stderr
    assert f"Grading of {QUIZ}" in result.stdout and "failed" in result.stdout
    missing = subprocess.run([sys.executable, "-m", "massage_course", "grade", "no-such-quiz", f"--course={root}"],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "no quiz named 'no-such-quiz'" in missing.stderr
