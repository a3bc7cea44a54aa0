"""The session planner: from a (synthetic) patient chart to a plan of pressure, sites and positions, with the reason
and source of every restriction.

Rules are reviewed data (``data/precaution_rules.yaml``); this module only reads a chart, checks it, and applies the
rules. Every effect restricts, and the plan keeps the strictest of all that apply, so adding a finding to a chart can
only make a plan more careful. The course teaches; it does not prescribe: a plan is an exercise, and for a real
patient the care team and the unit's policies decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .anatomy import regions
from .data_files import CourseDataError, load_yaml, needs_jupyterlab, require

try:
    import jsonschema
except ImportError as error:  # its compiled part (rpds-py) has no offline browser build
    raise needs_jupyterlab("session planner", "jsonschema") from error

RULES_FILE = "massage_course/data/precaution_rules.yaml"
LINE_TYPES = ["iv", "picc", "port", "central", "arterial"]
NODE_SITES = ["left_axilla", "right_axilla", "left_groin", "right_groin"]
BOOLEAN_FINDINGS = ["anticoagulant", "bleeding_disorder", "fever", "nausea", "mucositis", "lung_metastases",
                    "fall_risk", "neutropenia"]
SITE_LIST_FINDINGS = ["drains", "non_intact_skin", "radiation", "tumor", "bone_metastases", "new_skin_graft",
                      "neuropathy", "unstable_fracture", "implanted_hardware"]
LIMB_FINDINGS = ["lymphedema", "edema"]
SITE_ORDER = {"light": 1, "avoid": 2}  # stricter is larger
TYPE_WORDS = {"number": "a number", "integer": "a whole number", "boolean": "true or false", "array": "a list",
              "object": "a mapping of fields", "string": "text"}


class ChartError(ValueError):
    """A chart the planner cannot read: the message names the field and what is allowed."""


@dataclass(frozen=True)
class Reason:
    rule: str
    source: str | None
    mark: str
    text: str
    regions: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"rule": self.rule, "source": self.source, "regions": list(self.regions), "mark": self.mark,
                "text": self.text}


@dataclass
class SessionPlan:
    max_pressure: int
    sites: dict[str, str] = field(default_factory=dict)
    avoid_positions: list[str] = field(default_factory=list)
    consult_care_team: bool = False
    postpone: bool = False
    reasons: list[Reason] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "max_pressure": self.max_pressure,
            "sites": dict(sorted(self.sites.items())),
            "avoid_positions": sorted(self.avoid_positions),
            "consult_care_team": self.consult_care_team,
            "postpone": self.postpone,
            "reasons": [reason.as_dict() for reason in self.reasons],
        }


# --- Reading and checking a chart ----------------------------------------------------------------------------------

def site_keys() -> list[str]:
    """Region keys a chart may name: every course region, limb groups included."""
    return sorted(regions())


def limb_keys() -> list[str]:
    return sorted(k for k, r in regions().items() if r.parts)


@cache
def chart_schema() -> dict:
    site = {"enum": site_keys()}
    site_list = {"type": "array", "items": site}
    properties: dict[str, Any] = {
        "platelets_per_uL": {"type": "number", "minimum": 0, "maximum": 10_000_000},
        "dvt": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["site", "status"],
            "properties": {"site": site, "status": {"enum": ["active", "history"]}}}},
        "surgery": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["site", "days_ago"],
            "properties": {"site": site, "days_ago": {"type": "integer", "minimum": 0}}}},
        "lines": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["type", "site"],
            "properties": {"type": {"enum": LINE_TYPES}, "site": site}}},
        "lymph_nodes_removed": {"type": "array", "items": {"enum": NODE_SITES}},
        "pregnancy_trimester": {"enum": [1, 2, 3]},
    }
    properties |= {name: {"type": "boolean"} for name in BOOLEAN_FINDINGS}
    properties |= {name: site_list for name in SITE_LIST_FINDINGS}
    properties |= {name: {"type": "array", "items": {"enum": limb_keys()}} for name in LIMB_FINDINGS}
    # Charts may carry a title and a story for the trainee; the planner does not read them.
    properties |= {"title": {"type": "string"}, "story": {"type": "string"}}
    return {"type": "object", "additionalProperties": False, "properties": properties}


def _explain(error: jsonschema.ValidationError) -> str:
    where = "chart" + "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        return f"{where}: unknown field(s) {', '.join(extra)}; allowed: {', '.join(allowed)}"
    if error.validator == "enum":
        options = error.validator_value
        shown = ", ".join(map(str, options[:40])) + (" ..." if len(options) > 40 else "")
        return f"{where}: {error.instance!r} is not allowed; choose one of: {shown}"
    if error.validator == "type":
        return f"{where}: {error.instance!r} should be {TYPE_WORDS.get(error.validator_value, error.validator_value)}"
    if error.validator == "minimum":
        return f"{where}: {error.instance!r} is below the smallest possible value, {error.validator_value}"
    if error.validator == "maximum":
        return f"{where}: {error.instance!r} is not a possible value (above {error.validator_value:,}); check for a typing error"
    return f"{where}: {error.message}"


def check_chart(chart: Any) -> dict:
    """Return the chart if the planner can read it, else raise ChartError naming the field and what is allowed."""
    if chart is None:
        return {}
    validator = jsonschema.Draft202012Validator(chart_schema())
    errors = sorted(validator.iter_errors(chart), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        raise ChartError("\n".join(_explain(e) for e in errors))
    return chart


# --- The rules ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    id: str
    when: dict
    effects: dict
    source: str | None
    mark: str
    reason: str
    sites: Any = None  # None: the finding's own sites; a list: fixed sites; "node_site_and_limb"


@cache
def rule_book() -> tuple[dict, tuple[Rule, ...]]:
    raw = load_yaml("precaution_rules.yaml")
    baseline = raw["baseline"]
    require(1 <= baseline.get("max_pressure", 0) <= 5, RULES_FILE, "baseline max_pressure must be 1-5")
    positions = set(raw["positions"])
    rules = []
    for number, entry in enumerate(raw["rules"], start=1):
        where = f"{RULES_FILE}, rule {number} ({entry.get('id')})"
        require(entry.get("when", {}).get("field") in chart_schema()["properties"], where, "unknown chart field")
        effects = entry.get("effects") or {}
        require(bool(effects), where, "a rule needs an effect")
        require(set(effects) <= {"max_pressure", "sites", "avoid_positions", "consult_care_team", "postpone"},
                where, "unknown effect")
        require(effects.get("sites") in (None, "avoid", "light"), where, "sites must be avoid or light")
        require(set(effects.get("avoid_positions", [])) <= positions, where, "unknown position")
        require(entry.get("mark") in ("V", "V2", "U"), where, "mark must be V, V2 or U")
        # A rule without a source can only send the therapist to the care team.
        require(entry.get("mark") != "U" or set(effects) == {"consult_care_team"}, where,
                "a rule with no source (U) may only ask to check with the care team")
        require(entry.get("mark") == "U" or bool(entry.get("source")), where, "needs a source key")
        rules.append(Rule(entry["id"], entry["when"], effects, entry.get("source"), entry["mark"],
                          " ".join(entry["reason"].split()), entry.get("sites")))
    ids = [r.id for r in rules]
    require(len(ids) == len(set(ids)), RULES_FILE, "two rules share an id")
    return raw, tuple(rules)


def _expand(site: str) -> list[str]:
    """A limb group stands for its parts: the plan always names the regions a therapist touches."""
    region = regions()[site]
    return list(region.parts) if region.parts else [site]


def _matching_sites(rule: Rule, chart: dict) -> list[str] | None:
    """The sites a rule applies to, or None when it does not apply ([] when it applies to the whole session)."""
    when = rule.when
    value = chart.get(when["field"])
    if value is None:
        return None
    if "is_true" in when:
        hit = value is True
        found: list[str] = []
    elif "at_most" in when:
        hit = value <= when["at_most"]
        found = []
    elif "in" in when:
        hit = value in when["in"]
        found = []
    else:  # list findings
        items = value
        if "status" in when:
            items = [i for i in items if i["status"] in when["status"]]
        if "type" in when:
            items = [i for i in items if i["type"] in when["type"]]
        if "days_ago_below" in when:
            items = [i for i in items if i["days_ago"] < when["days_ago_below"]]
        hit = bool(items)
        found = [i["site"] if isinstance(i, dict) else i for i in items]
    if not hit:
        return None
    if isinstance(rule.sites, list):
        return rule.sites
    if rule.sites == "node_site_and_limb":
        limbs = rule_book()[0]["node_site_limbs"]
        return [s for site in found for s in [site, limbs[site]]]
    return found


def plan_session(chart: dict | None) -> SessionPlan:
    """The strictest plan that every applicable rule allows, with one reason per rule that applied."""
    chart = check_chart(chart)
    raw, rules = rule_book()
    baseline = raw["baseline"]
    plan = SessionPlan(max_pressure=baseline["max_pressure"])
    plan.reasons.append(Reason("baseline", baseline["source"], baseline["mark"], " ".join(baseline["reason"].split())))
    for rule in rules:
        sites = _matching_sites(rule, chart)
        if sites is None:
            continue
        effects = rule.effects
        touched = sorted({part for site in sites for part in _expand(site)})
        if "max_pressure" in effects:
            plan.max_pressure = min(plan.max_pressure, effects["max_pressure"])
        if "sites" in effects:
            for region in touched:
                current = plan.sites.get(region)
                if current is None or SITE_ORDER[effects["sites"]] > SITE_ORDER[current]:
                    plan.sites[region] = effects["sites"]
        for position in effects.get("avoid_positions", []):
            if position not in plan.avoid_positions:
                plan.avoid_positions.append(position)
        plan.consult_care_team |= bool(effects.get("consult_care_team"))
        plan.postpone |= bool(effects.get("postpone"))
        plan.reasons.append(Reason(rule.id, rule.source, rule.mark, rule.reason,
                                   tuple(touched) if "sites" in effects else ()))
    return plan


__all__ = ["ChartError", "CourseDataError", "Reason", "SessionPlan", "check_chart", "plan_session", "rule_book"]


# --- Feedback on a trainee's plan -----------------------------------------------------------------------------------

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
