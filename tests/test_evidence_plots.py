"""The chapter on reading evidence draws its forest and funnel plots from the course's data: one row per result of the
evidence table, one dot per BCG trial, each where the data puts it, with alt text that says what the plot shows."""

from __future__ import annotations

import base64
import csv
import gzip
import math
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from massage_course.lessons import evidence_plots  # noqa: E402
from massage_course.paths import PROJECT_ROOT  # noqa: E402
from massage_course.topics.evidence import Z_95, evidence_rows, favouring_massage, pool  # noqa: E402

CHAPTER = PROJECT_ROOT / "book" / "reading-evidence.md"


def dots(figure) -> list:
    """Every result's dot (a marker with no line), in drawing order, across the figure's axes."""
    return [line for axes in figure.axes for line in axes.lines
            if line.get_marker() == "o" and line.get_linestyle() in ("None", "none", "")]


@pytest.fixture(scope="module")
def forest():
    figure = evidence_plots.massage_forest_figure()
    yield figure
    plt.close(figure)


def test_the_forest_plot_has_one_dot_per_result_of_the_evidence_table(forest):
    rows = evidence_rows()
    drawn = dots(forest)
    assert len(drawn) == len(rows)
    assert sorted(line.get_label() for line in drawn) == sorted(evidence_plots.row_label(row) for row in rows)


def test_each_dot_sits_at_its_result_turned_so_that_right_favours_massage(forest):
    standardized, differences = evidence_plots.forest_layout()
    in_order = [row for _, group in standardized for row in group] + differences
    for line, row in zip(dots(forest), in_order):
        assert line.get_label() == evidence_plots.row_label(row)
        assert line.get_xdata()[0] == pytest.approx(favouring_massage(row["estimate"], row))
        hollow = matplotlib.colors.to_rgba(line.get_markerfacecolor()) == matplotlib.colors.to_rgba("white")
        assert hollow == (row["ci_low"] is None), row["review"]


def test_each_interval_is_drawn_from_its_row_and_cut_only_at_the_edge(forest):
    standardized, differences = evidence_plots.forest_layout()
    intervals = [line for axes in forest.axes for line in axes.lines
                 if line.get_marker() in ("None", "none", "", None) and len(line.get_xdata()) == 2
                 and line.get_ydata()[0] == line.get_ydata()[1] and line.get_xdata()[0] != line.get_xdata()[1]]
    with_interval = [row for _, group in standardized for row in group if row["ci_low"] is not None]
    with_interval += [row for row in differences if row["ci_low"] is not None]
    assert len(intervals) == len(with_interval)
    for line, row in zip(intervals, with_interval):
        low, high = sorted(favouring_massage(x, row) for x in (row["ci_low"], row["ci_high"]))
        limit = abs(line.axes.get_xlim()[1])
        assert tuple(line.get_xdata()) == pytest.approx((max(low, -limit), min(high, limit)))


def test_the_standardized_results_are_grouped_by_outcome_under_bold_headings(forest):
    standardized, _ = evidence_plots.forest_layout()
    labels = forest.axes[0].get_yticklabels()
    headings = [label.get_text() for label in labels if label.get_fontweight() == "bold"]
    assert [h.lower() for h in headings] == [outcome for outcome, _ in standardized]
    assert len(labels) == len(standardized) + sum(len(group) for _, group in standardized)
    # every mean difference has an axis of its own, with the zero line
    assert len(forest.axes) == 1 + len(evidence_plots.forest_layout()[1])
    for axes in forest.axes:
        assert any(tuple(line.get_xdata()) == (0, 0) for line in axes.lines)


def test_the_right_hand_column_gives_each_result_as_its_review_reports_it(forest):
    texts = [text.get_text() for axes in forest.axes for text in axes.texts]
    liu = next(r for r in evidence_rows() if r["review"] == "Liu 2022")
    assert evidence_plots.reported(liu) == "\u22121.32 (\u22122.01 to \u22120.63)"
    for row in evidence_rows():
        assert evidence_plots.reported(row) in texts


def bcg_from_the_csv() -> list[tuple[str, float, float]]:
    """(trial, log risk ratio, its standard error) read straight from the CSV, not through the course's code."""
    with open(PROJECT_ROOT / "massage_course" / "data" / "bcg_trials.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    found = []
    for row in rows:
        a, b, c, d = (int(row[k]) for k in ("tpos", "tneg", "cpos", "cneg"))
        found.append((f"{row['author']} {row['year']}", math.log(a * (c + d) / ((a + b) * c)),
                      math.sqrt(1 / a - 1 / (a + b) + 1 / c - 1 / (c + d))))
    return found


def test_the_funnel_plot_has_one_dot_per_trial_of_the_csv_where_the_csv_puts_it():
    figure = evidence_plots.bcg_funnel_figure()
    (trials,) = dots(figure)
    expected = bcg_from_the_csv()
    assert len(trials.get_xdata()) == len(expected) == 13
    assert [math.log(x) for x in trials.get_xdata()] == pytest.approx([log_rr for _, log_rr, _ in expected])
    assert list(trials.get_ydata()) == pytest.approx([se for _, _, se in expected])
    axes = figure.axes[0]
    assert axes.get_ylim()[0] > axes.get_ylim()[1] == 0  # the most precise trials at the top
    plt.close(figure)


def test_the_funnel_is_centred_on_the_fixed_effect_result_with_95_percent_lines():
    expected = bcg_from_the_csv()
    weights = [1 / se**2 for _, _, se in expected]
    pooled = sum(w * y for w, (_, y, _) in zip(weights, expected)) / sum(weights)
    summary = evidence_plots.funnel_summary()
    assert summary["pooled"] == pytest.approx(pooled)
    points = evidence_plots.funnel_points()
    assert summary["pooled"] == pytest.approx(pool([p["log_rr"] for p in points], [p["se"] ** 2 for p in points],
                                                   "FE").estimate)  # the course's own pooling agrees
    figure = evidence_plots.bcg_funnel_figure()
    lines = {line.get_label(): line for line in figure.axes[0].lines}
    centre = lines["Pooled result (fixed effect)"]
    assert math.log(centre.get_xdata()[0]) == pytest.approx(pooled)
    funnel = lines["Where 95% of trials would fall by chance alone"]
    for x, se in zip(funnel.get_xdata(), funnel.get_ydata()):
        assert abs(math.log(x) - pooled) == pytest.approx(Z_95 * se)
    plt.close(figure)
    # what the chapter says of this funnel: trials outside the lines near the top (big trials) as well as lower down
    outside = {name for name, y, se in expected if abs(y - pooled) > Z_95 * se}
    assert set(summary["outside"]) == outside
    most_precise = sorted(expected, key=lambda trial: trial[2])[:3]
    assert any(name in outside for name, _, _ in most_precise)
    assert any(se > 0.4 for name, _, se in expected if name in outside)


def test_the_alt_texts_say_what_each_plot_shows():
    forest = evidence_plots.massage_forest_alt()
    assert forest.startswith(f"Forest plot of the {len(evidence_rows())} pooled results")
    assert "right of the zero line favours massage" in forest
    for row in evidence_rows():
        assert row["review"] in forest and evidence_plots.reported(row) in forest
    funnel = evidence_plots.bcg_funnel_alt()
    assert funnel.startswith("Funnel plot of the 13 BCG vaccine trials") and "not massage" in funnel
    assert "standard error" in funnel and "95%" in funnel
    for name, _, _ in bcg_from_the_csv():
        assert name in funnel


@pytest.mark.parametrize("make", [evidence_plots.massage_forest_html, evidence_plots.bcg_funnel_html])
def test_each_figure_is_an_embedded_svg_image_with_real_text_light_and_offline(make):
    html = make()
    match = re.fullmatch(r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="([^"]{200,})" [^>]*>', html)
    assert match, html[:200]
    svg = base64.b64decode(match.group(1))
    assert len(svg) < 100 * 1024 and len(gzip.compress(html.encode())) < 30 * 1024
    text = svg.decode()
    assert "<text" in text  # words stay words: found by search and read by the browser's zoom
    assert set(re.findall(r"https?://[^\s\"'<>)]+", text)) <= {"http://www.w3.org/2000/svg",
                                                                "http://www.w3.org/1999/xlink"}
    assert make() == html  # the same data gives the same page


def test_the_chapter_draws_both_plots_at_build_time_with_numbered_captions():
    text = CHAPTER.read_text()
    for function, key in (("massage_forest_html", "massage-forest-plot"), ("bcg_funnel_html", "bcg-funnel-plot")):
        before = text[:text.index(f"```{{glue:figure}} {key}")]
        cell = before.rsplit("```{code-cell} ipython3\n", 1)[-1]
        assert cell.startswith(":tags: [remove-input]\n") and function in cell and f'glue("{key}"' in cell
        figure = re.search(rf"```\{{glue:figure\}} {key}\n:name: (\S+)\n\n(.+?)\n```", text, re.S)
        assert figure and f"{{numref}}`{figure.group(1)}`" in text
        assert len(figure.group(2).split()) >= 30
    funnel_caption = re.search(r"```\{glue:figure\} bcg-funnel-plot\n.*?```", text, re.S).group(0)
    assert "not massage studies" in funnel_caption and "BCG" in funnel_caption
