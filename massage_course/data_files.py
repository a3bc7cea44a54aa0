"""Loading the plain data files (YAML) that an expert reviews, with messages a course author can act on."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml


class CourseDataError(ValueError):
    """A course data file is missing or does not have the shape the course expects."""


def load_yaml(relative_path: str) -> Any:
    """Read ``massage_course/data/<relative_path>`` and return its parsed content."""
    path = resources.files("massage_course") / "data" / relative_path
    if not path.is_file():
        raise CourseDataError(f"Course data file not found: massage_course/data/{relative_path}")
    return parse_yaml(path.read_text(encoding="utf-8"), f"massage_course/data/{relative_path}")


def parse_yaml(text: str, where: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CourseDataError(f"{where} is not valid YAML: {error}") from error


def require(condition: bool, where: str, message: str) -> None:
    """Raise a CourseDataError naming the file and the entry when a data check fails."""
    if not condition:
        raise CourseDataError(f"{where}: {message}")
