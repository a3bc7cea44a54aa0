"""The interactive notebooks read well where trainees open them, JupyterLab and JupyterLite, which show MyST markup
as typed (issue 21): no roles or directives in their text, links that name their target, and plain "(Walton 2011)"
citations with a References list, both written from references.bib (massage_course/site/notebook_references.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from massage_course.paths import PROJECT_ROOT
from massage_course.site import notebook_references

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))
LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def markdown(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_text_has_no_myst_markup_and_its_citations_match_references_bib(path):
    assert "{footcite" not in markdown(path) and "{doc}`" not in markdown(path)
    assert notebook_references.problems(path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_links_between_pages_point_at_files_that_exist(path):
    """[Chapter title](../book/x.md) opens the chapter in the book (MyST resolves it) and the file in JupyterLab."""
    for text, target in LINK.findall(markdown(path)):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        assert (path.parent / target.split("#")[0]).is_file(), f"{path.name}: [{text}]({target})"


def test_plain_citations_follow_references_bib(tmp_path):
    """When an entry's year changes, the update rewrites the label in the text and the list."""
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "id": "a", "metadata": {},
         "source": "Five levels (Walton 2010), not (Walton 20100); pressure (MacDonald 2011)."},
        {"cell_type": "markdown", "id": "b", "source": "", "metadata": {"massage_course": {"references": {
            "walton2011": "Walton 2010", "macdonald2014": "MacDonald 2011"}}}},
    ]}
    path = tmp_path / "page.ipynb"
    path.write_text(json.dumps(notebook, indent=1))
    assert any("'Walton 2010' is now 'Walton 2011'" in problem for problem in notebook_references.problems(path))
    assert notebook_references.update(path)
    assert notebook_references.problems(path) == []
    cells = json.loads(path.read_text())["cells"]
    # both labels rewritten; "Walton 20100" is another label and stays
    assert cells[0]["source"] == "Five levels (Walton 2011), not (Walton 20100); pressure (MacDonald 2014)."
    assert "\n- **Walton 2011**: Tracy Walton. *Medical Conditions" in cells[1]["source"]


def test_a_notebooks_references_list_is_not_counted_as_reading_time():
    """Contact hours count the words a trainee reads; a chapter's reference list is left out, and so is a notebook's."""
    from massage_course.topics.course_hours import _notebook_prose

    for path in NOTEBOOKS:
        cell = notebook_references.references_cell(json.loads(path.read_text(encoding="utf-8")))
        if cell is not None:
            assert cell["source"] not in _notebook_prose(path), path.name
