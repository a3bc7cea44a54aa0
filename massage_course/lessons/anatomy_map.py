"""The anatomy notebook's body map: the course's regions drawn as SVG, a panel per region with its muscles and what the
hospital adds there, a region list linked to the panels, and a muscle self-check made from the data.

The map is plain SVG and a few lines of JavaScript, so it works the same in JupyterLab and in the static book, by
mouse and by keyboard; the region explorer beside it is an ipywidgets control linked in the browser.
"""

from __future__ import annotations

import html
import random
import uuid

from ..topics.anatomy import base_region_keys, label, muscles, muscles_in, regions, sites_in, source_label
from .widgets import linked_views, show_quiz


def region_panel_html(region_key: str, hidden: bool = False) -> str:
    """What the map shows for one region: its muscles (from the textbook) and what the hospital adds there."""
    region = regions()[region_key]
    esc = html.escape
    muscle_items = "".join(
        f"<li><strong>{esc(m.name.capitalize())}</strong>: {esc(m.action)}</li>" for m in muscles_in(region_key)
    ) or "<li>No muscle of the course's list has its belly here.</li>"
    site_items = "".join(
        f"<li><strong>{esc(s.what)}</strong>: {esc(s.detail)} <em>For the session:</em> {esc(s.for_the_session)} "
        f"<span class='source'>(Source: {esc('; '.join(source_label(k) for k in s.sources))}"
        f"{'; read only in a copy' if s.mark == 'V2' else ''})</span></li>"
        for s in sites_in(region_key)
    ) or "<li>Nothing the course's sources place here; still read the chart and ask the nurse.</li>"
    return (
        f'<div class="region-panel"{" hidden" if hidden else ""} data-region="{region.key}">'
        f"<h4>{esc(region.label.capitalize())}</h4>"
        f"<p><strong>Muscles</strong> (OpenStax Anatomy and Physiology 2e)</p><ul>{muscle_items}</ul>"
        f"<p><strong>What the hospital adds here</strong></p><ul>{site_items}</ul></div>"
    )


# Shapes of the map, in a 200 x 430 box per view. In the front view the patient's right is on the viewer's left.
_CENTRE = {
    "head": ("ellipse", 100, 34, 24, 30), "neck": ("rect", 88, 62, 24, 18), "chest": ("rect", 72, 82, 56, 58),
    "abdomen": ("rect", 74, 140, 52, 55), "upper_back": ("rect", 72, 82, 56, 58),
    "lower_back": ("rect", 74, 140, 52, 52), "sacrum": ("polygon", "86,192 114,192 100,222"),
    "face": ("ellipse", 100, 40, 15, 19),
}
_SIDED = {  # drawn on the viewer's left; mirrored for the other side
    "shoulder": ("ellipse", 60, 92, 15, 13), "axilla": ("ellipse", 71, 118, 5, 10),
    "upper_arm": ("rect", 42, 104, 18, 56), "forearm": ("rect", 36, 162, 16, 56), "hand": ("ellipse", 42, 232, 9, 13),
    "hip": ("rect", 72, 194, 26, 26), "groin": ("polygon", "92,200 99,200 99,222"),
    "thigh": ("rect", 74, 222, 24, 82), "calf": ("rect", 77, 306, 19, 82), "foot": ("ellipse", 86, 398, 11, 9),
}


def _shape(spec, mirror: bool) -> str:
    kind, *values = spec
    if kind == "polygon":
        points = values[0]
        if mirror:
            points = " ".join(f"{200 - int(x)},{y}" for x, y in (p.split(",") for p in points.split()))
        return f'<polygon points="{points}"'
    if kind == "ellipse":
        cx, cy, rx, ry = values
        return f'<ellipse cx="{200 - cx if mirror else cx}" cy="{cy}" rx="{rx}" ry="{ry}"'
    x, y, w, h = values
    return f'<rect x="{200 - x - w if mirror else x}" y="{y}" width="{w}" height="{h}" rx="4"'


def _view_svg(view: str) -> str:
    shapes = []
    for key, spec in _CENTRE.items():
        if view in regions()[key].views:
            shapes.append((key, _shape(spec, mirror=False)))
    # Front: the patient's right side is on the viewer's left. Back: the patient's left is on the viewer's left.
    viewer_left = "right" if view == "front" else "left"
    viewer_right = "left" if view == "front" else "right"
    for base, spec in _SIDED.items():
        for side, mirror in ((viewer_left, False), (viewer_right, True)):
            key = f"{side}_{base}"
            if view in regions()[key].views:
                shapes.append((key, _shape(spec, mirror)))
    body = "".join(
        f'{shape} class="body-region" data-region="{key}" tabindex="0" role="button" aria-pressed="false" '
        f'aria-label="{html.escape(regions()[key].label)}"><title>{html.escape(regions()[key].label)}</title>'
        f'</{shape.split()[0][1:]}>'
        for key, shape in shapes
    )
    return (
        f'<figure class="body-map-view"><svg viewBox="0 0 200 430" width="200" height="430" role="group" '
        f'aria-label="Body map, {view} view">{body}</svg>'
        f'<figcaption>{view.capitalize()} view</figcaption></figure>'
    )


_MAP_SCRIPT = """
(function () {
  var map = document.getElementById("%(uid)s");
  if (!map) return;
  function choose(key) {
    map.querySelectorAll(".body-region").forEach(function (r) {
      var on = r.getAttribute("data-region") === key;
      r.setAttribute("aria-pressed", on ? "true" : "false");
      r.classList.toggle("selected", on);
    });
    map.querySelectorAll(".region-panel").forEach(function (p) {
      p.hidden = p.getAttribute("data-region") !== key;
    });
  }
  map.querySelectorAll(".body-region").forEach(function (r) {
    r.addEventListener("click", function () { choose(r.getAttribute("data-region")); });
    r.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); choose(r.getAttribute("data-region")); }
    });
  });
})();
"""

_MAP_STYLE = """
#%(uid)s .views { display: flex; gap: 1.5em; flex-wrap: wrap; }
#%(uid)s .body-map-view { margin: 0; text-align: center; }
#%(uid)s .body-region { fill: #dbe7f3; stroke: #1f4e79; stroke-width: 1.2; cursor: pointer; }
#%(uid)s .body-region:hover { fill: #b7d0ea; }
#%(uid)s .body-region:focus { outline: none; stroke: #000; stroke-width: 3; }
#%(uid)s .body-region.selected { fill: #1f4e79; }
#%(uid)s .panels { border: 1px solid #1f4e79; padding: 0.5em 1em; margin-top: 0.5em; }
#%(uid)s .source { font-size: 0.9em; color: #333; }
"""


def body_map_html(selected: str = "chest") -> str:
    """The body map, front and back: pick a region by mouse or keyboard (Tab, then Enter or Space) to see its muscles
    and what the hospital adds there. Plain HTML, SVG and JavaScript: no kernel is needed to use it."""
    uid = f"body-map-{uuid.uuid4().hex[:8]}"
    drawn = [k for k, r in regions().items() if not r.parts]
    panels = "".join(
        region_panel_html(key, hidden=key != selected)
        for key in drawn
    )
    return (
        f'<style>{_MAP_STYLE % {"uid": uid}}</style>'
        f'<div class="body-map" id="{uid}">'
        f'<p>Choose a region with the mouse, or with the keyboard: <kbd>Tab</kbd> to a region, then <kbd>Enter</kbd>.</p>'
        f'<div class="views">{_view_svg("front")}{_view_svg("back")}</div>'
        f'<div class="panels" aria-live="polite">{panels}</div></div>'
        f"<script>{_MAP_SCRIPT % {'uid': uid}}</script>"
    )


def show_body_map(selected: str = "chest") -> None:
    from IPython.display import HTML, display

    display(HTML(body_map_html(selected)))


def region_explorer(selected: str = "chest"):
    """A list of every region linked in the browser to its panel: the map's content for screen readers and for
    readers who prefer a list (works in the static book, where no Python runs)."""
    import ipywidgets as widgets

    drawn = [k for k, r in regions().items() if not r.parts]
    picker = widgets.Dropdown(
        options=[(regions()[k].label.capitalize(), k) for k in drawn], value=selected, description="Region:"
    )
    panels = linked_views(picker, [widgets.HTML(region_panel_html(k)) for k in drawn], drawn.index(selected))
    return widgets.VBox([picker, panels])


# --- Self-check generated from the data ----------------------------------------------------------------------------

def muscle_self_check(count: int = 6, seed: int = 2026) -> list[dict]:
    """Questions in jupyterquiz form, made from the muscle data: name the muscle from its action, and find its region.
    A fixed seed keeps the static page the same from build to build."""
    rng = random.Random(seed)
    pool = list(muscles())
    questions = []
    for muscle in rng.sample(pool, count):
        if len(questions) % 2 == 0:
            others = rng.sample([m for m in pool if m.name != muscle.name and m.action != muscle.action], 3)
            options = [muscle] + others
            rng.shuffle(options)
            questions.append({
                "question": f"Which muscle does the textbook describe like this: \"{muscle.action}\"?",
                "type": "multiple_choice",
                "answers": [{
                    "answer": m.name.capitalize(), "correct": m is muscle,
                    "feedback": (f"Yes: {muscle.name} ({', '.join(label(r) for r in muscle.regions)})." if m is muscle
                                 else f"Not this one: the textbook gives {m.name} this action: {m.action}"),
                } for m in options],
            })
        else:
            right = muscle.regions[0]
            wrong = rng.sample(sorted(base_region_keys() - set(muscle.regions)), 3)
            options = [right] + wrong
            rng.shuffle(options)
            questions.append({
                "question": f"On the body map, in which region would you find the {muscle.name}?",
                "type": "multiple_choice",
                "answers": [{
                    "answer": label(r).capitalize(), "correct": r == right,
                    "feedback": (f"Yes: the map places the {muscle.name} in: {', '.join(label(x) for x in muscle.regions)}."
                                 if r == right else f"Not quite: the {muscle.name} is not in the {label(r)} on the map."),
                } for r in options],
            })
    return questions


def show_muscle_self_check() -> None:
    show_quiz(muscle_self_check())
