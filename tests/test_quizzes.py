"""The graded quizzes' item banks and the checks trainees meet: coverage of every learning objective, sources, the
generated notebooks, and friendly messages for answers typed the wrong way."""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from massage_course.grading import quiz_bank, quiz_checks
from massage_course.paths import PROJECT_ROOT
from massage_course.topics.data_files import CourseDataError

COURSE = PROJECT_ROOT / "assignments"
QUIZZES = quiz_bank.load_quizzes(COURSE)
BIB_KEYS = set(re.findall(r"^@\w+\{([^,\s]+),", (PROJECT_ROOT / "references.bib").read_text(), re.M))


def test_six_quizzes_one_per_part_with_at_least_sixty_items():
    assert len(QUIZZES) >= 6
    assert sum(len(q.items) for q in QUIZZES.values()) >= 60
    covered = [slug for q in QUIZZES.values() for slug in q.chapters]
    assert sorted(covered) == sorted(quiz_bank.chapters()), "each chapter belongs to exactly one quiz"


def test_every_learning_objective_is_assessed_by_a_multiple_choice_item():
    assessed = {tag for q in QUIZZES.values() for item in q.items if item.kind == "choice" for tag in item.objectives}
    wanted = {f"{slug}:{n}" for slug, chapter in quiz_bank.chapters().items()
              for n in range(1, len(chapter.objectives) + 1)}
    assert wanted - assessed == set()
    assert len(wanted) >= 60


@pytest.mark.parametrize("quiz", sorted(QUIZZES))
def test_quiz_has_a_pass_mark_a_written_item_with_rubric_and_sourced_items(quiz):
    bank = QUIZZES[quiz]
    assert bank.pass_mark == 70  # the modelled course's online test: 70% to pass (dion2015, facts.md)
    written = [item for item in bank.items if item.kind == "written"]
    assert written and all(sum(r["points"] for r in item.rubric) == item.points for item in written)
    for item in bank.items:
        assert set(item.sources) <= BIB_KEYS, (item.id, set(item.sources) - BIB_KEYS)
        assert item.read_more["section"] in quiz_bank.chapters()[item.read_more["chapter"]].headings
        for tag in item.objectives:
            assert tag.split(":")[0] in bank.chapters, f"{item.id} assesses {tag}, a chapter outside the quiz"
    choice = [item for item in bank.items if item.kind == "choice"]
    assert all(len(item.choices) == 4 and item.answer in item.choices for item in choice)
    letters = [item.answer for item in choice]
    assert max(letters.count(x) for x in "abcd") <= len(letters) // 2, "the key leans on one letter"


@pytest.mark.parametrize("quiz", sorted(QUIZZES))
def test_committed_source_notebook_is_the_one_the_bank_generates(quiz):
    bank = QUIZZES[quiz]
    committed = json.loads((COURSE / "source" / quiz / bank.notebook).read_text())
    generated = json.loads(nbformat.writes(quiz_bank.build_notebook(bank)))
    assert committed == generated, f"run: python -m massage_course quizzes (the {quiz} bank changed)"


def test_a_broken_bank_gets_a_message_naming_the_file_and_item(tmp_path):
    bank = (COURSE / "quizzes" / "quiz-1-hospital.yaml").read_text()
    target = tmp_path / "quiz-1-hospital.yaml"
    target.write_text(bank.replace('objectives: ["integrative-medicine:1"]', 'objectives: ["integrative-medicine:9"]'))
    with pytest.raises(CourseDataError, match=r"quiz-1-hospital.yaml, item q01: objective 'integrative-medicine:9'"):
        quiz_bank.load_quiz(target)
    target.write_text(bank.replace("    answer: c\n", "    answer: z\n", 1))
    with pytest.raises(CourseDataError, match=r"at items/0/answer"):
        quiz_bank.load_quiz(target)


@pytest.mark.parametrize(
    ("line", "letter"),
    [('answer = "b"', "b"), ("answer = 'B '", "b"), ("answer = b", "b"), ('answer = ""', ""),
     ('answer = "b"  # my guess', "b"), ('answer = "e"', None), ("answer = Anything('b')", None),
     ('answer = "b"\nprint(1)', None), ("answer = ", None), ('reply = "b"', None)],
)
def test_reading_an_answer_line_without_running_it(line, letter):
    assert quiz_bank.read_answer(line, "abcd") == letter


@pytest.mark.parametrize(
    ("answer", "message"),
    [("", "You have not answered yet"), ("e", "'e' is not one of the choices"), (3, "one letter between quotes"),
     (type("Anything", (str,), {"__eq__": lambda self, other: True})("z"), "one letter between quotes")],
)
def test_a_malformed_answer_gets_a_friendly_message(answer, message):
    with pytest.raises(AssertionError, match=message):
        quiz_checks.take_answer({"answer": answer}, "abcd")


def test_sloppy_but_clear_answers_are_accepted_and_graded_as_meant():
    for typed in ("b", "B", " b ", quiz_checks.b):
        namespace = {"answer": typed}
        assert quiz_checks.take_answer(namespace, "abcd") == typed and "answer" not in namespace
        quiz_checks.assert_choice(typed, "quiz-9/q01", quiz_bank.answer_digest("quiz-9", "q01", "b"))
    with pytest.raises(AssertionError, match="not the best answer"):
        quiz_checks.assert_choice("c", "quiz-9/q01", quiz_bank.answer_digest("quiz-9", "q01", "b"))


def test_a_missing_answer_says_to_run_the_answer_cell_first():
    with pytest.raises(AssertionError, match="run the cell with your answer"):
        quiz_checks.take_answer({}, "abcd")


def test_the_course_package_holds_no_answer_key():
    """The trainee's kernel can import the package, so no item bank or key may live in it."""
    package = PROJECT_ROOT / "massage_course"
    texts = "\n".join(p.read_text(errors="ignore") for p in package.rglob("*") if p.is_file() and p.suffix != ".pyc")
    for bank in QUIZZES.values():
        for item in bank.items:
            if item.kind == "choice":
                assert item.rationale[:60] not in texts
                assert quiz_bank.answer_digest(bank.id, item.id, item.answer) not in texts


def test_quizzes_command_rewrites_the_notebooks_from_the_banks(tmp_path):
    import shutil
    import subprocess
    import sys

    course = tmp_path / "course"
    shutil.copytree(COURSE / "quizzes", course / "quizzes")
    result = subprocess.run([sys.executable, "-m", "massage_course", "quizzes", f"--course={course}"],
                            capture_output=True, text=True, env={**__import__("os").environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "quiz-1-hospital" in result.stdout and "11 of 11" in result.stdout
    for quiz in QUIZZES.values():
        assert (course / "source" / quiz.id / quiz.notebook).read_text() == \
            (COURSE / "source" / quiz.id / quiz.notebook).read_text()
    (course / "quizzes" / "quiz-1-hospital.yaml").write_text("quiz: [unclosed")
    broken = subprocess.run([sys.executable, "-m", "massage_course", "quizzes", f"--course={course}"],
                            capture_output=True, text=True)
    assert broken.returncode == 2 and "is not valid YAML" in broken.stdout
