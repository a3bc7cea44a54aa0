"""Loading the plain data files (YAML) that an expert reviews, with messages a course author can act on."""

from __future__ import annotations

from importlib import resources
from typing import Any

try:
    import yaml
except ImportError:  # the in-browser Python (JupyterLite) has no PyYAML offline: ruamel.yaml is pure Python
    yaml = None


class CourseDataError(ValueError):
    """A course data file is missing or does not have the shape the course expects."""


def load_yaml(relative_path: str) -> Any:
    """Read ``massage_course/data/<relative_path>`` and return its parsed content."""
    path = resources.files("massage_course") / "data" / relative_path
    if not path.is_file():
        raise CourseDataError(f"Course data file not found: massage_course/data/{relative_path}")
    return parse_yaml(path.read_text(encoding="utf-8"), f"massage_course/data/{relative_path}")


def parse_yaml(text: str, where: str) -> Any:
    if yaml is None:
        return _parse_yaml_in_the_browser(text, where)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CourseDataError(f"{where} is not valid YAML: {error}") from error


def _parse_yaml_in_the_browser(text: str, where: str) -> Any:
    """The same result as PyYAML's safe_load for the course's files (tests/test_lite.py compares every file)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    reader = YAML(typ="safe", pure=True)
    reader.version = (1, 1)  # PyYAML's YAML: "yes", "on" and the like mean what they mean there
    try:
        return reader.load(text)
    except YAMLError as error:
        raise CourseDataError(f"{where} is not valid YAML: {error}") from error


def needs_jupyterlab(page: str, packages: str) -> ImportError:
    """The error a notebook meets in the in-browser Python (JupyterLite) when a package it needs has no browser build
    there: it says what is missing and where the page does work, instead of a bare ModuleNotFoundError."""
    return ImportError(
        f"The {page} needs {packages}, which the in-browser Python (JupyterLite) cannot load without the internet. "
        "Open this notebook in the course's JupyterLab for the live version (see the guide for trainees); "
        "everything on its page in the book works as it is."
    )


def require(condition: bool, where: str, message: str) -> None:
    """Raise a CourseDataError naming the file and the entry when a data check fails."""
    if not condition:
        raise CourseDataError(f"{where}: {message}")
