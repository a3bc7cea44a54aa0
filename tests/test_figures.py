"""Figures in the book: each one has alt text, a caption and a credited, light, offline file, and each file is used."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from massage_course.paths import PROJECT_ROOT

BOOK = PROJECT_ROOT / "book"
FIGURES = BOOK / "figures"
CREDITS = FIGURES / "CREDITS.md"
ALLOWED_LICENCES = ("CC0", "CC BY", "MIT")
MAX_BYTES = 100 * 1024
FIGURE = re.compile(r"^```\{figure\}\s+(?P<path>\S+)\n(?P<body>.*?)^```", re.S | re.M)
SVG_NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def figure_directives() -> list[tuple[Path, str, str, str]]:
    """(chapter, figure path as written, options, caption) for every figure directive in the book."""
    found = []
    for chapter in sorted(BOOK.glob("*.md")):
        for match in FIGURE.finditer(chapter.read_text()):
            body = match.group("body")
            options = "\n".join(line for line in body.splitlines() if line.startswith(":"))
            caption = "\n".join(line for line in body.splitlines() if not line.startswith(":")).strip()
            found.append((chapter, match.group("path"), options, caption))
    return found


def credits_rows() -> dict[str, str]:
    rows = {}
    for line in CREDITS.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0].endswith((".svg", ".png", ".jpg", ".webp")):
            rows[cells[0]] = line
    return rows


DIRECTIVES = figure_directives()
IDS = [f"{chapter.stem}:{Path(path).name}" for chapter, path, _, _ in DIRECTIVES]


def test_the_book_has_figures_to_check():
    assert DIRECTIVES, "no {figure} directive found in book/*.md"


@pytest.mark.parametrize("chapter,path,options,caption", DIRECTIVES, ids=IDS)
def test_every_figure_has_alt_text_of_at_least_eight_words(chapter, path, options, caption):
    alt = re.search(r"^:alt:\s*(.+)$", options, re.M)
    assert alt, f"{chapter.name}: {path} has no :alt:"
    assert len(alt.group(1).split()) >= 8, f"{chapter.name}: the alt text of {path} is shorter than 8 words"


@pytest.mark.parametrize("chapter,path,options,caption", DIRECTIVES, ids=IDS)
def test_every_figure_has_a_name_and_a_caption(chapter, path, options, caption):
    assert re.search(r"^:name:\s*\S+", options, re.M), f"{chapter.name}: {path} has no :name:"
    assert len(caption.split()) >= 5, f"{chapter.name}: {path} has no caption"


@pytest.mark.parametrize("chapter,path,options,caption", DIRECTIVES, ids=IDS)
def test_every_figure_file_exists_in_book_figures_and_is_under_100_kb(chapter, path, options, caption):
    file = (chapter.parent / path).resolve()
    assert file.parent == FIGURES.resolve(), f"{chapter.name}: {path} is not in book/figures/"
    assert file.is_file(), f"{chapter.name}: {path} does not exist"
    assert file.stat().st_size < MAX_BYTES, f"{path} is {file.stat().st_size} bytes, over 100 KB"


@pytest.mark.parametrize("chapter,path,options,caption", DIRECTIVES, ids=IDS)
def test_every_figure_has_a_credits_entry_with_an_allowed_licence(chapter, path, options, caption):
    row = credits_rows().get(Path(path).name)
    assert row, f"{Path(path).name} has no row in book/figures/CREDITS.md"
    assert any(licence in row for licence in ALLOWED_LICENCES), f"{Path(path).name}: licence not CC0, CC BY or MIT"
    assert not re.search(r"\b(NC|ND)\b|NonCommercial|NoDerivatives", row), f"{Path(path).name}: NC/ND is not allowed"


SVG_FILES = sorted(FIGURES.glob("*.svg"))


@pytest.mark.parametrize("svg", SVG_FILES, ids=[f.name for f in SVG_FILES])
def test_every_svg_has_a_title_and_a_description(svg):
    text = svg.read_text()
    assert re.search(r"<title[^>]*>\s*\S", text), f"{svg.name} has no <title>"
    assert re.search(r"<desc[^>]*>\s*\S", text), f"{svg.name} has no <desc>"


@pytest.mark.parametrize("svg", SVG_FILES, ids=[f.name for f in SVG_FILES])
def test_every_svg_stays_offline_with_no_web_address_but_its_namespace(svg):
    text = svg.read_text()
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", text))
    assert urls <= SVG_NAMESPACES, f"{svg.name} refers to {sorted(urls - SVG_NAMESPACES)}"
    assert "@import" not in text and "url(http" not in text, f"{svg.name} loads something from outside"


def test_every_figure_file_is_used_by_some_chapter():
    used = {(chapter.parent / path).resolve() for chapter, path, _, _ in DIRECTIVES}
    files = {f.resolve() for f in FIGURES.iterdir() if f.suffix in {".svg", ".png", ".jpg", ".webp"}}
    assert files - used == set(), f"not used by any chapter: {sorted(f.name for f in files - used)}"


def test_every_credits_entry_names_a_file_that_exists():
    missing = [name for name in credits_rows() if not (FIGURES / name).is_file()]
    assert not missing, f"CREDITS.md lists files that do not exist: {missing}"


def test_the_book_has_at_least_thirty_figures_and_every_numbered_chapter_has_one():
    from massage_course.grading.quiz_bank import chapters

    assert len({Path(path).name for _, path, _, _ in DIRECTIVES}) >= 30
    with_figure = {chapter.stem for chapter, _, _, _ in DIRECTIVES}
    assert set(chapters()) - with_figure == set(), "numbered chapters without a figure"
