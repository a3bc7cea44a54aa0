"""The evidence explorer: the evidence table, pooling checked against values derived another way, and the figures."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from massage_course.lessons import evidence_explorer
from massage_course.paths import PROJECT_ROOT
from massage_course.topics.evidence import METHODS, PoolingError, bcg_trials, evidence_rows, pool

from .conftest import linked_in_browser

Y = [0.1, 0.3, 0.5]
V = [0.01, 0.02, 0.04]


def test_evidence_rows_follow_the_schema_and_cite_sources_in_references():
    bib = (PROJECT_ROOT / "references.bib").read_text()
    rows = evidence_rows()
    assert len(rows) >= 20
    for row in rows:
        assert f"{{{row['source']}," in bib, row["source"]
        assert row["measure"] in ("SMD", "g", "MD") and row["mark"] in ("V", "V2")
        if row["ci_low"] is not None:
            assert row["ci_low"] <= row["estimate"] <= row["ci_high"]


def test_evidence_rows_copy_the_fact_sheet_numbers():
    by_review = {(r["review"], r["outcome"], r.get("comparison")): r for r in evidence_rows()}
    liu = by_review[("Liu 2022", "pain", "massage vs control (as pooled by the review)")]
    assert (liu["estimate"], liu["ci_low"], liu["ci_high"]) == (-1.32, -2.01, -0.63)
    assert "98.67%" in liu["heterogeneity"]
    hou = next(r for r in evidence_rows() if r["source"] == "hou2010")
    assert (hou["estimate"], hou["ci_low"], hou["ci_high"], hou["favours_massage"]) == (0.73, 0.52, 0.93, "positive")


def test_dersimonian_laird_matches_the_closed_form_worked_by_hand():
    # Exact arithmetic, step by step: w = 1/v = 100, 50, 25.
    y = [Fraction(1, 10), Fraction(3, 10), Fraction(5, 10)]
    w = [Fraction(100), Fraction(50), Fraction(25)]
    mean_fe = sum(wi * yi for wi, yi in zip(w, y)) / sum(w)  # 37.5 / 175
    q = sum(wi * (yi - mean_fe) ** 2 for wi, yi in zip(w, y))  # 26/7
    c = sum(w) - sum(wi**2 for wi in w) / sum(w)  # 175 - 13125/175 = 100
    tau2 = max(Fraction(0), (q - 2) / c)
    w_re = [1 / (1 / wi + tau2) for wi in w]
    mean_re = sum(wi * yi for wi, yi in zip(w_re, y)) / sum(w_re)
    result = pool(Y, V, "DL")
    assert result.q == pytest.approx(float(q), abs=1e-12)
    assert result.tau2 == pytest.approx(float(tau2), abs=1e-12)
    assert result.estimate == pytest.approx(float(mean_re), abs=1e-12)
    assert result.se == pytest.approx(math.sqrt(1 / float(sum(w_re))), abs=1e-12)
    assert result.i2 == pytest.approx(float((q - 2) / q) * 100, abs=1e-9)
    assert result.ci_low == pytest.approx(result.estimate - 1.959964 * result.se, abs=1e-6)


def test_fixed_effect_is_the_inverse_variance_mean():
    w = 1 / np.array(V)
    result = pool(Y, V, "FE")
    assert result.estimate == pytest.approx(float(np.sum(w * Y) / np.sum(w)))
    assert result.se == pytest.approx(float(math.sqrt(1 / np.sum(w))))
    assert result.tau2 == 0


def restricted_log_likelihood(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    w = 1 / (v + tau2)
    mu = np.sum(w * y) / np.sum(w)
    return float(-0.5 * (np.sum(np.log(v + tau2)) + math.log(np.sum(w)) + np.sum(w * (y - mu) ** 2)))


def test_reml_maximises_the_restricted_likelihood_written_out_here():
    trials = bcg_trials()
    y = np.array([t["yi"] for t in trials])
    v = np.array([t["vi"] for t in trials])
    best = minimize_scalar(lambda t: -restricted_log_likelihood(t, y, v), bounds=(0, 10), method="bounded",
                           options={"xatol": 1e-10})
    result = pool(y, v, "REML")
    assert result.tau2 == pytest.approx(best.x, abs=5e-4)
    w = 1 / (v + best.x)
    assert result.estimate == pytest.approx(float(np.sum(w * y) / np.sum(w)), abs=5e-4)


def test_two_libraries_agree_on_dersimonian_laird():
    from pymare import Dataset
    from pymare.estimators import DerSimonianLaird

    trials = bcg_trials()
    y = np.array([t["yi"] for t in trials])
    v = np.array([t["vi"] for t in trials])
    estimator = DerSimonianLaird()
    estimator.fit_dataset(Dataset(y=y, v=v))
    summary = estimator.summary()
    result = pool(y, v, "DL")
    assert result.tau2 == pytest.approx(float(np.ravel(summary.tau2)[0]), abs=1e-9)
    assert result.estimate == pytest.approx(float(np.ravel(summary.fe_params)[0]), abs=1e-9)


@pytest.mark.parametrize("method", METHODS)
def test_identical_studies_have_no_heterogeneity(method):
    result = pool([0.4, 0.4, 0.4], [0.02, 0.05, 0.1], method)
    assert result.tau2 == pytest.approx(0, abs=1e-8) and result.i2 == pytest.approx(0, abs=1e-6)
    assert result.q == pytest.approx(0) and result.estimate == pytest.approx(0.4)


@pytest.mark.parametrize("method", METHODS)
def test_one_study_is_its_own_result(method):
    result = pool([-0.3], [0.04], method)
    assert (result.estimate, result.se, result.tau2, result.i2, result.q) == (-0.3, 0.2, 0.0, 0.0, 0.0)


@pytest.mark.parametrize("method", ["DL", "REML"])
def test_random_effects_are_never_narrower_than_fixed_effect(method):
    trials = bcg_trials()
    y = [t["yi"] for t in trials]
    v = [t["vi"] for t in trials]
    assert pool(y, v, method).se >= pool(y, v, "FE").se


def test_result_names_are_exactly_the_promised_ones():
    result = pool(Y, V, "REML")
    for name in ("estimate", "se", "ci_low", "ci_high", "tau2", "i2", "q"):
        assert getattr(result, name) == result[name]


@pytest.mark.parametrize(
    ("yi", "vi", "method", "message"),
    [
        ([0.1, 0.2], [0.01], "DL", "2 effect sizes but 1 variances"),
        ([0.1, 0.2], [0.01, -0.02], "FE", "variances must be positive; study 2"),
        ([0.1, 0.2], [0.01, 0.0], "REML", "variances must be positive; study 2"),
        ([0.1, float("nan")], [0.01, 0.02], "DL", "finite numbers"),
        ([], [], "DL", "no studies"),
        ([0.1], [0.01], "PM", "method must be one of FE, DL, REML"),
        (["a"], [0.01], "DL", "must be numbers"),
    ],
)
def test_bad_inputs_get_a_clear_error(yi, vi, method, message):
    with pytest.raises(PoolingError, match=message):
        pool(yi, vi, method)


def test_figures_have_alt_text_and_the_filter_is_linked_in_the_browser():
    import ipywidgets as widgets

    box = evidence_explorer.evidence_map_widget()
    picker, stack = box.children
    assert len(picker.options) == len(stack.children) == len(evidence_explorer.OUTCOME_FILTERS)
    for view in stack.children:
        assert '<img src="data:image/png;base64,' in view.value and 'alt="Pooled effects of massage' in view.value
    assert linked_in_browser((picker, "index"), (stack, "selected_index"))
    assert isinstance(picker, widgets.Dropdown)


def test_claims_activity_has_one_grade_per_claim_from_the_data():
    questions = evidence_explorer.claims_activity()
    assert len(questions) == 5
    for question in questions:
        assert sum(answer["correct"] for answer in question["answers"]) == 1
    immune = next(q for q in questions if "immune" in q["question"])
    assert next(a for a in immune["answers"] if a["correct"])["answer"].startswith("Preliminary")
