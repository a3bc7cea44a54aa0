"""The session planner: from a (synthetic) patient chart to a plan of pressure, sites, positions, joint movement,
protective equipment, and whether to postpone, with the reason and sources of every restriction.

Rules are reviewed data (``data/precaution_rules.yaml``, whose header explains conditions and effects); this module
only applies them to a chart that ``charts.py`` has checked. Every effect restricts, and the plan keeps the strictest
of all that apply, so adding a finding to a chart can only make a plan more careful (tests/test_precautions.py proves
it over every field). The course teaches; it does not prescribe: a plan is an exercise, and for a real patient the
care team and the unit's policies decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .anatomy import limb_of, neighbours, regions
from .charts import ChartError, chart_schema, check_chart
from .data_files import CourseDataError, load_yaml, require

RULES_FILE = "massage_course/data/precaution_rules.yaml"
AVOID = 0  # a region's pressure cap: 0 = avoid, 1-5 = the most pressure-scale level allowed there
EFFECTS = {"max_pressure", "sites", "site_scope", "avoid_positions", "stay_in_position", "no_joint_movement",
           "consult_care_team", "postpone", "who_to_ask", "ppe", "hand_hygiene", "products"}
SCOPES = ("lesion", "lesion_and_margin", "whole_limb")
# How far `no_joint_movement` reaches from the rule's sites: a scope above, or the lesion and its neighbouring regions,
# each widened to its whole limb (a broken or weakened bone: the joints next to it and every joint that levers it).
JOINT_SCOPES = SCOPES + ("whole_limb_and_margin",)
PPE = ("gloves", "gown", "mask", "n95")
CONDITIONS = ("is_true", "at_most", "below", "at_least", "between", "in", "listed")
ENTRY_FILTERS = ("status", "type", "approach", "sheath_in_place", "days_ago_below", "hours_ago_below")
# Tokens a rule's `sites` or `no_joint_movement` may use for the region of each matching chart entry.
SIDE_TOKENS = {"$side_leg": "leg", "$side_arm": "arm", "$side_shoulder": "shoulder", "$side_groin": "groin",
               "$side_forearm": "forearm", "$side_hand": "hand"}


def cap_word(cap: int) -> str:
    return "avoid" if cap == AVOID else f"level {cap} at most"


@dataclass(frozen=True)
class Reason:
    rule: str
    sources: tuple[str, ...]
    text: str
    regions: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"rule": self.rule, "sources": list(self.sources), "regions": list(self.regions), "text": self.text}


@dataclass
class SessionPlan:
    max_pressure: int
    sites: dict[str, int] = field(default_factory=dict)  # region -> cap (AVOID or a level)
    avoid_positions: list[str] = field(default_factory=list)
    stay_in_position: bool = False
    no_joint_movement: list[str] = field(default_factory=list)
    consult_care_team: bool = False
    postpone: bool = False
    who_to_ask: list[str] = field(default_factory=list)
    ppe: list[str] = field(default_factory=list)
    hand_hygiene: str = "hand rub or soap and water"
    products: list[str] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)

    def cap(self, region: str) -> int:
        """The most pressure allowed on a region: its own cap or the session's, whichever is lower."""
        return min(self.sites.get(region, self.max_pressure), self.max_pressure)

    def allowed_positions(self) -> list[str]:
        return [p for p in rule_book()[0]["positions"] if p not in self.avoid_positions]

    def works_where_the_patient_lies(self) -> bool:
        """No position is left, or a rule says not to reposition: the session is given as staff positioned the
        patient (never an empty answer)."""
        return self.stay_in_position or not self.allowed_positions()

    def as_dict(self) -> dict:
        return {
            "postpone": self.postpone,
            "who_to_ask": list(self.who_to_ask),
            "max_pressure": self.max_pressure,
            "sites": {region: "avoid" if cap == AVOID else cap for region, cap in sorted(self.sites.items())},
            "avoid_positions": sorted(self.avoid_positions),
            "work_where_the_patient_lies": self.works_where_the_patient_lies(),
            "no_joint_movement": sorted(self.no_joint_movement),
            "consult_care_team": self.consult_care_team,
            "ppe": sorted(self.ppe),
            "hand_hygiene": self.hand_hygiene,
            "products": sorted(self.products),
            "reasons": [reason.as_dict() for reason in self.reasons],
        }

    def describe(self) -> str:
        """The plan in plain text, as the ``plan`` command prints it."""
        lines = []
        if self.postpone:
            lines.append("POSTPONE the session: do not start. Ask " + "; ".join(self.who_to_ask) + ".")
            lines.append("When the team says go ahead, this is the plan:")
        lines.append(f"Pressure: level {self.max_pressure} at most (Walton pressure scale)")
        for region in sorted(self.sites):
            if self.sites[region] < self.max_pressure:
                lines.append(f"  {region.replace('_', ' ')}: {cap_word(self.sites[region])}")
        lines.append("Positions to avoid: "
                     + (", ".join(p.replace("_", "-") for p in sorted(self.avoid_positions)) or "none"))
        if self.works_where_the_patient_lies():
            lines.append("Work where the patient lies, as staff positioned them; do not reposition the patient.")
        if self.no_joint_movement:
            lines.append("No joint movement (passive range of motion, stretches, traction): "
                         + ", ".join(r.replace("_", " ") for r in sorted(self.no_joint_movement)))
        if self.ppe:
            lines.append("Put on before you enter: " + ", ".join(sorted(self.ppe)))
        lines.append(f"Hand hygiene: {self.hand_hygiene.replace('_', ' ')}")
        if self.products:
            lines.append("Products: " + ", ".join(p.replace("_", " ") for p in self.products))
        lines.append("Check with the care team first: " + ("yes" if self.consult_care_team else "no"))
        lines.append("Why:")
        lines += [f"  - [{', '.join(r.sources) or 'no source found'}] {r.text}" for r in self.reasons]
        lines.append("This is a teaching exercise: for a real patient the care team and the unit's policies decide.")
        return "\n".join(lines)


@dataclass(frozen=True)
class Rule:
    id: str
    when: dict
    effects: dict
    sources: tuple[str, ...]
    reason: str
    sites: Any = None  # None: the finding's own sites; a list of region keys and tokens; "node_site_and_limb"


def _site_cap(value: Any) -> int:
    return AVOID if value == "avoid" else int(value)


def _check_rule(entry: dict, where: str, positions: set[str], fields: dict) -> None:
    when = entry.get("when") or {}
    for condition in when.get("any", [when]):
        require(condition.get("field") in fields, where, "unknown chart field")
        require(any(c in condition for c in CONDITIONS + ENTRY_FILTERS), where, "a condition needs an operator")
    effects = entry.get("effects") or {}
    require(bool(effects) and set(effects) <= EFFECTS, where, f"effects must be some of {sorted(EFFECTS)}")
    require(effects.get("sites") in (None, "avoid", 1, 2, 3, 4), where, "sites must be avoid or a level 1-4")
    require(effects.get("site_scope", "lesion") in SCOPES, where, f"site_scope must be one of {SCOPES}")
    joints = effects.get("no_joint_movement", [])
    require(joints in JOINT_SCOPES or (isinstance(joints, list) and all(isinstance(j, str) for j in joints)), where,
            f"no_joint_movement must be one of {JOINT_SCOPES} or a list of regions and tokens")
    require(set(effects.get("avoid_positions", [])) <= positions, where, "unknown position")
    require(set(effects.get("ppe", [])) <= set(PPE), where, f"ppe must be some of {PPE}")
    require(effects.get("hand_hygiene") in (None, "soap_and_water"), where, "hand_hygiene: soap_and_water")
    require(set(effects.get("products", [])) <= {"water_based_only"}, where, "products: water_based_only")
    require(not effects.get("postpone") or bool(effects.get("who_to_ask")), where, "a postponement says who to ask")
    require(1 <= effects.get("max_pressure", 1) <= 5, where, "max_pressure must be 1-5")
    # A rule without a source can only send the therapist to the care team.
    require(bool(entry.get("source")) or set(effects) == {"consult_care_team"}, where,
            "a rule with no source may only ask to check with the care team")
    require(bool(" ".join(str(entry.get("reason", "")).split())), where, "needs a reason")


@cache
def rule_book() -> tuple[dict, tuple[Rule, ...]]:
    raw = load_yaml("precaution_rules.yaml")
    baseline = raw["baseline"]
    require(1 <= baseline.get("max_pressure", 0) <= 5, RULES_FILE, "baseline max_pressure must be 1-5")
    positions = set(raw["positions"])
    fields = chart_schema()["properties"]
    rules = []
    for number, entry in enumerate(raw["rules"], start=1):
        _check_rule(entry, f"{RULES_FILE}, rule {number} ({entry.get('id')})", positions, fields)
        sources = entry.get("source") or []
        rules.append(Rule(entry["id"], entry["when"], entry["effects"],
                          tuple([sources] if isinstance(sources, str) else sources),
                          " ".join(entry["reason"].split()), entry.get("sites")))
    ids = [r.id for r in rules]
    require(len(ids) == len(set(ids)), RULES_FILE, "two rules share an id")
    return raw, tuple(rules)


# --- Which chart entries a rule matches -------------------------------------------------------------------------------

def _matches(condition: dict, chart: dict) -> list | None:
    """The chart entries a condition matches ([] when it applies to the whole session), or None."""
    value = chart.get(condition["field"])
    if value is None:
        return None
    if "is_true" in condition:
        return [] if value is True else None
    if any(op in condition for op in ("at_most", "below", "at_least", "between")):
        low, high = condition.get("between", (None, None))
        hit = ((condition.get("at_most") is None or value <= condition["at_most"])
               and (condition.get("below") is None or value < condition["below"])
               and (condition.get("at_least") is None or value >= condition["at_least"])
               and (low is None or low <= value <= high))
        return [] if hit else None
    if not isinstance(value, list):  # a single value, e.g. pregnancy_trimester
        return [] if value in condition["in"] else None
    items = value
    if "in" in condition:
        items = [i for i in items if i in condition["in"]]
    for name in ("status", "type", "approach"):
        if name in condition:
            items = [i for i in items if i[name] in condition[name]]
    if "sheath_in_place" in condition:
        items = [i for i in items if i["sheath_in_place"] == condition["sheath_in_place"]]
    for name, limit in (("days_ago", condition.get("days_ago_below")), ("hours_ago", condition.get("hours_ago_below"))):
        if limit is not None:
            items = [i for i in items if i[name] < limit]
    return items or None


def _matching_entries(rule: Rule, chart: dict) -> list | None:
    found = [m for m in (_matches(c, chart) for c in rule.when.get("any", [rule.when])) if m is not None]
    return None if not found else [entry for entries in found for entry in entries]


def _resolve(tokens: Any, entries: list) -> list[str]:
    """Region keys for a rule's site tokens and the chart entries it matched."""
    if tokens == "node_site_and_limb":
        limbs = rule_book()[0]["node_site_limbs"]
        return [s for site in entries for s in (site, *limbs[site])]
    if tokens is None:  # the entries' own sites
        return [e if isinstance(e, str) else e["site"] for e in entries if isinstance(e, str) or "site" in e]
    found = []
    for token in tokens:
        if token == "$limb":
            for site in _resolve(None, entries):
                found.append(limb_of(site) or site)
        elif token in SIDE_TOKENS:
            found += [f"{e['side']}_{SIDE_TOKENS[token]}" for e in entries if isinstance(e, dict) and "side" in e]
        else:
            found.append(token)
    return found


def _parts(region: str) -> list[str]:
    """A limb group stands for its parts: the plan always names the regions a therapist touches."""
    return list(regions()[region].parts) or [region]


def _in_scope(sites: list[str], scope: str) -> tuple[list[str], list[str]]:
    """(the regions themselves, their margin) for a scope; regions are always single body regions."""
    widened = [(limb_of(site) or site) if scope == "whole_limb" else site for site in sites]
    core = [part for site in widened for part in _parts(site)]
    margin = []
    if scope == "lesion_and_margin":
        margin = [n for site in core for n in neighbours(site) if n not in core]
    return sorted(set(core)), sorted(set(margin))


def _joint_regions(spec: Any, rule: Rule, entries: list) -> list[str]:
    """The regions whose joints a rule keeps still: a scope around the rule's own sites, or named regions/tokens."""
    if spec not in JOINT_SCOPES:
        return _in_scope(_resolve(spec, entries), "lesion")[0]
    sites = _resolve(rule.sites, entries)
    if spec == "whole_limb_and_margin":
        near = [r for part in _in_scope(sites, "lesion_and_margin") for r in part]
        return _in_scope(near, "whole_limb")[0]
    core, margin = _in_scope(sites, spec)
    return sorted(set(core) | set(margin))


# --- The plan -----------------------------------------------------------------------------------------------------------

def plan_session(chart: dict | None) -> SessionPlan:
    """The strictest plan that every applicable rule allows, with one reason per rule that applied."""
    chart = check_chart(chart)
    raw, rules = rule_book()
    baseline = raw["baseline"]
    plan = SessionPlan(max_pressure=baseline["max_pressure"])
    plan.reasons.append(Reason("baseline", tuple(baseline["source"]), " ".join(baseline["reason"].split())))
    for rule in rules:
        entries = _matching_entries(rule, chart)
        if entries is None:
            continue
        effects = rule.effects
        touched: list[str] = []
        if "sites" in effects:
            core, margin = _in_scope(_resolve(rule.sites, entries), effects.get("site_scope", "lesion"))
            cap = _site_cap(effects["sites"])
            for region, region_cap in [(r, cap) for r in core] + [(r, max(cap, 1)) for r in margin]:
                plan.sites[region] = min(plan.sites.get(region, 5), region_cap)
            touched = core + margin
        if "no_joint_movement" in effects:
            joints = _joint_regions(effects["no_joint_movement"], rule, entries)
            plan.no_joint_movement = sorted(set(plan.no_joint_movement) | set(joints))
            touched = sorted(set(touched) | set(joints))
        plan.max_pressure = min(plan.max_pressure, effects.get("max_pressure", 5))
        plan.avoid_positions = sorted(set(plan.avoid_positions) | set(effects.get("avoid_positions", [])))
        plan.stay_in_position |= bool(effects.get("stay_in_position"))
        plan.consult_care_team |= bool(effects.get("consult_care_team"))
        if effects.get("postpone"):
            plan.postpone = True
            if effects["who_to_ask"] not in plan.who_to_ask:
                plan.who_to_ask.append(effects["who_to_ask"])
        plan.ppe = sorted(set(plan.ppe) | set(effects.get("ppe", [])))
        if effects.get("hand_hygiene"):
            plan.hand_hygiene = effects["hand_hygiene"]
        plan.products = sorted(set(plan.products) | set(effects.get("products", [])))
        plan.reasons.append(Reason(rule.id, rule.sources, rule.reason, tuple(touched)))
    # A region's cap never exceeds the session's; such entries would only repeat the session level.
    plan.sites = {region: cap for region, cap in plan.sites.items() if cap < plan.max_pressure}
    return plan


__all__ = ["AVOID", "ChartError", "CourseDataError", "Reason", "SessionPlan", "check_chart", "plan_session",
           "rule_book"]
