"""The course's contact hours, by a stated method the certificate and the trainee guide both show.

Method: the words a trainee must read (the numbered chapters and the interactive notebooks' text, as listed in
_toc.yml) divided by the average silent reading rate of adults for English non-fiction, 238 words per minute
(Brysbaert 2019, a meta-analysis of 190 studies: references.bib ``brysbaert2019``), rounded down to a quarter hour.
Time spent using the notebooks, thinking about the self-checks and taking the quizzes is not counted, so the figure
errs low, never high: a certificate must not claim more than the course can show.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

WORDS_PER_MINUTE = 238  # brysbaert2019: adults, silent reading, English non-fiction
METHOD = ("reading time of the chapters and the interactive notebooks at 238 words per minute (the average adult "
          "silent reading rate for non-fiction, Brysbaert 2019), rounded down to a quarter hour; time using the "
          "notebooks and taking the quizzes is not counted")

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)  # code cells, figure and admonition options, citations blocks
_MARKUP = re.compile(r"\{[a-z-]+\}`([^`<]*)(?:<[^>]*>)?`|\[([^\]]*)\]\([^)]*\)|<[^>]+>|^:[a-z-]+:.*$", re.M)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’.-]*")


def _readable(text: str) -> str:
    """The prose of a MyST page, without its front matter, code, directive options and link targets."""
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
    text = _FENCE.sub(lambda m: "" if m.group(0).startswith("```{code-cell") or "footbibliography" in m.group(0)
                      else m.group(0), text)
    return _MARKUP.sub(lambda m: m.group(1) or m.group(2) or "", text)


def _notebook_prose(path: Path) -> str:
    """A notebook's markdown, without its References list (marked in the cell's metadata by
    site/notebook_references.py), as a chapter's list is left out with its footbibliography block."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                     for c in cells if c["cell_type"] == "markdown"
                     and "references" not in c.get("metadata", {}).get("massage_course", {}))


def course_pages(project: Path) -> list[Path]:
    """The numbered chapters and the interactive notebooks, from _toc.yml (the guides and back matter are not
    course content)."""
    toc = (project / "_toc.yml").read_text(encoding="utf-8")
    files = re.findall(r"^\s*- file:\s*((?:book|notebooks)/[\w-]+)\s*$", toc, re.M)
    pages = []
    for name in files:
        for suffix in (".md", ".ipynb"):
            path = project / f"{name}{suffix}"
            if path.is_file() and not name.endswith(("-guide", "glossary", "bibliography")) and name != "book/intro":
                pages.append(path)
    return pages


@dataclass(frozen=True)
class ContactHours:
    words: int
    minutes: float
    hours: float  # rounded down to a quarter hour

    def sentence(self) -> str:
        return (f"{self.hours:g} contact hours: {self.words:,} words of chapters and notebooks, read at "
                f"{WORDS_PER_MINUTE} words per minute, take about {self.minutes:.0f} minutes.")


def contact_hours(project: Path) -> ContactHours:
    words = 0
    for page in course_pages(project):
        text = _notebook_prose(page) if page.suffix == ".ipynb" else _readable(page.read_text(encoding="utf-8"))
        words += len(_WORD.findall(text))
    minutes = words / WORDS_PER_MINUTE
    return ContactHours(words, minutes, math.floor(minutes / 15) / 4)
