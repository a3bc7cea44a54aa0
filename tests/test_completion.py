"""The end of the course: the final post-test graded for a trainee who passes and one who does not, the cohort's
completion record (CSV) and a certificate for the one who passed only, with every field from the course's settings.
Real nbgrader gradebook, real grade command; the certificate's PDF printed by the real Chromium."""

from __future__ import annotations

import csv
from pathlib import Path

import nbformat
import pytest

from massage_course.grading.completion import SETTINGS_FILE, certificate_html
from massage_course.grading.demo import write_demo
from massage_course.grading.nbgrader_api import course_api
from massage_course.grading.quiz_bank import load_quizzes
from massage_course.paths import PROJECT_ROOT
from massage_course.topics.course_hours import WORDS_PER_MINUTE, contact_hours

from .conftest import CHROMIUM, copy_course, fill_quiz, quiz_key, wrong_key
from .conftest import course_command as run

FINAL = next(q for q in load_quizzes(PROJECT_ROOT / "assignments").values() if q.final)
SETTINGS = """course_title: "Massage Therapy in the Hospital"
provider_name: "Example Hospital Education Department"
provider_number: "TEST-0001"
approval_statement: "Approved for testing only: this line stands in for the approving body's statement."
every_quiz_graded: false
"""



@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.delenv("MASSAGE_COURSE_GRADEBOOK_URL", raising=False)
    root = copy_course(tmp_path_factory.mktemp("completion") / "course")
    (root / SETTINGS_FILE).write_text(SETTINGS)
    passer, failer = (t.student for t in write_demo(root, trainees=2, seed=5, broken=False))
    release = nbformat.read(root / "release" / FINAL.id / FINAL.notebook, as_version=4)
    for trainee, answers in ((passer, quiz_key(FINAL.id)), (failer, wrong_key(FINAL.id))):
        nbformat.write(fill_quiz(release, answers, written="A plan, with what I would document."),
                       root / "submitted" / trainee / FINAL.id / FINAL.notebook)
    graded = run(root, "grade", FINAL.id)
    assert graded.returncode in (0, 1), graded.stdout + graded.stderr  # 1: written answers wait for the instructor
    with course_api(root).gradebook as gradebook:  # the instructor grades the written answer, as in the formgrader
        for trainee in (passer, failer):
            for item in (i for i in FINAL.items if i.kind == "written"):
                grade = gradebook.find_grade(f"{item.id}-task", FINAL.notebook.removesuffix(".ipynb"), FINAL.id,
                                             trainee)
                grade.manual_score, grade.needs_manual_grade = item.points, False
        gradebook.db.commit()
    result = run(root, "completion", "--cohort", "2027-spring")
    yield root, passer, failer, result
    mp.undo()


def rows(root) -> dict[str, dict]:
    with open(root / "completion" / "2027-spring" / "2027-spring-completion.csv", newline="") as handle:
        return {row["trainee"]: row for row in csv.DictReader(handle)}


def test_the_completion_record_shows_each_trainees_scores_attempt_status_hours_and_date(finished):
    root, passer, failer, result = finished
    assert result.returncode == 0, result.stdout + result.stderr
    table = rows(root)
    hours = contact_hours(PROJECT_ROOT).hours
    assert table[passer]["final_post_test"] == "100%" and table[passer]["status"] == "completed"
    assert table[passer]["final_attempts"] == "1" and float(table[passer]["contact_hours"]) == hours > 0
    assert table[passer]["date"].startswith("2026-")  # the day the graded final was submitted
    assert table[failer]["status"] == "not passed" and table[failer]["contact_hours"] == "0"
    assert table[failer]["date"] == ""
    assert {"quiz-1-hospital", "name", "final_attempts"} <= set(table[passer])
    assert f"{failer}: not passed" in result.stdout


def test_a_certificate_for_the_trainee_who_passed_only_with_every_field_from_the_settings(finished):
    root, passer, failer, _ = finished
    folder = root / "completion" / "2027-spring" / "certificates"
    page = (folder / f"{passer}.html").read_text()
    assert not (folder / f"{failer}.html").exists() and not (folder / f"{failer}.pdf").exists()
    for field in ("Example Hospital Education Department", "TEST-0001", "Approved for testing only",
                  "Massage Therapy in the Hospital", f"{WORDS_PER_MINUTE} words per minute"):
        assert field in page
    assert "SAMPLE, NOT VALID" not in page
    if Path(CHROMIUM).exists():
        assert (folder / f"{passer}.pdf").read_bytes().startswith(b"%PDF")


def test_a_certificate_with_placeholder_provider_details_is_stamped_as_a_sample():
    import yaml

    settings = yaml.safe_load((PROJECT_ROOT / "assignments" / SETTINGS_FILE).read_text())
    assert "PLACEHOLDER" in settings["provider_number"]  # the repository never ships a made-up provider number
    page = certificate_html(settings, "Ana <b>Abbott</b>", "2026-12-07", 5.0)
    assert "SAMPLE, NOT VALID" in page and "Ana &lt;b&gt;Abbott&lt;/b&gt;" in page


def test_completion_without_settings_or_with_a_bad_cohort_name_says_what_to_do(tmp_path):
    root = copy_course(tmp_path / "course")
    missing = run(root, "completion")
    assert missing.returncode == 2 and "No course settings" in missing.stderr and "Traceback" not in missing.stderr
    bad = run(root, "completion", "--cohort", "../elsewhere")
    assert bad.returncode == 2 and "cohort name" in bad.stderr
