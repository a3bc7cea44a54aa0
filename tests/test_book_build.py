"""The book builds strictly (warnings are errors, every notebook executed) and carries no answer key."""

from __future__ import annotations

import re
from pathlib import Path

from massage_course.grading.answer_key import answer_key_fragments, find_leaks, visible_text
from massage_course.paths import PROJECT_ROOT


def test_book_builds_strictly(strict_build):
    assert strict_build.returncode == 0, strict_build.stdout[-4000:] + strict_build.stderr[-4000:]
    assert "build succeeded" in strict_build.stdout
    # Sphinx warnings (not the kernel's own log lines) would have failed the build under -W; none may appear.
    assert "WARNING:" not in strict_build.stdout + strict_build.stderr


def test_every_notebook_was_executed_at_build(built_html):
    page = (built_html / "notebooks" / "pressure-scale.html").read_text()
    # The widget's saved state is written only when the notebook ran.
    assert "application/vnd.jupyter.widget-state+json" in page
    assert "Level 4 of 5: Deep pressure" in page


def test_built_book_loads_scripts_and_styles_only_from_itself(built_html):
    # Links to sources (DOIs) are fine; what a page loads by itself must come from the site.
    loads = re.compile(r"<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)=[\"']((?:https?:)?//[^\"']+)", re.I)
    for page in built_html.rglob("*.html"):
        assert loads.findall(page.read_text()) == [], page.relative_to(built_html)


def test_built_book_holds_no_answer_key(built_html):
    key = [line for source in (PROJECT_ROOT / "assignments" / "source").rglob("*.ipynb")
           for line in answer_key_fragments(source)]
    assert key
    for page in built_html.rglob("*.html"):
        assert find_leaks(visible_text(page.read_text()), key) == [], page
    assert not any(Path(p).suffix == ".ipynb" and "assignments" in p.parts for p in built_html.rglob("*"))


def test_static_planner_page_shows_every_chart_with_its_plan_and_reasons(built_html):
    from massage_course.lessons.session_planner import load_teaching_charts

    page = (built_html / "notebooks" / "session-planner.html").read_text()
    for _, chart in load_teaching_charts(PROJECT_ROOT / "notebooks" / "charts"):
        assert chart["title"] in page.replace("&#x27;", "'")
    assert page.count("The planner&#x27;s plan") + page.count("The planner's plan") >= 30
    assert "msu_cancerpain" in page and "Postpone: do not start" in page and "rule-table" in page


def test_every_image_in_the_built_book_has_alt_text(built_html):
    for page in built_html.rglob("*.html"):
        for tag in re.findall(r"<img\b[^>]*>", page.read_text()):
            # Images inside saved widget state are JSON-escaped (alt=\"...\").
            assert re.search(r'\balt=\\?"[^"\\]+', tag), f"{page.relative_to(built_html)}: {tag[:120]}"


def test_evidence_page_shows_the_bcg_walkthrough_numbers(built_html):
    page = (built_html / "notebooks" / "evidence-explorer.html").read_text()
    assert "DerSimonian-Laird" in page and "REML" in page and "Illustration, not data" in page
