"""The item analysis against figures worked out by hand on a small class."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from massage_course.grading.quiz_bank import Item, Quiz
from massage_course.grading.report import corrected_item_total, grades_table, item_analysis, kr20, objective_mastery
from massage_course.grading.results import ItemResult, TraineeResult


def choice(item_id, answer, objectives):
    return Item(id=item_id, kind="choice", objectives=objectives, read_more={}, sources=("x",), points=1,
                choices=dict(zip("abcd", "ABCD")), answer=answer)


QUIZ = Quiz(id="quiz-9-small", title="Small", chapters=("safety",), pass_mark=70, reveal_answers=True, items=(
    choice("q01", "a", ("safety:1",)), choice("q02", "b", ("safety:1", "safety:2")), choice("q03", "c", ("safety:2",)),
    Item(id="w01", kind="written", objectives=("safety:3",), read_more={}, sources=("x",), points=2)))

# Four trainees; choices and the written score (out of 2).
#            q01 q02 q03  w01
# t1          a   b   c    2     -> 1 1 1, total 5 of 5 = 100%
# t2          a   b   d    1     -> 1 1 0, total 3 of 5 = 60%
# t3          a   c   d    0     -> 1 0 0, total 1 of 5 = 20%
# t4          b   ""  c    2     -> 0 0 1, total 3 of 5 = 60%
ROWS = {"t1": ("a", "b", "c", 2), "t2": ("a", "b", "d", 1), "t3": ("a", "c", "d", 0), "t4": ("b", "", "c", 2)}


def trainees():
    out = []
    for student, (c1, c2, c3, written) in ROWS.items():
        items = {}
        for item, letter in zip(QUIZ.items[:3], (c1, c2, c3)):
            items[item.id] = ItemResult(item.id, float(letter == item.answer), 1, choice=letter)
        items["w01"] = ItemResult("w01", float(written), 2)
        out.append(TraineeResult(student, "graded", sum(i.score for i in items.values()), 5, items))
    out.append(TraineeResult("t5", "failed", None, 5, problems=["not readable"]))
    return out


def test_kr20_by_hand():
    # Items q01..q03: p = .75, .5, .5; sum p*q = .1875 + .25 + .25 = .6875.
    # Totals 3, 2, 1, 1: mean 1.75, population variance (1.5625 + .0625 + .5625 + .5625) / 4 = .6875.
    # KR-20 = 3/2 * (1 - .6875 / .6875) = 0.
    scores = pd.DataFrame({"q01": [1, 1, 1, 0], "q02": [1, 1, 0, 0], "q03": [1, 0, 0, 1]})
    assert kr20(scores) == pytest.approx(0.0)
    # A perfectly consistent pattern: p = .75, .5, .25, sum p*q = .1875 + .25 + .1875 = .625; totals 3, 2, 1, 0
    # (variance 1.25) -> 1.5 * (1 - .625 / 1.25) = .75
    consistent = pd.DataFrame({"q01": [1, 1, 1, 0], "q02": [1, 1, 0, 0], "q03": [1, 0, 0, 0]})
    assert kr20(consistent) == pytest.approx(0.75)
    assert math.isnan(kr20(pd.DataFrame({"q01": [1, 1], "q02": [1, 1]})))  # no spread: undefined, not 0


def test_corrected_item_total_by_hand():
    # q01 = [1,1,1,0] against the rest (q02+q03) = [2,1,0,1]: the item is centred at .75 ([.25,.25,.25,-.75]) and
    # the rest at 1 ([1,0,-1,0]); covariance sum .25 - .25 = 0, so r = 0.
    scores = pd.DataFrame({"q01": [1, 1, 1, 0], "q02": [1, 1, 0, 0], "q03": [1, 0, 0, 1]})
    r = corrected_item_total(scores)
    assert r["q01"] == pytest.approx(0.0)
    # q02 = [1,1,0,0] (centred ±.5) against q01+q03 = [2,1,1,1] (centred [.75,-.25,-.25,-.25]):
    # sum of products .375 - .125 + .125 + .125 = .5; sqrt(1 * .75) = .866; r = .5 / .866 = .577
    assert r["q02"] == pytest.approx(0.5 / math.sqrt(0.75))


def test_item_analysis_difficulty_discrimination_and_choices():
    items, reliability = item_analysis(QUIZ, trainees())
    rows = items.set_index("item")
    assert rows.loc["q01", "difficulty"] == pytest.approx(0.75)
    assert rows.loc["w01", "difficulty"] == pytest.approx((1 + 0.5 + 0 + 1) / 4)
    assert (rows.loc["q02", "chose_a"], rows.loc["q02", "chose_b"], rows.loc["q02", "chose_c"]) == (0, 2, 1)
    assert rows.loc["q02", "no_answer"] == 1 and rows.loc["q03", "chose_d"] == 2
    assert rows.loc["q01", "trainees"] == 4  # the failed submission is not counted
    # With the written item in points (2, 1, 0, 2), q01's rest is q02 + q03 + w01 = [4, 2, 0, 3]
    rest = pd.Series([4, 2, 0, 3.0])
    assert rows.loc["q01", "discrimination"] == pytest.approx(pd.Series([1, 1, 1, 0.0]).corr(rest))
    assert reliability == pytest.approx(0.0)  # KR-20 of the three multiple-choice items, as worked above


def test_mastery_per_objective_by_hand():
    mastery = objective_mastery(QUIZ, trainees()).set_index("objective")
    # safety:1 = q01 + q02: t1 2/2, t2 2/2, t3 1/2, t4 0/2 -> mean .625; at 70%: t1, t2
    assert mastery.loc["safety:1", "mastery"] == pytest.approx(0.625)
    assert mastery.loc["safety:1", "trainees_at_pass_mark"] == 2
    # safety:3 = w01: 1, .5, 0, 1 -> .625; at 70%: t1, t4
    assert mastery.loc["safety:3", "mastery"] == pytest.approx(0.625)
    assert mastery.loc["safety:3", "trainees_at_pass_mark"] == 2


def test_grades_table_marks_pass_and_keeps_failures_visible():
    grades = grades_table(QUIZ, trainees()).set_index("trainee")
    assert list(grades["passed"]) == ["yes", "no", "no", "no", ""]
    assert grades.loc["t2", "percent"] == 60.0
    assert grades.loc["t5", "status"] == "failed" and grades.loc["t5", "problems"] == "not readable"


def test_before_hand_grading_the_multiple_choice_part_is_analysed_and_the_wait_is_counted():
    """Issue 21: before the written answers were graded, the report showed "KR-20: None" and "n/a" for every
    discrimination. The multiple-choice part is analysed on its own until then."""
    waiting = []
    for t in trainees():
        if t.items:
            items = dict(t.items)
            items["w01"] = ItemResult("w01", None, 2)
            t = TraineeResult(t.student, "needs_manual_grading", None, 5, items)
        waiting.append(t)
    table, reliability = item_analysis(QUIZ, waiting)
    assert reliability == pytest.approx(0.0)  # the same four trainees' choices as test_kr20_by_hand
    assert table.set_index("item").loc[["q01", "q02", "q03"], "discrimination"].notna().all()
    assert table.attrs["waiting_for_hand_grading"] == 4
    assert math.isnan(table.set_index("item").loc["w01", "difficulty"])
