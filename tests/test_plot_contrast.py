"""WCAG 2.1 contrast inside every plot the course draws (axe-core cannot look inside an image): text at 4.5:1, lines,
markers, bars and shapes at 3:1, against their own background. The checker is first shown to catch what it must."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from massage_course.grading.report import grades_table, item_analysis, objective_mastery, report_figures  # noqa: E402
from massage_course.lessons import evidence_explorer, evidence_plots  # noqa: E402
from massage_course.lessons.plot_contrast import contrast, figure_contrast_problems  # noqa: E402
from massage_course.topics import evidence  # noqa: E402

from .test_report import QUIZ, trainees  # noqa: E402


def test_contrast_ratios_match_the_wcag_formula():
    assert contrast("black", "white") == pytest.approx(21)
    assert contrast("white", "white") == pytest.approx(1)
    # #777777 on white is the classic near miss of 4.5:1 (4.48:1)
    assert contrast("#777777", "white") == pytest.approx(4.48, abs=0.01)
    assert contrast("#777777", "white") == pytest.approx(contrast("white", "#777777"))


def test_the_checker_flags_pale_marks_pale_text_and_faded_colours():
    figure, axes = plt.subplots()
    axes.plot([0, 1], [0, 1], color="#dddddd", label="pale line")  # 1.4:1
    axes.plot([0, 1], [1, 0], color="#1f4e79", alpha=0.2, label="faded line")  # dark, but faded to pale
    axes.bar([0], [1], color="#ffd54f")  # yellow bar: 1.4:1
    axes.scatter([0.5], [0.5], color="#1f4e79")  # passes
    axes.set_title("grey title", color="#999999")  # 2.8:1
    axes.annotate("", xy=(1, 1), xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": "#eeeeee"})
    problems = figure_contrast_problems(figure)
    plt.close(figure)
    text = "\n".join(problems)
    for expected in ("'pale line'", "'faded line'", "Rectangle", "'grey title'", "arrow"):
        assert expected in text
    assert "PathCollection" not in text
    assert len(problems) == 5


def test_a_dark_background_is_judged_as_dark():
    figure, axes = plt.subplots()
    axes.set_facecolor("#222222")
    axes.plot([0, 1], [0, 1], color="#1f4e79", label="navy on black")  # 1.6:1 on the dark axes
    problems = figure_contrast_problems(figure)
    plt.close(figure)
    assert any("'navy on black'" in problem for problem in problems)


def evidence_figures():
    rows = list(evidence.evidence_rows())
    for name, outcomes in evidence_explorer.OUTCOME_FILTERS.items():
        yield f"evidence map: {name}", evidence_explorer.evidence_map_figure(
            [r for r in rows if outcomes is None or r["outcome"] in outcomes], name)
    yield "BCG forest plot", evidence_explorer.bcg_forest_figure(list(evidence.bcg_steps()["results"].values()))
    yield "SMD illustration", evidence_explorer.smd_illustration_figure(1.32)
    # the chapter on reading evidence
    yield "massage evidence forest plot", evidence_plots.massage_forest_figure()
    yield "BCG funnel plot", evidence_plots.bcg_funnel_figure()


def test_every_plot_in_the_book_meets_wcag_contrast():
    checked = 0
    for name, figure in evidence_figures():
        assert figure_contrast_problems(figure) == [], name
        plt.close(figure)
        checked += 1
    assert checked == len(evidence_explorer.OUTCOME_FILTERS) + 4


def test_every_plot_in_the_instructors_report_meets_wcag_contrast():
    items, _ = item_analysis(QUIZ, trainees())
    figures = report_figures(QUIZ, grades_table(QUIZ, trainees()), items, objective_mastery(QUIZ, trainees()))
    assert set(figures) == {"scores", "items", "objectives"}
    for name, figure in figures.items():
        assert figure_contrast_problems(figure) == [], name
        plt.close(figure)
