"""A Sphinx extension that puts the course's JupyterLite in the built book and links each interactive page to it.

- Before the build: Pyodide, the pinned wheels and a wheel of this package are put where the JupyterLite build finds
  them (massage_course/site/lite.py); jupyterlite-sphinx then builds JupyterLite into ``lite/`` of the site.
- jupyterlite-sphinx adds a Google Fonts stylesheet to every page, for a font the course never uses: a request
  outside the site, which hospital networks block. It is dropped.
- Each page built from a notebook in notebooks/ gets, under its title, a link that opens that notebook in
  JupyterLite; a page whose live part needs a package the browser cannot load offline says so there.
"""

from __future__ import annotations

import html
from pathlib import PurePosixPath

# What each notebook cannot do in the in-browser Python, offline (the package raises the same message on import).
NEEDS_JUPYTERLAB = {
    "notebooks/session-planner": "jsonschema (its compiled part has no browser build)",
    "notebooks/evidence-explorer": "numpy and matplotlib (no browser build that works offline)",
}


def prepare_lite(app):
    if app.builder.format == "html":
        from .lite import prepare

        prepare()


def drop_outside_stylesheets(app, pagename, templatename, context, doctree):
    css = context.get("css_files")
    if css:
        context["css_files"] = [f for f in css if not str(getattr(f, "filename", f)).startswith(("http:", "https:"))]


def launch_box(pagename: str) -> str:
    notebook = PurePosixPath(pagename).name + ".ipynb"
    link = f'<a href="../lite/notebooks/index.html?path={html.escape(notebook)}">open this page as a live notebook</a>'
    text = (f"<p><strong>Run it yourself:</strong> {link} in your browser. JupyterLite runs Python inside the page: "
            "nothing to install, and nothing leaves this site. The first start takes a moment.</p>")
    if pagename in NEEDS_JUPYTERLAB:
        text += (f"<p>Its live part needs {html.escape(NEEDS_JUPYTERLAB[pagename])}, which the in-browser Python cannot "
                 "load without the internet: there its code stops with a message saying so. For the live version use "
                 "the course's JupyterLab; everything on this page works here as it is.</p>")
    return f'<div class="admonition tip lite-launch"><p class="admonition-title">In your browser</p>{text}</div>'


def add_launch_box(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if not body or not pagename.startswith("notebooks/"):
        return
    title_end = body.find("</h1>")
    if title_end != -1:
        cut = title_end + len("</h1>")
        context["body"] = body[:cut] + launch_box(pagename) + body[cut:]


def setup(app):
    app.connect("builder-inited", prepare_lite)
    app.connect("html-page-context", drop_outside_stylesheets)
    app.connect("html-page-context", add_launch_box)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
