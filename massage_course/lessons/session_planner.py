"""What the session-planner notebook shows: the teaching charts, the planner's plan with its reasons, and an exercise
in which a trainee plans a session and gets feedback rule by rule (live in JupyterLab)."""

from __future__ import annotations

import html
from pathlib import Path

from ..topics.anatomy import regions
from ..topics.data_files import parse_yaml
from ..topics.plan_feedback import compare_plans
from ..topics.precautions import SessionPlan, plan_session, rule_book

FINDING_WORDS = {
    "platelets_per_uL": "platelets per microliter", "anticoagulant": "takes a blood thinner",
    "bleeding_disorder": "bleeding disorder", "fever": "fever", "dvt": "deep vein thrombosis (DVT)",
    "surgery": "surgery", "drains": "drains", "lines": "lines and ports", "non_intact_skin": "skin not intact",
    "radiation": "radiation to", "tumor": "tumor", "bone_metastases": "cancer in the bone",
    "lymph_nodes_removed": "lymph nodes removed", "lymphedema": "lymphedema", "edema": "swelling (edema)",
    "new_skin_graft": "new skin graft", "neuropathy": "neuropathy", "unstable_fracture": "unstable fracture",
    "implanted_hardware": "implanted hardware", "pregnancy_trimester": "pregnancy, trimester", "nausea": "nausea",
    "mucositis": "mouth sores (mucositis)", "lung_metastases": "cancer in the lung",
    "fall_risk": "fall-risk flag", "neutropenia": "low neutrophil count (neutropenia)",
}
VERDICT_STYLE = {"matches": ("✔", "#1b5e20"), "too cautious": ("◐", "#6d4c00"), "unsafe": ("✖", "#b71c1c")}


def load_teaching_charts(folder: str | Path = "charts") -> list[tuple[str, dict]]:
    """The synthetic teaching charts (YAML files), sorted by file name."""
    return [(path.stem, parse_yaml(path.read_text(encoding="utf-8"), str(path)))
            for path in sorted(Path(folder).glob("*.yaml"))]


def _place(key: str) -> str:
    return regions()[key].label


def _finding(name: str, value) -> str:
    words = FINDING_WORDS[name]
    if value is True:
        return words
    if isinstance(value, (int, float)):
        return f"{words}: {value:,}"
    items = []
    for item in value:
        if isinstance(item, str):
            items.append(_place(item))
        elif "days_ago" in item:
            items.append(f"{_place(item['site'])}, {item['days_ago']} days ago")
        elif "status" in item:
            items.append(f"{_place(item['site'])} ({item['status']})")
        else:
            items.append(f"{item['type'].upper() if item['type'] != 'port' else 'port'} in the {_place(item['site'])}")
    return f"{words}: {'; '.join(items)}"


def chart_html(chart: dict) -> str:
    findings = "".join(f"<li>{html.escape(_finding(k, v))}</li>" for k, v in chart.items() if k in FINDING_WORDS)
    return (f"<div class='teaching-chart'><p><strong>{html.escape(chart.get('title', 'Chart'))}</strong></p>"
            f"<p>{html.escape(chart.get('story', ''))}</p><ul>{findings}</ul></div>")


def plan_html(plan: SessionPlan) -> str:
    sites = "".join(
        f"<li>{html.escape(_place(region))}: {'avoid' if rule == 'avoid' else 'light (level 2 at most)'}</li>"
        for region, rule in sorted(plan.sites.items())
    ) or "<li>No region needs more than the session's level.</li>"
    positions = ", ".join(p.replace("_", "-") for p in sorted(plan.avoid_positions)) or "none"
    reasons = "".join(
        f"<li>{html.escape(r.text)} <span class='source'>[{html.escape(r.source or 'no source found')}; "
        f"{'read in the source' if r.mark == 'V' else 'read only in a copy' if r.mark == 'V2' else 'no source'}]"
        f"</span></li>" for r in plan.reasons
    )
    return (
        "<div class='session-plan'>"
        f"<p><strong>Pressure:</strong> level {plan.max_pressure} at most. <strong>Positions to avoid:</strong> "
        f"{positions}. <strong>Check with the care team first:</strong> {'yes' if plan.consult_care_team else 'no'}."
        f"{' <strong>Postpone.</strong>' if plan.postpone else ''}</p>"
        f"<p><strong>Sites</strong></p><ul>{sites}</ul><p><strong>Why</strong></p><ul>{reasons}</ul></div>"
    )


def case_book_html(folder: str | Path = "charts") -> str:
    """Every teaching chart with the planner's plan, open to read in the static book."""
    cases = []
    for name, chart in load_teaching_charts(folder):
        cases.append(f"<details class='case'><summary><strong>{html.escape(chart.get('title', name))}</strong></summary>"
                     f"{chart_html(chart)}<p><em>The planner's plan</em></p>{plan_html(plan_session(chart))}</details>")
    return "".join(cases)


def feedback_html(trainee: dict, plan: SessionPlan) -> str:
    rows = []
    for item in compare_plans(trainee, plan):
        symbol, colour = VERDICT_STYLE[item.verdict]
        sources = "; ".join(sorted({r.source or "no source found" for r in item.reasons}))
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
        self.chart_view = widgets.HTML()
        self.pressure = widgets.ToggleButtons(options=[1, 2, 3, 4, 5], value=3, description="Pressure at most:",
                                              style={"description_width": "initial"})
        self.avoid = widgets.SelectMultiple(options=places, rows=8, description="Avoid:")
        self.light = widgets.SelectMultiple(options=places, rows=8, description="Keep light:")
        self.positions = {p: widgets.Checkbox(description=f"no {p.replace('_', '-')}", indent=False) for p in positions}
        self.consult = widgets.Checkbox(description="check with the care team first", indent=False)
        self.check_button = widgets.Button(description="Check my plan", button_style="primary")
        self.feedback = widgets.HTML()
        self.chart_picker.observe(lambda change: self.show_chart(), names="value")
        self.check_button.on_click(lambda _: self.check())
        self.show_chart()
        self.widget = widgets.VBox([
            self.chart_picker, self.chart_view, self.pressure, widgets.HBox([self.avoid, self.light]),
            widgets.HBox(list(self.positions.values())), self.consult, self.check_button, self.feedback,
        ])

    def show_chart(self) -> None:
        self.chart_view.value = chart_html(self.charts[self.chart_picker.value])
        self.feedback.value = ""

    def trainee_plan(self) -> dict:
        sites = {region: "light" for region in self.light.value}
        sites |= {region: "avoid" for region in self.avoid.value}  # avoid wins if both are chosen
        return {"max_pressure": self.pressure.value, "sites": sites,
                "avoid_positions": [p for p, box in self.positions.items() if box.value],
                "consult_care_team": self.consult.value}

    def check(self) -> None:
        plan = plan_session(self.charts[self.chart_picker.value])
        self.feedback.value = feedback_html(self.trainee_plan(), plan)
