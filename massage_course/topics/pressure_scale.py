"""The Walton pressure scale: its five levels, read from reviewed data (``data/pressure_scale.yaml``). The cards the
pressure-scale notebook shows are ``lessons/pressure_scale_cards.py``."""

from __future__ import annotations

from dataclasses import dataclass

from .data_files import load_yaml, require

DATA_FILE = "pressure_scale.yaml"


@dataclass(frozen=True)
class PressureLevel:
    level: int
    name: str
    meaning: str
    maximum_for: str | None
    mark: str


@dataclass(frozen=True)
class PressureScale:
    source: str
    credit: str
    meaning_source_note: str
    levels: tuple[PressureLevel, ...]


def load_pressure_scale() -> PressureScale:
    """Read and check the pressure scale: exactly levels 1 to 5, in order, each with a name and a meaning."""
    raw = load_yaml(DATA_FILE)
    where = f"massage_course/data/{DATA_FILE}"
    require(isinstance(raw, dict), where, "expected a mapping at the top level")
    for key in ("source", "credit", "meaning_source_note", "levels"):
        require(bool(raw.get(key)), where, f"'{key}' is missing")
    levels = []
    for position, entry in enumerate(raw["levels"], start=1):
        entry_where = f"{where}, level entry {position}"
        require(entry.get("level") == position, entry_where, f"levels must run 1 to 5 in order; found {entry.get('level')!r}")
        require(bool(entry.get("name")) and bool(entry.get("meaning")), entry_where, "needs a name and a meaning")
        require(entry.get("mark") in ("V", "V2"), entry_where, "mark must be V or V2 (U facts are not taught)")
        levels.append(
            PressureLevel(
                level=entry["level"],
                name=entry["name"],
                meaning=entry["meaning"],
                maximum_for=entry.get("maximum_for"),
                mark=entry["mark"],
            )
        )
    require(len(levels) == 5, where, f"the scale has five levels; found {len(levels)}")
    return PressureScale(raw["source"], raw["credit"], raw["meaning_source_note"], tuple(levels))
