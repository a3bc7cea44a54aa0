"""The Walton pressure scale: its five levels as data, and the widget the pressure-scale notebook shows."""

from __future__ import annotations

import html
from dataclasses import dataclass

from .data_files import load_yaml, require
from .static_widgets import linked_views

DATA_FILE = "pressure_scale.yaml"


@dataclass(frozen=True)
class PressureLevel:
    level: int
    name: str
    meaning: str
    maximum_for: str | None
    mark: str


@dataclass(frozen=True)
class PressureScale:
    source: str
    credit: str
    meaning_source_note: str
    levels: tuple[PressureLevel, ...]


def load_pressure_scale() -> PressureScale:
    """Read and check the pressure scale: exactly levels 1 to 5, in order, each with a name and a meaning."""
    raw = load_yaml(DATA_FILE)
    where = f"massage_course/data/{DATA_FILE}"
    require(isinstance(raw, dict), where, "expected a mapping at the top level")
    for key in ("source", "credit", "meaning_source_note", "levels"):
        require(bool(raw.get(key)), where, f"'{key}' is missing")
    levels = []
    for position, entry in enumerate(raw["levels"], start=1):
        entry_where = f"{where}, level entry {position}"
        require(entry.get("level") == position, entry_where, f"levels must run 1 to 5 in order; found {entry.get('level')!r}")
        require(bool(entry.get("name")) and bool(entry.get("meaning")), entry_where, "needs a name and a meaning")
        require(entry.get("mark") in ("V", "V2"), entry_where, "mark must be V or V2 (U facts are not taught)")
        levels.append(
            PressureLevel(
                level=entry["level"],
                name=entry["name"],
                meaning=entry["meaning"],
                maximum_for=entry.get("maximum_for"),
                mark=entry["mark"],
            )
        )
    require(len(levels) == 5, where, f"the scale has five levels; found {len(levels)}")
    return PressureScale(raw["source"], raw["credit"], raw["meaning_source_note"], tuple(levels))


def level_card_html(level: PressureLevel, scale_size: int = 5) -> str:
    """One level as an HTML card: a five-step bar (filled up to this level, labelled for screen readers) and text."""
    steps = "".join(
        f'<span style="display:inline-block;width:2.2em;height:0.9em;margin-right:2px;border:1px solid #1f4e79;'
        f'background:{"#1f4e79" if step <= level.level else "#ffffff"}"></span>'
        for step in range(1, scale_size + 1)
    )
    secondary = " (from a secondary source)" if level.mark == "V2" else ""
    maximum = (
        f"<p><strong>Quoted as the most to use for:</strong> {html.escape(level.maximum_for)}{secondary}</p>"
        if level.maximum_for
        else ""
    )
    return (
        f'<div class="pressure-level-card" data-level="{level.level}">'
        f'<h4 style="margin:0.2em 0">Level {level.level} of {scale_size}: {html.escape(level.name)}</h4>'
        f'<div role="img" aria-label="Pressure level {level.level} of {scale_size}">{steps}</div>'
        f"<p>{html.escape(level.meaning)}</p>{maximum}</div>"
    )


def pressure_scale_widget(scale: PressureScale | None = None):
    """Buttons for levels 1-5 linked in the browser to a card per level.

    The link is made in JavaScript (``jslink``), so the widget keeps working in the static book, where no Python runs.
    """
    import ipywidgets as widgets

    scale = scale or load_pressure_scale()
    buttons = widgets.ToggleButtons(
        options=[(f"{lvl.level} · {lvl.name}", lvl.level) for lvl in scale.levels],
        value=scale.levels[0].level,
        description="Level:",
        tooltips=[lvl.meaning for lvl in scale.levels],
        style={"button_width": "auto"},
    )
    cards = linked_views(buttons, [widgets.HTML(level_card_html(lvl)) for lvl in scale.levels])
    note = widgets.HTML(
        f'<p style="font-size:0.9em"><em>{html.escape(scale.meaning_source_note)}</em><br>'
        f"{html.escape(scale.credit)}</p>"
    )
    return widgets.VBox([buttons, cards, note])
