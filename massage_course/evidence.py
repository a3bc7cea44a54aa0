"""The evidence explorer: pooled results of massage reviews (reviewed data), and how a meta-analysis pools trials.

Pooling uses well-kept libraries: statsmodels for the fixed-effect and DerSimonian-Laird estimates, PyMARE for the
restricted maximum likelihood (REML) estimate of tau². Heterogeneity is reported as metafor reports it: Q, and I² in
percent (from Q for a fixed-effect model, from tau² for a random-effects model).
"""

from __future__ import annotations

import csv
import math
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources

from .data_files import load_yaml, needs_jupyterlab, require

try:
    import numpy as np
except ImportError as error:  # no browser build of numpy (or matplotlib) that works offline
    raise needs_jupyterlab("evidence explorer", "numpy and matplotlib") from error
from .static_widgets import linked_views, show_quiz

METHODS = ("FE", "DL", "REML")
Z_95 = 1.959963984540054  # the 97.5th percentile of the standard normal distribution
MEASURES = ("SMD", "g", "MD")


class PoolingError(ValueError):
    """Inputs that cannot be pooled; the message says what is wrong."""


@dataclass(frozen=True)
class PoolResult:
    method: str
    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    tau2: float
    i2: float  # percent, as metafor reports it
    q: float

    def __getitem__(self, key: str):
        return asdict(self)[key]

    def as_dict(self) -> dict:
        return asdict(self)


def _check_inputs(yi, vi) -> tuple[np.ndarray, np.ndarray]:
    try:
        y = np.asarray(yi, dtype=float)
        v = np.asarray(vi, dtype=float)
    except (TypeError, ValueError) as error:
        raise PoolingError(f"effect sizes and variances must be numbers: {error}") from error
    if y.ndim != 1 or v.ndim != 1:
        raise PoolingError("give one effect size and one variance per study, as two flat lists")
    if len(y) != len(v):
        raise PoolingError(f"{len(y)} effect sizes but {len(v)} variances: give one variance per study")
    if len(y) == 0:
        raise PoolingError("there are no studies to pool")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v))):
        raise PoolingError("effect sizes and variances must be finite numbers (no NaN or infinity)")
    if np.any(v <= 0):
        bad = ", ".join(str(i + 1) for i in np.flatnonzero(v <= 0))
        raise PoolingError(f"variances must be positive; study {bad} has a variance of zero or below")
    return y, v


def _q(y: np.ndarray, v: np.ndarray) -> float:
    w = 1 / v
    return float(np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2))


def _typical_variance(v: np.ndarray) -> float:
    """The 'typical' within-study variance that metafor uses for I² in random-effects models."""
    w = 1 / v
    k = len(v)
    return float((k - 1) * np.sum(w) / (np.sum(w) ** 2 - np.sum(w**2)))


def _reml_tau2(y: np.ndarray, v: np.ndarray) -> float:
    from pymare import Dataset
    from pymare.estimators import VarianceBasedLikelihoodEstimator

    estimator = VarianceBasedLikelihoodEstimator(method="REML")
    estimator.fit_dataset(Dataset(y=y, v=v))
    return max(0.0, float(np.ravel(estimator.summary().tau2)[0]))


def pool(yi, vi, method: str = "REML") -> PoolResult:
    """Pool effect sizes ``yi`` with sampling variances ``vi`` by a fixed-effect ("FE") or random-effects ("DL",
    "REML") model. Confidence intervals are 95%, from the normal distribution (metafor's default)."""
    if method not in METHODS:
        raise PoolingError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    y, v = _check_inputs(yi, vi)
    k = len(y)
    q = _q(y, v)
    if k == 1:  # one study: nothing to pool, no heterogeneity to estimate
        se = math.sqrt(v[0])
        return PoolResult(method, 1, float(y[0]), se, y[0] - Z_95 * se, y[0] + Z_95 * se, 0.0, 0.0, 0.0)

    from statsmodels.stats.meta_analysis import combine_effects

    if method == "FE":
        frame = combine_effects(y, v, method_re="dl").summary_frame().loc["fixed effect"]
        tau2 = 0.0
        estimate, se = float(frame["eff"]), float(frame["sd_eff"])
        i2 = max(0.0, (q - (k - 1)) / q) * 100 if q > 0 else 0.0
    else:
        if method == "DL":
            result = combine_effects(y, v, method_re="dl")
            tau2 = max(0.0, float(result.tau2))
            frame = result.summary_frame().loc["random effect"]
            estimate, se = float(frame["eff"]), float(frame["sd_eff"])
        else:
            tau2 = _reml_tau2(y, v)
            # The random-effects estimate for a given tau²: the inverse-variance weighted mean.
            w = 1 / (v + tau2)
            estimate, se = float(np.sum(w * y) / np.sum(w)), float(math.sqrt(1 / np.sum(w)))
        i2 = 100 * tau2 / (tau2 + _typical_variance(v))
    return PoolResult(method, k, estimate, se, estimate - Z_95 * se, estimate + Z_95 * se, tau2, i2, q)


# --- Teaching data: the BCG vaccine trials -------------------------------------------------------------------------

@cache
def bcg_trials() -> list[dict]:
    """The 13 BCG vaccine trials (Colditz et al. 1994, as distributed with metafor's dat.bcg): not massage data, used
    to show how pooling works. Each row gets its log risk ratio ``yi`` and sampling variance ``vi``."""
    text = (resources.files("massage_course") / "data" / "bcg_trials.csv").read_text(encoding="utf-8")
    rows = []
    for row in csv.DictReader(text.splitlines()):
        tpos, tneg, cpos, cneg = (int(row[name]) for name in ("tpos", "tneg", "cpos", "cneg"))
        yi = math.log((tpos / (tpos + tneg)) / (cpos / (cpos + cneg)))
        vi = 1 / tpos - 1 / (tpos + tneg) + 1 / cpos - 1 / (cpos + cneg)
        rows.append({"trial": f"{row['author']} {row['year']}", "yi": yi, "vi": vi, "ablat": int(row["ablat"])})
    return rows


# --- The massage evidence table -------------------------------------------------------------------------------------

@cache
def evidence_rows() -> tuple[dict, ...]:
    raw = load_yaml("evidence.yaml")
    where = "massage_course/data/evidence.yaml"
    rows = raw.get("rows") or []
    for number, row in enumerate(rows, start=1):
        r_where = f"{where}, row {number} ({row.get('review')})"
        for field in ("review", "source", "condition", "outcome", "measure", "estimate", "favours_massage", "mark"):
            require(row.get(field) is not None, r_where, f"'{field}' is missing")
        require(row["measure"] in MEASURES, r_where, f"measure must be one of {MEASURES}")
        require(row["favours_massage"] in ("negative", "positive"), r_where, "favours_massage: negative or positive")
        require(row["mark"] in ("V", "V2"), r_where, "mark must be V or V2")
        low, high = row.get("ci_low"), row.get("ci_high")
        require((low is None) == (high is None), r_where, "give both ends of the confidence interval, or neither")
        require(low is None or low <= row["estimate"] <= high, r_where, "the estimate must lie inside its interval")
    return tuple(rows)


def favouring_massage(value: float, row: dict) -> float:
    """The row's number turned so that a positive value favours massage (for drawing; the table keeps the sign)."""
    return value if row["favours_massage"] == "positive" else -value


# --- Figures for the static page and JupyterLab --------------------------------------------------------------------

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


def share_below_comparison_average(smd: float) -> float:
    """Under the illustration's assumptions (normal scores, equal spread): the share of the massage group scoring
    below the comparison group's average (Cohen's U3)."""
    from statistics import NormalDist

    return NormalDist().cdf(abs(smd))


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


def bcg_steps() -> dict:
    """The numbers of the step-by-step pooling walkthrough (all computed here, from the BCG data)."""
    trials = bcg_trials()
    y = np.array([t["yi"] for t in trials])
    v = np.array([t["vi"] for t in trials])
    w = 1 / v
    results = {method: pool(y, v, method) for method in METHODS}
    return {"k": len(trials), "df": len(trials) - 1, "sum_w": float(np.sum(w)),
            "sum_w2": float(np.sum(w**2)), "fe_share_largest": float(np.max(w) / np.sum(w)),
            "re_share_largest": float(np.max(1 / (v + results["DL"].tau2)) / np.sum(1 / (v + results["DL"].tau2))),
            "results": results}


@cache
def claims() -> dict:
    raw = load_yaml("claims.yaml")
    where = "massage_course/data/claims.yaml"
    for number, claim in enumerate(raw["claims"], start=1):
        require(claim.get("grade") in raw["grades"], f"{where}, claim {number}", "grade must be one of the grades")
        require(bool(claim.get("sources")), f"{where}, claim {number}", "needs its sources")
    return raw


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
