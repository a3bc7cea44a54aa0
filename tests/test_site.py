"""Every page of the built book in a real Chromium, served on 127.0.0.1 as on a hospital network that blocks outside
sites: no console error, no failed request, nothing fetched from outside, no WCAG 2.1 A or AA violation found by
axe-core; every internal link and anchor resolves; every self-check answers a click; every widget renders."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml

from massage_course import assets
from massage_course.cli import BUILD_HTML, PROJECT_ROOT
from massage_course.self_check import load_self_check

from .conftest import outside

pytestmark = pytest.mark.browser

TOC = yaml.safe_load((PROJECT_ROOT / "_toc.yml").read_text())
TOC_FILES = [TOC["root"]] + [entry["file"] for part in TOC["parts"] for entry in part["chapters"]]
PAGES = ["index.html", "genindex.html", "search.html"] + [f"{name}.html" for name in TOC_FILES]
CHAPTERS = [Path(name).name for name in TOC_FILES
            if (PROJECT_ROOT / "massage_course" / "data" / "self_checks" / f"{Path(name).name}.yaml").exists()]
WIDGET_PAGES = [f"{name}.html" for name in TOC_FILES if name.startswith("notebooks/")]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core from the npm registry, pinned and checked like the site's own scripts (tests/_vendor, not committed)."""
    assets.fetch_vendor_assets(vendor_dir=assets.TEST_VENDOR_DIR, assets=assets.TEST_ASSETS)
    return (assets.TEST_VENDOR_DIR / "axe-core" / "axe.min.js").read_text()


def open_page(browser, site, path):
    context = browser.new_context()
    page = context.new_page()
    page.problems, page.requests = [], []
    page.on("console", lambda m: page.problems.append(f"console error: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda error: page.problems.append(f"script error: {error}"))
    page.on("requestfailed", lambda request: page.problems.append(f"request failed: {request.url}"))
    page.on("response", lambda r: page.problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.on("request", lambda request: page.requests.append(request.url))
    page.goto(f"{site}/{path}")
    page.wait_for_load_state("networkidle")
    return context, page


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_offline_without_errors_and_passes_axe(browser, site, axe_source, path):
    context, page = open_page(browser, site, path)
    try:
        page.add_script_tag(content=axe_source)
        result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
        violations = [f"{v['id']} ({v['impact']}): {v['help']}; {len(v['nodes'])} element(s), first "
                      f"{v['nodes'][0]['target']}" for v in result["violations"]]
        assert page.problems == []
        assert outside(page.requests, site) == []
        assert violations == []
        assert len(result["passes"]) > 10  # axe really ran its rules on this page
    finally:
        context.close()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_self_check_question_answers_a_click(browser, site, chapter):
    context, page = open_page(browser, site, f"book/{chapter}.html")
    try:
        for question in load_self_check(chapter)["questions"]:
            right = next(option for option in question["options"] if option["correct"])
            block = page.locator(".Quiz", has=page.locator(".MultipleChoiceQn", has_text=question["question"][:60]))
            block.locator("label.MCButton", has_text=right["text"]).first.click()
            block.locator(".Feedback.correct").wait_for(state="visible", timeout=5000)
        assert page.problems == []
    finally:
        context.close()


@pytest.mark.parametrize("path", WIDGET_PAGES)
def test_every_widget_renders_in_the_static_page(browser, site, path):
    context, page = open_page(browser, site, path)
    try:
        embedded = page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
        page.locator(".jupyter-widgets").first.wait_for(state="visible", timeout=10000)
        rendered = page.locator(".widget-subarea > .jupyter-widgets, .jupyter-widgets-view").count()
        assert embedded >= 1 and rendered >= embedded, (embedded, rendered)
        assert "Error displaying widget" not in page.content()
        assert page.problems == []
    finally:
        context.close()


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def test_every_internal_link_and_anchor_resolves(built_html):
    parsed = {}

    def page(path: Path) -> _Anchors:
        if path not in parsed:
            parsed[path] = _Anchors()
            parsed[path].feed(path.read_text(encoding="utf-8"))
        return parsed[path]

    broken, checked = [], 0
    for source in sorted(BUILD_HTML.rglob("*.html")):
        if "_sources" in source.parts or "_static" in source.parts:
            continue
        for href in page(source).links:
            url = urlparse(href)
            if url.scheme or href.startswith(("mailto:", "//")):
                continue  # links to the sources' own sites: not followed offline
            target = source if not url.path else (source.parent / unquote(url.path)).resolve()
            checked += 1
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{source.relative_to(BUILD_HTML)}: {href} (no such file)")
            elif url.fragment and target.suffix == ".html" and unquote(url.fragment) not in page(target).ids:
                broken.append(f"{source.relative_to(BUILD_HTML)}: {href} (no such anchor)")
    assert checked > 500
    assert broken == []
