"""The package behind the notebooks: reviewed data loads, bad data is refused with a clear message, widgets link."""

from __future__ import annotations

from importlib import resources

import pytest

from massage_course.grading.quiz_checks import check_choice_format
from massage_course.lessons import pressure_scale_cards, self_check
from massage_course.topics import data_files, pressure_scale
from massage_course.topics.data_files import CourseDataError

from .conftest import linked_in_browser


def test_pressure_scale_has_five_levels_in_order_with_its_credit():
    scale = pressure_scale.load_pressure_scale()
    assert [level.level for level in scale.levels] == [1, 2, 3, 4, 5]
    assert scale.source == "walton2011" and "MacDonald" in scale.credit and "Nelson" in scale.credit
    # Level meanings were read only in a secondary summary, and must say so wherever they are shown.
    assert all(level.mark == "V2" for level in scale.levels)
    assert "secondary" in scale.meaning_source_note


def test_level_card_shows_the_level_and_hedges_secondary_limits():
    level = pressure_scale.load_pressure_scale().levels[0]
    card = pressure_scale_cards.level_card_html(level)
    assert "Level 1 of 5: Light lotioning" in card
    assert 'aria-label="Pressure level 1 of 5"' in card
    assert "secondary source" in card


def test_widget_links_buttons_to_cards_in_the_browser():
    import ipywidgets as widgets

    box = pressure_scale_cards.pressure_scale_widget()
    buttons, cards, _ = box.children
    assert isinstance(buttons, widgets.ToggleButtons) and isinstance(cards, widgets.Stack)
    assert len(buttons.options) == len(cards.children) == 5
    assert linked_in_browser((buttons, "index"), (cards, "selected_index"))


@pytest.mark.parametrize(
    ("broken_yaml", "message"),
    [
        ("source: walton2011\ncredit: x\nmeaning_source_note: y\nlevels:\n  - {level: 2, name: a, meaning: b, mark: V}\n",
         "levels must run 1 to 5"),
        ("source: walton2011\ncredit: x\nmeaning_source_note: y\nlevels:\n  - {level: 1, name: a, meaning: b, mark: U}\n",
         "mark must be V or V2"),
    ],
)
def test_broken_pressure_data_is_refused_with_a_clear_message(monkeypatch, broken_yaml, message):
    monkeypatch.setattr(pressure_scale, "load_yaml", lambda name: data_files.parse_yaml(broken_yaml, name))
    with pytest.raises(CourseDataError, match=message):
        pressure_scale.load_pressure_scale()


def test_invalid_yaml_is_reported_with_its_file():
    with pytest.raises(CourseDataError, match="pressure_scale.yaml is not valid YAML"):
        data_files.parse_yaml("levels: [\n", "massage_course/data/pressure_scale.yaml")


def test_every_self_check_loads_with_one_right_answer_and_feedback_everywhere():
    folder = resources.files("massage_course") / "data" / "self_checks"
    chapters = [path.name.removesuffix(".yaml") for path in folder.iterdir() if path.name.endswith(".yaml")]
    assert chapters
    for chapter in chapters:
        quiz = self_check.as_jupyterquiz(self_check.load_self_check(chapter))
        for question in quiz:
            assert sum(answer["correct"] for answer in question["answers"]) == 1
            assert all(answer["feedback"] for answer in question["answers"])


def test_self_check_with_two_right_answers_is_refused(monkeypatch):
    bad = {"chapter": "x", "questions": [{"question": "q", "options": [
        {"text": "a", "correct": True, "feedback": "f"}, {"text": "b", "correct": True, "feedback": "f"}]}]}
    monkeypatch.setattr(self_check, "load_yaml", lambda name: bad)
    with pytest.raises(CourseDataError, match="question 1: needs exactly one correct option"):
        self_check.load_self_check("x")


def test_missing_data_file_names_the_file():
    with pytest.raises(CourseDataError, match="massage_course/data/self_checks/no-such-chapter.yaml"):
        self_check.load_self_check("no-such-chapter")


class Anything(str):
    def __eq__(self, other):
        return True

    __hash__ = str.__hash__


@pytest.mark.parametrize(
    ("answer", "message"),
    [("", "not answered yet"), ("e", "not one of the choices"), (3, "one letter between quotes"),
     (Anything("z"), "one letter between quotes")],
)
def test_answer_format_check_explains_the_problem(answer, message):
    with pytest.raises(AssertionError, match=message):
        check_choice_format(answer, "abcd")


@pytest.mark.parametrize("answer", ["a", "B", " c "])
def test_answer_format_check_accepts_a_letter_with_stray_case_or_spaces(answer):
    check_choice_format(answer, "abcd")


def test_take_answer_removes_the_answer_so_the_next_question_starts_empty():
    from massage_course.grading.quiz_checks import take_answer

    namespace = {"answer": "B "}
    assert take_answer(namespace) == "B "
    assert "answer" not in namespace
    with pytest.raises(AssertionError, match="No answer yet"):
        take_answer(namespace)
    with pytest.raises(AssertionError, match="one letter between quotes"):
        take_answer({"answer": Anything("z")})


def test_the_right_answer_of_the_self_checks_is_spread_over_the_positions():
    """Issue 21: the right answer was the first option in all five of chapter 1's self-checks and in 26 of 60 in the
    book. Shown, it now moves through every position within a chapter, and no position holds most of them."""
    from collections import Counter

    from tests.test_book_content import chapters

    everywhere, expected = Counter(), Counter()
    for page in chapters():
        shown = self_check.as_jupyterquiz(self_check.load_self_check(page.stem))
        places = [next(i for i, a in enumerate(q["answers"]) if a["correct"]) for q in shown]
        everywhere.update(places)
        for question in shown:  # a fair guess: each of a question's positions equally often
            expected.update({position: 1 / len(question["answers"]) for position in range(len(question["answers"]))})
        if len(places) >= 3:
            assert len(set(places)) >= 3, f"{page.stem}: the right answer sits in only {sorted(set(places))}"
    for position, fair in expected.items():
        assert 0.7 <= everywhere[position] / fair <= 1.3, (position, everywhere, expected)


def test_turning_the_options_keeps_each_option_with_its_feedback():
    question = {"options": [{"text": t, "correct": t == "c", "feedback": f"about {t}"} for t in "abcd"]}
    for number in range(4):
        shown = self_check.shown_options(question, number)
        assert [o["text"] for o in shown].index("c") == number
        assert all(o["feedback"] == f"about {o['text']}" for o in shown)
