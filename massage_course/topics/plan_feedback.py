"""Feedback on a trainee's session plan: each part of it (pressure, each region, each position, the check with the
care team) compared with the planner's plan, with the rules and sources behind the difference."""

from __future__ import annotations

from dataclasses import dataclass

from .precautions import Reason, SessionPlan, rule_book


@dataclass(frozen=True)
class Feedback:
    aspect: str  # "pressure", "site: left_forearm", "position: prone", "care team"
    verdict: str  # "matches", "too cautious", "unsafe"
    message: str
    reasons: tuple[Reason, ...] = ()


def _reasons_for(plan: SessionPlan, *, region: str | None = None, position: str | None = None,
                 effect: str | None = None) -> tuple[Reason, ...]:
    by_id = {rule.id: rule for rule in rule_book()[1]}
    found = []
    for reason in plan.reasons:
        rule = by_id.get(reason.rule)
        if rule is None:
            continue
        if region and region in reason.regions:
            found.append(reason)
        elif position and position in rule.effects.get("avoid_positions", []):
            found.append(reason)
        elif effect and effect in rule.effects:
            found.append(reason)
    return tuple(found)


def compare_plans(trainee: dict, engine: SessionPlan) -> list[Feedback]:
    """Compare a trainee's plan with the planner's, item by item: what matches, what is too cautious, what is unsafe.

    ``trainee`` has the plan's keys: max_pressure, sites ({region: avoid|light}), avoid_positions, consult_care_team.
    """
    feedback = []
    pressure = trainee.get("max_pressure")
    pressure_reasons = _reasons_for(engine, effect="max_pressure") or tuple(r for r in engine.reasons if r.rule == "baseline")
    if pressure == engine.max_pressure:
        feedback.append(Feedback("pressure", "matches", f"Level {pressure} at most.", pressure_reasons))
    elif pressure is not None and pressure > engine.max_pressure:
        feedback.append(Feedback("pressure", "unsafe", f"Level {pressure} is above the level {engine.max_pressure} "
                                 "that this chart allows.", pressure_reasons))
    else:
        feedback.append(Feedback("pressure", "too cautious", f"Level {pressure} is below the level "
                                 f"{engine.max_pressure} this chart allows: fine, but lighter than needed.",
                                 pressure_reasons))
    chosen = {region: rule for region, rule in (trainee.get("sites") or {}).items()}
    for region in sorted(set(chosen) | set(engine.sites)):
        want, got = engine.sites.get(region), chosen.get(region)
        name = region.replace("_", " ")
        reasons = _reasons_for(engine, region=region)
        if want == got:
            feedback.append(Feedback(f"site: {region}", "matches", f"{name}: {want}.", reasons))
        elif want is None or (want == "light" and got == "avoid"):
            feedback.append(Feedback(f"site: {region}", "too cautious",
                                     f"{name}: you chose {got}; the chart asks for "
                                     f"{'no restriction beyond the session level' if want is None else want}.", reasons))
        else:
            feedback.append(Feedback(f"site: {region}", "unsafe",
                                     f"{name}: the chart asks to {'avoid it' if want == 'avoid' else 'keep it light (level 2 at most)'}"
                                     f"; you chose {got or 'no restriction'}.", reasons))
    chosen_positions = set(trainee.get("avoid_positions") or [])
    for position in sorted(chosen_positions | set(engine.avoid_positions)):
        name = position.replace("_", "-")
        reasons = _reasons_for(engine, position=position)
        if position in engine.avoid_positions and position in chosen_positions:
            feedback.append(Feedback(f"position: {position}", "matches", f"No {name} position.", reasons))
        elif position in engine.avoid_positions:
            feedback.append(Feedback(f"position: {position}", "unsafe", f"The chart rules out the {name} position.",
                                     reasons))
        else:
            feedback.append(Feedback(f"position: {position}", "too cautious",
                                     f"Nothing in the chart rules out the {name} position.", reasons))
    consult = bool(trainee.get("consult_care_team"))
    consult_reasons = _reasons_for(engine, effect="consult_care_team")
    if consult == engine.consult_care_team:
        feedback.append(Feedback("care team", "matches", "Check with the care team first." if consult
                                 else "Nothing in the chart calls for a check first (asking is never wrong).",
                                 consult_reasons))
    elif engine.consult_care_team:
        feedback.append(Feedback("care team", "unsafe", "This chart needs a check with the care team before the "
                                 "session.", consult_reasons))
    else:
        feedback.append(Feedback("care team", "too cautious", "Nothing in the chart calls for a check first; asking "
                                 "is never wrong.", consult_reasons))
    return feedback
