"""Anatomy for the course: the one vocabulary of body regions (and, later, muscles), read from reviewed data."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from .data_files import load_yaml, require

SIDES = ("left", "right")


@dataclass(frozen=True)
class Region:
    key: str  # e.g. "left_forearm"; the key every part of the course uses
    label: str  # e.g. "left forearm"; the words the chapters use
    views: tuple[str, ...]  # "front", "back"
    parts: tuple[str, ...] = ()  # for a limb group: the region keys it covers


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
