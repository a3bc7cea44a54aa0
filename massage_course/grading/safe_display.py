"""What a trainee handed in, made safe to show an instructor: nbgrader's formgrader renders submissions (and its
feedback pages) with nbconvert's HTML exporter, which passes a notebook's markdown, raw HTML and HTML outputs to the
page unescaped. A trainee's ``<script>``, ``onerror=`` or ``javascript:`` link would run in the instructor's browser,
and from there act as the instructor in their JupyterLab (run code, read the gradebook).

``SanitizeSubmission`` is an nbconvert preprocessor (named for the HTML exporter in assignments/nbgrader_config.py):

- markdown cells are rendered to HTML here and cleaned by bleach (an allow-list of tags, attributes and link schemes),
  then wrapped on one line so that the exporter's own markdown pass leaves them exactly as they are; raw cells are
  cleaned the same way;
- cell outputs keep plain text, images and cleaned HTML or markdown only (no JavaScript, widgets or other kinds), and
  output metadata only a numeric width and height (nbconvert writes those into the page unquoted);
- a cell whose nbgrader grade id is not a plain name loses its nbgrader metadata (the formgrader writes that id into
  the page unescaped).

The formgrader's pages also carry a Content-Security-Policy that forbids inline script (hub/lab_guard.py), so what
slipped past this would still not run.
"""

from __future__ import annotations

import re

import bleach
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from nbconvert.preprocessors.sanitize import SanitizeHTML
from traitlets import default

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
ATTRIBUTES = {"a": ["href", "title"], "img": ["src", "alt", "title", "width", "height"], "th": ["align"],
              "td": ["align"], "code": ["class"], "span": ["class"], "div": ["class"], "pre": ["class"]}
PROTOCOLS = ["http", "https", "mailto"]  # no javascript:, data: or file: links
SAFE_OUTPUTS = {"metadata", "text/plain", "text/latex", "application/json", "image/png", "image/jpeg", "image/svg+xml"}
PLAIN_NAME = re.compile(r"[A-Za-z0-9_.-]+")
SIZE = re.compile(r"[0-9]{1,5}")


def clean(html: str) -> str:
    """Trainee HTML with only the allowed tags, attributes and link schemes; anything else shown as text."""
    return bleach.clean(html, tags=TAGS, attributes=ATTRIBUTES, protocols=PROTOCOLS, strip=False,
                        strip_comments=True)


def markdown_as_safe_html(source: str) -> str:
    """A trainee's markdown rendered and cleaned, as one line in one <div>: markdown passes such a line through
    untouched (an HTML block), so the exporter's second markdown pass cannot change it or make links of its text.
    Line breaks become ``&#10;``, which the browser reads back as line breaks (inside <pre> too)."""
    html = clean(markdown2html_mistune(source))
    return '<div class="trainee-text">' + html.replace("\r", "").replace("\n", "&#10;") + "</div>"


def safe_output_metadata(metadata: dict) -> dict:
    """Only numeric image sizes survive: nbconvert writes width= and height= into the page without quotes."""
    kept = {}
    for kind, values in metadata.items():
        if kind.startswith("image/") and isinstance(values, dict):
            sizes = {k: v for k, v in values.items() if k in ("width", "height") and SIZE.fullmatch(str(v))}
            if sizes:
                kept[kind] = sizes
    return kept


class SanitizeSubmission(SanitizeHTML):
    """nbconvert's SanitizeHTML with the course's allow-list, applied to markdown as rendered (see the module)."""

    @default("tags")
    def _default_tags(self):
        return sorted(TAGS)

    @default("attributes")
    def _default_attributes(self):
        return ATTRIBUTES

    @default("safe_output_keys")
    def _default_safe_output_keys(self):
        return set(SAFE_OUTPUTS)

    def sanitize_html_tags(self, html_str):
        return clean(html_str)

    def preprocess(self, nb, resources):
        # nbgrader's generate_feedback shares the exporter's configuration, but must clear the mark scheme from the
        # markdown first (it runs its own steps after this one). Its page never reaches a trainee (exchange.py).
        if getattr(self.parent, "template_name", "") == "feedback":
            return nb, resources
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id is not None and not PLAIN_NAME.fullmatch(str(grade_id)):
            del cell.metadata["nbgrader"]
        cell.pop("attachments", None)
        if cell.cell_type == "markdown":
            cell.source = markdown_as_safe_html(cell.source)
        elif cell.cell_type == "raw":
            cell.source = clean(cell.source)
        if cell.cell_type == "code":
            cell.outputs = self.sanitize_code_outputs(cell.get("outputs", []))
            for output in cell.outputs:
                if "metadata" in output:
                    output["metadata"] = safe_output_metadata(output["metadata"])
        return cell, resources
