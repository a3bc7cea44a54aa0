"""The anatomy notebook's body map: the course's regions on an anatomical outline, front and back (``body_outline``,
``data/body_map.yaml``), a panel per region with its muscles and what the hospital adds there, a region list linked to
the panels, and a muscle self-check made from the data.

The map is plain SVG and a few lines of JavaScript, so it works the same in JupyterLab, JupyterLite and the static
book, by mouse and by keyboard: each region is a button (Tab, then Enter or Space), and pointing at a shape or moving
to a region names it and its muscle group under the map. The region explorer beside it is an ipywidgets control
linked in the browser.
"""

from __future__ import annotations

import html
import random
import uuid

from ..topics.anatomy import base_region_keys, label, muscles, muscles_in, regions, sites_in, source_label
from .body_outline import CREDIT, knee_shapes, outline, polygon, shape_title, shapes_by_region, silhouette_filter
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


# The views are drawn at the same height on the page, so that head and feet line up although the two views' boxes
# differ (body_map.yaml); the width follows from each box.
VIEW_HEIGHT = 520


def view_size(view: str) -> tuple[int, int]:
    """(width, height) in CSS pixels of a view of the outline."""
    _, _, width, height = (float(v) for v in outline()[view]["view_box"].split())
    return round(VIEW_HEIGHT * width / height), VIEW_HEIGHT


def _view_svg(view: str, uid: str) -> str:
    """One view of the map: each region a focusable button made of its polygons, each polygon named on hover."""
    esc = html.escape
    skin = f"{uid}-{view}-skin"
    groups = "".join(
        f'<g class="body-region" data-region="{key}" tabindex="0" role="button" aria-pressed="false" '
        f'aria-label="{esc(regions()[key].label)}">'
        + "".join(polygon(s, shape_title(s), ' class="muscle"' if s.muscle else ' class="skin-part"') for s in shapes)
        + "</g>"
        for key, shapes in shapes_by_region(view).items()
    )
    width, height = view_size(view)
    return (
        f'<figure class="body-map-view"><svg xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="{outline()[view]["view_box"]}" '
        f'width="{width}" height="{height}" role="group" aria-label="Body map, {view} view">'
        f'<defs>{silhouette_filter(skin)}</defs><g filter="url(#{skin})">{knee_shapes(view)}{groups}</g></svg>'
        f"<figcaption>{view.capitalize()} view: the patient's {'right' if view == 'front' else 'left'} side is on "
        "your left</figcaption></figure>"
    )


_MAP_SCRIPT = """
(function () {
  var map = document.getElementById("%(uid)s");
  if (!map) return;
  var pointer = map.querySelector(".map-pointer");
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
  function name(r, shape) {
    if (shape && shape.querySelector("title")) return shape.querySelector("title").textContent;
    var muscles = [];
    r.querySelectorAll("[data-muscle]").forEach(function (s) {
      var m = s.getAttribute("data-muscle");
      if (muscles.indexOf(m) < 0) muscles.push(m);
    });
    return r.getAttribute("aria-label") + (muscles.length ? ": " + muscles.join(", ") : "");
  }
  map.querySelectorAll(".body-region").forEach(function (r) {
    r.addEventListener("click", function () { choose(r.getAttribute("data-region")); });
    r.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); choose(r.getAttribute("data-region")); }
    });
    r.addEventListener("focus", function () { pointer.textContent = name(r); });
    r.addEventListener("mouseover", function (e) { pointer.textContent = name(r, e.target.closest("polygon")); });
  });
})();
"""

_MAP_STYLE = """
#%(uid)s .views { display: flex; gap: 1.5em; flex-wrap: wrap; align-items: flex-start; }
#%(uid)s .body-map-view { margin: 0; text-align: center; }
#%(uid)s .body-map-view svg { max-width: 100%%; height: auto; background: #fff; border-radius: 6px; }
#%(uid)s .body-region polygon { stroke: #6b3a2c; stroke-width: 0.35; stroke-linejoin: round; cursor: pointer; }
#%(uid)s .body-region .muscle { fill: #e4a796; }
#%(uid)s .body-region .skin-part { fill: #f0d2ba; }
#%(uid)s .outline-only { fill: #f0d2ba; stroke: #a88068; stroke-width: 0.3; pointer-events: none; }
#%(uid)s .body-region:hover polygon { fill: #9cc0e6; }
#%(uid)s .body-region:focus { outline: none; }
#%(uid)s .body-region:focus polygon { stroke: #000; stroke-width: 1.1; }
#%(uid)s .body-region.selected polygon { fill: #1f4e79; stroke: #0b2239; }
#%(uid)s .map-pointer { min-height: 1.5em; margin: 0.25em 0; font-weight: 600; }
#%(uid)s .map-credit { font-size: 0.85em; margin: 0.25em 0; }
#%(uid)s .panels { border: 1px solid #1f4e79; padding: 0.5em 1em; margin-top: 0.5em; }
#%(uid)s .source { font-size: 0.9em; color: #333; }
"""


def body_map_html(selected: str = "chest") -> str:
    """The body map, front and back: pick a region by mouse or keyboard (Tab, then Enter or Space) to see its muscles
    and what the hospital adds there; pointing at a shape names its region and muscle. Plain HTML, SVG and
    JavaScript: no kernel is needed to use it."""
    uid = f"body-map-{uuid.uuid4().hex[:8]}"
    drawn = [k for k, r in regions().items() if not r.parts]
    panels = "".join(region_panel_html(key, hidden=key != selected) for key in drawn)
    views = "".join(_view_svg(view, uid) for view in ("front", "back"))
    start = f'class="body-region" data-region="{selected}" tabindex="0" role="button" aria-pressed="false"'
    views = views.replace(start, start.replace("body-region", "body-region selected").replace('"false"', '"true"'))
    return (
        f'<style>{_MAP_STYLE % {"uid": uid}}</style>'
        f'<div class="body-map" id="{uid}">'
        f'<p>Choose a region with the mouse, or with the keyboard: <kbd>Tab</kbd> to a region, then <kbd>Enter</kbd>.</p>'
        f'<div class="views">{views}</div>'
        f'<p class="map-pointer" aria-hidden="true"></p><p class="map-credit">{html.escape(CREDIT)}</p>'
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
            wrong = rng.sample(sorted(base_region_keys() - set(muscle.regions) - set(muscle.also_placed_in)), 3)
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
