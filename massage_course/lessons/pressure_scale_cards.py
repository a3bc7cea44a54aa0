"""The pressure-scale notebook's widget: a button per level of the Walton scale, linked in the browser to a card that
shows the level as a five-step bar and says what it means."""

from __future__ import annotations

import html

from ..topics.pressure_scale import PressureLevel, PressureScale, load_pressure_scale
from .widgets import linked_views


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
