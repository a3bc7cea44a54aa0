"""The one vocabulary of body regions."""

from massage_course.anatomy import regions

REQUIRED_MIDLINE = ["head", "face", "neck", "chest", "abdomen", "upper_back", "lower_back", "sacrum"]
REQUIRED_SIDED = ["shoulder", "upper_arm", "forearm", "hand", "axilla", "hip", "groin", "thigh", "calf", "foot"]


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
