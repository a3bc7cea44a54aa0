"""Every page of the built book in a real Chromium, served on 127.0.0.1 as on a hospital network that blocks outside
sites: no console error, no failed request, nothing fetched from outside, no WCAG 2.1 A or AA violation found by
axe-core in the light and the dark theme; every internal link and anchor resolves; every self-check answers a click
and works by keyboard alone, with visible focus and readable colours once answered; every widget renders."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml
from playwright.sync_api import expect

from massage_course.lessons.self_check import load_self_check
from massage_course.paths import BUILD_HTML, PROJECT_ROOT
from massage_course.site import assets

from .conftest import outside

pytestmark = pytest.mark.browser

TOC = yaml.safe_load((PROJECT_ROOT / "_toc.yml").read_text())
TOC_FILES = [TOC["root"]] + [entry["file"] for part in TOC["parts"] for entry in part["chapters"]]
PAGES = ["index.html", "genindex.html", "search.html"] + [f"{name}.html" for name in TOC_FILES]
CHAPTERS = [Path(name).name for name in TOC_FILES
            if (PROJECT_ROOT / "massage_course" / "data" / "self_checks" / f"{Path(name).name}.yaml").exists()]
WIDGET_PAGES = [f"{name}.html" for name in TOC_FILES if name.startswith("notebooks/")]
# Pages with a clickable self-check: every chapter's, the body map's muscle check and the evidence explorer's claims.
QUIZ_PAGES = [f"book/{chapter}.html" for chapter in CHAPTERS] + ["notebooks/anatomy-map.html",
                                                                  "notebooks/evidence-explorer.html"]
MODES = ["light", "dark"]
# Chapters with figures: drawings from book/figures ({figure}) and plots drawn from the course's data at build time
# ({glue:figure}).
FIGURE_PAGES = [f"book/{chapter.stem}.html" for chapter in sorted((PROJECT_ROOT / "book").glob("*.md"))
                if re.search(r"^```\{(glue:)?figure\}", chapter.read_text(encoding="utf-8"), re.M)]
# Folders of the built site that hold no course page: sources, assets, and JupyterLite's own application (tested in
# tests/test_lite.py).
COURSE_PAGES_ONLY = {"_sources", "_static", "lite"}
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


def switch_theme(page, mode: str) -> None:
    """Light or dark, as the theme's own switcher sets it (on <html>), and check that the page really changed."""
    page.evaluate("mode => { document.documentElement.dataset.theme = mode; "
                  "document.documentElement.dataset.mode = mode; }", mode)
    page.wait_for_function("""mode => { const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\\d+/g)
                                         .map(Number); return (r + g + b < 150) === (mode === 'dark'); }""", arg=mode)
    # the theme fades colours over a moment: check them once every transition has ended, not half-way
    page.wait_for_function("document.getAnimations().filter(a => a instanceof CSSTransition)"
                           ".every(a => a.playState !== 'running')")


def run_axe(page, axe_source, context="document"):
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(content=axe_source)
    result = page.evaluate(f"tags => axe.run({context}, {{runOnly: {{type: 'tag', values: tags}}}})", AXE_TAGS)
    violations = [f"{v['id']} ({v['impact']}): {v['help']}; {len(v['nodes'])} element(s), first "
                  f"{v['nodes'][0]['target']}: {v['nodes'][0]['failureSummary']}" for v in result["violations"]]
    return result, violations


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_offline_without_errors_and_passes_axe_in_both_themes(browser, site, axe_source, path):
    context, page = open_page(browser, site, path)
    try:
        found = {}
        for mode in MODES:
            switch_theme(page, mode)
            result, found[mode] = run_axe(page, axe_source)
            assert len(result["passes"]) > 10  # axe really ran its rules on this page
        assert page.problems == []
        assert outside(page.requests, site) == []
        assert found == {mode: [] for mode in MODES}
        # icon glyphs (web-font characters) must not end up in the names a screen reader reads for the controls
        controls = [line for line in page.locator("body").aria_snapshot().splitlines()
                    if re.match(r"\s*- (button|link)", line)]
        assert [line for line in controls if re.search("[\ue000-\uf8ff]", line)] == []
    finally:
        context.close()


FIGURES = """() => [...document.querySelectorAll('main figure')].map(figure => {
    const image = figure.querySelector('img');
    const style = image && getComputedStyle(image);
    return {id: figure.id, alt: image ? image.getAttribute('alt') : null,
            drawn: !!image && image.complete && image.naturalWidth > 0, shown: !!image && image.clientWidth > 0,
            background: style && style.backgroundColor,
            caption: (figure.querySelector('figcaption') || {}).textContent || ''};
})"""


@pytest.mark.parametrize("path", FIGURE_PAGES)
def test_every_figure_is_drawn_named_and_passes_axe_in_both_themes(browser, site, axe_source, path):
    """Issue 19: every figure is an image that loads from the site, with alt text that says what it shows and a
    numbered caption; axe finds nothing wrong with the figures in the light or the dark theme, where the theme sets
    each drawing on a white card so that its dark lines and words stay readable. One page load per page."""
    context, page = open_page(browser, site, path)
    try:
        found = {}
        for mode in MODES:
            switch_theme(page, mode)
            figures = page.evaluate(FIGURES)
            assert figures, f"{path}: no figure in the built page"
            for figure in figures:
                assert figure["drawn"] and figure["shown"], f"{path}: figure {figure['id']} is not drawn"
                assert len((figure["alt"] or "").split()) >= 8, f"{path}: figure {figure['id']} has no real alt text"
                assert re.match(r"\s*Fig\. \d+\.\d+\s+\S", figure["caption"]), f"{path}: {figure['id']} caption"
                if mode == "dark":
                    assert figure["background"] == "rgb(255, 255, 255)", f"{path}: {figure['id']} on a dark page"
            result, found[mode] = run_axe(page, axe_source, "'main figure'")
            assert any(rule["id"] == "image-alt" for rule in result["passes"])
        assert found == {mode: [] for mode in MODES}
        assert page.problems == []
        assert outside(page.requests, site) == []
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


FOCUSED_RADIO = "document.activeElement.matches('.Quiz input[type=radio]')"


FOCUSABLE = "document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]').length"


def tab_until(page, focused: str, limit: int | None = None) -> None:
    """Press Tab until the script ``focused`` is true of the focused element; by default one press per focusable
    element, enough to pass them all (a chapter's citations are links: precautions had 453 before its self-check)."""
    limit = limit if limit is not None else page.evaluate(FOCUSABLE) + 1
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(focused):
            return
    raise AssertionError(f"{focused} not reached with {limit} presses of Tab")


def tab_to_next_quiz_question(page):
    """Press Tab until a self-check answer has the focus; a radio group is one tab stop, entered at its first answer."""
    tab_until(page, FOCUSED_RADIO)


SKIP_LINK_FOCUSED = "document.activeElement.matches('a.skip-to-self-check')"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_a_keyboard_user_skips_from_the_top_of_a_chapter_to_its_self_check(browser, site, chapter):
    """The skip link comes before the chapter's own links, shows when it has the focus, and from it the first answer
    is a few presses away instead of one press per citation (about 450 in Precautions before the link)."""
    context, page = open_page(browser, site, f"book/{chapter}.html")
    try:
        skip = page.locator("a.skip-to-self-check")
        assert skip.bounding_box()["width"] <= 1, "the skip link shows before it has the focus"
        tab_until(page, SKIP_LINK_FOCUSED)
        assert skip.bounding_box()["width"] > 1, "the focused skip link stays out of sight"
        assert page.evaluate("document.querySelector('article a[href]').matches('.skip-to-self-check')"), \
            "a link of the chapter comes before the skip link"
        page.keyboard.press("Enter")
        tab_until(page, FOCUSED_RADIO, limit=5)  # the first answer is right after the self-check heading
        assert page.problems == []
    finally:
        context.close()


@pytest.mark.parametrize("path", QUIZ_PAGES)
def test_every_self_check_works_by_keyboard_alone_with_visible_focus_and_readable_colours(
        browser, site, axe_source, path):
    """Tab to each question, arrow keys to the right answer (each arrow chooses, as in any radio group); the focused
    answer shows an outline. Then the answered quiz, right and wrong answers alike, passes axe's contrast rules in
    both themes."""
    context, page = open_page(browser, site, path)
    try:
        questions = page.locator(".Quiz .MultipleChoiceQn").count()
        assert questions >= 1
        for number in range(questions):
            tab_to_next_quiz_question(page)
            group = page.evaluate_handle("document.activeElement.closest('.MCButton').parentElement")
            right = group.evaluate("g => [...g.children].findIndex(label => label.dataset.correct === 'true')")
            assert page.evaluate("document.activeElement.closest('.MCButton') === document.activeElement"
                                 ".closest('.MCButton').parentElement.children[0]"), "Tab entered a question mid-way"
            outline = page.evaluate("getComputedStyle(document.activeElement.closest('.MCButton')).outlineStyle")
            assert outline != "none", f"question {number + 1}: the focused answer shows no focus outline"
            if right == 0:
                page.keyboard.press("Space")  # focusing a radio does not choose it; Space does
            for _ in range(right):
                page.keyboard.press("ArrowDown")
            expect(page.locator(".Quiz .Feedback").nth(number)).to_have_class(re.compile(r"\bcorrect\b"))
        # leave the last question on a wrong answer, so both colours are checked once the animations end
        page.keyboard.press("ArrowUp" if right > 0 else "ArrowDown")
        page.locator(".Quiz .Feedback.incorrect").last.wait_for(state="visible", timeout=5000)
        page.wait_for_function("document.getAnimations().every(a => a.playState !== 'running')")
        found = {}
        for mode in MODES:
            switch_theme(page, mode)
            result, found[mode] = run_axe(page, axe_source, "'.Quiz'")
            assert any(rule["id"] == "color-contrast" for rule in result["passes"])
        assert found == {mode: [] for mode in MODES}
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
        if COURSE_PAGES_ONLY & set(source.relative_to(BUILD_HTML).parts):
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


class _Head(HTMLParser):
    def __init__(self):
        super().__init__()
        self.language, self.icons, self.in_title, self.title = None, [], False, ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.language = attrs.get("lang")
        elif tag == "link" and "icon" in (attrs.get("rel") or "").split():
            self.icons.append(attrs.get("href"))
        self.in_title = tag == "title"

    def handle_data(self, data):
        if self.in_title:
            self.title += data

    def handle_endtag(self, tag):
        self.in_title = False


def test_every_page_has_a_language_a_title_and_an_icon_that_exists(built_html):
    """A page without an icon makes the browser ask for /favicon.ico, a 404 in the console (the site's index.html,
    the redirect to the first chapter, once did); a page without a language or a title fails WCAG 3.1.1 and 2.4.2."""
    missing = []
    pages = [p for p in sorted(BUILD_HTML.rglob("*.html")) if not COURSE_PAGES_ONLY & set(p.relative_to(BUILD_HTML).parts)]
    for path in pages:
        head = _Head()
        head.feed(path.read_text(encoding="utf-8"))
        name = path.relative_to(BUILD_HTML)
        if not head.language or not head.title.strip():
            missing.append(f"{name}: language {head.language!r}, title {head.title.strip()!r}")
        if not head.icons or not all(icon.startswith("data:") or (path.parent / unquote(urlparse(icon).path)).is_file()
                                     for icon in head.icons):
            missing.append(f"{name}: icons {head.icons}")
    assert "index.html" in {str(p.relative_to(BUILD_HTML)) for p in pages}
    assert missing == []


def test_the_static_planner_shows_the_chart_that_is_chosen(browser, site):
    """Issue 21: in the book, choosing another chart left the first one shown. The views are switched in the page."""
    from massage_course.lessons.session_planner import load_teaching_charts

    titles = [chart["title"] for _, chart in load_teaching_charts(PROJECT_ROOT / "notebooks" / "charts")]
    context, page = open_page(browser, site, "notebooks/session-planner.html")
    try:
        shown = page.locator(".widget-html-content .teaching-chart:visible")
        shown.first.wait_for(state="visible", timeout=10000)
        assert titles[0] in shown.inner_text()
        page.locator(".widget-dropdown select").first.select_option(label=titles[5])
        shown.filter(has_text=titles[5]).wait_for(timeout=5000)
        assert titles[0] not in shown.inner_text()
        assert page.locator(".live-only").first.is_visible()
        assert page.problems == []
    finally:
        context.close()
