"""The figures of the chapter on reading evidence, drawn from the course's data when the book is built: every pooled
result of the massage evidence table (``data/evidence.yaml``) as one forest plot, and the BCG teaching trials
(``data/bcg_trials.csv``) as a funnel plot.

Each figure is a matplotlib drawing embedded in the page as an SVG image, with alt text written from the same data, so
the static page needs nothing else and no number is typed by hand. (The evidence explorer's own plots are in
``evidence_explorer.py``; this module is apart because it serves the chapter, and would have taken that one past 400
lines.)
"""

from __future__ import annotations

import math

from ..topics.evidence import Z_95, bcg_trials, evidence_rows, favouring_massage
from .evidence_explorer import _pyplot

INK = "#1f4e79"  # the course's navy: 8.9:1 on white
GREY = "#4d4d4d"  # 8.5:1 on white
STANDARDIZED = ("SMD", "g")
LIMIT = 2.5  # the standardized panel's half-width; longer intervals are cut and marked with an arrow
FONT = 9  # points
ROW = 0.24  # inches per one-line row
LABEL_WIDTH = 44  # characters of a row label before it wraps


# Text in the SVG names the font it was measured in (DejaVu Sans, matplotlib's own), then, for computers without it,
# fonts a little narrower (so that no label outgrows the drawing's edge), then the reader's own sans-serif.
SVG_SETTINGS = {"svg.fonttype": "none", "svg.hashsalt": "massage-course",
                "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "sans-serif"]}
# No date (the same data gives the same page) and no block of web addresses naming the drawing's kind and maker.
NO_METADATA = {"Date": None, "Creator": None, "Type": None, "Format": None}


def svg_figure_html(figure, alt: str) -> str:
    """A matplotlib figure as an <img> of SVG with alt text: sharp at any zoom, and embedded, so the page fetches
    nothing. Its words stay text (a quarter of the size of words drawn as outlines), the drawing carries no date and
    fixed ids, so the same data always gives the same page."""
    import base64
    import html
    import io
    import re

    import matplotlib
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    with matplotlib.rc_context(SVG_SETTINGS):
        figure.savefig(buffer, format="svg", bbox_inches="tight", pad_inches=0.15, metadata=NO_METADATA)
    plt.close(figure)
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", buffer.getvalue().decode(), count=1)  # names a web address; never read
    data = base64.b64encode(svg.encode()).decode()
    return (f'<img src="data:image/svg+xml;base64,{data}" alt="{html.escape(alt)}" '
            'style="max-width:100%;height:auto">')


def _decimals(value: float) -> int:
    text = repr(float(value))
    return len(text.split(".")[1].rstrip("0")) if "." in text else 0


def reported(row: dict) -> str:
    """The row's result as its review reports it, sign and all, its numbers to the same decimals:
    "−1.32 (−2.01 to −0.63)", or "−0.44 (no CI)"."""
    numbers = [row["estimate"]] + ([] if row["ci_low"] is None else [row["ci_low"], row["ci_high"]])
    places = max(_decimals(x) for x in numbers)
    shown = [f"{x:.{places}f}".replace("-", "\u2212") for x in numbers]
    return f"{shown[0]} ({'no CI' if len(shown) == 1 else f'{shown[1]} to {shown[2]}'})"


def row_label(row: dict) -> str:
    """The review, its patients and its comparison; a star marks a number read only in a copy of the review."""
    comparison = (row.get("comparison") or "").split(" (")[0]
    label = f"{row['review']}: {row['condition'].lower()}" + (f", {comparison}" if comparison else "")
    return label + (" *" if row["mark"] == "V2" else "")


def by_outcome(rows) -> list[tuple[str, list[dict]]]:
    """Rows grouped by outcome, the groups in the order the evidence table first names them."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["outcome"], []).append(row)
    return list(groups.items())


def forest_layout(rows=None) -> tuple[list[tuple[str, list[dict]]], list[dict]]:
    """The forest plot's two parts: the standardized results grouped by outcome (one axis for all), and the mean
    differences (each on its own axis, in its review's units), also in outcome order."""
    rows = list(evidence_rows() if rows is None else rows)
    standardized = by_outcome(r for r in rows if r["measure"] in STANDARDIZED)
    differences = [r for _, group in by_outcome(r for r in rows if r["measure"] not in STANDARDIZED) for r in group]
    return standardized, differences


def _wrapped(text: str) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, LABEL_WIDTH))


def _draw_result(axes, row: dict, y: float, limit: float) -> None:
    """One result, turned so that right favours massage: a dot (hollow when no interval is given) on its interval,
    and the result as its review reports it in the column on the right."""
    point = favouring_massage(row["estimate"], row)
    if row["ci_low"] is not None:
        low, high = sorted(favouring_massage(x, row) for x in (row["ci_low"], row["ci_high"]))
        axes.plot([max(low, -limit), min(high, limit)], [y, y], color=INK, lw=1.6, label=row_label(row))
        for end, side in ((low, -1), (high, 1)):
            if abs(end) > limit:  # an interval wider than the axis is cut and marked with an arrow
                axes.annotate("", xy=(side * limit, y), xytext=(side * 0.88 * limit, y),
                              arrowprops={"arrowstyle": "->", "color": INK})
    axes.plot(point, y, marker="o", markersize=6, color=INK, linestyle="none", label=row_label(row),
              markerfacecolor="white" if row["ci_low"] is None else INK)
    _right_column(axes, y, reported(row))


def _right_column(axes, y: float, text: str, **style) -> None:
    axes.annotate(text, xy=(1.03, y), xycoords=("axes fraction", "data"), va="center", ha="left", fontsize=FONT,
                  color="black", **style)


def _sides(axes, what: str) -> None:
    gap = "\u2002" * 3  # en spaces: an SVG keeps them where it would fold ordinary spaces into one
    axes.set_xlabel(f"\u2190 favours the comparison{gap}{what}{gap}favours massage \u2192", fontsize=FONT)


def _lines(text: str) -> int:
    return text.count("\n") + 1


# The forest plot's frame, in inches: the labels' column on the left, the plot, the reported results on the right.
WIDTH, LEFT, PLOT = 8.0, 3.3, 2.6
HEADROOM, AXIS_ROOM, GAP, DIFFERENCE_ROW = 0.45, 0.6, 0.05, 0.3


def massage_forest_figure(rows=None):
    """Every pooled result of the course's massage evidence table on one forest plot, grouped by outcome and turned so
    that right of the zero line favours massage. Standardized results (SMD, g) share one axis; each mean difference
    has its own, since its units are its review's."""
    plt = _pyplot()
    standardized, differences = forest_layout(rows)
    items = [item for outcome, group in standardized
             for item in [(outcome[:1].upper() + outcome[1:], None)] + [(_wrapped(row_label(r)), r) for r in group]]
    steps = [1 + 0.7 * (_lines(label) - 1) for label, _ in items]
    labels = [_wrapped(f"{row_label(r)} ({r['outcome']})") for r in differences]
    blocks = [max(DIFFERENCE_ROW, ROW * (1 + 0.7 * (_lines(label) - 1))) + AXIS_ROOM - 0.15 for label in labels]
    top = ROW * (sum(steps) + 0.6)
    height = HEADROOM + top + AXIS_ROOM + GAP + HEADROOM + sum(blocks) + 0.5
    figure = plt.figure(figsize=(WIDTH, height))

    def place(from_top: float, tall: float):
        return figure.add_axes((LEFT / WIDTH, 1 - (from_top + tall) / height, PLOT / WIDTH, tall / height))

    axes = place(HEADROOM, top)
    ticks = [-(sum(steps[:index]) + step / 2) for index, step in enumerate(steps)]
    for (label, row), y in zip(items, ticks):
        if row is not None:
            _draw_result(axes, row, y, LIMIT)
    axes.set_yticks(ticks, [label for label, _ in items], fontsize=FONT)
    for tick, (_, row) in zip(axes.get_yticklabels(), items):
        if row is None:
            tick.set_fontweight("bold")
    axes.set_ylim(-sum(steps) - 0.3, 0.3)
    axes.set_xlim(-LIMIT, LIMIT)
    axes.axvline(0, color="black", lw=0.9)
    axes.annotate("As the review reports it", xy=(1.03, 1.01), xycoords="axes fraction", va="bottom", ha="left",
                  fontsize=FONT, fontweight="bold", color="black")
    axes.set_title("Standardized results (SMD or g)", fontsize=FONT + 1, loc="left")
    _sides(axes, "effect")
    below = HEADROOM + top + AXIS_ROOM + GAP + HEADROOM
    for number, (row, label, block) in enumerate(zip(differences, labels, blocks)):
        axes = place(below, block - AXIS_ROOM + 0.15)
        below += block
        reach = 1.15 * max(abs(x) for x in (row["estimate"], row["ci_low"], row["ci_high"]) if x is not None)
        _draw_result(axes, row, 0, reach)
        axes.set_xlim(-reach, reach)
        axes.set_ylim(-0.6, 0.6)
        axes.axvline(0, color="black", lw=0.9)
        axes.set_yticks([0], [label], fontsize=FONT)
        axes.tick_params(axis="x", labelsize=FONT - 1)
        if number == 0:
            axes.set_title("Mean differences, each in its review's units", fontsize=FONT + 1, loc="left")
    _sides(axes, "difference")
    figure.text(LEFT / WIDTH, 0, "Filled dot: with its 95% confidence interval. Hollow dot: the review gives no "
                "interval.\n* Number read in a copy of the review.", fontsize=FONT, ha="left", va="bottom",
                color="black")
    return figure


def massage_forest_alt(rows=None) -> str:
    """What the forest plot shows, in words, from the same rows: every result, turned as it is drawn."""
    standardized, differences = forest_layout(rows)

    def said(row: dict) -> str:
        turned = favouring_massage(row["estimate"], row)
        if row["ci_low"] is None:
            where = "no interval given"
        else:
            low, high = sorted(favouring_massage(x, row) for x in (row["ci_low"], row["ci_high"]))
            where = ("interval wholly on the massage side" if low > 0 else "interval wholly on the comparison side"
                     if high < 0 else "interval crossing zero")
        side = "massage" if turned > 0 else "the comparison" if turned < 0 else "neither side"
        return f"{row_label(row).rstrip(' *')}, {row['measure']} {reported(row)}: favours {side}, {where}"

    count = sum(len(group) for _, group in standardized) + len(differences)
    parts = [f"{outcome}: " + "; ".join(said(row) for row in group) for outcome, group in standardized]
    return (f"Forest plot of the {count} pooled results in the course's massage evidence table, each drawn as a dot "
            "with its 95% confidence interval as a line, turned so that right of the zero line favours massage. "
            "Standardized results, grouped by outcome. " + ". ".join(parts) + ". Mean differences, each on its own "
            "scale: " + "; ".join(f"{row['outcome']}, {said(row)}" for row in differences) + ".")


def funnel_points() -> list[dict]:
    """Each BCG trial as the funnel plot draws it: its log risk ratio and the standard error of that log ratio."""
    return [{"trial": t["trial"], "log_rr": t["yi"], "se": math.sqrt(t["vi"])} for t in bcg_trials()]


def funnel_summary() -> dict:
    """The pooled (fixed-effect) log risk ratio the funnel is centred on, and which trials fall outside its 95%
    pseudo-confidence lines (further from the pooled result than chance alone would put 95% of trials)."""
    points = funnel_points()
    # the fixed-effect result is the inverse-variance mean (as topics.evidence.pool gives it; written out here so
    # that drawing the funnel does not load statsmodels, seconds of every build)
    weights = [1 / p["se"] ** 2 for p in points]
    pooled = sum(w * p["log_rr"] for w, p in zip(weights, points)) / sum(weights)
    outside = [p["trial"] for p in points if abs(p["log_rr"] - pooled) > Z_95 * p["se"]]
    return {"pooled": pooled, "outside": outside, "k": len(points)}


def bcg_funnel_figure():
    """Funnel plot of the BCG trials: risk ratio (log scale) across, standard error down with the most precise trials
    at the top; the pooled fixed-effect result and the 95% pseudo-confidence lines around it."""
    plt = _pyplot()
    points, summary = funnel_points(), funnel_summary()
    pooled = summary["pooled"]
    deepest = 1.1 * max(p["se"] for p in points)
    figure, axes = plt.subplots(figsize=(5.2, 4.4))
    axes.plot([math.exp(pooled - Z_95 * deepest), math.exp(pooled), math.exp(pooled + Z_95 * deepest)],
              [deepest, 0, deepest], color=GREY, lw=1.2, linestyle="--",
              label="Where 95% of trials would fall by chance alone")
    axes.axvline(math.exp(pooled), color=INK, lw=1.4, label="Pooled result (fixed effect)")
    axes.axvline(1, color="black", lw=0.9, linestyle=":", label="Risk ratio 1: no difference")
    axes.plot([math.exp(p["log_rr"]) for p in points], [p["se"] for p in points], marker="o", markersize=6,
              color=INK, linestyle="none", label="One trial")
    axes.set_xscale("log")
    ticks = [0.1, 0.2, 0.5, 1, 2, 5]
    axes.set_xticks(ticks, [f"{tick:g}" for tick in ticks])
    axes.minorticks_off()
    axes.set_xlim(0.1, 5)
    axes.set_ylim(deepest, 0)
    axes.set_xlabel("Risk ratio of tuberculosis, vaccinated vs not (log scale):\n"
                    "left of 1, fewer cases with the vaccine", fontsize=FONT)
    axes.set_ylabel("Standard error (uncertainty):\nbig, precise trials at the top", fontsize=FONT)
    axes.set_title("BCG vaccine trials (teaching data, not massage): a funnel plot", fontsize=FONT + 1)
    axes.legend(fontsize=FONT - 1, loc="upper left", bbox_to_anchor=(1.02, 1), framealpha=1)
    return figure


def bcg_funnel_alt() -> str:
    """What the funnel plot shows, in words, from the same trials."""
    summary = funnel_summary()
    each = "; ".join(f"{p['trial']} risk ratio {math.exp(p['log_rr']):.2f}, standard error {p['se']:.2f}"
                     for p in funnel_points())
    return (f"Funnel plot of the {summary['k']} BCG vaccine trials against tuberculosis, teaching data and not massage "
            "studies: each trial's risk ratio across, on a log scale, against its standard error down, with the most "
            f"precise trials at the top. A solid line marks the pooled fixed-effect risk ratio, "
            f"{math.exp(summary['pooled']):.2f}; two dashed lines fan out from it to where 95% of trials would fall "
            f"if they differed by chance alone. {len(summary['outside'])} of the {summary['k']} trials lie outside "
            f"those lines. The trials: {each}.")


def massage_forest_html() -> str:
    """The chapter's forest plot of the massage evidence, as an image with its alt text."""
    return svg_figure_html(massage_forest_figure(), massage_forest_alt())


def bcg_funnel_html() -> str:
    """The chapter's funnel plot of the BCG teaching trials, as an image with its alt text."""
    return svg_figure_html(bcg_funnel_figure(), bcg_funnel_alt())
