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
BOOLEAN_FINDINGS = [
    "anticoagulant", "bleeding_disorder", "fever", "nausea", "mucositis", "lung_metastases", "fall_risk",
    "neutropenia", "new_chest_pain", "new_shortness_of_breath", "active_bleeding", "vasopressors",
    "uncontrolled_pain", "delirium", "unable_to_consent", "urinary_catheter", "telemetry", "sternal_precautions",
    "spinal_precautions", "osteoporosis", "fragile_skin", "long_term_steroids", "antiplatelet", "inr_above_range",
    "epidural_catheter",
]
SITE_LIST_FINDINGS = [
    "drains", "non_intact_skin", "radiation", "tumor", "bone_metastases", "new_skin_graft", "neuropathy",
    "unstable_fracture", "implanted_hardware", "donor_site", "pressure_injury", "chest_tube", "medicine_patch",
    "injection_sites", "varicose_veins", "hematoma",
]
LIMB_FINDINGS = ["lymphedema", "edema", "new_limb_swelling", "scds", "limb_alert"]
ISOLATION_TYPES = ["contact", "contact_enteric", "droplet", "airborne"]
OXYGEN_TYPES = ["nasal_cannula", "mask"]
JOINT_REPLACEMENT_TYPES = ["hip", "knee"]
SIDES = ["left", "right"]
# Numbers a chart may hold: (smallest, largest possible). A value outside is a typing error, not a patient.
NUMBER_FINDINGS = {"platelets_per_uL": (0, 10_000_000), "anc_per_uL": (0, 1_000_000), "temperature_c": (25, 45),
                   "weeks_since_birth": (0, 520)}
TYPE_WORDS = {"number": "a number", "integer": "a whole number", "boolean": "true or false", "array": "a list",
              "object": "a mapping of fields", "string": "text"}


class ChartError(ValueError):
    """A chart the planner cannot read: the message names the field and what is allowed."""


def site_keys() -> list[str]:
    """Region keys a chart may name: every course region, limb groups included."""
    return sorted(regions())


def limb_keys() -> list[str]:
    return sorted(k for k, r in regions().items() if r.parts)


def _entries(required: list[str], **fields) -> dict:
    """A list of entries, each a mapping with exactly these fields."""
    return {"type": "array", "items": {"type": "object", "additionalProperties": False, "required": required,
                                       "properties": fields}}


@cache
def chart_schema() -> dict:
    site = {"enum": site_keys()}
    side = {"enum": SIDES}
    days = {"type": "integer", "minimum": 0}
    properties: dict[str, Any] = {
        "dvt": _entries(["site", "status"], site=site, status={"enum": ["active", "suspected", "history"]}),
        "surgery": _entries(["site", "days_ago"], site=site, days_ago=days),
        "lines": _entries(["type", "site"], type={"enum": LINE_TYPES}, site=site),
        "lymph_nodes_removed": {"type": "array", "items": {"enum": NODE_SITES}},
        "pregnancy_trimester": {"enum": [1, 2, 3]},
        "chemotherapy_days_ago": days,
        "isolation": {"type": "array", "items": {"enum": ISOLATION_TYPES}},
        "oxygen": {"type": "array", "items": {"enum": OXYGEN_TYPES}},
        "cardiac_device": _entries(["type", "side", "days_ago"], type={"enum": ["pacemaker", "icd"]}, side=side,
                                   days_ago=days),
        "dialysis_access": _entries(["type", "site"], type={"enum": ["fistula", "graft", "catheter"]}, site=site),
        "hip_precautions": _entries(["side", "approach"], side=side,
                                    approach={"enum": ["posterior", "anterior", "unknown"]}),
        "femoral_puncture": _entries(["side", "hours_ago", "sheath_in_place"], side=side,
                                     hours_ago={"type": "integer", "minimum": 0},
                                     sheath_in_place={"type": "boolean"}),
        "radial_puncture": _entries(["side", "hours_ago"], side=side, hours_ago={"type": "integer", "minimum": 0}),
        "joint_replacement": _entries(["type", "side", "days_ago"], type={"enum": JOINT_REPLACEMENT_TYPES}, side=side,
                                      days_ago=days),
    }
    properties |= {name: {"type": "number", "minimum": low, "maximum": high}
                   for name, (low, high) in NUMBER_FINDINGS.items()}
    properties |= {name: {"type": "boolean"} for name in BOOLEAN_FINDINGS}
    properties |= {name: {"type": "array", "items": site} for name in SITE_LIST_FINDINGS}
    properties |= {name: {"type": "array", "items": {"enum": limb_keys()}} for name in LIMB_FINDINGS}
    # Charts may carry a title and a story for the trainee, and the teaching points a test checks; the planner does
    # not read them.
    properties |= {"title": {"type": "string"}, "story": {"type": "string"},
                   "teaching_points": {"type": "array", "items": {"type": "string"}},
                   "expected": {"type": "object"}}
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


MAX_CHART_BYTES = 1_000_000  # a chart is a page of findings; anything near a megabyte is the wrong file


def read_chart_file(path: str | Path) -> dict:
    """A chart file (YAML or JSON) read and checked; any problem is a ChartError of one plain line or more:
    a missing, empty, binary, oversized or non-UTF-8 file, YAML that is not valid or uses anchors and aliases (which
    can expand without limit), and fields the planner does not know."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_CHART_BYTES:
            raise ChartError(f"{path} is {size:,} bytes: a chart is a short YAML or JSON file (at most "
                             f"{MAX_CHART_BYTES:,} bytes); is this the right file?")
        data = path.read_bytes()
    except OSError as error:
        raise ChartError(f"cannot read the chart {path}: {error.strerror}") from error
    if b"\0" in data:
        raise ChartError(f"{path} is not a text file (it looks like an image or another binary file): a chart is "
                         "a YAML or JSON text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ChartError(f"{path} is not UTF-8 text (byte {error.start:,} cannot be read): save the chart as UTF-8 "
                         "and try again") from error
    chart = _parse_chart(text, path)
    if chart is None:  # nothing but blanks or comments
        raise ChartError(f"{path} is empty: a chart lists the patient's findings, e.g. 'anticoagulant: true'")
    try:
        return check_chart(chart)
    except ChartError as error:
        raise ChartError(f"{path} cannot be planned:\n{error}") from error


def _parse_chart(text: str, path: Path) -> Any:
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        """Safe YAML without anchors and aliases: a chart never needs them, and nested aliases can expand into
        billions of entries ("billion laughs")."""

        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                raise yaml.YAMLError("anchors and aliases (&name, *name) are not allowed in a chart")
            return super().compose_node(parent, index)

    try:
        return yaml.load(text, Loader=NoAliasLoader)  # noqa: S506 (a SafeLoader); YAML also reads JSON
    except yaml.YAMLError as error:
        raise ChartError(f"{path} is not valid YAML or JSON: {' '.join(str(error).split())}") from error
