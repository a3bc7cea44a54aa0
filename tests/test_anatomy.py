"""Anatomy: the one vocabulary of body regions, the muscle and hospital-site data, the body map and its explorer."""

from __future__ import annotations

import re

import pytest

from massage_course.lessons import anatomy_map
from massage_course.paths import PROJECT_ROOT
from massage_course.topics import anatomy
from massage_course.topics.anatomy import base_region_keys, hospital_sites, muscles, regions
from massage_course.topics.data_files import CourseDataError

from .conftest import linked_in_browser

REQUIRED_MIDLINE = ["head", "face", "neck", "chest", "abdomen", "upper_back", "lower_back", "sacrum"]
REQUIRED_SIDED = ["shoulder", "upper_arm", "forearm", "hand", "axilla", "hip", "groin", "thigh", "calf", "foot"]
MUSCLE_FIELDS = ("name", "regions", "origin", "insertion", "action", "innervation", "source")


def test_every_required_region_exists_on_both_sides():
    keys = set(regions())
    assert set(REQUIRED_MIDLINE) <= keys
    for side in ("left", "right"):
        assert {f"{side}_{name}" for name in REQUIRED_SIDED} <= keys
        assert {f"{side}_arm", f"{side}_leg"} <= keys


def test_limb_groups_are_made_of_existing_regions_of_the_same_side():
    all_regions = regions()
    for key in ("left_arm", "right_leg"):
        group = all_regions[key]
        assert group.parts and all(part in all_regions and part.startswith(key.split("_")[0]) for part in group.parts)
    assert all_regions["right_calf"].label == "right calf"


def test_at_least_30_muscles_with_the_fields_the_course_promises():
    records = muscles()
    assert len(records) >= 30
    for muscle in records:
        for field in MUSCLE_FIELDS:
            assert hasattr(muscle, field)
        assert muscle.regions and set(muscle.regions) <= base_region_keys(), muscle.name
        assert muscle.source == "openstax_ap2e" and muscle.source_address.startswith("https://github.com/openstax/")


def test_muscle_facts_match_the_checked_textbook_facts():
    # Spot checks against ../shared/sources/muscles-openstax.csv: nerves the textbook names, and nothing invented.
    by_name = {m.name: m for m in muscles()}
    assert "accessory" in by_name["trapezius"].innervation
    assert "phrenic" in by_name["diaphragm"].innervation
    assert "trigeminal" in by_name["masseter"].innervation
    assert by_name["deltoid"].innervation is None and by_name["deltoid"].checked.get("innervation") is not True
    assert by_name["quadratus lumborum"].origin is None  # the textbook's cell repeats the row above it
    assert "T2" in by_name["rhomboid major"].origin and "T5" in by_name["rhomboid major"].origin


def test_a_muscle_value_not_marked_as_checked_is_refused(monkeypatch):
    bad = {"muscles": [{"name": "x", "regions": ["neck"], "action": "a", "origin": "invented", "checked": {},
                        "source": "openstax_ap2e", "source_address": "https://github.com/openstax/x"}]}
    monkeypatch.setattr(anatomy, "load_yaml", lambda name: bad)
    anatomy.muscles.cache_clear()
    try:
        with pytest.raises(CourseDataError, match="origin has a value but is not marked as checked"):
            anatomy.muscles()
    finally:
        anatomy.muscles.cache_clear()


def test_hospital_sites_name_existing_regions_and_sources_the_book_cites():
    bib = (PROJECT_ROOT / "references.bib").read_text()
    notebook = (PROJECT_ROOT / "notebooks" / "anatomy-map.ipynb").read_text()
    for site in hospital_sites():
        assert set(site.regions) <= base_region_keys(), site.what
        for key in site.sources:
            assert f"{{{key}," in bib, f"{site.what}: {key} is not in references.bib"
            assert key in notebook, f"{site.what}: the anatomy page does not cite {key}"


def test_every_region_on_the_map_is_keyboard_reachable_and_has_a_panel():
    page = anatomy_map.body_map_html(selected="chest")
    drawn = [k for k, r in regions().items() if not r.parts]
    for key in drawn:
        shapes = re.findall(rf'<\w+ [^>]*data-region="{key}" tabindex="0" role="button"[^>]*aria-label="[^"]+"', page)
        assert shapes, f"{key} is not on the map or not reachable by keyboard"
        assert f'<div class="region-panel" data-region="{key}"' in page.replace(" hidden", "")
    # Only the selected region's panel is visible at first.
    assert page.count('class="region-panel" hidden') == len(drawn) - 1


def test_map_panel_shows_muscles_and_hospital_additions():
    panel = anatomy_map.region_panel_html("right_upper_arm")
    assert "Biceps brachii" in panel and "PICC line" in panel
    assert "University of Utah Health" in panel


def test_region_explorer_links_the_list_to_the_panels_in_the_browser():
    import ipywidgets as widgets

    box = anatomy_map.region_explorer(selected="left_axilla")
    picker, panels = box.children
    assert isinstance(picker, widgets.Dropdown) and isinstance(panels, widgets.Stack)
    assert len(picker.options) == len(panels.children)
    assert picker.value == "left_axilla" and panels.selected_index == picker.index
    assert "Lymph nodes" in panels.children[panels.selected_index].value
    assert linked_in_browser((picker, "index"), (panels, "selected_index"))


def test_muscle_self_check_is_made_from_the_data_with_one_right_answer():
    questions = anatomy_map.muscle_self_check()
    assert len(questions) == 6
    names = {m.name.capitalize() for m in muscles()}
    for question in questions:
        assert sum(a["correct"] for a in question["answers"]) == 1
        right = next(a for a in question["answers"] if a["correct"])
        assert right["answer"] in names or right["answer"].lower() in {anatomy.label(k) for k in base_region_keys()}
    assert questions == anatomy_map.muscle_self_check()  # the same at every build


def test_the_map_never_marks_wrong_a_region_a_source_also_places_the_muscle_in():
    """The textbook puts the quadratus lumborum in the posterior abdominal wall; the map draws it in the lower back.
    So 'Abdomen' is never offered as a wrong answer for it (two answers would be defensible)."""
    ambiguous = {m.name: {anatomy.label(r).capitalize() for r in m.also_placed_in} for m in muscles() if m.also_placed_in}
    assert "quadratus lumborum" in ambiguous
    asked = 0
    for seed in range(60):
        for question in anatomy_map.muscle_self_check(count=len(muscles()), seed=seed):
            for name, regions in ambiguous.items():
                if question["question"].endswith(f"find the {name}?"):
                    asked += 1
                    assert not regions & {a["answer"] for a in question["answers"]}, question
    assert asked > 0
