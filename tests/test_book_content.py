"""Content rules every page must keep: citations resolve to checked references, chapters have their parts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from massage_course.cli import PROJECT_ROOT

SHARED_BIB = PROJECT_ROOT.parent / "shared" / "sources" / "verified.bib"
CITE = re.compile(r"\{(?:foot)?cite(?::[a-z]+)?\}`([^`]+)`")
BIB_KEY = re.compile(r"@\w+\{([^,\s]+),")
# Where references.bib differs from the checked entry, the difference and where it was read.
AMENDED = {
    "day1987": (
        "  author = {Day, J. A. and others},\n",
        "first author 'JA Day et al' as cited by Tracy Walton, 'Massage, endorphins and sacred cows' (tracywalton.com); "
        "the bibliography style needs an author",
    ),
}


def toc_pages() -> list[Path]:
    toc = yaml.safe_load((PROJECT_ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    pages = []
    for name in files:
        matches = [p for p in (PROJECT_ROOT / f"{name}.md", PROJECT_ROOT / f"{name}.ipynb") if p.exists()]
        assert len(matches) == 1, f"{name} in _toc.yml has no single source file"
        pages.append(matches[0])
    return pages


def page_text(path: Path) -> str:
    if path.suffix == ".ipynb":
        return "\n".join(cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
                         for cell in json.loads(path.read_text())["cells"])
    return path.read_text()


def cited_keys() -> set[str]:
    return {key.strip() for page in toc_pages() for group in CITE.findall(page_text(page)) for key in group.split(",")}


def bib_entries(path: Path) -> dict[str, str]:
    text = path.read_text()
    starts = [m.start() for m in re.finditer(r"^@", text, flags=re.M)] + [len(text)]
    entries = {}
    for begin, end in zip(starts, starts[1:]):
        entry = text[begin:end].strip()
        entries[BIB_KEY.match(entry).group(1)] = entry
    return entries


def test_every_citation_resolves_and_every_reference_is_cited():
    ours = set(bib_entries(PROJECT_ROOT / "references.bib"))
    cited = cited_keys()
    assert cited, "no citations found: the pattern or the pages are wrong"
    assert cited - ours == set(), "cited but missing from references.bib"
    assert ours - cited == set(), "in references.bib but cited nowhere"


@pytest.mark.skipif(not SHARED_BIB.exists(), reason="../shared/sources/verified.bib is not beside the project")
def test_references_are_copies_of_checked_references():
    checked = bib_entries(SHARED_BIB)
    for key, entry in bib_entries(PROJECT_ROOT / "references.bib").items():
        assert key in checked, f"{key} is not in ../shared/sources/verified.bib"
        if key in AMENDED:
            entry = entry.replace(AMENDED[key][0], "", 1)
        assert entry == checked[key], f"{key} differs from the checked entry"


@pytest.mark.parametrize("page", [p for p in toc_pages() if "book/integrative-medicine" in str(p)
                                  or p.parent.name == "notebooks"], ids=lambda p: p.stem)
def test_lessons_open_with_objectives_and_close_with_a_self_check_and_references(page):
    text = page_text(page)
    assert re.search(r"learning objectives", text, re.I)
    objectives_at = re.search(r"learning objectives", text, re.I).start()
    check_at = re.search(r"^#+ Check yourself", text, re.M | re.I)
    references_at = re.search(r"^#+ References", text, re.M)
    assert check_at and references_at and objectives_at < check_at.start() < references_at.start()
    assert "footbibliography" in text[references_at.start():]


def test_landing_page_says_the_course_does_not_prescribe():
    text = page_text(PROJECT_ROOT / "book" / "intro.md")
    assert "care team" in text and re.search(r"does not prescribe|not prescri", text)
