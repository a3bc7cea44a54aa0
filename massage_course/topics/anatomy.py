"""Anatomy for the course: body regions (the course's one vocabulary), muscles, and what the hospital adds to each
region (lines, drains, devices), read from reviewed data in ``data/``. The body map that shows them is
``lessons/anatomy_map.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from .data_files import load_yaml, require

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
    # Regions a source also places the muscle in (the quadratus lumborum in the posterior abdominal wall): never offered
    # as a wrong answer when the map asks where the muscle is.
    also_placed_in: tuple[str, ...] = ()


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


def limb_of(region_key: str) -> str | None:
    """The limb group a region belongs to ("left_calf" -> "left_leg"), or None for the trunk, head and neck."""
    return next((key for key, region in regions().items() if region_key in region.parts), None)


@cache
def neighbours(region_key: str) -> tuple[str, ...]:
    """The regions that border this one (from data/body_regions.yaml): the planner's margin around a lesion."""
    raw = load_yaml("body_regions.yaml")
    where = "massage_course/data/body_regions.yaml, neighbours"
    table = raw.get("neighbours") or {}
    found = regions()
    base = found[region_key].base
    require(base in table, where, f"no neighbours given for {base}")
    side = region_key.partition("_")[0] if region_key != base else None
    keys = []
    for other in table[base]:
        if other in raw["midline"]:
            keys.append(other)
        elif side:
            keys.append(f"{side}_{other}")
        else:
            keys += [f"{s}_{other}" for s in SIDES]
    require(all(k in found for k in keys), where, f"{base} names a region that does not exist")
    return tuple(keys)


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
        require(set(entry.get("also_placed_in") or []) <= known, m_where, "also_placed_in must be course region keys")
        checked = entry.get("checked") or {}
        for field in ("origin", "insertion", "innervation"):
            # A value that no source gave must not be there: only nulls may be unchecked.
            require(entry.get(field) is None or checked.get(field) is True, m_where,
                    f"{field} has a value but is not marked as checked")
        found.append(Muscle(
            name=entry["name"], regions=tuple(entry["regions"]), origin=entry.get("origin"),
            insertion=entry.get("insertion"), action=entry["action"], innervation=entry.get("innervation"),
            checked=checked, notes=entry.get("notes"), source=entry["source"], source_address=entry["source_address"],
            also_placed_in=tuple(entry.get("also_placed_in") or ()),
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


def label(base_key: str) -> str:
    """The words for a side-less region key ("upper_arm" -> "upper arm")."""
    region = regions().get(base_key) or regions()[f"left_{base_key}"]
    return region.label.removeprefix("left ")
