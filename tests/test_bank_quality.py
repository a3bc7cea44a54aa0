"""The item banks meet an item-writing standard (issue 20; NBME's guide): enough items, mostly bedside cases, and no
test-wise cue a trainee could score with (the deferring option, the longest option, one favourite letter), no
near-duplicate stems and no trivia about sources. Each measure is also shown to catch the cue it looks for."""

from __future__ import annotations

import pytest

from massage_course.grading import bank_quality
from massage_course.grading.quiz_bank import Item, Quiz, load_quizzes
from massage_course.paths import COURSE_ROOT

QUIZZES = list(load_quizzes(COURSE_ROOT).values())


def item(stem: str, choices: dict[str, str], answer: str, item_id: str = "q01") -> Item:
    return Item(id=item_id, kind="choice", objectives=("safety:1",), read_more={}, sources=("x",), points=1,
                stem=stem, choices=choices, answer=answer)


def quiz(*items: Item) -> Quiz:
    return Quiz(id="quiz-9-test", title="A test quiz", chapters=("safety",), pass_mark=70, reveal_answers=True,
                items=items)


def test_the_courses_banks_meet_the_item_writing_standard():
    figures = bank_quality.measure(QUIZZES)
    assert figures.problems() == [], bank_quality.report(QUIZZES)


@pytest.mark.parametrize("name", [q.id for q in QUIZZES])
def test_each_quiz_is_mostly_bedside_cases_and_has_no_deferring_cue_of_its_own(name):
    figures = bank_quality.measure([q for q in QUIZZES if q.id == name])
    assert figures.case_share >= 0.6, f"{name}: {figures.case_share:.0%} cases"
    assert figures.key_cue_share <= max(0.1, 2 * figures.distractor_cue_share), (
        f"{name}: keys defer in {figures.key_cue_share:.0%}, distractors in {figures.distractor_cue_share:.0%}")


def test_the_deferring_cue_is_measured_in_keys_against_distractors():
    cued = quiz(*[item(f"Mr. {c}, 70, on a unit: what do you do?",
                       {"a": "Ask his nurse before you go on.", "b": "Press harder.", "c": "Massage the site.",
                        "d": "Skip the lotion."}, "a", f"q{n:02}") for n, c in enumerate("ABCDEFGH", 1)])
    figures = bank_quality.measure([cued])
    assert figures.key_cue_share == 1 and figures.distractor_cue_share == 0 and figures.cue_ratio == float("inf")
    assert any("defer" in problem for problem in figures.problems())
    assert figures.letter_shares["a"] == 1 and any("the key is 'a'" in p for p in figures.problems())


def test_the_longest_key_near_duplicate_stems_and_trivia_are_caught():
    long_key = item("Mrs. K, 80, has a PICC in her left upper arm. What do you do?",
                    {"a": "Work on it.", "b": "Leave the left upper arm alone and work elsewhere, lightly.",
                     "c": "Rub it.", "d": "Press it."}, "b")
    twin = item("Mrs. K, 80, has a PICC in her left upper arm. What do you do now?", long_key.choices, "b", "q02")
    trivia = item("Which fact sheet quotes the secondary book?", {"a": "One", "b": "Two", "c": "Three",
                                                                   "d": "None of the above"}, "a", "q03")
    figures = bank_quality.measure([quiz(long_key, twin, trivia)])
    assert bank_quality.key_is_longest(long_key) and not bank_quality.key_is_longest(trivia)
    assert figures.similar and figures.similar[0][:2] == ("quiz-9-test/q01", "quiz-9-test/q02")
    assert figures.forbidden == [("quiz-9-test/q03", ["None of the above", "fact sheet", "quotes", "secondary book"])]
    assert not bank_quality.is_case(trivia) and bank_quality.is_case(long_key)
