"""What the session-planner notebook shows: the teaching charts, the planner's plan with its reasons, and an exercise
in which a trainee plans a session and gets feedback rule by rule (live in JupyterLab)."""

from __future__ import annotations

import html
from pathlib import Path

from ..topics.anatomy import regions
from ..topics.data_files import parse_yaml
from ..topics.plan_feedback import compare_plans
from ..topics.precautions import SessionPlan, cap_word, plan_session, rule_book
from .plan_map import plan_map_defs, plan_map_html
from .widgets import linked_views

FINDING_WORDS = {
    "platelets_per_uL": "platelets per microliter", "anc_per_uL": "neutrophils (ANC) per microliter",
    "temperature_c": "temperature, °C", "anticoagulant": "takes a blood thinner",
    "bleeding_disorder": "bleeding disorder", "fever": "fever", "dvt": "deep vein thrombosis (DVT)",
    "surgery": "surgery", "drains": "drains", "lines": "lines and ports", "non_intact_skin": "skin not intact",
    "radiation": "radiation to", "tumor": "tumor", "bone_metastases": "cancer in the bone",
    "lymph_nodes_removed": "lymph nodes removed", "lymphedema": "lymphedema", "edema": "swelling (edema)",
    "new_limb_swelling": "new, unexplained swelling of", "new_skin_graft": "new skin graft",
    "donor_site": "skin-graft donor site", "pressure_injury": "pressure injury", "neuropathy": "neuropathy",
    "unstable_fracture": "unstable fracture", "implanted_hardware": "implanted hardware",
    "pregnancy_trimester": "pregnancy, trimester", "nausea": "nausea", "mucositis": "mouth sores (mucositis)",
    "lung_metastases": "cancer in the lung", "fall_risk": "fall-risk flag",
    "neutropenia": "low neutrophil count (neutropenia)", "chemotherapy_days_ago": "last chemotherapy, days ago",
    "new_chest_pain": "new chest pain", "new_shortness_of_breath": "new shortness of breath",
    "active_bleeding": "bleeding now", "vasopressors": "on vasopressor drugs", "uncontrolled_pain": "pain not "
    "controlled", "delirium": "delirium", "unable_to_consent": "cannot consent, and no one has consented for them",
    "isolation": "isolation precautions", "cardiac_device": "pacemaker or ICD", "chest_tube": "chest tube",
    "urinary_catheter": "urinary catheter (Foley)", "scds": "compression sleeves (SCDs) on",
    "telemetry": "telemetry leads", "dialysis_access": "dialysis access", "limb_alert": "limb alert on",
    "sternal_precautions": "sternal precautions", "hip_precautions": "hip precautions",
    "spinal_precautions": "spinal precautions", "femoral_puncture": "groin (femoral) puncture",
    "oxygen": "oxygen by", "osteoporosis": "osteoporosis", "fragile_skin": "fragile skin",
    "long_term_steroids": "long-term steroids", "antiplatelet": "takes an antiplatelet drug (a blood thinner)",
    "inr_above_range": "INR above the lab's range or the team's target", "epidural_catheter": "epidural catheter",
    "medicine_patch": "medicine patch on", "injection_sites": "blood-thinner injection sites on",
    "varicose_veins": "varicose veins on", "hematoma": "hematoma (large bruise) on",
    "weeks_since_birth": "weeks since giving birth", "radial_puncture": "wrist (radial) puncture",
    "joint_replacement": "joint replacement",
}
VERDICT_STYLE = {"matches": ("✔", "#1b5e20"), "safe, more restrictive than needed": ("◐", "#6d4c00"),
                 "unsafe": ("✖", "#b71c1c")}
PPE_CHOICES = ("gloves", "gown", "mask", "n95")


def load_teaching_charts(folder: str | Path = "charts") -> list[tuple[str, dict]]:
    """The synthetic teaching charts (YAML files), sorted by file name."""
    return [(path.stem, parse_yaml(path.read_text(encoding="utf-8"), str(path)))
            for path in sorted(Path(folder).glob("*.yaml"))]


def _place(key: str) -> str:
    return regions()[key].label


def _entry(item) -> str:
    """One entry of a list finding in plain words."""
    if isinstance(item, str):
        return _place(item) if item in regions() else item.replace("_", " ")
    words = []
    if "type" in item:
        words.append(item["type"].upper() if item["type"] in ("iv", "picc", "icd") else item["type"])
    if "approach" in item:
        words.append(f"{item['approach']} approach")
    if "site" in item:
        words.append(("in the " if words else "") + _place(item["site"]))
    if "side" in item:
        words.append(f"{item['side']} side")
    if "status" in item:
        words.append(f"({item['status']})")
    for name, unit in (("days_ago", "days ago"), ("hours_ago", "hours ago")):
        if name in item:
            words.append(f"{item[name]} {unit}")
    if item.get("sheath_in_place"):
        words.append("sheath still in")
    return " ".join(words)


def _finding(name: str, value) -> str:
    words = FINDING_WORDS[name]
    if value is True:
        return words
    if value is False:
        return f"no {words}"
    if isinstance(value, (int, float)):
        return f"{words}: {value:,}"
    return f"{words}: {'; '.join(_entry(item) for item in value)}"


def chart_html(chart: dict) -> str:
    findings = "".join(f"<li>{html.escape(_finding(k, v))}</li>" for k, v in chart.items() if k in FINDING_WORDS)
    return (f"<div class='teaching-chart'><p><strong>{html.escape(chart.get('title', 'Chart'))}</strong></p>"
            f"<p>{html.escape(chart.get('story', ''))}</p><ul>{findings}</ul></div>")


def plan_html(plan: SessionPlan, map_ids: str | None = None) -> str:
    """The plan in words, with its sites on the plan map (``map_ids``: the page's plan_map_defs, if already there)."""
    esc = html.escape
    sites = plan_map_html(plan.sites, plan.max_pressure, ids=map_ids)
    positions = ", ".join(p.replace("_", "-") for p in sorted(plan.avoid_positions)) or "none"
    where = " Work where the patient lies, as staff positioned them." if plan.works_where_the_patient_lies() else ""
    joints = ", ".join(_place(r) for r in sorted(plan.no_joint_movement)) or "no limit beyond the sites"
    reasons = "".join(f"<li>{esc(r.text)} <span class='source'>[{esc(', '.join(r.sources) or 'no source found')}]"
                      f"</span></li>" for r in plan.reasons)
    postpone = (f"<p><strong>Postpone: do not start.</strong> Ask {esc('; '.join(plan.who_to_ask))}. When the team "
                "says go ahead, this is the plan:</p>" if plan.postpone else "")
    extras = []
    if plan.ppe:
        extras.append(f"<strong>Put on before you enter:</strong> {esc(', '.join(plan.ppe))}.")
    if plan.hand_hygiene == "soap_and_water":
        extras.append("<strong>Hand hygiene:</strong> soap and water.")
    if plan.products:
        extras.append(f"<strong>Products:</strong> {esc(', '.join(p.replace('_', ' ') for p in plan.products))}.")
    return (
        f"<div class='session-plan'>{postpone}"
        f"<p><strong>Pressure:</strong> level {plan.max_pressure} at most. <strong>Positions to avoid:</strong> "
        f"{positions}.{where} <strong>No joint movement:</strong> {esc(joints)}. <strong>Check with the care team "
        f"first:</strong> {'yes' if plan.consult_care_team else 'no'}. {' '.join(extras)}</p>"
        f"{sites}<p><strong>Why</strong></p><ul>{reasons}</ul></div>"
    )


def case_book_html(folder: str | Path = "charts") -> str:
    """Every teaching chart with the planner's plan and its plan map, open to read in the static book."""
    map_ids, map_defs = plan_map_defs()  # the maps' shapes, once for the page
    cases = []
    for name, chart in load_teaching_charts(folder):
        cases.append(f"<details class='case'><summary><strong>{html.escape(chart.get('title', name))}</strong></summary>"
                     f"{chart_html(chart)}<p><em>The planner's plan</em></p>"
                     f"{plan_html(plan_session(chart), map_ids)}</details>")
    return map_defs + "".join(cases)


def feedback_html(trainee: dict, plan: SessionPlan) -> str:
    rows = []
    for item in compare_plans(trainee, plan):
        symbol, colour = VERDICT_STYLE[item.verdict]
        sources = "; ".join(sorted({s for r in item.reasons for s in r.sources} or {"no source found"}))
        rows.append(f"<tr><td style='color:{colour}'>{symbol} {item.verdict}</td><td>{html.escape(item.aspect)}</td>"
                    f"<td>{html.escape(item.message)}</td><td>{html.escape(sources)}</td></tr>")
    return ("<table class='plan-feedback'><thead><tr><th>Verdict</th><th>What</th><th>Why</th><th>Sources</th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table>")


class PlanExercise:
    """Read a chart, plan the session with the controls, press Check: feedback compares the plan with the planner's,
    item by item (needs a running kernel, as in JupyterLab)."""

    def __init__(self, folder: str | Path = "charts"):
        import ipywidgets as widgets

        self.charts = dict(load_teaching_charts(folder))
        places = [(regions()[k].label, k) for k in sorted(regions()) if not regions()[k].parts]
        positions = rule_book()[0]["positions"]
        self.chart_picker = widgets.Dropdown(options=[(c.get("title", n), n) for n, c in self.charts.items()],
                                             description="Chart:")
        # One view per chart, switched in the browser: choosing a chart shows that chart in the static book too,
        # where no Python runs (issue 21: it kept showing the first chart).
        self.chart_view = linked_views(self.chart_picker,
                                       [widgets.HTML(chart_html(chart)) for chart in self.charts.values()])
        self.postpone = widgets.Checkbox(description="postpone: do not start today", indent=False)
        self.pressure = widgets.ToggleButtons(options=[1, 2, 3, 4, 5], value=3, description="Pressure at most:",
                                              style={"description_width": "initial"})
        self.avoid = widgets.SelectMultiple(options=places, rows=8, description="Avoid:")
        self.level_1 = widgets.SelectMultiple(options=places, rows=8, description="Level 1 at most:",
                                              style={"description_width": "initial"})
        self.level_2 = widgets.SelectMultiple(options=places, rows=8, description="Level 2 at most:",
                                              style={"description_width": "initial"})
        self.joints = widgets.SelectMultiple(options=places, rows=8, description="No joint movement:",
                                             style={"description_width": "initial"})
        self.positions = {p: widgets.Checkbox(description=f"no {p.replace('_', '-')}", indent=False) for p in positions}
        self.ppe = {item: widgets.Checkbox(description=item, indent=False) for item in PPE_CHOICES}
        self.soap = widgets.Checkbox(description="soap and water (not rub) afterwards", indent=False)
        self.consult = widgets.Checkbox(description="check with the care team first", indent=False)
        self.check_button = widgets.Button(description="Check my plan", button_style="primary")
        self.feedback = widgets.HTML()
        live_only = widgets.HTML("<p class='live-only'><em>Check my plan needs Python running: in the book it does "
                                 "nothing. Open this page live (the link under its title) or in JupyterLab to get "
                                 "feedback; the charts and the planner's plans are below.</em></p>")
        self.chart_picker.observe(lambda change: self.show_chart(), names="value")
        self.check_button.on_click(lambda _: self.check())
        self.show_chart()
        self.widget = widgets.VBox([
            self.chart_picker, self.chart_view, self.postpone, self.pressure,
            widgets.HBox([self.avoid, self.level_1, self.level_2]), self.joints,
            widgets.HBox(list(self.positions.values())),
            widgets.HBox([widgets.Label("Put on before entering:"), *self.ppe.values()]), self.soap, self.consult,
            self.check_button, live_only, self.feedback,
        ])

    def show_chart(self) -> None:
        """A new chart clears the feedback on the last one. The browser switches the view itself; the kernel's side
        follows too, so that Python and the page agree on what is shown."""
        self.chart_view.selected_index = self.chart_picker.index
        self.feedback.value = ""

    def trainee_plan(self) -> dict:
        sites = {region: 2 for region in self.level_2.value}
        sites |= {region: 1 for region in self.level_1.value}
        sites |= {region: "avoid" for region in self.avoid.value}  # the strictest choice wins
        return {"postpone": self.postpone.value, "max_pressure": self.pressure.value, "sites": sites,
                "avoid_positions": [p for p, box in self.positions.items() if box.value],
                "no_joint_movement": list(self.joints.value),
                "ppe": [item for item, box in self.ppe.items() if box.value],
                "hand_hygiene": "soap_and_water" if self.soap.value else "",
                "consult_care_team": self.consult.value}

    def check(self) -> None:
        plan = plan_session(self.charts[self.chart_picker.value])
        self.feedback.value = feedback_html(self.trainee_plan(), plan)


def _effect_words(effects: dict) -> str:
    """A rule's effects in plain words, for the rule table."""
    words = []
    if effects.get("postpone"):
        words.append(f"postpone (ask {effects['who_to_ask']})")
    if "max_pressure" in effects:
        words.append(f"whole session level {effects['max_pressure']} at most")
    if "sites" in effects:
        scope = {"lesion": "", "lesion_and_margin": " with a margin", "whole_limb": ", whole limb"}
        words.append(f"site: {cap_word(0 if effects['sites'] == 'avoid' else effects['sites'])}"
                     f"{scope[effects.get('site_scope', 'lesion')]}")
    if effects.get("avoid_positions"):
        words.append("no " + ", no ".join(p.replace("_", "-") for p in effects["avoid_positions"]))
    if effects.get("stay_in_position"):
        words.append("work where the patient lies")
    if "no_joint_movement" in effects:
        words.append("no joint movement")
    if effects.get("ppe"):
        words.append("put on: " + ", ".join(effects["ppe"]))
    if effects.get("hand_hygiene"):
        words.append("soap and water")
    if effects.get("products"):
        words.append("water-based products only")
    if effects.get("consult_care_team"):
        words.append("check with the care team")
    return "; ".join(words)


def rule_table_html() -> str:
    """Every rule the planner applies, from the same reviewed data: the finding, what it changes, why, and the
    sources (the chapters cite each of them)."""
    esc = html.escape
    rows = []
    for rule in rule_book()[1]:
        fields = sorted({c["field"] for c in rule.when.get("any", [rule.when])})
        finding = " or ".join(FINDING_WORDS[f] for f in fields)
        rows.append(f"<tr><td>{esc(rule.id)}</td><td>{esc(finding)}</td><td>{esc(_effect_words(rule.effects))}</td>"
                    f"<td>{esc(rule.reason)}</td><td>{esc(', '.join(rule.sources))}</td></tr>")
    return ("<table class='rule-table'><caption>The session planner's rules (massage_course/data/"
            "precaution_rules.yaml)</caption><thead><tr><th>Rule</th><th>Chart finding</th><th>What it changes</th>"
            f"<th>Why</th><th>Sources</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def show_rule_table() -> None:
    from IPython.display import HTML, display

    display(HTML(rule_table_html()))
