"""Finding the answer key where it must never be: released quizzes, feedback, the built book.

The answer key of a quiz is whatever nbgrader strips from the release: the solution regions (the instructor's answers
and model answers) and the hidden tests. Leak checks look for those exact lines in the text a trainee would see.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN MARK SCHEME",
           "END MARK SCHEME")
# Shorter lines (``answer = "b"``) are also what a trainee types, so only longer lines identify the key.
MIN_FRAGMENT_LENGTH = 20


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _regions(source: str, begin: str, end: str) -> list[str]:
    lines, inside = [], False
    for line in source.splitlines():
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            lines.append(line)
    return lines


def answer_key_fragments(source_notebook: str | Path) -> list[str]:
    """The lines of a source quiz that make up its answer key, whitespace-normalised."""
    nb = nbformat.read(str(source_notebook), as_version=4)
    lines = []
    for cell in nb.cells:
        lines += _regions(cell.source, "BEGIN SOLUTION", "END SOLUTION")
        lines += _regions(cell.source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
        lines += _regions(cell.source, "BEGIN MARK SCHEME", "END MARK SCHEME")
    return sorted({_normalise(line) for line in lines if len(_normalise(line)) >= MIN_FRAGMENT_LENGTH})


class _TextOnly(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("style",)

    def handle_endtag(self, tag):
        self._skip -= tag in ("style",) and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    """An HTML page's text as a reader (or a highlighted code block's reader) sees it, whitespace-normalised.

    Syntax highlighting splits code into many tags, so a leak check on raw HTML would miss a quoted answer line.
    Scripts stay in: widget state and quiz data live there, and a trainee can read them in the page source.
    """
    parser = _TextOnly()
    parser.feed(page)
    return _normalise(html.unescape("".join(parser.parts)))


def find_leaks(text: str, fragments: list[str]) -> list[str]:
    """Answer-key lines and nbgrader markers found in ``text`` (already made visible text, or notebook source)."""
    flat = _normalise(text)
    return [marker for marker in MARKERS if marker in flat] + [fragment for fragment in fragments if fragment in flat]
