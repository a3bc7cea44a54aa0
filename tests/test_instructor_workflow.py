"""The instructor's whole workflow on the demo class, through the command line and nbgrader's real gradebook: grade,
grade written answers by hand, feedback (released through the exchange), report; and release, collect and
zip-collect through nbgrader."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import zipfile

import nbformat
import pytest

from massage_course.grading.answer_key import (
    answer_key_fragments,
    find_leaks,
    visible_text,
)
from massage_course.grading.demo import write_demo
from massage_course.grading.feedback import write_feedback
from massage_course.grading.nbgrader_api import course_api
from massage_course.grading.quiz_bank import answer_digest, load_quiz
from massage_course.paths import PROJECT_ROOT

from .conftest import QUIZ, copy_course, quiz_key
from .conftest import course_command as run

KEY = quiz_key()
COURSE_BANK = PROJECT_ROOT / "assignments" / "quizzes" / f"{QUIZ}.yaml"
HAND_SCORES = {0: 3, 1: 1, 2: 0}  # written answers by quality (demo.WRITTEN), as an instructor might grade them



def typed_letter(line: str) -> str:
    """The letter a demo trainee meant, worked out independently of the course's own parser."""
    match = re.fullmatch(r'answer = "?([a-dA-D]?) ?"?', line)
    return match.group(1).lower() if match else "?"


@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    exchange = tmp_path_factory.mktemp("exchange")
    mp.setenv("MASSAGE_COURSE_EXCHANGE", str(exchange))
    mp.delenv("MASSAGE_COURSE_GRADEBOOK_URL", raising=False)
    root = copy_course(tmp_path_factory.mktemp("workflow") / "course")
    cohort = write_demo(root, trainees=30, seed=11)
    graded = run(root, "grade", QUIZ)
    yield root, cohort, graded, exchange
    mp.undo()


def expected_score(trainee) -> int:
    return sum(typed_letter(trainee.answers[QUIZ][item]) == letter for item, letter in KEY.items())


def test_demo_class_has_thirty_varied_trainees(workflow):
    _, cohort, _, _ = workflow
    assert len(cohort) == 30
    scores = [expected_score(t) for t in cohort]
    assert min(scores) < 9 < max(scores), scores  # a spread of results, not all alike
    lines = [line for t in cohort for item, line in t.answers[QUIZ].items() if item in KEY]
    assert any('"' not in line for line in lines) and any(re.search(r'"[A-D]"', line) for line in lines)


def test_grade_command_scores_the_demo_class_exactly_and_flags_the_damaged_file(workflow):
    root, cohort, graded, _ = workflow
    assert graded.returncode == 1, graded.stderr  # one submission failed
    report = {row["student"]: row for row in json.loads((root / "reports" / f"{QUIZ}-grading.json").read_text())}
    assert report["demo-broken"]["status"] == "failed" and report["demo-broken"]["score"] is None
    for trainee in cohort:
        row = report[trainee.student]
        assert row["status"] == "needs_manual_grading", row  # every quiz has a written answer to grade by hand
        assert row["score"] == expected_score(trainee), trainee.student
        assert not any("tampered" in p for p in row["problems"])


@pytest.fixture(scope="module")
def hand_graded(workflow):
    """The instructor grades the written answers (as in the formgrader) and writes and releases feedback."""
    from massage_course.grading.demo import WRITTEN

    root, cohort, _, exchange = workflow
    with course_api(root).gradebook as gradebook:
        for trainee in cohort:
            text = trainee.answers[QUIZ]["w01"]
            grade = gradebook.find_grade("w01-task", QUIZ, QUIZ, trainee.student)
            grade.manual_score = HAND_SCORES[WRITTEN.index(text)] if text in WRITTEN else 0
            grade.needs_manual_grade = False  # what the formgrader records when the instructor saves a score
            comment = gradebook.find_comment("w01-task", QUIZ, QUIZ, trainee.student)
            comment.manual_comment = f"Seen by the instructor for {trainee.student}."
        gradebook.db.commit()
    result = run(root, "feedback", QUIZ, "--release")
    return root, cohort, result, exchange


def test_feedback_is_written_and_released_for_every_graded_trainee(hand_graded):
    root, cohort, result, exchange = hand_graded
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Feedback pages written for {len(cohort)} trainee(s)" in result.stdout
    assert "demo-broken: grading failed" in result.stdout
    assert len(list(exchange.rglob("feedback/*.html"))) == len(cohort)


def test_feedback_pages_are_right_about_each_item_and_hold_no_key(hand_graded):
    root, cohort, _, _ = hand_graded
    bank = load_quiz(root / "quizzes" / f"{QUIZ}.yaml")
    key = answer_key_fragments(root / "source" / QUIZ / f"{QUIZ}.ipynb")
    digests = [answer_digest(QUIZ, item, letter) for item, letter in KEY.items()]
    for trainee in cohort:
        page = (root / "feedback" / trainee.student / QUIZ / f"{QUIZ}.html").read_text()
        text = visible_text(page)
        assert find_leaks(page, key) == [] and find_leaks(text, key) == []
        assert not any(d in page for d in digests)
        assert "assert" not in text and "Traceback" not in text and "answer_given" not in text
        with course_api(root).gradebook as gradebook:
            score = gradebook.find_submission(QUIZ, trainee.student).score
        assert f"Your score: {score:g} of {bank.max_score} points" in text
        assert ("You passed." in text) == (score >= bank.pass_mark / 100 * bank.max_score - 1e-9)
        verdicts = re.findall(r"Question (\d+)(?: \(written answer\))?: (right|not right|partly right)", text)
        right = {int(n) for n, verdict in verdicts if verdict == "right"}
        meant = {n for n, (item, letter) in enumerate(sorted(KEY.items()), 1)
                 if typed_letter(trainee.answers[QUIZ][item]) == letter}
        assert right - {len(KEY) + 1} == meant  # the written answer comes after the multiple-choice items
        assert f"Seen by the instructor for {trainee.student}." in text
        assert "Best answer:" in text and bank.items[0].rationale[:80] in text  # this quiz reveals its answers


def test_a_quiz_that_hides_its_answers_gives_feedback_without_them(hand_graded):
    root, cohort, _, _ = hand_graded
    bank_file = root / "quizzes" / f"{QUIZ}.yaml"
    original = bank_file.read_text()
    bank_file.write_text(original.replace("reveal_answers: true", "reveal_answers: false"))
    try:
        pages, _ = write_feedback(root, QUIZ)
    finally:
        bank_file.write_text(original)
    bank = load_quiz(bank_file)
    text = visible_text(pages[0].read_text())
    assert "Best answer:" not in text and "Why:" not in text and "What a full answer covers" not in text
    assert all(item.rationale[:60] not in text for item in bank.items if item.kind == "choice")
    assert "Read more: Chapter 1, Massage in integrative medicine" in text


def test_report_exports_grades_and_an_item_analysis_that_matches_the_class(hand_graded):
    root, cohort, _, _ = hand_graded
    result = run(root, "report", QUIZ)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "item analysis (KR-20" in result.stdout and "mastery per learning objective" in result.stdout
    folder = root / "reports"
    grades = {row["trainee"]: row for row in csv.DictReader((folder / f"{QUIZ}-grades.csv").open())}
    assert len(grades) == len(cohort) + 1 and grades["demo-broken"]["status"] == "failed"
    items = {row["item"]: row for row in csv.DictReader((folder / f"{QUIZ}-items.csv").open())}
    for n, (item, letter) in enumerate(sorted(KEY.items())):
        share = sum(typed_letter(t.answers[QUIZ][item]) == letter for t in cohort) / len(cohort)
        assert float(items[item]["difficulty"]) == pytest.approx(share, abs=1e-3)
        chosen = [typed_letter(t.answers[QUIZ][item]) for t in cohort]
        assert int(items[item][f"chose_{letter}"]) == chosen.count(letter)
    summary = json.loads((folder / f"{QUIZ}-summary.json").read_text())
    assert summary["trainees"] == len(cohort) + 1 and summary["kr20"] is not None
    for name in ("scores", "items", "objectives"):
        assert (folder / f"{QUIZ}-{name}.png").stat().st_size > 10_000
    objectives = list(csv.DictReader((folder / f"{QUIZ}-objectives.csv").open()))
    assert len(objectives) == len({tag for item in load_quiz(COURSE_BANK).items for tag in item.objectives})


def test_nbgraders_own_feedback_buttons_never_hand_a_trainee_the_generated_notebook(hand_graded):
    """The formgrader's Generate Feedback and Release Feedback buttons call these two API methods. nbgrader's page
    (the graded notebook, test cells and all) replaces the course's page in feedback/; releasing it is refused, with
    the trainee named and what to run instead, and what the trainee's Fetch Feedback finds stays the course's page."""
    root, cohort, _, exchange = hand_graded
    trainee = cohort[0].student
    api = course_api(root)
    page = root / "feedback" / trainee / QUIZ / f"{QUIZ}.html"
    course_page = page.read_text()
    in_exchange = {path: path.read_text() for path in exchange.rglob("feedback/*.html")}
    try:
        generated = api.generate_feedback(QUIZ, trainee)
        assert generated["success"], generated["log"]
        assert page.read_text() != course_page
        released = api.release_feedback(QUIZ, trainee)
        assert not released["success"], released["log"]
        assert trainee in released["log"] and "massage_course feedback" in released["log"], released["log"]
        assert {path: path.read_text() for path in exchange.rglob("feedback/*.html")} == in_exchange
    finally:
        page.write_text(course_page)


def test_release_fetch_submit_and_collect_through_the_exchange(tmp_path, monkeypatch):
    exchange = tmp_path / "exchange"
    monkeypatch.setenv("MASSAGE_COURSE_EXCHANGE", str(exchange))
    monkeypatch.delenv("MASSAGE_COURSE_GRADEBOOK_URL", raising=False)
    root = copy_course(tmp_path / "course")
    quiz = "quiz-2-safety-anatomy"
    released = run(root, "release", quiz)
    assert released.returncode == 0, released.stdout + released.stderr
    trainee = tmp_path / "trainee"
    trainee.mkdir()
    nbgrader = [sys.executable, "-m", "nbgrader"]
    flags = [f"--Exchange.root={exchange}", "--CourseDirectory.course_id=hospital-massage"]
    subprocess.run([*nbgrader, "fetch_assignment", quiz, *flags], cwd=trainee, check=True, capture_output=True)
    assert (trainee / quiz / f"{quiz}.ipynb").exists()
    subprocess.run([*nbgrader, "submit", quiz, *flags], cwd=trainee, check=True, capture_output=True)
    collected = run(root, "collect", quiz)
    assert collected.returncode == 0 and "1 submission(s)" in collected.stdout, collected.stdout + collected.stderr
    assert len(list((root / "submitted").glob(f"*/{quiz}/{quiz}.ipynb"))) == 1
    assert run(root, "release", "no-such-quiz").returncode == 2


def test_zip_collect_files_downloaded_from_an_lms(tmp_path):
    root = copy_course(tmp_path / "course")
    quiz = "quiz-3-mechanisms-indications"
    assert course_api(root).generate_assignment(quiz)["success"]
    notebook = (root / "release" / quiz / f"{quiz}.ipynb").read_text()
    archive = tmp_path / "lms-download.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr(f"ana_{quiz}.ipynb", notebook)
        zipped.writestr(f"smithj_late_1234_5678_{quiz}-1.ipynb", notebook)  # Canvas names a resubmission like this
        zipped.writestr("my notes.ipynb", notebook)
    result = run(root, "zip-collect", quiz, str(archive))
    assert result.returncode == 0, result.stdout + result.stderr
    for student in ("ana", "smithj"):
        assert nbformat.read(root / "submitted" / student / quiz / f"{quiz}.ipynb", as_version=4).cells
    assert sorted(p.name for p in (root / "submitted").iterdir()) == ["ana", "smithj"]
    assert "skipped my notes.ipynb" in result.stdout  # a file it cannot place is named, not silently dropped
