"""The body map's anatomical outline (data/body_map.yaml), the anatomy notebook's map drawn from it, and the session
planner's plan map: every region of the course's vocabulary drawn in its views, on the patient's side, from
well-formed polygons with their origin and licence recorded; the plan map shading and listing what a plan restricts."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

import pytest

from massage_course.lessons import anatomy_map, body_outline, plan_map
from massage_course.lessons.plot_contrast import contrast
from massage_course.lessons.session_planner import case_book_html, load_teaching_charts, plan_html
from massage_course.paths import PROJECT_ROOT
from massage_course.topics import data_files
from massage_course.topics.anatomy import regions
from massage_course.topics.data_files import CourseDataError
from massage_course.topics.precautions import plan_session

SVG = "{http://www.w3.org/2000/svg}"
CHARTS = PROJECT_ROOT / "notebooks" / "charts"
DATA_FILE = PROJECT_ROOT / "massage_course" / "data" / "body_map.yaml"
VIEW_SVG = re.compile(r'<svg [^>]*aria-label="[^"]*(?:front|back) view[^"]*".*?</svg>', re.DOTALL)
SINGLE_REGIONS = {key: region for key, region in regions().items() if not region.parts}


def svgs(page: str) -> list[ET.Element]:
    """Every view of the body drawn on a page (an SVG labelled "... front view" or "... back view"), parsed as XML:
    each must be well-formed."""
    return [ET.fromstring(match) for match in VIEW_SVG.findall(page)]


def view_of(svg: ET.Element) -> str:
    return re.search(r"(front|back) view", svg.get("aria-label")).group(1)


def centre_x(points: str) -> float:
    xs = [float(pair.split(",")[0]) for pair in points.split()]
    return sum(xs) / len(xs)


def crosses(a, b, c, d) -> bool:
    """Whether segment ab crosses segment cd (touching ends do not count)."""
    def turn(p, q, r):
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
    return turn(a, b, c) * turn(a, b, d) < 0 and turn(c, d, a) * turn(c, d, b) < 0


# --- The data file ---------------------------------------------------------------------------------------------------

def test_the_outline_file_names_its_package_version_checksum_licence_and_copyright():
    header = "".join(line for line in DATA_FILE.read_text().splitlines(keepends=True) if line.startswith("#"))
    assert "react-body-highlighter" in header and "2.0.5" in header
    assert re.search(r"sha512-[A-Za-z0-9+/]{86}==", header)
    assert "MIT License" in header and "Copyright (c) 2020 GV79" in header
    assert "Permission is hereby granted" in header  # the licence asks for its notice to go with the copy


def test_every_polygon_of_the_outline_file_is_well_formed_and_inside_its_view():
    raw = data_files.load_yaml("body_map.yaml")
    for view, entry in raw["views"].items():
        left, top, width, height = (float(v) for v in entry["view_box"].split())
        for item in entry["shapes"] + entry["outline_only"]:
            assert set(item) <= {"region", "muscle", "from", "points", "what"}, item
            points = [tuple(map(float, pair.split(","))) for pair in item["points"].split()]
            assert len(points) >= 3, item
            assert all(left <= x <= left + width and top <= y <= top + height for x, y in points), item
            area = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1])) / 2
            assert abs(area) > 1, f"{view}: a shape of {item.get('region')} has no area"
            edges = list(zip(points, points[1:] + points[:1]))
            last = len(edges) - 1
            pairs = [(i, j) for i in range(len(edges)) for j in range(i + 2, len(edges)) if (i, j) != (0, last)]
            assert not any(crosses(*edges[i], *edges[j]) for i, j in pairs), f"{view}: {item.get('region')} crosses"
            assert item["from"] == "course" or re.fullmatch(r"[a-z-]+", item["from"]), item


def test_every_shape_of_the_package_keeps_its_origin_and_the_course_draws_only_what_the_package_lacks():
    raw = data_files.load_yaml("body_map.yaml")
    own = {item["region"].removeprefix("left_").removeprefix("right_")
           for entry in raw["views"].values() for item in entry["shapes"] if item["from"] == "course"}
    assert own <= {"face", "hand", "foot", "axilla", "groin", "hip", "sacrum", "neck", "upper_back", "lower_back"}


def test_a_shape_on_the_wrong_side_or_in_the_wrong_view_is_refused(monkeypatch):
    good = data_files.load_yaml("body_map.yaml")
    square = "10,10 20,10 20,20 10,20"
    for shape, message in (({"region": "left_hand", "points": square}, "drawn on the patient's right side"),
                           ({"region": "sacrum", "points": square}, "not seen in the front view"),
                           ({"region": "left_arm", "points": square}, "not a single region"),
                           ({"region": "head", "points": "10,10 20,10"}, "3 or more")):
        broken = {"views": {**good["views"], "front": {**good["views"]["front"], "shapes": [shape]}}}
        monkeypatch.setattr(body_outline, "load_yaml", lambda name, data=broken: data)
        body_outline.outline.cache_clear()
        try:
            with pytest.raises(CourseDataError, match=message):
                body_outline.outline()
        finally:
            body_outline.outline.cache_clear()


# --- The anatomy notebook's map --------------------------------------------------------------------------------------

def test_every_drawn_region_of_the_course_appears_in_each_of_its_views_with_data_region():
    views = {view_of(svg): svg for svg in svgs(anatomy_map.body_map_html())}
    assert set(views) == {"front", "back"}
    for view, svg in views.items():
        drawn = {p.get("data-region") for p in svg.iter(f"{SVG}polygon") if p.get("data-region")}
        expected = {key for key, region in SINGLE_REGIONS.items() if view in region.views}
        assert drawn == expected, f"{view}: missing {sorted(expected - drawn)}, extra {sorted(drawn - expected)}"
        for group in svg.iter(f"{SVG}g"):
            if "body-region" in (group.get("class") or ""):
                assert group.get("tabindex") == "0" and group.get("role") == "button" and group.get("aria-pressed")
                assert all(p.get("data-region") == group.get("data-region") for p in group.iter(f"{SVG}polygon"))


def test_sides_are_the_patients_front_right_on_the_viewers_left_and_back_left_on_the_viewers_left():
    for svg in svgs(anatomy_map.body_map_html()):
        view = view_of(svg)
        viewer_left_side = "right" if view == "front" else "left"
        for shape in svg.iter(f"{SVG}polygon"):
            key = shape.get("data-region") or ""
            side = key.partition("_")[0]
            if side in ("left", "right"):
                on_viewer_left = centre_x(shape.get("points")) < body_outline.CENTRE_X
                assert on_viewer_left == (side == viewer_left_side), f"{view}: {key} is on the wrong side"


def test_each_shape_names_its_region_and_muscle_when_pointed_at():
    page = anatomy_map.body_map_html()
    for svg in svgs(page):
        for shape in svg.iter(f"{SVG}polygon"):
            if shape.get("data-region"):
                title = shape.find(f"{SVG}title").text
                assert title.startswith(regions()[shape.get("data-region")].label)
                if shape.get("data-muscle"):
                    assert title.endswith(shape.get("data-muscle"))
    muscles = {p.get("data-muscle") for svg in svgs(page) for p in svg.iter(f"{SVG}polygon")} - {None}
    assert {"pectoralis major", "biceps brachii", "trapezius", "gluteus maximus", "quadriceps", "hamstrings",
            "gastrocnemius"} <= muscles
    assert 'addEventListener("focus"' in page and "map-pointer" in page  # the name shows on keyboard focus too


def test_the_selected_region_starts_pressed_and_the_map_credits_the_outline():
    page = anatomy_map.body_map_html(selected="left_calf")
    pressed = re.findall(r'data-region="([a-z_]+)" tabindex="0" role="button" aria-pressed="true"', page)
    assert pressed == ["left_calf", "left_calf"]  # front and back
    assert "react-body-highlighter 2.0.5 by GV79 (MIT licence)" in page


def test_the_map_colours_reach_3_to_1_where_they_carry_a_shape():
    style = anatomy_map._MAP_STYLE
    edge = re.search(r"\.body-region polygon \{ stroke: (#\w+)", style).group(1)
    muscle = re.search(r"\.muscle \{ fill: (#\w+)", style).group(1)
    skin_part = re.search(r"\.skin-part \{ fill: (#\w+)", style).group(1)
    selected = re.search(r"\.selected polygon \{ fill: (#\w+)", style).group(1)
    for fill in (muscle, skin_part):
        assert contrast(edge, fill) >= 3 and contrast(selected, fill) >= 3
    assert contrast(edge, "#f4e6d8") >= 3 and contrast(edge, "white") >= 3  # the outline on the skin and the page


# --- The planner's plan map ------------------------------------------------------------------------------------------

def shades(page: str) -> dict[tuple[str, str], tuple[str, str | None]]:
    """(view, region) -> (shade, fill) of every region on a plan map."""
    found = {}
    for svg in svgs(page):
        for use in svg.iter(f"{SVG}use"):
            if use.get("data-region"):
                found[(view_of(svg), use.get("data-region"))] = (use.get("data-shade"), use.get("fill"))
    return found


def test_the_plan_map_shades_an_avoided_region_differently_from_a_free_one_and_lists_it_in_words():
    page = plan_map.plan_map_html({"right_thigh": "avoid", "left_axilla": 1, "chest": 2}, session_level=3)
    shaded = shades(page)
    assert shaded[("front", "right_thigh")][0] == "avoid" and shaded[("back", "right_thigh")][0] == "avoid"
    assert shaded[("front", "left_thigh")][0] == "free"
    assert shaded[("front", "right_thigh")][1] != shaded[("front", "left_thigh")][1]
    assert "hatch" in shaded[("front", "right_thigh")][1]  # a pattern, not colour alone
    assert shaded[("front", "left_axilla")][0] == "level_1" and shaded[("front", "chest")][0] == "level_2"
    listed = re.search(r'<ul class="plan-map-list">(.*?)</ul>', page).group(1)
    assert "<strong>Avoid:</strong> right thigh." in listed
    assert "<strong>Level 1 at most:</strong> left axilla (armpit)." in listed
    assert "<strong>Level 2 at most:</strong> chest." in listed
    assert "left thigh" not in listed
    key = html.unescape(re.search(r'<ul class="plan-map-key">(.*?)</ul>', page).group(1))
    assert "Avoid: no massage" in key and "Level 1 at most" in key and "session's level 3" in key


def test_a_limb_group_stands_for_its_regions_and_nothing_is_looser_than_the_session():
    page = plan_map.plan_map_html({"left_leg": 1, "left_calf": "avoid", "neck": 4}, session_level=2)
    shaded = shades(page)
    assert shaded[("back", "left_thigh")][0] == "level_1" and shaded[("front", "left_foot")][0] == "level_1"
    assert shaded[("back", "left_calf")][0] == "avoid"
    assert shaded[("front", "neck")][0] == "free" and "neck" not in re.search(r'plan-map-list">(.*?)</ul>', page)[1]


def test_the_plan_map_shades_step_at_3_to_1_and_the_hatch_shows_on_the_darkest():
    shade = plan_map.SHADES
    assert contrast(shade["level_2"], shade["free"]) >= 3
    assert contrast(shade["level_1"], shade["level_2"]) >= 3
    assert contrast(plan_map.HATCH, shade["avoid"]) >= 3
    assert contrast(plan_map.EDGE, shade["free"]) >= 3 and contrast(plan_map.EDGE, "white") >= 3


def test_every_teaching_chart_plan_in_the_book_has_its_plan_map_listing_the_plans_sites():
    page = case_book_html(CHARTS)
    charts = load_teaching_charts(CHARTS)
    assert page.count('<figure class="plan-map">') == len(charts)
    assert page.count("<defs>") == 1  # the shapes are defined once for the page
    defined = set(re.findall(r' id="([^"]+)"', page))
    assert set(re.findall(r'href="#([^"]+)"', page)) <= defined
    assert set(re.findall(r'url\(#([^)]+)\)', page)) <= defined
    for _, chart in charts:
        plan = plan_session(chart)
        shown = plan_html(plan)
        for region, cap in plan.sites.items():
            listed = re.search(r'plan-map-list">(.*?)</ul>', shown)[1]
            assert regions()[region].label in listed, (chart["title"], region)
            assert f'data-region="{region}" data-shade="{plan_map.shade_of(cap, plan.max_pressure)}"' in shown


@pytest.mark.parametrize("maker", [lambda: anatomy_map.body_map_html(), lambda: plan_map.plan_map_html({"chest": 0}),
                                   lambda: case_book_html(CHARTS)], ids=["body map", "plan map", "case book"])
def test_no_web_address_in_the_maps_but_the_svg_namespace(maker):
    page = maker()
    assert set(re.findall(r"https?://[^\s\"'<>)]+", page)) == {"http://www.w3.org/2000/svg"}
    assert "@import" not in page and "url(http" not in page


def test_the_credits_file_has_the_outline_with_its_author_and_licence():
    credits = (PROJECT_ROOT / "book" / "figures" / "CREDITS.md").read_text()
    row = next(line for line in credits.splitlines() if "react-body-highlighter" in line)
    assert "GV79" in row and "MIT" in row and "2.0.5" in row
