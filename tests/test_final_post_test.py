"""The final post-test through the whole cycle, as an instructor and a trainee meet it (issue 20): release, fetch,
two submissions (the first all right, the second all wrong), collect (the second kept but not graded, and still not
graded after the trainee deletes the first from the exchange), grade, the written plan graded by hand, feedback that
does not reveal the answers, the item report, and the completion record with a certificate."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from massage_course.grading.answer_key import (
    answer_key_fragments,
    find_leaks,
    visible_text,
)
from massage_course.grading.completion import SETTINGS_FILE
from massage_course.grading.nbgrader_api import course_api
from massage_course.grading.quiz_bank import load_quizzes
from massage_course.paths import PROJECT_ROOT

from .conftest import copy_course, fill_quiz, quiz_key, wrong_key
from .conftest import course_command as run

FINAL = next(q for q in load_quizzes(PROJECT_ROOT / "assignments").values() if q.final)
COURSE_ID = "hospital-massage"



@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    work = tmp_path_factory.mktemp("final")
    exchange = work / "exchange"
    mp.setenv("MASSAGE_COURSE_EXCHANGE", str(exchange))
    mp.delenv("MASSAGE_COURSE_GRADEBOOK_URL", raising=False)
    root = copy_course(work / "course")
    (root / SETTINGS_FILE).write_text((PROJECT_ROOT / "assignments" / SETTINGS_FILE).read_text()
                                      .replace("every_quiz_graded: true", "every_quiz_graded: false"))
    steps = {"release": run(root, "release", FINAL.id)}
    trainee = work / "trainee"
    trainee.mkdir()
    flags = [f"--Exchange.root={exchange}", f"--CourseDirectory.course_id={COURSE_ID}"]
    nbgrader = [sys.executable, "-m", "nbgrader"]
    subprocess.run([*nbgrader, "fetch_assignment", FINAL.id, *flags], cwd=trainee, check=True, capture_output=True)
    notebook = trainee / FINAL.id / FINAL.notebook
    fetched = nbformat.read(notebook, as_version=4)
    inbound = exchange / COURSE_ID / "inbound"

    def submit(answers) -> str:
        nbformat.write(fill_quiz(fetched, answers, written="A plan from the chart, and what I would note."),
                       notebook)
        before = set(os.listdir(inbound)) if inbound.exists() else set()
        subprocess.run([*nbgrader, "submit", FINAL.id, *flags], cwd=trainee, check=True, capture_output=True)
        (new,) = set(os.listdir(inbound)) - before
        return new

    first = submit(quiz_key(FINAL.id))
    submit(wrong_key(FINAL.id))
    steps["collect"] = run(root, "collect", FINAL.id)
    shutil.rmtree(inbound / first)  # the trainee deletes the graded attempt and tries a third time
    submit(wrong_key(FINAL.id))
    steps["collect again"] = run(root, "collect", FINAL.id)
    steps["grade"] = run(root, "grade", FINAL.id)
    (student,) = [p.name for p in (root / "submitted").iterdir()]
    with course_api(root).gradebook as gradebook:
        for item in (i for i in FINAL.items if i.kind == "written"):
            grade = gradebook.find_grade(f"{item.id}-task", FINAL.id, FINAL.id, student)
            grade.manual_score, grade.needs_manual_grade = item.points, False
        gradebook.db.commit()
    steps["feedback"] = run(root, "feedback", FINAL.id, "--release")
    steps["report"] = run(root, "report", FINAL.id)
    steps["completion"] = run(root, "completion", "--cohort", "final-test", "--no-pdf")
    yield root, student, steps
    mp.undo()


def test_the_final_post_test_is_released_and_only_the_first_attempt_is_collected(cycle):
    _, _, steps = cycle
    assert steps["release"].returncode == 0, steps["release"].stdout + steps["release"].stderr
    for name, attempt in (("collect", "attempt 2"), ("collect again", "attempt 3")):
        result = steps[name]
        flagged = [line for line in result.stdout.splitlines() if line.startswith("not collected")]
        assert result.returncode == 1 and any(attempt in line and "allows 1" in line for line in flagged), \
            result.stdout + result.stderr


def test_the_first_attempt_is_graded_in_full_and_its_feedback_reveals_no_answer(cycle):
    root, student, steps = cycle
    assert steps["grade"].returncode in (0, 1), steps["grade"].stdout + steps["grade"].stderr
    with course_api(root).gradebook as gradebook:
        assert gradebook.find_submission(FINAL.id, student).score == FINAL.max_score  # the all-right first attempt
    assert steps["feedback"].returncode == 0, steps["feedback"].stdout + steps["feedback"].stderr
    page = (root / "feedback" / student / FINAL.id / f"{FINAL.id}.html").read_text()
    text = visible_text(page)
    assert f"Your score: {FINAL.max_score:g} of {FINAL.max_score} points" in text
    assert "Best answer:" not in text  # the final test keeps its answers while others may still take it
    assert find_leaks(page, answer_key_fragments(root / "source" / FINAL.id / FINAL.notebook)) == []


def test_the_item_report_and_the_completion_record_cover_the_final_post_test(cycle):
    root, student, steps = cycle
    assert steps["report"].returncode == 0, steps["report"].stdout + steps["report"].stderr
    assert (root / "reports" / f"{FINAL.id}-items.csv").exists()
    assert steps["completion"].returncode == 0, steps["completion"].stdout + steps["completion"].stderr
    table = (root / "completion" / "final-test" / "final-test-completion.csv").read_text()
    row = next(line for line in table.splitlines() if line.startswith(student + ","))
    assert ",100%," in row and ",completed," in row and ",3," in row  # three submissions counted, the first graded
    assert (root / "completion" / "final-test" / "certificates" / f"{student}.html").exists()
