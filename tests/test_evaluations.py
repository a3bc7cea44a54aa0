"""The anonymous course evaluation (issue 20): what the form sends, and what the instructors' export keeps. No name,
account or time is stored with an answer; one account cannot flood the results; a hand-made file with a name in it,
a link, a huge file or broken JSON is counted and removed, never exported; a formula in free text stays text."""

from __future__ import annotations

import csv
import json
import os
import stat
import subprocess
import sys

import pytest

from massage_course.grading.evaluations import export_evaluations
from massage_course.lessons import evaluation_form
from massage_course.topics.course_evaluation import DROP_BOX, check_response, evaluation
from massage_course.topics.data_files import CourseDataError

FORM = evaluation()
GOOD = {**{key: 4 for key, _ in FORM.statements}, "most_useful": "The chapter on lines.", "improve": ""}
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="other accounts' files need root to make")


def test_a_response_holds_ratings_and_text_only_never_a_name():
    assert check_response(GOOD)["objectives_met"] == 4
    for bad, words in (({**GOOD, "name": "Ana Abbott"}, "only the form's answers"),
                       ({**GOOD, "relevant": 9}, "rating from 1"), ({**GOOD, "relevant": True}, "rating from 1"),
                       ({**GOOD, "improve": "x" * 5000}, "at most"), ({}, "empty"), ("text", "set of answers")):
        with pytest.raises(CourseDataError, match=words):
            check_response(bad)


def test_the_form_sends_a_private_file_with_a_random_name_and_refuses_without_a_box(tmp_path):
    with pytest.raises(FileNotFoundError, match="tell your instructor"):
        evaluation_form.send(GOOD, tmp_path / "missing")
    box = tmp_path / DROP_BOX
    box.mkdir()
    first, second = evaluation_form.send(GOOD, box), evaluation_form.send(GOOD, box)
    assert first != second and len(first.stem) == 32
    assert stat.S_IMODE(first.stat().st_mode) & 0o007 == 0  # others may not read it
    assert json.loads(first.read_text()) == check_response(GOOD)
    assert evaluation_form.evaluation_form() is not None  # the widgets build


@as_root
def test_the_export_keeps_one_answer_per_account_and_no_name_account_or_time(tmp_path):
    exchange = tmp_path / "exchange"
    box = exchange / DROP_BOX
    box.mkdir(parents=True)
    written = []
    for uid, rating, text in ((2001, 5, "=HYPERLINK(\"http://x\")"), (2002, 3, "More figures."),
                              (2003, 2, "Shorter chapters.")):
        written.append(evaluation_form.send({**GOOD, "objectives_met": rating, "improve": text}, box))
        os.chown(written[-1], uid, 0)
    for n in range(50):  # one account floods the box; its last answer counts once
        flood = evaluation_form.send({**GOOD, "objectives_met": 1, "improve": f"flood {n}"}, box)
        os.chown(flood, 2002, 0)
        os.utime(flood, (1_000_000 + n, 1_000_000 + n))
    os.utime(written[1], (2_000_000, 2_000_000))  # 2002's own answer is its latest
    (box / "named.json").write_text(json.dumps({**GOOD, "name": "Ana Abbott"}))
    (box / "broken.json").write_text("{not json")
    (box / "huge.json").write_text(json.dumps({**GOOD, "improve": "x" * 1900}) + " " * 70000)
    os.symlink("/etc/shadow", box / "link.json")
    result = export_evaluations(tmp_path / "course", "2027-spring", exchange)
    assert (result.added, result.duplicates, result.unreadable, result.total) == (3, 50, 4, 3)
    assert list(box.iterdir()) == []  # nothing left that ties an answer to an account
    with result.table.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert set(rows[0]) == set(FORM.columns)  # no name, account, file or time column
    assert sorted(row["improve"] for row in rows) == ["'=HYPERLINK(\"http://x\")", "More figures.", "Shorter chapters."]
    assert "Ana Abbott" not in result.table.read_text() and "flood" not in result.table.read_text()
    with result.summary.open(newline="") as handle:
        summary = {row["statement"]: row for row in csv.DictReader(handle)}
    met = summary[dict(FORM.statements)["objectives_met"]]
    assert met["answers"] == "3" and met["mean (1-5)"] == "3.33"


def test_the_evaluations_command_exports_and_prints_a_summary(tmp_path):
    exchange = tmp_path / "exchange"
    env = {**os.environ, "MASSAGE_COURSE_EXCHANGE": str(exchange), "COLUMNS": "200"}
    command = [sys.executable, "-m", "massage_course", "evaluations", "--cohort", "2027-spring",
               f"--course={tmp_path / 'course'}"]
    subprocess.run(command, capture_output=True, text=True, env=env, check=True)  # makes the box on one machine
    evaluation_form.send(GOOD, exchange / DROP_BOX)
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Exported 1 new evaluation" in result.stdout and "Fewer than 3 responses" in result.stdout
    assert "Course evaluation, 2027-spring" in result.stdout
    bad = subprocess.run([*command[:5], "../x", command[-1]], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "cohort name" in bad.stderr
