"""Evidence for the course: pooled results of massage reviews (reviewed data in ``data/evidence.yaml``), the claims
and their grades, and how a meta-analysis pools trials (the evidence explorer that shows them is
``lessons/evidence_explorer.py``).

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


def share_below_comparison_average(smd: float) -> float:
    """Under the illustration's assumptions (normal scores, equal spread): the share of the massage group scoring
    below the comparison group's average (Cohen's U3)."""
    from statistics import NormalDist

    return NormalDist().cdf(abs(smd))


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
