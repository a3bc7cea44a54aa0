"""The session planner: each rule alone, combinations, the conservative property, bad charts, the command line, and
the teaching charts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from massage_course.lessons.session_planner import load_teaching_charts
from massage_course.paths import PROJECT_ROOT
from massage_course.topics.charts import (
    BOOLEAN_FINDINGS,
    LIMB_FINDINGS,
    LINE_TYPES,
    NODE_SITES,
    SITE_LIST_FINDINGS,
    ChartError,
)
from massage_course.topics.plan_feedback import compare_plans
from massage_course.topics.precautions import SITE_ORDER, plan_session, rule_book

CHARTS = PROJECT_ROOT / "notebooks" / "charts"
RULES = rule_book()[1]


def trigger(rule) -> dict:
    """The smallest chart that sets off one rule."""
    when, name = rule.when, rule.when["field"]
    if "is_true" in when:
        return {name: True}
    if "at_most" in when:
        return {name: when["at_most"]}
    if "in" in when:
        return {name: when["in"][0]}
    if "status" in when:
        return {name: [{"site": "left_calf", "status": when["status"][0]}]}
    if "type" in when:
        return {name: [{"type": when["type"][-1], "site": "left_forearm"}]}
    if "days_ago_below" in when:
        return {name: [{"site": "abdomen", "days_ago": when["days_ago_below"] - 1}]}
    if name == "surgery":
        return {name: [{"site": "abdomen", "days_ago": 400}]}
    if name == "lymph_nodes_removed":
        return {name: ["left_axilla"]}
    if name in LIMB_FINDINGS:
        return {name: ["left_leg"]}
    return {name: ["left_forearm"]}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_each_rule_alone_has_its_effect_and_its_reason(rule):
    plan = plan_session(trigger(rule))
    reasons = [r for r in plan.reasons if r.rule == rule.id]
    assert len(reasons) == 1, f"{rule.id} did not apply to its own finding"
    assert reasons[0].source == rule.source and reasons[0].mark == rule.mark
    effects = rule.effects
    if "max_pressure" in effects:
        assert plan.max_pressure <= effects["max_pressure"]
    if "sites" in effects:
        assert reasons[0].regions and all(SITE_ORDER[plan.sites[r]] >= SITE_ORDER[effects["sites"]]
                                          for r in reasons[0].regions)
    assert set(effects.get("avoid_positions", [])) <= set(plan.avoid_positions)
    if effects.get("consult_care_team"):
        assert plan.consult_care_team


def test_every_rule_has_a_source_in_references_or_is_marked_unsourced():
    bib = (PROJECT_ROOT / "references.bib").read_text()
    for rule in RULES:
        if rule.mark == "U":
            assert rule.source is None and set(rule.effects) == {"consult_care_team"}
        else:
            assert f"{{{rule.source}," in bib, f"{rule.id}: {rule.source} is not in references.bib"


def test_an_empty_chart_gets_the_baseline_and_nothing_else():
    plan = plan_session({})
    assert plan.as_dict() == {"max_pressure": 3, "sites": {}, "avoid_positions": [], "consult_care_team": False,
                              "postpone": False, "reasons": [plan.reasons[0].as_dict()]}


def test_no_number_where_no_source_gives_one():
    for finding in ("neutropenia", "fall_risk"):
        plan = plan_session({finding: True})
        assert plan.consult_care_team and plan.max_pressure == 3 and plan.sites == {}


def test_combination_takes_the_strictest_of_each_rule():
    plan = plan_session({
        "surgery": [{"site": "left_forearm", "days_ago": 3}],  # light there, no prone
        "lines": [{"type": "iv", "site": "left_forearm"}],  # avoid there
        "neuropathy": ["left_foot"],
        "pregnancy_trimester": 3,
        "anticoagulant": True,
    })
    assert plan.sites["left_forearm"] == "avoid" and plan.sites["left_foot"] == "light"
    assert set(plan.avoid_positions) == {"prone", "supine"}
    assert plan.consult_care_team and plan.max_pressure == 3


def test_limb_groups_and_node_sites_name_the_regions_a_therapist_touches():
    plan = plan_session({"lymph_nodes_removed": ["right_groin"], "lymphedema": ["left_arm"]})
    assert {"right_groin", "right_thigh", "right_calf", "right_foot"} <= set(plan.sites)
    assert {"left_shoulder", "left_upper_arm", "left_forearm", "left_hand"} <= set(plan.sites)
    assert "left_arm" not in plan.sites


# --- The conservative property --------------------------------------------------------------------------------------

SITES = st.sampled_from(["abdomen", "chest", "left_forearm", "right_calf", "left_leg", "right_arm", "sacrum"])
FINDINGS = {
    **{name: st.booleans() for name in BOOLEAN_FINDINGS},
    **{name: st.lists(SITES, max_size=2) for name in SITE_LIST_FINDINGS},
    **{name: st.lists(st.sampled_from(["left_arm", "right_leg"]), max_size=2) for name in LIMB_FINDINGS},
    "platelets_per_uL": st.integers(min_value=0, max_value=600_000),
    "dvt": st.lists(st.fixed_dictionaries({"site": SITES, "status": st.sampled_from(["active", "history"])}), max_size=2),
    "surgery": st.lists(st.fixed_dictionaries({"site": SITES, "days_ago": st.integers(0, 400)}), max_size=2),
    "lines": st.lists(st.fixed_dictionaries({"type": st.sampled_from(LINE_TYPES), "site": SITES}), max_size=2),
    "lymph_nodes_removed": st.lists(st.sampled_from(NODE_SITES), max_size=2),
    "pregnancy_trimester": st.sampled_from([1, 2, 3]),
}


@st.composite
def chart_and_added_finding(draw):
    names = sorted(FINDINGS)
    present = draw(st.lists(st.sampled_from(names), unique=True, max_size=8))
    chart = {name: draw(FINDINGS[name]) for name in present}
    added = draw(st.sampled_from([n for n in names if n not in chart]))
    return chart, added, draw(FINDINGS[added])


def at_least_as_careful(after, before) -> bool:
    return (
        after.max_pressure <= before.max_pressure
        and all(SITE_ORDER[after.sites.get(r, "light")] >= SITE_ORDER[rule] and r in after.sites
                for r, rule in before.sites.items())
        and set(before.avoid_positions) <= set(after.avoid_positions)
        and after.consult_care_team >= before.consult_care_team
        and after.postpone >= before.postpone
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chart_and_added_finding())
def test_adding_a_finding_never_makes_a_plan_less_careful(case):
    chart, name, value = case
    before = plan_session(chart)
    after = plan_session({**chart, name: value})
    assert at_least_as_careful(after, before), (chart, name, value)


# --- Bad charts -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("chart", "message"),
    [
        ({"lines": [{"type": "iv", "site": "left_wrist"}]}, "chart.lines[0].site: 'left_wrist' is not allowed"),
        ({"temperature": 39}, "unknown field(s) temperature; allowed: anticoagulant"),
        ({"platelets_per_uL": -5}, "chart.platelets_per_uL: -5 is below the smallest possible value"),
        ({"platelets_per_uL": 90_000_000}, "is not a possible value"),
        ({"pregnancy_trimester": 4}, "chart.pregnancy_trimester: 4 is not allowed; choose one of: 1, 2, 3"),
        ({"fever": "yes"}, "chart.fever: 'yes' should be true or false"),
        ({"anticoagulant": 1}, "chart.anticoagulant: 1 should be true or false"),
        ({"surgery": [{"site": "abdomen"}]}, "chart.surgery[0]: 'days_ago' is a required property"),
        ({"lymphedema": ["left_forearm"]}, "chart.lymphedema[0]: 'left_forearm' is not allowed; choose one of: left_arm"),
        (["fever"], "chart: ['fever'] should be a mapping of fields"),
    ],
)
def test_bad_charts_get_a_message_naming_the_field_and_what_is_allowed(chart, message):
    with pytest.raises(ChartError) as error:
        plan_session(chart)
    assert message in str(error.value)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "massage_course", "plan", *args], capture_output=True, text=True)


def test_cli_prints_the_plan_as_json():
    result = run_cli(str(CHARTS / "05-clot-in-the-calf.yaml"), "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert set(plan) == {"max_pressure", "sites", "avoid_positions", "consult_care_team", "postpone", "reasons"}
    assert plan["sites"]["left_calf"] == "avoid" and plan["sites"]["right_forearm"] == "avoid"
    assert all(set(r) >= {"rule", "source", "regions"} for r in plan["reasons"])


def test_cli_reads_json_charts_too(tmp_path):
    chart = tmp_path / "chart.json"
    chart.write_text(json.dumps({"nausea": True}))
    result = run_cli(str(chart), "--json")
    assert result.returncode == 0 and json.loads(result.stdout)["avoid_positions"] == ["prone"]


@pytest.mark.parametrize(
    ("content", "message"),
    [("pregnancy_trimester: 4\n", "choose one of: 1, 2, 3"), ("fever: [\n", "is not valid YAML or JSON"),
     (None, "cannot read the chart")],
)
def test_cli_bad_input_exits_2_with_a_message_and_no_traceback(tmp_path, content, message):
    chart = tmp_path / "chart.yaml"
    if content is not None:
        chart.write_text(content)
    result = run_cli(str(chart))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


# --- Teaching charts and feedback -----------------------------------------------------------------------------------

def test_at_least_12_teaching_charts_that_together_use_every_rule():
    charts = load_teaching_charts(CHARTS)
    assert len(charts) >= 12
    used = {reason.rule for _, chart in charts for reason in plan_session(chart).reasons}
    assert {rule.id for rule in RULES} - used == set()
    for name, chart in charts:
        assert "Fictional teaching chart" in chart["story"], name


def test_feedback_marks_unsafe_too_cautious_and_matching_parts_with_sources():
    plan = plan_session({"lines": [{"type": "picc", "site": "right_upper_arm"}], "nausea": True})
    trainee = {"max_pressure": 4, "sites": {"left_calf": "avoid", "right_upper_arm": "avoid"},
               "avoid_positions": ["prone", "supine"], "consult_care_team": False}
    verdicts = {item.aspect: item for item in compare_plans(trainee, plan)}
    assert verdicts["pressure"].verdict == "unsafe"
    assert verdicts["site: right_upper_arm"].verdict == "matches"
    assert "mayo_medical_massage" in {r.source for r in verdicts["site: right_upper_arm"].reasons}
    assert verdicts["site: left_calf"].verdict == "too cautious"
    assert verdicts["position: prone"].verdict == "matches"
    assert verdicts["position: supine"].verdict == "too cautious"
    assert verdicts["care team"].verdict == "unsafe"


def test_plan_exercise_widget_checks_a_trainee_plan():
    from massage_course.lessons.session_planner import PlanExercise

    exercise = PlanExercise(CHARTS)
    exercise.chart_picker.value = "11-early-pregnancy"
    assert "ten weeks pregnant" in exercise.chart_view.value
    exercise.light.value = ("sacrum", "abdomen")
    exercise.positions["prone"].value = True
    exercise.consult.value = True
    exercise.check_button.click()
    assert "unsafe" not in exercise.feedback.value
    exercise.positions["prone"].value = False
    exercise.check()
    assert "unsafe" in exercise.feedback.value and "macdonald2014" in exercise.feedback.value
