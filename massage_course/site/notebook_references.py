"""Citations in the interactive notebooks that read the same in JupyterLab, in JupyterLite and in the book.

The chapters cite with MyST roles (``{footcite:p}``) that only the book renders: JupyterLab and JupyterLite show them
as typed. So the notebooks cite in plain text, "(Walton 2011)", and end with a References cell that lists those
sources in Markdown; labels and list are both written from references.bib by this module. The keys a notebook cites
are kept in that cell's metadata (``massage_course.references``: key -> the label written in the text), so that when
an entry's authors or year change, ``python -m massage_course.site.notebook_references`` rewrites the labels in the
text and the list; ``problems`` (run by tests/test_notebook_text.py) says when that is needed.
"""

from __future__ import annotations

import json
import re
import sys
from functools import lru_cache
from pathlib import Path

from ..paths import PROJECT_ROOT

BIB = PROJECT_ROOT / "references.bib"
NOTEBOOKS = PROJECT_ROOT / "notebooks"
HEADING = "## References"
METADATA = "massage_course"  # the references cell's metadata: {"references": {key: label}}
# What JupyterLab and JupyterLite show as typed: MyST roles ({doc}`...`), directive fences (```{note}) and targets.
MYST_MARKUP = re.compile(r"\{[a-z][\w:-]*\}`|^\s*(```|~~~|:::)\s*\{|^\s*\([\w-]+\)=\s*$", re.M)


@lru_cache(maxsize=4)
def _bibliography(path: Path, mtime: float):
    from pybtex.database import parse_file

    return parse_file(str(path))


def bibliography(path: Path = BIB):
    return _bibliography(path, path.stat().st_mtime)


def _plain(text: str) -> str:
    return re.sub(r"[{}]", "", text).strip()


def author_label(entry) -> str:
    """"Walton", "DerSimonian and Laird", "Boyd et al.", an organisation's name; for an entry without authors, the
    publication (the part of ``howpublished`` before any comment) or the title, as the list shows no editor of a web
    page either."""
    people = entry.persons.get("author", [])
    names = [_plain(" ".join(person.prelast_names + person.last_names)) for person in people]
    if names:
        if len(names) == 1:
            return names[0]
        if len(names) == 2 and names[1] != "others":
            return f"{names[0]} and {names[1]}"
        return f"{names[0]} et al."
    source = _plain(entry.fields.get("howpublished", "")) or _plain(entry.fields.get("title", ""))
    return re.split(r"\s*[(,]", source, maxsplit=1)[0]


def labels(keys, bib=None) -> dict[str, str]:
    """Each key's label, "Author year" ("n.d." without a year); two keys with the same label get 2016a, 2016b (in
    the order of their keys)."""
    bib = bib or bibliography()
    plain = {key: f"{author_label(bib.entries[key])} {bib.entries[key].fields.get('year', 'n.d.')}"
             for key in sorted(set(keys))}
    found = {}
    for key, label in plain.items():
        same = [other for other, text in plain.items() if text == label]
        found[key] = label if len(same) == 1 else label + "abcdefghij"[same.index(key)]
    return found


def _markdown_backend():
    """pybtex's Markdown backend, escaping only what Markdown, MyST and JupyterLab would read as markup (pybtex's own
    escapes every dot and hyphen, which is hard to read in the notebook's source), one line per entry."""
    from pybtex.backends.markdown import Backend

    class Markdown(Backend):
        symbols = {**Backend.symbols, "newblock": " ", "ndash": "\u2013"}

        def format_str(self, text):
            return re.sub(r"([\\`*_\[\]<>${}|])", r"\\\1", text)

        def format_href(self, url, text, external=False):
            url = url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
            return f"[{text}]({url})" if text else ""

    return Markdown()


def reference_list(cited: dict[str, str], bib=None) -> str:
    """The References cell: a heading and one line per source, "**label**: the entry as the book's list gives it"."""
    from pybtex.style.formatting.plain import Style

    bib = bib or bibliography()
    backend = _markdown_backend()
    formatted = {entry.key: entry.text.render(backend)
                 for entry in Style().format_entries(bib.entries[key] for key in cited)}
    lines = [f"- **{cited[key]}**: {formatted[key]}" for key in sorted(cited, key=lambda k: cited[k].casefold())]
    return HEADING + "\n\n" + "\n".join(lines) + "\n"


def _text(cell) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def references_cell(notebook: dict) -> dict | None:
    cells = [cell for cell in notebook["cells"]
             if cell["cell_type"] == "markdown" and "references" in cell.get("metadata", {}).get(METADATA, {})]
    return cells[-1] if cells else None


def cited_keys(path: Path) -> list[str]:
    cell = references_cell(json.loads(path.read_text(encoding="utf-8")))
    return list(cell["metadata"][METADATA]["references"]) if cell else []


def _labelled(label: str) -> re.Pattern:
    return re.compile(rf"(?<![\w-]){re.escape(label)}(?![a-z0-9])")


def problems(path: Path, bib=None) -> list[str]:
    """What is out of date or wrong in a notebook's plain-text citations; empty when all is well."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cell = references_cell(notebook)
    found = []
    text = "\n".join(_text(c) for c in notebook["cells"] if c["cell_type"] == "markdown" and c is not cell)
    if MYST_MARKUP.search(text):
        found.append(f"MyST markup that JupyterLab shows as typed: {MYST_MARKUP.search(text).group(0)!r}")
    if cell is None:  # a notebook that cites nothing
        return found
    written = cell["metadata"][METADATA]["references"]
    bib = bib or bibliography()
    missing = sorted(set(written) - set(bib.entries))
    if missing:
        return found + [f"cites keys not in references.bib: {missing}"]
    current = labels(written, bib)
    if current != written:
        found.append("labels out of date with references.bib: "
                      + ", ".join(f"{written[k]!r} is now {current[k]!r}" for k in written if written[k] != current[k]))
    for key, label in written.items():
        if not _labelled(label).search(text):
            found.append(f"{label!r} ({key}) is listed but cited nowhere in the text")
    if _text(cell) != reference_list(current, bib):
        found.append("the References list is not the one references.bib gives (run python -m "
                     "massage_course.site.notebook_references)")
    return found


def update(path: Path, bib=None) -> bool:
    """Rewrite a notebook's labels and References list from references.bib. Returns whether anything changed."""
    bib = bib or bibliography()
    raw = path.read_text(encoding="utf-8")
    notebook = json.loads(raw)
    cell = references_cell(notebook)
    if cell is None:
        return False
    written = cell["metadata"][METADATA]["references"]
    current = labels(written, bib)
    renamed = {old: current[key] for key, old in written.items() if current[key] != old}
    if renamed:  # in one pass, so that "Boyd 2016" -> "Boyd 2016a" and "Boyd 2016a" -> "Boyd 2016b" never chain
        pattern = re.compile("|".join(_labelled(old).pattern for old in sorted(renamed, key=len, reverse=True)))
        for other in notebook["cells"]:
            if other["cell_type"] == "markdown" and other is not cell:
                other["source"] = pattern.sub(lambda found: renamed[found.group(0)], _text(other))
    cell["metadata"][METADATA]["references"] = current
    cell["source"] = reference_list(current, bib)
    text = json.dumps(notebook, indent=1, ensure_ascii=True) + ("\n" if raw.endswith("\n") else "")
    if text != raw:
        path.write_text(text, encoding="utf-8")
    return text != raw


def main(argv: list[str] | None = None) -> int:
    paths = [Path(p) for p in (argv if argv is not None else sys.argv[1:])] or sorted(NOTEBOOKS.glob("*.ipynb"))
    for path in paths:
        if update(path):
            print(f"updated {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
