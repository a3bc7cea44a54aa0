"""The session planner: each rule alone, each family of findings, combinations, the conservative property over every
field, bad charts and bad files, the command line, the teaching charts and their teaching points, feedback that never
punishes caution, and chapters that teach the rules the engine applies."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from massage_course.lessons.session_planner import load_teaching_charts, rule_table_html
from massage_course.paths import PROJECT_ROOT
from massage_course.topics.anatomy import regions
from massage_course.topics.charts import (
    BOOLEAN_FINDINGS,
    ISOLATION_TYPES,
    LIMB_FINDINGS,
    LINE_TYPES,
    NODE_SITES,
    OXYGEN_TYPES,
    SITE_LIST_FINDINGS,
    ChartError,
    chart_schema,
)
from massage_course.topics.plan_feedback import MATCHES, MORE_CAREFUL, UNSAFE, compare_plans
from massage_course.topics.precautions import AVOID, plan_session, rule_book

CHARTS = PROJECT_ROOT / "notebooks" / "charts"
RULES = rule_book()[1]


def entry_for(condition: dict) -> dict:
    """One chart entry that satisfies a condition on a list of entries."""
    name = condition["field"]
    if name == "dvt":
        return {"site": "left_calf", "status": condition.get("status", ["active"])[0]}
    if name == "surgery":
        return {"site": "abdomen", "days_ago": condition.get("days_ago_below", 401) - 1}
    if name == "lines":
        return {"type": condition["type"][-1], "site": "left_forearm"}
    if name == "cardiac_device":
        return {"type": "pacemaker", "side": "left", "days_ago": condition.get("days_ago_below", 401) - 1}
    if name == "dialysis_access":
        return {"type": condition["type"][0], "site": "left_forearm"}
    if name == "hip_precautions":
        return {"side": "right", "approach": condition["approach"][0]}
    if name == "femoral_puncture":
        return {"side": "right", "hours_ago": condition.get("hours_ago_below", 200) - 1,
                "sheath_in_place": condition.get("sheath_in_place", False)}
    if name == "radial_puncture":
        return {"side": "left", "hours_ago": condition.get("hours_ago_below", 200) - 1}
    if name == "joint_replacement":
        return {"type": "knee", "side": "left", "days_ago": condition.get("days_ago_below", 401) - 1}
    raise AssertionError(f"no entry for {name}")


def trigger(rule) -> dict:
    """The smallest chart that sets off one rule (its first condition)."""
    when = rule.when.get("any", [rule.when])[0]
    name = when["field"]
    if "is_true" in when:
        return {name: True}
    for op, value in (("at_most", when.get("at_most")), ("at_least", when.get("at_least"))):
        if value is not None:
            return {name: value}
    if "below" in when:
        return {name: when["below"] - 1}
    if "between" in when:
        return {name: when["between"][0]}
    if "in" in when:
        return {name: [when["in"][0]] if chart_schema()["properties"][name].get("type") == "array"
                else when["in"][0]}
    if chart_schema()["properties"][name].get("items", {}).get("type") == "object":  # a list of entries
        return {name: [entry_for(when)]}
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
    assert reasons[0].sources == rule.sources and reasons[0].text == rule.reason
    effects = rule.effects
    assert plan.max_pressure <= effects.get("max_pressure", 5)
    if "sites" in effects:
        cap = AVOID if effects["sites"] == "avoid" else effects["sites"]
        touched = [r for r in reasons[0].regions if r not in plan.no_joint_movement or r in plan.sites]
        assert touched and any(plan.cap(r) <= cap for r in touched)
    assert set(effects.get("avoid_positions", [])) <= set(plan.avoid_positions)
    assert set(effects.get("ppe", [])) <= set(plan.ppe)
    for flag in ("consult_care_team", "postpone", "stay_in_position"):
        if effects.get(flag):
            assert getattr(plan, flag)
    if "no_joint_movement" in effects:
        assert plan.no_joint_movement
    if effects.get("hand_hygiene"):
        assert plan.hand_hygiene == effects["hand_hygiene"]


def test_every_rule_names_sources_that_are_in_references():
    bib = (PROJECT_ROOT / "references.bib").read_text()
    for rule in RULES:
        assert rule.sources or set(rule.effects) == {"consult_care_team"}, rule.id
        for key in rule.sources:
            assert f"{{{key}," in bib, f"{rule.id}: {key} is not in references.bib"


def test_an_empty_chart_gets_the_baseline_and_nothing_else():
    plan = plan_session({})
    assert plan.max_pressure == 3 and plan.sites == {} and plan.avoid_positions == [] and not plan.postpone
    assert not plan.consult_care_team and plan.ppe == [] and [r.rule for r in plan.reasons] == ["baseline"]


# --- Families of findings (issue 17) -------------------------------------------------------------------------------

@pytest.mark.parametrize("finding", [
    {"platelets_per_uL": 120_000}, {"anticoagulant": True}, {"bleeding_disorder": True}, {"neutropenia": True},
    {"anc_per_uL": 900}, {"bone_metastases": ["lower_back"]}, {"chemotherapy_days_ago": 1},
    {"osteoporosis": True}, {"fragile_skin": True}, {"long_term_steroids": True}, {"neuropathy": ["left_foot"]},
    {"antiplatelet": True}, {"inr_above_range": True},
])
def test_frailty_keeps_the_whole_session_at_level_2_or_lighter(finding):
    assert plan_session(finding).max_pressure <= 2


def test_very_low_platelets_mean_level_1_and_a_check_and_below_20000_postponing():
    at_50 = plan_session({"platelets_per_uL": 50_000})
    assert at_50.max_pressure == 1 and at_50.consult_care_team and not at_50.postpone
    assert plan_session({"platelets_per_uL": 19_000}).postpone


def test_one_lesion_caps_its_own_region_and_margin_not_the_rest_of_the_body():
    plan = plan_session({"bone_metastases": ["lower_back"]})
    assert plan.cap("lower_back") == 1 and plan.cap("sacrum") == 1  # the lesion and its margin
    assert plan.cap("left_hand") == plan.max_pressure == 2  # the rest keeps the session level
    assert "lower_back" in plan.no_joint_movement


@pytest.mark.parametrize("clot", [{"dvt": [{"site": "left_calf", "status": "active"}]},
                                  {"dvt": [{"site": "left_calf", "status": "suspected"}]},
                                  {"new_limb_swelling": ["left_leg"]}])
def test_a_clot_or_new_swelling_rules_out_the_whole_limb_and_asks_the_team(clot):
    plan = plan_session(clot)
    assert all(plan.cap(part) == AVOID for part in ("left_thigh", "left_calf", "left_foot"))
    assert plan.cap("right_calf") > AVOID and plan.consult_care_team


def test_a_suspected_clot_or_new_swelling_postpones_the_session():
    assert plan_session({"dvt": [{"site": "left_calf", "status": "suspected"}]}).postpone
    assert plan_session({"new_limb_swelling": ["right_arm"]}).postpone
    assert not plan_session({"dvt": [{"site": "left_calf", "status": "history"}]}).postpone


@pytest.mark.parametrize("finding", [
    {"fever": True}, {"temperature_c": 38.0}, {"new_chest_pain": True}, {"new_shortness_of_breath": True},
    {"active_bleeding": True}, {"vasopressors": True}, {"uncontrolled_pain": True}, {"unable_to_consent": True},
    {"femoral_puncture": [{"side": "left", "hours_ago": 2, "sheath_in_place": True}]},
])
def test_an_unstable_patient_means_postpone_with_who_to_ask(finding):
    plan = plan_session(finding)
    assert plan.postpone and plan.who_to_ask and "POSTPONE" in plan.describe()
    assert "who_to_ask" in plan.as_dict() and plan.as_dict()["postpone"] is True


def test_a_temperature_under_38_does_not_postpone():
    assert not plan_session({"temperature_c": 37.6}).postpone


@pytest.mark.parametrize("lesion", ["drains", "non_intact_skin", "new_skin_graft", "donor_site", "pressure_injury"])
def test_wounds_are_avoided_with_a_margin(lesion):
    plan = plan_session({lesion: ["left_forearm"]})
    assert plan.cap("left_forearm") == AVOID
    assert plan.cap("left_upper_arm") == 1 and plan.cap("left_hand") == 1


def test_a_three_day_old_incision_is_avoided_and_a_healed_one_is_light():
    assert plan_session({"surgery": [{"site": "abdomen", "days_ago": 3}]}).cap("abdomen") == AVOID
    healed = plan_session({"surgery": [{"site": "abdomen", "days_ago": 400}]})
    assert healed.cap("abdomen") == 2 and "prone" in healed.avoid_positions


@pytest.mark.parametrize("trimester", [2, 3])
def test_from_the_second_trimester_neither_prone_nor_supine(trimester):
    plan = plan_session({"pregnancy_trimester": trimester})
    assert {"prone", "supine"} <= set(plan.avoid_positions)
    assert {"side_lying", "semi_reclined"} <= set(plan.allowed_positions())


# --- Rule changes from the expert review (each fails on the rules before it) --------------------------------------

LEG_PARTS = ("left_thigh", "left_calf", "left_foot", "right_thigh", "right_calf", "right_foot")


@pytest.mark.parametrize("finding", [{"pregnancy_trimester": 1}, {"pregnancy_trimester": 2},
                                     {"pregnancy_trimester": 3}, {"weeks_since_birth": 0},
                                     {"weeks_since_birth": 13}])
def test_in_pregnancy_and_for_13_weeks_after_birth_both_legs_are_kept_at_level_1_with_a_check(finding):
    plan = plan_session(finding)
    assert all(plan.cap(part) == 1 for part in LEG_PARTS) and plan.consult_care_team
    assert "sutham2020" in {s for r in plan.reasons for s in r.sources}


def test_from_14_weeks_after_birth_the_legs_are_no_longer_limited():
    assert plan_session({"weeks_since_birth": 14}).cap("left_calf") == 3


@pytest.mark.parametrize("trimester", [1, 2, 3])
def test_the_sacrum_and_abdomen_stay_at_level_2_in_every_trimester(trimester):
    plan = plan_session({"pregnancy_trimester": trimester})
    assert plan.cap("sacrum") == 2 and plan.cap("abdomen") == 2


@pytest.mark.parametrize("finding", ["unstable_fracture", "bone_metastases"])
def test_a_broken_or_weakened_bone_keeps_the_joints_next_to_it_and_its_whole_limb_still(finding):
    forearm = plan_session({finding: ["left_forearm"]})
    assert {"left_shoulder", "left_upper_arm", "left_forearm", "left_hand"} <= set(forearm.no_joint_movement)
    hip = plan_session({finding: ["left_hip"]})
    assert {"left_hip", "left_thigh", "left_calf", "left_foot", "lower_back"} <= set(hip.no_joint_movement)
    assert "right_thigh" not in hip.no_joint_movement


def test_bone_metastases_cite_walton_for_level_1_when_stability_is_in_doubt():
    plan = plan_session({"bone_metastases": ["left_thigh"]})
    reason = next(r for r in plan.reasons if r.rule == "bone-metastases")
    assert "walton2011" in reason.sources and "level 1 at most when in doubt" in reason.text
    assert plan.cap("left_thigh") == 1 and plan.cap("left_hip") == 1


def test_a_new_graft_keeps_the_joints_next_to_it_still():
    plan = plan_session({"new_skin_graft": ["left_forearm"]})
    assert {"left_upper_arm", "left_forearm", "left_hand"} <= set(plan.no_joint_movement)


@pytest.mark.parametrize("hours", [0, 6, 12, 23])
def test_a_groin_puncture_keeps_the_leg_alone_and_the_patient_as_positioned_for_the_first_day(hours):
    plan = plan_session({"femoral_puncture": [{"side": "left", "hours_ago": hours, "sheath_in_place": False}]})
    assert all(plan.cap(p) == AVOID for p in ("left_thigh", "left_calf", "left_foot"))
    assert plan.stay_in_position and plan.consult_care_team and "left_thigh" in plan.no_joint_movement


def test_a_wrist_puncture_leaves_that_arm_alone_for_a_day_and_the_wrist_unworked_for_three_days():
    day_one = plan_session({"radial_puncture": [{"side": "right", "hours_ago": 2}]})
    arm = ("right_shoulder", "right_upper_arm", "right_forearm", "right_hand")
    assert all(day_one.cap(p) == AVOID for p in arm) and set(arm) <= set(day_one.no_joint_movement)
    assert day_one.consult_care_team and day_one.cap("left_hand") == 3
    day_two = plan_session({"radial_puncture": [{"side": "right", "hours_ago": 30}]})
    assert day_two.cap("right_forearm") == AVOID and day_two.cap("right_hand") == AVOID
    assert {"right_forearm", "right_hand"} <= set(day_two.no_joint_movement) and day_two.cap("right_shoulder") == 3
    assert plan_session({"radial_puncture": [{"side": "right", "hours_ago": 72}]}).sites == {}


def test_an_epidural_catheter_keeps_hands_off_the_back_and_rules_out_prone():
    plan = plan_session({"epidural_catheter": True})
    assert all(plan.cap(r) == AVOID for r in ("upper_back", "lower_back", "sacrum"))
    assert "prone" in plan.avoid_positions and plan.consult_care_team


def test_a_dialysis_catheter_rules_out_prone_like_other_central_lines():
    plan = plan_session({"dialysis_access": [{"type": "catheter", "site": "neck"}]})
    assert "prone" in plan.avoid_positions and plan.cap("neck") == AVOID


@pytest.mark.parametrize("finding", ["antiplatelet", "inr_above_range"])
def test_an_antiplatelet_drug_or_a_high_inr_keeps_the_session_at_level_2_with_a_check(finding):
    plan = plan_session({finding: True})
    assert plan.max_pressure == 2 and plan.consult_care_team


@pytest.mark.parametrize("finding", ["hematoma", "varicose_veins", "medicine_patch", "injection_sites"])
def test_bruises_varicose_veins_medicine_patches_and_injection_sites_are_avoided(finding):
    plan = plan_session({finding: ["left_thigh"]})
    assert plan.cap("left_thigh") == AVOID
    assert plan_session({"medicine_patch": ["left_upper_arm"]}).cap("left_forearm") == 1  # the patch's margin


def test_a_swollen_limb_is_kept_at_level_2():
    plan = plan_session({"edema": ["left_leg"]})
    assert all(plan.cap(p) == 2 for p in ("left_thigh", "left_calf", "left_foot")) and plan.cap("right_calf") == 3


def test_chemotherapy_in_the_last_48_hours_asks_for_two_pairs_of_tested_gloves_and_a_gown():
    plan = plan_session({"chemotherapy_days_ago": 1})
    reason = next(r for r in plan.reasons if r.rule == "chemotherapy-48-hours")
    assert {"gloves", "gown"} <= set(plan.ppe) and "two pairs of chemotherapy-tested gloves and a gown" in reason.text


def test_a_plan_always_leaves_a_position_or_says_to_work_where_the_patient_lies():
    every = plan_session({"spinal_precautions": True, "pregnancy_trimester": 3, "nausea": True,
                          "femoral_puncture": [{"side": "left", "hours_ago": 1, "sheath_in_place": False}]})
    assert every.works_where_the_patient_lies()
    assert "Work where the patient lies" in every.describe()
    assert plan_session({"nausea": True}).allowed_positions()


@pytest.mark.parametrize(("isolation", "ppe", "soap"), [
    ("contact", {"gloves", "gown"}, False), ("contact_enteric", {"gloves", "gown"}, True),
    ("droplet", {"mask"}, False), ("airborne", {"n95"}, False),
])
def test_isolation_puts_protective_equipment_and_hand_hygiene_in_the_plan(isolation, ppe, soap):
    plan = plan_session({"isolation": [isolation]})
    assert ppe <= set(plan.ppe) and (plan.hand_hygiene == "soap_and_water") == soap


def test_devices_and_movement_precautions():
    plan = plan_session({"cardiac_device": [{"type": "pacemaker", "side": "left", "days_ago": 3}]})
    assert plan.cap("chest") == AVOID and "left_shoulder" in plan.no_joint_movement
    fistula = plan_session({"dialysis_access": [{"type": "fistula", "site": "left_forearm"}]})
    assert all(fistula.cap(p) == AVOID for p in ("left_shoulder", "left_upper_arm", "left_forearm", "left_hand"))
    sternal = plan_session({"sternal_precautions": True})
    assert sternal.cap("chest") == AVOID and {"left_shoulder", "right_shoulder"} <= set(sternal.no_joint_movement)
    hip = plan_session({"hip_precautions": [{"side": "right", "approach": "posterior"}]})
    assert {"right_thigh", "right_calf", "right_foot"} <= set(hip.no_joint_movement)
    assert "left_thigh" not in hip.no_joint_movement and hip.works_where_the_patient_lies()
    assert plan_session({"urinary_catheter": True}).cap("left_groin") == AVOID
    assert plan_session({"scds": ["left_leg"]}).cap("left_calf") == AVOID
    oxygen = plan_session({"oxygen": ["nasal_cannula"]})
    assert oxygen.cap("face") == 1 and oxygen.products == ["water_based_only"]


def test_no_number_where_no_source_gives_one():
    plan = plan_session({"fall_risk": True})
    assert plan.consult_care_team and plan.max_pressure == 3 and plan.sites == {}


def test_limb_groups_and_node_sites_name_the_regions_a_therapist_touches():
    plan = plan_session({"lymph_nodes_removed": ["right_groin"], "lymphedema": ["left_arm"]})
    assert {"right_groin", "right_thigh", "right_calf", "right_foot"} <= set(plan.sites)
    assert {"left_shoulder", "left_upper_arm", "left_forearm", "left_hand"} <= set(plan.sites)
    assert "left_arm" not in plan.sites


def test_after_axillary_nodes_are_removed_the_chest_and_upper_back_are_kept_light_as_well_as_the_arm():
    plan = plan_session({"lymph_nodes_removed": ["left_axilla"]})
    for region in ("left_axilla", "left_shoulder", "left_upper_arm", "left_forearm", "left_hand", "chest",
                   "upper_back"):
        assert plan.cap(region) <= 2, region
    assert "right_upper_arm" not in plan.sites
    groin = plan_session({"lymph_nodes_removed": ["right_groin"]})
    assert {"right_groin", "right_thigh", "right_calf", "right_foot"} <= set(groin.sites)
    assert "chest" not in groin.sites and "upper_back" not in groin.sites


def test_neighbouring_regions_are_neighbours_both_ways():
    for key in regions():
        if not regions()[key].parts:
            from massage_course.topics.anatomy import neighbours

            for other in neighbours(key):
                assert key in neighbours(other), (key, other)


# --- After the expert review (chunk "charts": F2, F3) -------------------------------------------------------------

@pytest.mark.parametrize("joint", ["hip", "knee"])
def test_in_the_first_10_days_after_a_joint_replacement_the_operated_leg_is_left_alone_with_a_check(joint):
    plan = plan_session({"joint_replacement": [{"type": joint, "side": "left", "days_ago": 2}]})
    assert all(plan.cap(r) == AVOID for r in ("left_thigh", "left_calf", "left_foot"))
    assert all(plan.cap(r) == 3 for r in ("right_thigh", "right_calf", "right_foot"))
    assert plan.consult_care_team
    assert {"stoptheclot_joint", "arthritis_ca_clots"} <= {s for r in plan.reasons for s in r.sources}
    for day in (0, 10):
        assert plan_session({"joint_replacement": [{"type": joint, "side": "right", "days_ago": day}]}).cap(
            "right_calf") == AVOID
    later = plan_session({"joint_replacement": [{"type": joint, "side": "right", "days_ago": 11}]})
    assert later.cap("right_calf") == 3 and not later.consult_care_team


def test_an_unstable_fracture_means_no_turning_or_sitting_up_and_working_where_the_patient_lies():
    plan = plan_session({"unstable_fracture": ["left_hip"]})
    assert {"prone", "side_lying", "seated"} <= set(plan.avoid_positions)
    assert plan.stay_in_position and plan.works_where_the_patient_lies()
    assert "ccrp2020_mobilization" in {s for r in plan.reasons if r.rule == "unstable-fracture" for s in r.sources}


# --- The conservative property, over every field -------------------------------------------------------------------

SITES = st.sampled_from(["abdomen", "chest", "left_forearm", "right_calf", "left_leg", "right_arm", "sacrum", "face"])
LIMBS = st.sampled_from(["left_arm", "right_leg"])
SIDE = st.sampled_from(["left", "right"])
FINDINGS = {
    **{name: st.booleans() for name in BOOLEAN_FINDINGS},
    **{name: st.lists(SITES, max_size=2) for name in SITE_LIST_FINDINGS},
    **{name: st.lists(LIMBS, max_size=2) for name in LIMB_FINDINGS},
    "platelets_per_uL": st.integers(min_value=0, max_value=600_000),
    "anc_per_uL": st.integers(min_value=0, max_value=20_000),
    "temperature_c": st.floats(min_value=35, max_value=41, allow_nan=False),
    "weeks_since_birth": st.integers(min_value=0, max_value=60),
    "chemotherapy_days_ago": st.integers(0, 60),
    "dvt": st.lists(st.fixed_dictionaries({"site": SITES, "status": st.sampled_from(["active", "suspected",
                                                                                      "history"])}), max_size=2),
    "surgery": st.lists(st.fixed_dictionaries({"site": SITES, "days_ago": st.integers(0, 400)}), max_size=2),
    "lines": st.lists(st.fixed_dictionaries({"type": st.sampled_from(LINE_TYPES), "site": SITES}), max_size=2),
    "lymph_nodes_removed": st.lists(st.sampled_from(NODE_SITES), max_size=2),
    "pregnancy_trimester": st.sampled_from([1, 2, 3]),
    "isolation": st.lists(st.sampled_from(ISOLATION_TYPES), max_size=2),
    "oxygen": st.lists(st.sampled_from(OXYGEN_TYPES), max_size=1),
    "cardiac_device": st.lists(st.fixed_dictionaries({"type": st.sampled_from(["pacemaker", "icd"]), "side": SIDE,
                                                      "days_ago": st.integers(0, 90)}), max_size=1),
    "dialysis_access": st.lists(st.fixed_dictionaries({"type": st.sampled_from(["fistula", "graft", "catheter"]),
                                                       "site": SITES}), max_size=1),
    "hip_precautions": st.lists(st.fixed_dictionaries({"side": SIDE, "approach": st.sampled_from(
        ["posterior", "anterior", "unknown"])}), max_size=1),
    "femoral_puncture": st.lists(st.fixed_dictionaries({"side": SIDE, "hours_ago": st.integers(0, 300),
                                                        "sheath_in_place": st.booleans()}), max_size=1),
    "radial_puncture": st.lists(st.fixed_dictionaries({"side": SIDE, "hours_ago": st.integers(0, 100)}), max_size=1),
    "joint_replacement": st.lists(st.fixed_dictionaries({"type": st.sampled_from(["hip", "knee"]), "side": SIDE,
                                                         "days_ago": st.integers(0, 60)}), max_size=2),
}


def test_the_property_test_draws_every_chart_field():
    readable = set(chart_schema()["properties"]) - {"title", "story", "teaching_points", "expected"}
    assert readable == set(FINDINGS)


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
        and all(after.cap(r) <= before.cap(r) for r in regions() if not regions()[r].parts)
        and set(before.avoid_positions) <= set(after.avoid_positions)
        and after.stay_in_position >= before.stay_in_position
        and set(before.no_joint_movement) <= set(after.no_joint_movement)
        and after.consult_care_team >= before.consult_care_team
        and after.postpone >= before.postpone
        and set(before.ppe) <= set(after.ppe)
        and (before.hand_hygiene != "soap_and_water" or after.hand_hygiene == "soap_and_water")
        and set(before.products) <= set(after.products)
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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
        ({"temperature": 39}, "unknown field(s) temperature; allowed: active_bleeding"),
        ({"platelets_per_uL": -5}, "chart.platelets_per_uL: -5 is below the smallest possible value"),
        ({"platelets_per_uL": 90_000_000}, "is not a possible value"),
        ({"temperature_c": 100.4}, "chart.temperature_c: 100.4 is not a possible value"),
        ({"pregnancy_trimester": 4}, "chart.pregnancy_trimester: 4 is not allowed; choose one of: 1, 2, 3"),
        ({"fever": "yes"}, "chart.fever: 'yes' should be true or false"),
        ({"anticoagulant": 1}, "chart.anticoagulant: 1 should be true or false"),
        ({"surgery": [{"site": "abdomen"}]}, "chart.surgery[0]: 'days_ago' is a required property"),
        ({"lymphedema": ["left_forearm"]}, "chart.lymphedema[0]: 'left_forearm' is not allowed; choose one of: left_arm"),
        ({"isolation": ["reverse"]}, "chart.isolation[0]: 'reverse' is not allowed; choose one of: contact"),
        (["fever"], "chart: ['fever'] should be a mapping of fields"),
        ({"weeks_since_birth": 5000}, "chart.weeks_since_birth: 5000 is not a possible value"),
        ({"radial_puncture": [{"side": "up", "hours_ago": 2}]},
         "chart.radial_puncture[0].side: 'up' is not allowed; choose one of: left, right"),
        ({"radial_puncture": [{"side": "left"}]}, "chart.radial_puncture[0]: 'hours_ago' is a required property"),
        ({"epidural_catheter": "yes"}, "chart.epidural_catheter: 'yes' should be true or false"),
        ({"medicine_patch": ["left_wrist"]}, "chart.medicine_patch[0]: 'left_wrist' is not allowed"),
        ({"joint_replacement": [{"type": "shoulder", "side": "left", "days_ago": 2}]},
         "chart.joint_replacement[0].type: 'shoulder' is not allowed; choose one of: hip, knee"),
        ({"joint_replacement": [{"type": "hip", "side": "left"}]},
         "chart.joint_replacement[0]: 'days_ago' is a required property"),
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
    assert {"postpone", "max_pressure", "sites", "avoid_positions", "no_joint_movement", "ppe", "reasons"} <= set(plan)
    assert plan["sites"]["left_calf"] == "avoid" and plan["sites"]["left_thigh"] == "avoid"
    assert all(set(r) >= {"rule", "sources", "regions"} for r in plan["reasons"])


def test_cli_reads_json_charts_too(tmp_path):
    chart = tmp_path / "chart.json"
    chart.write_text(json.dumps({"nausea": True}))
    result = run_cli(str(chart), "--json")
    assert result.returncode == 0 and json.loads(result.stdout)["avoid_positions"] == ["prone"]


BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [("pregnancy_trimester: 4\n", "choose one of: 1, 2, 3"), ("fever: [\n", "is not valid YAML or JSON"),
     (None, "cannot read the chart"), ("", "is empty"), ("   \n# only a comment\n", "is empty"),
     (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not a text file"), (b"fever: caf\xe9\n", "is not UTF-8 text"),
     (BILLION_LAUGHS, "anchors and aliases"), ("fever: true\n" + "#" * 1_100_000, "a chart is a short YAML"),
     ("temperature: 39\n", "unknown field(s) temperature")],
    ids=["bad value", "bad YAML", "missing", "empty", "blank", "binary", "not UTF-8", "alias bomb", "huge",
         "unknown field"],
)
def test_cli_bad_input_exits_2_with_one_clear_message_and_no_traceback(tmp_path, content, message):
    chart = tmp_path / "chart.yaml"
    if isinstance(content, bytes):
        chart.write_bytes(content)
    elif content is not None:
        chart.write_text(content)
    result = run_cli(str(chart))
    assert result.returncode == 2 and result.stdout == ""
    assert message in result.stderr and "Traceback" not in result.stderr


# --- Teaching charts and their teaching points --------------------------------------------------------------------

TEACHING_CHARTS = load_teaching_charts(CHARTS)


def test_at_least_30_teaching_charts_that_together_use_every_rule():
    assert len(TEACHING_CHARTS) >= 30
    used = {reason.rule for _, chart in TEACHING_CHARTS for reason in plan_session(chart).reasons}
    assert {rule.id for rule in RULES} - used == set()
    combined = [name for name, chart in TEACHING_CHARTS if len(set(chart) - {"title", "story", "expected",
                                                                              "teaching_points"}) >= 5]
    assert len(combined) >= 5, "at least five combined, realistic inpatients"


@pytest.mark.parametrize(("name", "chart"), TEACHING_CHARTS, ids=[n for n, _ in TEACHING_CHARTS])
def test_teaching_chart_is_planned_as_its_teaching_points_say(name, chart):
    assert "Fictional teaching chart" in chart["story"]
    assert chart.get("teaching_points"), "every chart states what it teaches"
    plan, expected = plan_session(chart), chart["expected"]
    for key in ("postpone", "max_pressure", "consult_care_team"):
        if key in expected:
            assert getattr(plan, key) == expected[key], key
    if "avoid_positions" in expected:
        assert set(plan.avoid_positions) == set(expected["avoid_positions"])
    if "ppe" in expected:
        assert set(plan.ppe) == set(expected["ppe"])
    for region in expected.get("avoid", []):
        assert all(plan.cap(part) == AVOID for part in regions()[region].parts or (region,)), region
    for region, level in (expected.get("sites_level") or {}).items():
        assert plan.cap(region) == level, region
    for region in expected.get("no_joint_movement", []):
        assert set(regions()[region].parts or (region,)) <= set(plan.no_joint_movement), region
    applied = {reason.rule for reason in plan.reasons}
    for point in chart["teaching_points"]:
        named = re.search(r"\(([a-z0-9-]+(?:, [a-z0-9-]+)*)\)\.?$", point)
        for rule_id in named.group(1).split(", ") if named else []:
            assert rule_id in applied, f"the teaching point names {rule_id}, which does not apply"


# --- Feedback never punishes caution ------------------------------------------------------------------------------

def test_feedback_marks_unsafe_more_careful_and_matching_parts_with_sources():
    plan = plan_session({"lines": [{"type": "picc", "site": "right_upper_arm"}], "nausea": True})
    trainee = {"max_pressure": 4, "sites": {"left_calf": "avoid", "right_upper_arm": "avoid"},
               "avoid_positions": ["prone", "supine"], "consult_care_team": False}
    verdicts = {item.aspect: item for item in compare_plans(trainee, plan)}
    assert verdicts["pressure"].verdict == UNSAFE
    assert verdicts["site: right_upper_arm"].verdict == MATCHES
    assert "mayo_medical_massage" in {s for r in verdicts["site: right_upper_arm"].reasons for s in r.sources}
    assert verdicts["site: left_calf"].verdict == MORE_CAREFUL
    assert verdicts["position: prone"].verdict == MATCHES
    assert verdicts["position: supine"].verdict == MORE_CAREFUL
    assert verdicts["care team"].verdict == UNSAFE
    assert MORE_CAREFUL == "safe, more restrictive than needed"


@pytest.mark.parametrize(("name", "chart"), TEACHING_CHARTS, ids=[n for n, _ in TEACHING_CHARTS])
def test_the_most_cautious_plan_is_never_marked_unsafe(name, chart):
    """Postpone, level 1, every region avoided, every position and joint ruled out, all equipment, soap and water,
    ask first: whatever the chart, nothing of it is a mistake."""
    every_region = [r for r in regions() if not regions()[r].parts]
    most_careful = {"postpone": True, "max_pressure": 1, "sites": {r: "avoid" for r in every_region},
                    "avoid_positions": rule_book()[0]["positions"], "no_joint_movement": every_region,
                    "ppe": ["gloves", "gown", "mask", "n95"], "hand_hygiene": "soap_and_water",
                    "consult_care_team": True}
    verdicts = {item.verdict for item in compare_plans(most_careful, plan_session(chart))}
    assert UNSAFE not in verdicts


def test_a_less_cautious_plan_is_the_error_with_its_reason_and_source():
    plan = plan_session({"vasopressors": True, "isolation": ["contact_enteric"]})
    verdicts = {item.aspect: item for item in compare_plans({"max_pressure": 3}, plan)}
    assert verdicts["postpone"].verdict == UNSAFE and "ICU nurse" in verdicts["postpone"].message
    assert verdicts["protective equipment: gown"].verdict == UNSAFE
    assert verdicts["hand hygiene"].verdict == UNSAFE
    assert {"hodgson2014", "ccrp2020_mobilization"} <= {s for r in verdicts["postpone"].reasons for s in r.sources}


def test_plan_exercise_widget_checks_a_trainee_plan():
    from massage_course.lessons.session_planner import PlanExercise

    exercise = PlanExercise(CHARTS)
    exercise.chart_picker.value = "11-early-pregnancy"
    shown = exercise.chart_view.children[exercise.chart_view.selected_index]
    assert "ten weeks pregnant" in shown.value
    exercise.level_2.value = ("sacrum", "abdomen")
    exercise.level_1.value = ("left_thigh", "left_calf", "left_foot", "right_thigh", "right_calf", "right_foot")
    exercise.positions["prone"].value = True
    exercise.consult.value = True
    exercise.check_button.click()
    assert "unsafe" not in exercise.feedback.value
    exercise.positions["prone"].value = False
    exercise.check()
    assert "unsafe" in exercise.feedback.value and "macdonald2014" in exercise.feedback.value
    exercise.positions["supine"].value = exercise.positions["prone"].value = True
    exercise.check()
    assert "unsafe" not in exercise.feedback.value and "safe, more restrictive than needed" in exercise.feedback.value


# --- Chapters teach what the engine applies -----------------------------------------------------------------------

def cited_in_chapters() -> set[str]:
    keys = set()
    for page in (PROJECT_ROOT / "book").glob("*.md"):
        for group in re.findall(r"\{(?:foot)?cite(?::[a-z]+)?\}`([^`]+)`", page.read_text()):
            keys |= {k.strip() for k in group.split(",")}
    return keys


def test_every_rule_is_taught_in_the_chapters_with_its_sources():
    cited = cited_in_chapters()
    for rule in RULES:
        missing = set(rule.sources) - cited
        assert not missing, f"{rule.id}: its sources {sorted(missing)} are cited in no chapter"


def test_the_precautions_chapter_and_the_planner_notebook_show_the_rule_table_from_the_same_data():
    assert "show_rule_table()" in (PROJECT_ROOT / "book" / "precautions.md").read_text()
    table = rule_table_html()
    for rule in RULES:
        assert f"<td>{rule.id}</td>" in table and ", ".join(rule.sources) in table
    notebook = json.loads((PROJECT_ROOT / "notebooks" / "session-planner.ipynb").read_text())
    code = "".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    assert "show_rule_table" in code


def test_the_rules_file_is_valid_yaml_with_one_sentence_reasons():
    raw = yaml.safe_load((PROJECT_ROOT / "massage_course" / "data" / "precaution_rules.yaml").read_text())
    for entry in raw["rules"]:
        assert not re.search(r"read (only )?in a copy|fact sheet|secondary book", entry["reason"]), entry["id"]
