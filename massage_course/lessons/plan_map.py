"""The session planner's plan map: the body map's outline, front and back, with each region shaded by the most
pressure the plan allows there (avoid, level 1, level 2, or no limit of its own), a key in words, and the restricted
regions listed as text beside it, so that nothing depends on colour or on seeing the picture.

Plain HTML and SVG, no script: it shows the same in JupyterLab, JupyterLite and the static book, where every teaching
chart's plan is drawn when the book is built. The outline's shapes are defined once per page (``plan_map_defs``) and
each map only references them, so forty plans on one page stay light.
"""

from __future__ import annotations

import html
import uuid

from ..topics.anatomy import regions
from ..topics.precautions import AVOID, cap_word
from .body_outline import CREDIT, VIEWS, outline, path_data, shapes_by_region, silhouette_filter

# Shades on the map's white ground, darker as the limit tightens. Each step is at least 3:1 against the next lighter
# one (WCAG 2.1, 1.4.11), so level 2, level 1 and no limit are told apart without colour; "avoid" is the darkest and is
# also hatched with white lines (tests/test_body_map.py measures them).
SHADES = {"avoid": "#321314", "level_1": "#762500", "level_2": "#c37c00", "free": "#fdfaf5"}
HATCH = "#ffffff"
EDGE = "#3b3b3b"
SKIN = "#ece3d8"
MAP_HEIGHT = 330
_STYLE = (
    ".plan-map { margin: 0.5em 0; }"
    " .plan-map-body { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }"
    " .plan-map-views { display: flex; gap: 0.5em; background: #fff; border: 1px solid #8a8a8a; border-radius: 6px;"
    " padding: 0.25em; } .plan-map-views svg { max-width: 100%; height: auto; } .plan-map-text { flex: 1 1 16em; }"
    " .plan-map-key { list-style: none; padding-left: 0; } .plan-map-key svg { vertical-align: middle; }"
)
KEY_WORDS = {
    "avoid": "Avoid: no massage on this region (darkest, hatched with white lines)",
    "level_1": "Level 1 at most (dark)",
    "level_2": "Level 2 at most (medium)",
    "free": "No limit of its own: the session's level {level} at most (lightest)",
}


def shade_of(cap: int, session_level: int) -> str:
    """The shade of a region's cap: avoid, level_1, level_2, or free (no limit below the session's level). The
    planner's sessions are level 3 at most, so a region's own limit is avoid, level 1 or level 2."""
    if cap == AVOID:
        return "avoid"
    if cap >= session_level:
        return "free"
    return "level_1" if cap == 1 else "level_2"


def _fill(shade: str, ids: str) -> str:
    return f"url(#{ids}-hatch)" if shade == "avoid" else SHADES[shade]


def plan_map_defs() -> tuple[str, str]:
    """(ids, markup): the outline's shapes, the silhouette filter and the hatch pattern, defined once for a page.
    The markup is an SVG of no size that draws nothing; every plan map given ``ids`` refers to it."""
    ids = f"pm{uuid.uuid4().hex[:6]}"
    shapes = "".join(f'<path id="{ids}-{view}-{key}" d="{path_data(group)}"/>'
                     for view in VIEWS for key, group in shapes_by_region(view).items())
    extras = "".join(f'<path id="{ids}-{view}-extras" d="{path_data(list(outline()[view]["extras"]))}"/>'
                     for view in VIEWS)
    hatch = (f'<pattern id="{ids}-hatch" width="2.6" height="2.6" patternUnits="userSpaceOnUse" '
             f'patternTransform="rotate(45)"><rect width="2.6" height="2.6" fill="{SHADES["avoid"]}"/>'
             f'<rect width="0.8" height="2.6" fill="{HATCH}"/></pattern>')
    return ids, (f"<style>{_STYLE}</style>"
                 f'<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0" aria-hidden="true" focusable="false" '
                 f'style="position:absolute;width:0;height:0;overflow:hidden"><defs>{shapes}{extras}{hatch}'
                 f"{silhouette_filter(f'{ids}-skin', skin=SKIN, edge=EDGE)}</defs></svg>")


def _view(view: str, caps: dict[str, int], session_level: int, ids: str) -> str:
    uses = []
    for key in shapes_by_region(view):
        cap = caps.get(key, session_level)
        shade = shade_of(cap, session_level)
        fill = "" if shade == "free" else f' fill="{_fill(shade, ids)}"'  # free regions take the group's fill
        uses.append(f'<use href="#{ids}-{view}-{key}" data-region="{key}" data-shade="{shade}"{fill}>'
                    f"<title>{html.escape(regions()[key].label)}: {cap_word(cap)}</title>"
                    "</use>")
    _, _, width, height = (float(v) for v in outline()[view]["view_box"].split())
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{outline()[view]["view_box"]}" '
        f'width="{round(MAP_HEIGHT * width / height)}" height="{MAP_HEIGHT}" role="img" '
        f'aria-label="Plan map, {view} view: each region shaded by the most pressure allowed there (listed beside)">'
        f'<g filter="url(#{ids}-skin)" fill="{SHADES["free"]}" stroke="{EDGE}" stroke-width="0.35" '
        'stroke-linejoin="round">'
        f'<use href="#{ids}-{view}-extras" fill="{SKIN}"/>{"".join(uses)}</g></svg>'
    )


def _swatch(shade: str, ids: str) -> str:
    return (f'<svg width="22" height="16" viewBox="0 0 8.8 6.4" aria-hidden="true" focusable="false">'
            f'<rect x="0.3" y="0.3" width="8.2" height="5.8" rx="1" fill="{_fill(shade, ids)}" stroke="{EDGE}" '
            'stroke-width="0.4"/></svg>')


def restricted_regions(caps: dict[str, int], session_level: int) -> dict[int, list[str]]:
    """The regions with a limit of their own (below the session's level), by cap, strictest first, each list in the
    body's order (body_regions.yaml)."""
    grouped: dict[int, list[str]] = {}
    for key, region in regions().items():
        if not region.parts and caps.get(key, session_level) < session_level:
            grouped.setdefault(caps[key], []).append(key)
    return dict(sorted(grouped.items()))


def single_region_caps(caps: dict[str, int | str], session_level: int) -> dict[str, int]:
    """Caps as numbers for single regions: "avoid" is 0, a limb group stands for its regions, the strictest wins,
    and nothing is above the session's level."""
    flat: dict[str, int] = {}
    for key, cap in caps.items():
        value = AVOID if cap == "avoid" else min(int(cap), session_level)
        for part in regions()[key].parts or (key,):
            flat[part] = min(flat.get(part, session_level), value)
    return flat


def plan_map_html(caps: dict[str, int | str], session_level: int = 3, caption: str = "",
                  ids: str | None = None) -> str:
    """The plan map for per-region caps (region key -> 0 or "avoid", or a pressure level; a limb group stands for its
    regions; a region not in ``caps`` has no limit of its own) under the session's level: front and back views, the
    restricted regions as a list, and a key in words. ``ids``: the page's ``plan_map_defs`` (made here if not given)."""
    defs = ""
    if ids is None:
        ids, defs = plan_map_defs()
    flat = single_region_caps(caps, session_level)
    grouped = restricted_regions(flat, session_level)
    shades = {shade_of(cap, session_level) for cap in grouped}
    key_items = "".join(
        f'<li data-shade="{s}">{_swatch(s, ids)} {html.escape(KEY_WORDS[s].format(level=session_level))}</li>'
        for s in ("avoid", "level_1", "level_2", "free") if s in shades or s == "free")
    listed = "".join(
        f'<li data-shade="{shade_of(cap, session_level)}"><strong>{cap_word(cap).capitalize()}:</strong> '
        f'{html.escape(", ".join(regions()[k].label for k in keys))}.</li>' for cap, keys in grouped.items()
    ) or "<li>No region needs less than the session's level.</li>"
    caption = (caption or "Where the plan limits pressure, region by region").rstrip(". ") + "."
    return (
        f'{defs}<figure class="plan-map">'
        f'<div class="plan-map-body"><div class="plan-map-views">'
        f'{"".join(_view(view, flat, session_level, ids) for view in VIEWS)}</div>'
        f'<div class="plan-map-text"><p><strong>Sites</strong>: the regions with a limit of their own</p>'
        f'<ul class="plan-map-list">{listed}</ul><p><strong>Key to the shading</strong></p>'
        f'<ul class="plan-map-key">{key_items}</ul></div></div>'
        f"<figcaption>{html.escape(caption)} Front view on the left: the patient's right is on your left. "
        f"{html.escape(CREDIT)}</figcaption></figure>"
    )
