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
from .charts import ChartError, chart_schema, check_chart
from .data_files import CourseDataError, load_yaml, require

RULES_FILE = "massage_course/data/precaution_rules.yaml"
SITE_ORDER = {"light": 1, "avoid": 2}  # stricter is larger


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

    def describe(self) -> str:
        """The plan in plain text, as the ``plan`` command prints it."""
        lines = [f"Pressure: level {self.max_pressure} at most (Walton pressure scale)"]
        for region, rule in sorted(self.sites.items()):
            lines.append(f"  {region.replace('_', ' ')}: {'avoid' if rule == 'avoid' else 'light (level 2 at most)'}")
        lines.append("Positions to avoid: "
                     + (", ".join(p.replace("_", "-") for p in sorted(self.avoid_positions)) or "none"))
        lines.append("Check with the care team first: " + ("yes" if self.consult_care_team else "no"))
        lines.append("Why:")
        lines += [f"  - [{r.source or 'no source found'}, {r.mark}] {r.text}" for r in self.reasons]
        lines.append("This is a teaching exercise: for a real patient the care team and the unit's policies decide.")
        return "\n".join(lines)


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
