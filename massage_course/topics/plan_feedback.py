"""Feedback on a trainee's session plan: each part of it (postponing, pressure, each region, each position, joint
movement, protective equipment, hand hygiene, the check with the care team) compared with the planner's plan, with
the rules and sources behind the difference.

Caution is never marked as a mistake: a part that is more careful than the planner's is "safe, more restrictive than
needed", with what could have been allowed; only a part that is less careful is "unsafe", with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from .precautions import AVOID, Reason, SessionPlan, cap_word, rule_book

MATCHES, MORE_CAREFUL, UNSAFE = "matches", "safe, more restrictive than needed", "unsafe"


@dataclass(frozen=True)
class Feedback:
    aspect: str  # "postpone", "pressure", "site: left_forearm", "position: prone", "joints: right_thigh", ...
    verdict: str  # MATCHES, MORE_CAREFUL or UNSAFE
    message: str
    reasons: tuple[Reason, ...] = ()


def _reasons_for(plan: SessionPlan, *, region: str | None = None, effect: str | None = None,
                 value: str | None = None) -> tuple[Reason, ...]:
    by_id = {rule.id: rule for rule in rule_book()[1]}
    found = []
    for reason in plan.reasons:
        rule = by_id.get(reason.rule)
        if rule is None:
            continue
        effects = rule.effects
        if region and region in reason.regions:
            found.append(reason)
        elif effect and effect in effects and (value is None or value in effects[effect]):
            found.append(reason)
    return tuple(found)


def _trainee_cap(value) -> int:
    return AVOID if value == "avoid" else 2 if value == "light" else int(value)


def _compare(aspect: str, want: bool, got: bool, yes: str, no: str, reasons: tuple) -> Feedback:
    """A yes/no part of the plan: doing it when the chart asks is a match; doing it when the chart does not is more
    careful than needed; not doing it when the chart asks is unsafe."""
    if want == got:
        return Feedback(aspect, MATCHES, yes if want else no, reasons)
    if got:
        return Feedback(aspect, MORE_CAREFUL, f"{no} (Your choice is safe.)", reasons)
    return Feedback(aspect, UNSAFE, yes, reasons)


def compare_plans(trainee: dict, engine: SessionPlan) -> list[Feedback]:
    """Compare a trainee's plan with the planner's, item by item.

    ``trainee`` has the plan's keys: postpone, max_pressure, sites ({region: avoid | light | level}),
    avoid_positions, no_joint_movement (regions), ppe, hand_hygiene ("soap_and_water" or not), consult_care_team.
    A key left out counts as "no restriction chosen".
    """
    feedback = [_compare("postpone", engine.postpone, bool(trainee.get("postpone")),
                         "Postpone: do not start; ask " + "; ".join(engine.who_to_ask) + "." if engine.postpone
                         else "Postpone.", "Nothing in the chart calls for postponing today.",
                         _reasons_for(engine, effect="postpone"))]
    pressure = trainee.get("max_pressure") or 5
    pressure_reasons = _reasons_for(engine, effect="max_pressure") or tuple(
        r for r in engine.reasons if r.rule == "baseline")
    if pressure == engine.max_pressure:
        feedback.append(Feedback("pressure", MATCHES, f"Level {pressure} at most.", pressure_reasons))
    elif pressure > engine.max_pressure:
        feedback.append(Feedback("pressure", UNSAFE, f"Level {pressure} is above the level {engine.max_pressure} "
                                 "that this chart allows.", pressure_reasons))
    else:
        feedback.append(Feedback("pressure", MORE_CAREFUL, f"Level {pressure} is safe; this chart would allow up to "
                                 f"level {engine.max_pressure}.", pressure_reasons))
    chosen = {region: _trainee_cap(value) for region, value in (trainee.get("sites") or {}).items()}
    for region in sorted(set(chosen) | set(engine.sites)):
        want = engine.cap(region)
        got = min(chosen.get(region, pressure), pressure)
        name = region.replace("_", " ")
        reasons = _reasons_for(engine, region=region)
        if want == got:
            feedback.append(Feedback(f"site: {region}", MATCHES, f"{name}: {cap_word(want)}.", reasons))
        elif got < want:
            feedback.append(Feedback(f"site: {region}", MORE_CAREFUL, f"{name}: you chose {cap_word(got)}, which is "
                                     f"safe; the chart allows {cap_word(want)}.", reasons))
        else:
            feedback.append(Feedback(f"site: {region}", UNSAFE, f"{name}: the chart allows {cap_word(want)}; you chose "
                                     f"{cap_word(got)}.", reasons))
    chosen_positions = set(trainee.get("avoid_positions") or [])
    for position in sorted(chosen_positions | set(engine.avoid_positions)):
        name = position.replace("_", "-")
        feedback.append(_compare(f"position: {position}", position in engine.avoid_positions,
                                 position in chosen_positions, f"No {name} position.",
                                 f"Nothing in the chart rules out the {name} position.",
                                 _reasons_for(engine, effect="avoid_positions", value=position)))
    chosen_joints = set(trainee.get("no_joint_movement") or [])
    for region in sorted(chosen_joints | set(engine.no_joint_movement)):
        name = region.replace("_", " ")
        feedback.append(_compare(f"joints: {region}", region in engine.no_joint_movement, region in chosen_joints,
                                 f"No joint movement at the {name}.", f"Nothing in the chart rules out gentle joint "
                                 f"movement at the {name}.", _reasons_for(engine, region=region)))
    chosen_ppe = set(trainee.get("ppe") or [])
    for item in sorted(chosen_ppe | set(engine.ppe)):
        feedback.append(_compare(f"protective equipment: {item}", item in engine.ppe, item in chosen_ppe,
                                 f"Put on the {item} before you go in.", f"The chart does not call for a {item}.",
                                 _reasons_for(engine, effect="ppe", value=item)))
    soap = engine.hand_hygiene == "soap_and_water"
    feedback.append(_compare("hand hygiene", soap, trainee.get("hand_hygiene") == "soap_and_water",
                             "Wash with soap and water: alcohol rub does not remove these spores.",
                             "Alcohol rub or soap and water both fit this chart.",
                             _reasons_for(engine, effect="hand_hygiene")))
    feedback.append(_compare("care team", engine.consult_care_team, bool(trainee.get("consult_care_team")),
                             "Check with the care team before the session.",
                             "Nothing in the chart calls for a check first; asking is never wrong.",
                             _reasons_for(engine, effect="consult_care_team")))
    return feedback
