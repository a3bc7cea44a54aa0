"""Anatomy for the course: body regions, muscles and what the hospital adds to each region, read from reviewed data,
and the body map the anatomy notebook shows.

The map is plain SVG and a few lines of JavaScript, so it works the same in JupyterLab and in the static book, by
mouse and by keyboard; the region explorer beside it is an ipywidgets control linked in the browser.
"""

from __future__ import annotations

import html
import random
import uuid
from dataclasses import dataclass
from functools import cache

from .data_files import load_yaml, require
from .static_widgets import linked_views, show_quiz

SIDES = ("left", "right")
SITE_KINDS = ("line", "drain", "device", "lymph_nodes", "skin", "other")


@dataclass(frozen=True)
class Region:
    key: str  # e.g. "left_forearm"; the key every part of the course uses
    label: str  # e.g. "left forearm"; the words the chapters use
    views: tuple[str, ...]  # "front", "back"
    parts: tuple[str, ...] = ()  # for a limb group: the region keys it covers

    @property
    def base(self) -> str:
        """The side-less key ("forearm" for "left_forearm") that muscles and hospital sites refer to."""
        side, _, rest = self.key.partition("_")
        return rest if side in SIDES else self.key


@dataclass(frozen=True)
class Muscle:
    name: str
    regions: tuple[str, ...]
    origin: str | None
    insertion: str | None
    action: str
    innervation: str | None
    checked: dict
    notes: str | None
    source: str
    source_address: str


@dataclass(frozen=True)
class HospitalSite:
    what: str
    kind: str
    regions: tuple[str, ...]
    detail: str
    for_the_session: str
    sources: tuple[str, ...]
    mark: str


@cache
def regions() -> dict[str, Region]:
    """Every region key of the course, midline, sided (left_/right_) and limb groups (left_arm, ...)."""
    raw = load_yaml("body_regions.yaml")
    where = "massage_course/data/body_regions.yaml"
    require(all(k in raw for k in ("midline", "sided", "limb_groups")), where, "needs midline, sided and limb_groups")
    found: dict[str, Region] = {}
    for key, entry in raw["midline"].items():
        found[key] = Region(key, entry["label"], tuple(entry["view"]))
    for key, entry in raw["sided"].items():
        for side in SIDES:
            found[f"{side}_{key}"] = Region(f"{side}_{key}", f"{side} {entry['label']}", tuple(entry["view"]))
    for group, members in raw["limb_groups"].items():
        for side in SIDES:
            parts = tuple(f"{side}_{member}" for member in members)
            require(all(p in found for p in parts), where, f"limb group {group} names a region that does not exist")
            views = tuple(sorted({v for p in parts for v in found[p].views}))
            found[f"{side}_{group}"] = Region(f"{side}_{group}", f"{side} {group}", views, parts)
    return found


def base_region_keys() -> set[str]:
    """The side-less keys that data files use: midline keys and sided keys without their side."""
    return {r.base for r in regions().values() if not r.parts}


@cache
def muscles() -> tuple[Muscle, ...]:
    """The muscles the course teaches, each checked against its source (a null field is one no source gave)."""
    raw = load_yaml("muscles.yaml")
    where = "massage_course/data/muscles.yaml"
    known = base_region_keys()
    found = []
    for number, entry in enumerate(raw.get("muscles") or [], start=1):
        m_where = f"{where}, muscle {number} ({entry.get('name')!r})"
        require(bool(entry.get("name")) and bool(entry.get("action")), m_where, "needs a name and an action")
        require(bool(entry.get("regions")) and set(entry["regions"]) <= known, m_where,
                f"regions must be course region keys; unknown: {sorted(set(entry.get('regions') or []) - known)}")
        require(bool(entry.get("source")) and bool(entry.get("source_address")), m_where, "needs its source")
        checked = entry.get("checked") or {}
        for field in ("origin", "insertion", "innervation"):
            # A value that no source gave must not be there: only nulls may be unchecked.
            require(entry.get(field) is None or checked.get(field) is True, m_where,
                    f"{field} has a value but is not marked as checked")
        found.append(Muscle(
            name=entry["name"], regions=tuple(entry["regions"]), origin=entry.get("origin"),
            insertion=entry.get("insertion"), action=entry["action"], innervation=entry.get("innervation"),
            checked=checked, notes=entry.get("notes"), source=entry["source"], source_address=entry["source_address"],
        ))
    names = [m.name for m in found]
    require(len(names) == len(set(names)), where, "a muscle is listed twice")
    return tuple(found)


@cache
def _sites_file() -> dict:
    return load_yaml("hospital_sites.yaml")


def source_label(key: str) -> str:
    return _sites_file()["source_labels"].get(key, key)


@cache
def hospital_sites() -> tuple[HospitalSite, ...]:
    """Lines, drains, devices, lymph node groups and skin cautions, by region, each with its sources."""
    raw = _sites_file()
    where = "massage_course/data/hospital_sites.yaml"
    known = base_region_keys()
    found = []
    for number, entry in enumerate(raw.get("sites") or [], start=1):
        s_where = f"{where}, site {number} ({entry.get('what')!r})"
        require(entry.get("kind") in SITE_KINDS, s_where, f"kind must be one of {SITE_KINDS}")
        require(set(entry.get("regions") or []) <= known and entry.get("regions"), s_where, "unknown region key")
        require(bool(entry.get("sources")), s_where, "needs at least one source")
        require(all(k in raw["source_labels"] for k in entry["sources"]), s_where, "a source has no label")
        require(entry.get("mark") in ("V", "V2"), s_where, "mark must be V or V2 (U facts are not taught)")
        found.append(HospitalSite(
            what=entry["what"], kind=entry["kind"], regions=tuple(entry["regions"]), detail=entry["detail"],
            for_the_session=entry["for_the_session"], sources=tuple(entry["sources"]), mark=entry["mark"],
        ))
    return tuple(found)


def muscles_in(region_key: str) -> list[Muscle]:
    base = regions()[region_key].base
    return [m for m in muscles() if base in m.regions]


def sites_in(region_key: str) -> list[HospitalSite]:
    base = regions()[region_key].base
    return [s for s in hospital_sites() if base in s.regions]


# --- What a trainee sees -------------------------------------------------------------------------------------------

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


def label(base_key: str) -> str:
    """The words for a side-less region key ("upper_arm" -> "upper arm")."""
    region = regions().get(base_key) or regions()[f"left_{base_key}"]
    return region.label.removeprefix("left ")


def show_muscle_self_check() -> None:
    show_quiz(muscle_self_check())


__all__ = [
    "Region", "Muscle", "HospitalSite", "regions", "muscles", "hospital_sites", "muscles_in", "sites_in",
    "body_map_html", "show_body_map", "region_explorer", "muscle_self_check", "show_muscle_self_check",
]
