"""A Sphinx extension for fixes to the built pages that the theme's templates and CSS cannot make.

- The bibliography's entries carry ``role="doc-biblioentry"`` (from docutils), a role deprecated in DPUB-ARIA 1.1, so
  their list (``role="list"``) has no list items: axe-core reports both. Marking each entry a list item fixes both.
- The Thebe settings script is registered twice (by sphinx-thebe and again through Jupyter Book), and the second copy
  throws "Identifier 'THEBE_JS_URL' has already been declared" on every page: each script is kept once.
- The site's index.html, which sends a visitor to the first chapter, is written by sphinx-external-toc as a bare meta
  refresh: no language, no title, no icon, so the browser asks for /favicon.ico (a 404 in the console whenever it asks
  before the refresh). A complete page is written first; sphinx-external-toc leaves an existing index.html alone. Its
  icon is an empty data URL: a real one would be fetched only to be cut off by the refresh (a failed request).
- A chapter's self-check comes after every citation in the chapter, and each citation is a link: a keyboard user
  pressed Tab about 450 times to reach the one in Precautions. A skip link at the top of the article goes there; like
  the theme's own skip link it shows only when it has the focus.
"""

from __future__ import annotations

import html
from pathlib import Path

REDIRECT_PAGE = """<!DOCTYPE html>
<html lang="{language}">
<head>
<meta charset="utf-8">
<meta http-equiv="Refresh" content="0; url={target}">
<title>{title}</title>
<link rel="icon" href="data:,">
</head>
<body>
<main><p><a href="{target}">Open the course: {title}</a></p></main>
</body>
</html>
"""

DEPRECATED_ENTRY_ROLE = 'role="doc-biblioentry"'


def fix_entry_roles(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if body and DEPRECATED_ENTRY_ROLE in body:
        context["body"] = body.replace(DEPRECATED_ENTRY_ROLE, 'role="listitem"')


def drop_repeated_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", {})
        # the copies differ only in how "no file" is written (None or ""), so compare file names as text
        key = (getattr(script, "filename", None) or "", attributes.get("body"), attributes.get("src"))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


SELF_CHECK_ANCHOR = 'id="check-yourself"'
SKIP_TO_SELF_CHECK = '<a class="skip-to-self-check" href="#check-yourself">Skip to the self-check</a>\n'


def add_skip_to_self_check(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if body and SELF_CHECK_ANCHOR in body:
        context["body"] = SKIP_TO_SELF_CHECK + body


def write_index_redirect(app, exception):
    index = Path(app.outdir) / "index.html"
    if exception is not None or app.builder.format != "html" or app.config.root_doc == "index" or index.exists():
        return
    index.write_text(REDIRECT_PAGE.format(
        language=html.escape(app.config.language or "en"),
        target=html.escape(f"{app.config.root_doc}.html"),
        title=html.escape(app.config.html_title or app.config.project),
    ), encoding="utf-8")


def setup(app):
    app.connect("html-page-context", fix_entry_roles)
    app.connect("html-page-context", drop_repeated_scripts)
    app.connect("html-page-context", add_skip_to_self_check)
    # before sphinx-external-toc's own redirect (priority 500), which then finds the page and keeps it
    app.connect("build-finished", write_index_redirect, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
