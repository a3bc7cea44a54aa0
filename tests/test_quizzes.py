"""The graded quizzes' item banks and the checks trainees meet: coverage of every learning objective, sources, the
generated notebooks, and friendly messages for answers typed the wrong way."""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from massage_course.grading import quiz_bank, quiz_checks, quiz_notebook
from massage_course.paths import PROJECT_ROOT
from massage_course.topics.data_files import CourseDataError

COURSE = PROJECT_ROOT / "assignments"
QUIZZES = quiz_bank.load_quizzes(COURSE)
BIB_KEYS = set(re.findall(r"^@\w+\{([^,\s]+),", (PROJECT_ROOT / "references.bib").read_text(), re.M))


PART_QUIZZES = {name: quiz for name, quiz in QUIZZES.items() if not quiz.final}


def test_six_quizzes_one_per_part_with_at_least_ninety_items():
    assert len(PART_QUIZZES) >= 6
    assert sum(len(q.items) for q in PART_QUIZZES.values()) >= 90
    covered = [slug for q in PART_QUIZZES.values() for slug in q.chapters]
    assert sorted(covered) == sorted(quiz_bank.chapters()), "each chapter belongs to exactly one quiz"


def test_the_final_post_test_covers_every_chapter_with_new_items_one_attempt_and_a_70_percent_pass_mark():
    (final,) = [quiz for quiz in QUIZZES.values() if quiz.final]
    choice = [item for item in final.items if item.kind == "choice"]
    assert 25 <= len(choice) <= 40
    assert sorted(final.chapters) == sorted(quiz_bank.chapters())
    assert {tag.split(":")[0] for item in choice for tag in item.objectives} == set(quiz_bank.chapters())
    assert final.pass_mark == 70 and final.attempts == 1  # one attempt, 70% (facts.md: the modelled course's test)
    assert not final.reveal_answers  # the key stays out of feedback while anyone may still take the test
    stems = {" ".join(item.stem.split()) for quiz in PART_QUIZZES.values() for item in quiz.items}
    assert not [item.id for item in choice if " ".join(item.stem.split()) in stems], "copied from a quiz"


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
    generated = json.loads(nbformat.writes(quiz_notebook.build_notebook(bank)))
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


def private_bank(folder, title="Part 1: the private bank of a real course"):
    """A course's own bank in ``folder``: the repository's first bank with another title (and no practice header)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (COURSE / "quizzes" / "quiz-1-hospital.yaml").read_text()
    text = re.sub(r"^title: .*$", f'title: "{title}"', text, count=1, flags=re.M)
    (folder / "quiz-1-hospital.yaml").write_text("\n".join(l for l in text.splitlines() if not l.startswith("#")))
    return folder


def test_every_bank_in_the_repository_says_at_its_top_that_it_is_a_practice_bank():
    """Issue 16, item 7: the repository is public, so its banks (keys included) are practice banks, and say so."""
    banks = sorted((COURSE / "quizzes").glob("*.yaml"))
    assert len(banks) == len(QUIZZES)
    for bank in banks:
        top = " ".join(line.lstrip("# ") for line in bank.read_text().splitlines()[:4])
        assert top.startswith("PRACTICE BANK (demo).") and "never to grade for real" in top, bank.name
        assert "MASSAGE_COURSE_BANKS" in top
    guide = (PROJECT_ROOT / "book" / "instructor-guide.md").read_text()
    assert "**The item banks in the repository are practice (demo) banks.**" in guide
    assert "MASSAGE_COURSE_BANKS" in guide


def test_a_course_reads_its_banks_from_the_private_folder_the_setting_names(tmp_path, monkeypatch):
    banks = private_bank(tmp_path / "private-banks")
    monkeypatch.setenv(quiz_bank.BANKS_SETTING, str(banks))
    assert quiz_bank.bank_folder(COURSE) == banks
    read = quiz_bank.load_quizzes(COURSE)
    assert list(read) == ["quiz-1-hospital"]
    assert read["quiz-1-hospital"].title.endswith("the private bank of a real course")
    monkeypatch.delenv(quiz_bank.BANKS_SETTING)
    assert quiz_bank.bank_folder(COURSE) == COURSE / "quizzes"


def test_the_quizzes_command_writes_the_sources_from_the_private_banks_and_names_a_missing_folder(tmp_path):
    import os
    import subprocess
    import sys

    course = tmp_path / "course"
    course.mkdir()
    banks = private_bank(tmp_path / "private-banks")
    env = {**os.environ, "COLUMNS": "200", quiz_bank.BANKS_SETTING: str(banks)}
    result = subprocess.run([sys.executable, "-m", "massage_course", "quizzes", f"--course={course}"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert str(banks) in result.stdout
    written = sorted(p.relative_to(course).as_posix() for p in course.rglob("*.ipynb"))
    assert written == ["source/quiz-1-hospital/quiz-1-hospital.ipynb"]
    notebook = course / "source" / "quiz-1-hospital" / "quiz-1-hospital.ipynb"
    assert "the private bank of a real course" in notebook.read_text()
    assert not (course / "quizzes").exists()  # the banks stay where they are
    env[quiz_bank.BANKS_SETTING] = str(tmp_path / "nowhere")
    missing = subprocess.run([sys.executable, "-m", "massage_course", "quizzes", f"--course={course}"],
                             capture_output=True, text=True, env=env)
    assert missing.returncode == 2 and "MASSAGE_COURSE_BANKS names" in missing.stdout and "nowhere" in missing.stdout


def test_the_demo_class_refuses_to_mix_the_practice_banks_with_the_real_ones_the_setting_names(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, quiz_bank.BANKS_SETTING: str(private_bank(tmp_path / "private-banks"))}
    result = subprocess.run([sys.executable, "-m", "massage_course", "demo", f"--course={tmp_path / 'demo'}"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 2 and "unset MASSAGE_COURSE_BANKS" in " ".join(result.stdout.split())
    assert not (tmp_path / "demo").exists()
