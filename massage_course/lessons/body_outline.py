"""The body outline, front and back, that the anatomy notebook's body map and the session planner's plan map draw:
polygons read from ``data/body_map.yaml`` (from react-body-highlighter 2.0.5, MIT, with shapes of the course's own
where the package has none), each one a course region of ``data/body_regions.yaml``.

Drawing is plain SVG: no script and nothing fetched, so the same outline shows in JupyterLab, JupyterLite and the
static book. A soft skin-coloured silhouette is grown around the polygons by an SVG filter, so the body reads as
whole although the polygons leave gaps between muscles.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import cache

from ..topics.anatomy import regions
from ..topics.data_files import load_yaml, require

GEOMETRY_FILE = "massage_course/data/body_map.yaml"
VIEWS = ("front", "back")
CENTRE_X = 50  # the figure's midline: in the front view the patient's right is on the viewer's left (x < 50)
CREDIT = ("Outline: muscle polygons from react-body-highlighter 2.0.5 by GV79 (MIT licence); face, hands, feet, "
          "armpits, groin, front of the hips, sacrum and spine drawn for this course.")
_POINT = re.compile(r"^-?\d+(\.\d+)?,-?\d+(\.\d+)?$")


@dataclass(frozen=True)
class Shape:
    region: str | None  # a course region key ("right_forearm"); None for a part drawn only to complete the body
    points: tuple[tuple[float, float], ...]
    muscle: str | None = None  # a plain name where the shape is a muscle group
    origin: str = "course"  # the package's muscle id, or "course" for a shape drawn for the course

    @property
    def centre_x(self) -> float:
        return sum(x for x, _ in self.points) / len(self.points)

    def points_attribute(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}".replace(".0,", ",").removesuffix(".0") for x, y in self.points)


def _parse_points(text: str, where: str) -> tuple[tuple[float, float], ...]:
    pairs = str(text).split()
    require(len(pairs) >= 3 and all(_POINT.match(p) for p in pairs), where, "points must be 3 or more 'x,y' pairs")
    return tuple((float(x), float(y)) for x, y in (p.split(",") for p in pairs))


@cache
def outline() -> dict[str, dict]:
    """Per view: its viewBox, the selectable shapes (each a course region) and the parts drawn only to complete the
    body (the knees). Checked against the course's vocabulary: every region key exists, is drawn only in the views
    that body_regions.yaml gives it, and a sided region sits on its side of the figure."""
    raw = load_yaml("body_map.yaml")
    known = regions()
    found = {}
    for view in VIEWS:
        entry = (raw.get("views") or {}).get(view) or {}
        where = f"{GEOMETRY_FILE}, {view}"
        box = [float(v) for v in str(entry.get("view_box", "")).split()]
        require(len(box) == 4 and box[2] > 0 and box[3] > 0, where, "view_box must be 'x y width height'")
        shapes = []
        for number, item in enumerate(entry.get("shapes") or [], start=1):
            s_where = f"{where}, shape {number}"
            key = item.get("region")
            require(key in known and not known[key].parts, s_where, f"{key!r} is not a single region of the course")
            require(view in known[key].views, s_where, f"{key} is not seen in the {view} view (body_regions.yaml)")
            points = _parse_points(item.get("points"), s_where)
            shape = Shape(key, points, item.get("muscle"), item.get("from", "course"))
            side = key.partition("_")[0]
            if side in ("left", "right"):
                on_viewer_left = shape.centre_x < CENTRE_X
                patient_side = ("right" if on_viewer_left else "left") if view == "front" else \
                               ("left" if on_viewer_left else "right")
                require(side == patient_side, s_where, f"{key} is drawn on the patient's {patient_side} side")
            shapes.append(shape)
        extras = [Shape(None, _parse_points(item.get("points"), f"{where}, outline_only {n}"), None,
                        item.get("from", "course")) for n, item in enumerate(entry.get("outline_only") or [], 1)]
        found[view] = {"view_box": " ".join(f"{v:g}" for v in box), "shapes": tuple(shapes), "extras": tuple(extras)}
    return found


def drawn_regions(view: str) -> list[str]:
    """The region keys drawn in a view, in the order of body_regions.yaml."""
    present = {shape.region for shape in outline()[view]["shapes"]}
    return [key for key in regions() if key in present]


def shapes_by_region(view: str) -> dict[str, list[Shape]]:
    grouped: dict[str, list[Shape]] = {}
    for shape in outline()[view]["shapes"]:
        grouped.setdefault(shape.region, []).append(shape)
    return {key: grouped[key] for key in drawn_regions(view)}


def silhouette_filter(filter_id: str, skin: str = "#f4e6d8", edge: str = "#6b5040") -> str:
    """An SVG filter that draws a skin-coloured silhouette with a thin outline behind the polygons it is applied to:
    it grows their shape (closing the gaps between muscles), shrinks it back a little, and puts the polygons on top."""
    return (
        f'<filter id="{filter_id}" x="-8%" y="-4%" width="116%" height="108%" color-interpolation-filters="sRGB">'
        '<feMorphology in="SourceAlpha" operator="dilate" radius="2.6" result="grown"/>'
        '<feMorphology in="grown" operator="erode" radius="1.5" result="body"/>'
        '<feMorphology in="body" operator="dilate" radius="0.45" result="rim"/>'
        f'<feFlood flood-color="{edge}"/><feComposite in2="rim" operator="in" result="line"/>'
        f'<feFlood flood-color="{skin}"/><feComposite in2="body" operator="in" result="skin"/>'
        '<feMerge><feMergeNode in="line"/><feMergeNode in="skin"/><feMergeNode in="SourceGraphic"/></feMerge>'
        "</filter>"
    )


def polygon(shape: Shape, title: str | None = None, extra: str = "") -> str:
    """One polygon with its region and muscle as data attributes, and a tooltip when a title is given."""
    attributes = f' data-region="{shape.region}"' if shape.region else ""
    if shape.muscle:
        attributes += f' data-muscle="{html.escape(shape.muscle)}"'
    inner = f"<title>{html.escape(title)}</title>" if title else ""
    return f'<polygon{attributes}{extra} points="{shape.points_attribute()}">{inner}</polygon>'


def shape_title(shape: Shape) -> str:
    """What a polygon's tooltip says: its region, and its muscle group where it is one."""
    name = regions()[shape.region].label
    return f"{name}: {shape.muscle}" if shape.muscle else name


def path_data(shapes: list[Shape]) -> str:
    """The polygons of one region as a single SVG path (shorter than a polygon each, for maps drawn many times)."""
    return "".join(f"M{s.points_attribute().replace(',', ' ')}Z" for s in shapes)


def knee_shapes(view: str) -> str:
    """The parts drawn only so that the body looks whole (not a course region: no data-region, not selectable)."""
    return "".join(f'<polygon class="outline-only" points="{shape.points_attribute()}"/>'
                   for shape in outline()[view]["extras"])
