"""Every entry in references.bib tells a reader who wrote the source, what it is called, when it appeared and where to
find it, and no entry records our own gaps as if they were facts about the source ("title not recorded")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pybtex.database import parse_file

BIB = Path(__file__).resolve().parents[1] / "references.bib"
ENTRIES = parse_file(str(BIB)).entries

# A web page that shows no date is cited with the date it was read, as NLM's Citing Medicine ("[cited ...]") and APA
# ("n.d., retrieved ...") do: `urldate` holds that date (the book shows it as "visited on ...") and `verification`
# says what was read that day ("read 2026-12-07 ..."). Every other source gives its year. No entry is exempt: a
# source whose author, year or address could not be read is replaced by one that could, or its claim is removed.
READ_ON = re.compile(r"\bread (?:on )?(\d{4}-\d{2}-\d{2})\b")


def fields(key: str) -> dict[str, str]:
    return {name.lower(): value.strip() for name, value in ENTRIES[key].fields.items()}


def has_author(key: str) -> bool:
    persons = ENTRIES[key].persons
    return bool(persons.get("author") or persons.get("editor"))


def has_year(key: str) -> bool:
    entry, f = ENTRIES[key], fields(key)
    read_on = READ_ON.search(f.get("verification", ""))
    # The reader sees the date it was read ("visited on ..."), and `urldate` says the same as the note.
    return bool(f.get("year")) or (entry.type == "misc" and bool(f.get("url")) and bool(read_on)
                                   and f.get("urldate") == read_on.group(1))


def has_link(key: str) -> bool:
    entry, f = ENTRIES[key], fields(key)
    return bool(f.get("doi") or f.get("url") or (entry.type == "book" and f.get("publisher")))


@pytest.mark.parametrize("key", sorted(ENTRIES))
def test_every_reference_names_an_author_a_title_a_year_and_where_to_find_it(key):
    entry, f = ENTRIES[key], fields(key)
    missing = []
    if not has_author(key):
        missing.append("author (or an organisation in double braces, or an editor)")
    if not f.get("title"):
        missing.append("title")
    if not has_year(key):
        missing.append("year (or, for an undated web page, `urldate` and the same date read in `verification`)")
    if not has_link(key):
        missing.append("doi or url (or, for a book, publisher)")
    if entry.type == "article" and not f.get("journal"):
        missing.append("journal")
    assert not missing, f"{key} lacks: {', '.join(missing)}"


def test_no_reference_says_that_something_was_not_recorded():
    """A note describes the source; what we failed to write down belongs in `unconfirmed`, not in the title or note."""
    offenders = [
        key for key in ENTRIES
        if any(re.search(r"not recorded", fields(key).get(name, ""), re.I) for name in ("title", "note"))
    ]
    assert offenders == []


# How the course's authors found or checked a source (the seed list, the fact sheets, the search tool's stored copies)
# is recorded in `verification`; the fields the book's reference lists show a reader describe the source itself.
SHOWN = ("title", "howpublished", "note")
AUTHORING = re.compile(r"\bseed\b|fact sheet|this course|the course's|search tool|\bstored\b|chapter author", re.I)


def test_what_a_reader_sees_of_a_reference_holds_no_authoring_note():
    offenders = {f"{key}.{name}": fields(key)[name] for key in ENTRIES for name in SHOWN
                 if AUTHORING.search(fields(key).get(name, ""))}
    assert offenders == {}, "move these to `verification` (or say what the page shows, as a reader would)"


def test_a_percent_sign_in_what_a_reader_sees_is_escaped():
    """An unescaped % starts a LaTeX comment: the book's list dropped the rest of the note ("can fall by 25-30.")."""
    offenders = [f"{key}.{name}" for key in ENTRIES for name in SHOWN if re.search(r"(?<!\\)%", fields(key).get(name, ""))]
    assert offenders == []


def test_what_a_reader_sees_holds_no_latex_command_the_book_prints_literally():
    """The book's bibliography printed '\\emph C. difficile': its styles render accents ({\\c{c}}), the section sign
    (\\S) and escaped symbols, not formatting commands, which become literal text."""
    offenders = {f"{key}.{name}": fields(key)[name] for key in ENTRIES for name in (*SHOWN, "journal", "booktitle")
                 if re.search(r"\\[A-Za-z]{2,}", fields(key).get(name, ""))}
    assert offenders == {}
