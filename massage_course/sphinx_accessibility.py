"""A Sphinx extension for fixes to the built pages that the theme's templates and CSS cannot make.

- The bibliography's entries carry ``role="doc-biblioentry"`` (from docutils), a role deprecated in DPUB-ARIA 1.1, so
  their list (``role="list"``) has no list items: axe-core reports both. Marking each entry a list item fixes both.
- The Thebe settings script is registered twice (by sphinx-thebe and again through Jupyter Book), and the second copy
  throws "Identifier 'THEBE_JS_URL' has already been declared" on every page: each script is kept once.
"""

from __future__ import annotations

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


def setup(app):
    app.connect("html-page-context", fix_entry_roles)
    app.connect("html-page-context", drop_repeated_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
