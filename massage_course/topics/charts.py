"""Reading a patient chart for the session planner: which findings a chart may hold, and a check that names the field
and what is allowed when a chart is wrong, so that a trainee or an author never meets a traceback.

Charts are synthetic teaching charts (``notebooks/charts/``) or a file given to ``massage-course plan``.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path
from typing import Any

from .anatomy import regions
from .data_files import needs_jupyterlab

# jsonschema's optional IRI format check (rfc3987-syntax) builds a parser grammar when imported: about 1 s of the
# 1.2 s that `massage-course plan` took to start. Chart schemas use no IRI format, so it is skipped.
sys.modules.setdefault("rfc3987_syntax", None)
try:
    import jsonschema
except ImportError as error:  # its compiled part (rpds-py) has no offline browser build
    raise needs_jupyterlab("session planner", "jsonschema") from error

LINE_TYPES = ["iv", "picc", "port", "central", "arterial"]
NODE_SITES = ["left_axilla", "right_axilla", "left_groin", "right_groin"]
BOOLEAN_FINDINGS = ["anticoagulant", "bleeding_disorder", "fever", "nausea", "mucositis", "lung_metastases",
                    "fall_risk", "neutropenia"]
SITE_LIST_FINDINGS = ["drains", "non_intact_skin", "radiation", "tumor", "bone_metastases", "new_skin_graft",
                      "neuropathy", "unstable_fracture", "implanted_hardware"]
LIMB_FINDINGS = ["lymphedema", "edema"]
TYPE_WORDS = {"number": "a number", "integer": "a whole number", "boolean": "true or false", "array": "a list",
              "object": "a mapping of fields", "string": "text"}


class ChartError(ValueError):
    """A chart the planner cannot read: the message names the field and what is allowed."""


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


def read_chart_file(path: str | Path) -> dict:
    """A chart file (YAML or JSON) read and checked; any problem is a ChartError of one plain line or more."""
    import yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ChartError(f"cannot read the chart {path}: {error.strerror}") from error
    try:
        chart = yaml.safe_load(text)  # YAML also reads JSON
    except yaml.YAMLError as error:
        raise ChartError(f"{path} is not valid YAML or JSON: {error}") from error
    try:
        return check_chart(chart)
    except ChartError as error:
        raise ChartError(f"{path} cannot be planned:\n{error}") from error
