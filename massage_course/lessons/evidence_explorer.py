"""The evidence explorer's pages: the map of pooled massage effects (filtered in the browser), the evidence table, the
BCG forest plot and the SMD illustration of the pooling walkthrough, and the claims activity.

Figures are drawn with matplotlib off-screen and embedded as PNG with alt text, so the static page needs nothing else.
"""

from __future__ import annotations

import math

# First: without numpy (JupyterLite offline) this import says what the page needs, before anything else fails.
from ..topics.evidence import Z_95, PoolResult, bcg_trials, claims, evidence_rows, favouring_massage
from .widgets import linked_views, show_quiz


def _pyplot():
    """pyplot drawing off-screen: figures are embedded as PNG, never shown in a window."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def figure_html(figure, alt: str) -> str:
    """A matplotlib figure as an <img> with alt text (PNG embedded, so the static page needs nothing else)."""
    import base64
    import html
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}" style="max-width:100%">'


def evidence_map_figure(rows: list[dict], title: str):
    """Forest-style plot of pooled standardized effects (SMD, g), turned so that right favours massage."""
    plt = _pyplot()
    drawn = [r for r in rows if r["measure"] in ("SMD", "g")]
    figure, axes = plt.subplots(figsize=(7.5, 0.42 * len(drawn) + 1.4))
    limit = 2.5
    for position, row in enumerate(reversed(drawn)):
        point = favouring_massage(row["estimate"], row)
        hollow = row["ci_low"] is None
        if not hollow:
            ends = sorted(favouring_massage(x, row) for x in (row["ci_low"], row["ci_high"]))
            axes.plot([max(ends[0], -limit), min(ends[1], limit)], [position, position], color="#1f4e79", lw=1.6)
            for end, side in ((ends[0], -1), (ends[1], 1)):
                if abs(end) > limit:  # an interval wider than the axis is cut and marked with an arrow
                    axes.annotate("", xy=(side * limit, position), xytext=(side * (limit - 0.25), position),
                                  arrowprops={"arrowstyle": "->", "color": "#1f4e79"})
        axes.plot(point, position, marker="o", markersize=7, color="#1f4e79",
                  markerfacecolor="white" if hollow else "#1f4e79")
    labels = [f"{r['review']}: {r['condition'].lower()}, {r['outcome']}"
              f"{'' if not r.get('comparison') else ' (' + r['comparison'].split(' (')[0] + ')'}"
              f"{' [copy]' if r['mark'] == 'V2' else ''}" for r in reversed(drawn)]
    axes.set_yticks(range(len(drawn)), labels, fontsize=8)
    axes.axvline(0, color="black", lw=0.8)
    axes.set_xlim(-limit, limit)
    axes.set_xlabel("Standardized effect (SMD or g), turned so that right favours massage\n"
                    "Filled dot: with its 95% interval; hollow dot: the source gives no interval; [copy]: read in a copy")
    axes.set_title(title, fontsize=10)
    return figure


def evidence_map_alt(rows: list[dict], title: str) -> str:
    drawn = [r for r in rows if r["measure"] in ("SMD", "g")]
    parts = [f"{r['review']} ({r['condition']}, {r['outcome']}): {r['measure']} {r['estimate']}"
             + (f", 95% CI {r['ci_low']} to {r['ci_high']}" if r["ci_low"] is not None else ", no CI given")
             for r in drawn]
    return f"{title}. Forest-style plot of {len(drawn)} pooled results: " + "; ".join(parts) + "."


def bcg_forest_figure(results: list[PoolResult]):
    """The 13 BCG trials with their 95% intervals and the pooled estimates of each method, on the risk-ratio scale."""
    plt = _pyplot()
    trials = bcg_trials()
    figure, axes = plt.subplots(figsize=(7.5, 6.2))
    rows = len(trials) + len(results) + 1
    for index, trial in enumerate(trials):
        y = rows - index
        se = math.sqrt(trial["vi"])
        low, high = math.exp(trial["yi"] - Z_95 * se), math.exp(trial["yi"] + Z_95 * se)
        axes.plot([low, high], [y, y], color="#555555", lw=1.2)
        axes.plot(math.exp(trial["yi"]), y, "s", color="#555555", markersize=4)
    for index, result in enumerate(results):
        y = len(results) - index
        centre, low, high = (math.exp(x) for x in (result.estimate, result.ci_low, result.ci_high))
        axes.fill([low, centre, high, centre], [y, y + 0.3, y, y - 0.3], color="#1f4e79")
    ticks = [rows - i for i in range(len(trials))] + [len(results) - i for i in range(len(results))]
    labels = [t["trial"] for t in trials] + [f"Pooled, {r.method}" for r in results]
    axes.set_yticks(ticks, labels, fontsize=8)
    axes.set_xscale("log")
    axes.axvline(1, color="black", lw=0.8)
    axes.set_xlabel("Risk ratio of tuberculosis, vaccinated vs not (log scale; left of 1 favours the vaccine)")
    axes.set_title("BCG vaccine trials (teaching data, not massage): each trial and the pooled estimates", fontsize=10)
    return figure


def smd_illustration_figure(smd: float = 1.32):
    """Two normal curves one SMD apart: an illustration of what a standardized difference means, not data."""
    plt = _pyplot()
    import numpy as np

    x = np.linspace(-4, 4 + smd, 400)
    density = lambda centre: np.exp(-0.5 * (x - centre) ** 2) / math.sqrt(2 * math.pi)  # noqa: E731
    figure, axes = plt.subplots(figsize=(7, 3))
    axes.plot(x, density(smd), color="#888888", label="Comparison group")
    axes.plot(x, density(0), color="#1f4e79", label="Massage group")
    axes.axvline(0, color="#1f4e79", ls=":")
    axes.axvline(smd, color="#888888", ls=":")
    axes.set_xlabel("Pain score, in standard deviations (lower is less pain)")
    axes.set_ylabel("Share of patients")
    axes.set_yticks([])
    axes.set_title(f"Illustration, not data: two groups {smd} standard deviations apart", fontsize=10)
    axes.legend(fontsize=8)
    return figure


OUTCOME_FILTERS = {
    "All outcomes": None, "Pain": {"pain"}, "Anxiety": {"anxiety"}, "Depression": {"depression"},
    "Other: fatigue, sleep, blood pressure": {"fatigue", "sleep", "blood pressure (systolic)", "blood pressure (diastolic)"},
}


def evidence_map_widget():
    """A list of outcome filters linked in the browser to one pre-drawn plot per filter, so filtering works in the
    static book as well as in JupyterLab."""
    import ipywidgets as widgets

    rows = list(evidence_rows())
    views = []
    for name, outcomes in OUTCOME_FILTERS.items():
        chosen = [r for r in rows if outcomes is None or r["outcome"] in outcomes]
        title = f"Pooled effects of massage: {name.lower()}"
        views.append(widgets.HTML(figure_html(evidence_map_figure(chosen, title), evidence_map_alt(chosen, title))))
    picker = widgets.Dropdown(options=list(OUTCOME_FILTERS), description="Show:")
    return widgets.VBox([picker, linked_views(picker, views)])


def evidence_table_html() -> str:
    import html

    def cell(value) -> str:
        return "" if value is None else html.escape(str(value))

    def interval(row) -> str:
        return "" if row["ci_low"] is None else f"{row['ci_low']} to {row['ci_high']}"

    body = "".join(
        f"<tr><td>{cell(r['review'])}</td><td>{cell(r['condition'])}</td><td>{cell(r['outcome'])}</td>"
        f"<td>{cell(r.get('comparison'))}</td><td>{cell(r.get('studies'))}</td><td>{cell(r.get('participants'))}</td>"
        f"<td>{cell(r['measure'])} {cell(r['estimate'])}</td>"
        f"<td>{interval(r)}</td>"
        f"<td>{'minus' if r['favours_massage'] == 'negative' else 'plus'}</td><td>{cell(r.get('heterogeneity'))}</td>"
        f"<td>{'source' if r['mark'] == 'V' else 'copy'}</td><td>{cell(r['source'])}</td></tr>"
        for r in evidence_rows()
    )
    return ("<table class='evidence-table'><thead><tr><th>Review</th><th>Condition</th><th>Outcome</th>"
            "<th>Comparison</th><th>Studies</th><th>People</th><th>Effect</th><th>95% CI</th>"
            "<th>Sign that favours massage</th><th>Heterogeneity</th><th>Read in</th><th>Key</th></tr></thead>"
            f"<tbody>{body}</tbody></table>")


def claims_activity() -> list[dict]:
    """The claims activity as jupyterquiz questions: pick the grade the evidence supports."""
    raw = claims()
    return [{
        "question": f"The clinic's claim: \"{claim['claim']}\" How strong is the evidence in the course's sources?",
        "type": "multiple_choice",
        "answers": [{
            "answer": text, "correct": key == claim["grade"],
            "feedback": ("Yes. " if key == claim["grade"] else "Not quite. ") + " ".join(claim["why"].split()),
        } for key, text in raw["grades"].items()],
    } for claim in raw["claims"]]


def show_claims_activity() -> None:
    show_quiz(claims_activity())
