"""A real Chromium (Debian's, driven by Playwright) reads the served book as a trainee would, offline."""

from __future__ import annotations

import shutil

import pytest

from massage_course.hub.local_lab import free_port
from massage_course.lessons.self_check import load_self_check

from .conftest import http_get, outside

pytestmark = pytest.mark.browser


@pytest.fixture()
def page(browser, site):
    context = browser.new_context()
    page = context.new_page()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    yield page
    context.close()


def test_trainee_reads_the_chapter_and_answers_the_self_check(page, site):
    page.goto(f"{site}/index.html")
    page.wait_for_url("**/book/intro.html")
    page.get_by_role("link", name="Massage in integrative medicine and the hospital").first.click()
    page.wait_for_url("**/book/integrative-medicine.html")
    assert page.get_by_role("heading", name="Learning objectives").count() or "Learning objectives" in page.content()

    question = load_self_check("integrative-medicine")["questions"][0]
    wrong = next(o for o in question["options"] if not o["correct"])
    right = next(o for o in question["options"] if o["correct"])
    page.locator("label.MCButton", has_text=wrong["text"]).click()
    page.locator(".Feedback.incorrect", has_text=wrong["feedback"][:40]).wait_for(state="visible")
    page.locator("label.MCButton", has_text=right["text"]).click()
    page.locator(".Feedback.correct", has_text=right["feedback"][:40]).wait_for(state="visible")
    page.wait_for_load_state("networkidle")
    assert outside(page.requests, site) == []


def test_trainee_explores_the_pressure_scale_widget(page, site):
    page.goto(f"{site}/notebooks/pressure-scale.html")
    level_four = page.get_by_role("button", name="4 · Deep pressure")
    level_four.wait_for(timeout=20_000)
    assert page.locator(".pressure-level-card[data-level='1']").is_visible()
    level_four.click()
    page.locator(".pressure-level-card[data-level='4']").wait_for(state="visible")
    assert not page.locator(".pressure-level-card[data-level='1']").is_visible()
    assert "Level 4 of 5: Deep pressure" in page.locator(".pressure-level-card[data-level='4']").inner_text()
    # The code that draws the widget is hidden from the reader.
    assert "pressure_scale_widget" not in page.locator("article").inner_text()
    page.wait_for_load_state("networkidle")
    assert outside(page.requests, site) == []


def test_trainee_picks_regions_on_the_body_map_by_mouse_and_keyboard(page, site):
    page.goto(f"{site}/notebooks/anatomy-map.html")
    body_map = page.locator(".body-map").first
    body_map.wait_for()
    assert body_map.locator(".region-panel[data-region='chest']").is_visible()

    body_map.locator("[data-region='left_forearm']").first.click()
    panel = body_map.locator(".region-panel[data-region='left_forearm']")
    panel.wait_for(state="visible")
    assert "Brachioradialis" in panel.inner_text() and "Peripheral IV" in panel.inner_text()
    assert not body_map.locator(".region-panel[data-region='chest']").is_visible()

    # Keyboard only: focus a region and press Enter.
    axilla = body_map.locator("[data-region='right_axilla']").first
    axilla.focus()
    page.keyboard.press("Enter")
    body_map.locator(".region-panel[data-region='right_axilla']").wait_for(state="visible")
    assert axilla.get_attribute("aria-pressed") == "true"
    assert "Lymph nodes" in body_map.locator(".region-panel[data-region='right_axilla']").inner_text()

    # The list view works in the static page too (linked in the browser, no kernel).
    page.locator("select").first.select_option(label="Right calf")
    page.locator(".widget-stack .region-panel[data-region='right_calf'], .region-panel[data-region='right_calf']").last.wait_for(state="visible")
    page.wait_for_load_state("networkidle")
    assert outside(page.requests, site) == []


@pytest.fixture()
def jupyterlab(tmp_path, monkeypatch):
    """JupyterLab over a copy of the notebooks, so running them here never writes outputs into the course."""
    import secrets
    import subprocess

    from massage_course.hub.local_lab import start_jupyterlab
    from massage_course.paths import PROJECT_ROOT

    shutil.copytree(PROJECT_ROOT / "notebooks", tmp_path / "notebooks")
    monkeypatch.setenv("MASSAGE_COURSE_EXCHANGE", str(tmp_path / "exchange"))
    monkeypatch.setenv("MASSAGE_COURSE_GRADEBOOK_URL", f"sqlite:///{tmp_path / 'gradebook.db'}")
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    port, token = free_port(0), secrets.token_hex(8)
    # The app is exposed to the page so the test can run all cells as a trainee would from the Run menu.
    lab = start_jupyterlab(port, token, tmp_path, "--LabApp.expose_app_in_browser=True")
    base = f"http://127.0.0.1:{port}"
    http_get(f"{base}/api/status?token={token}")
    yield base, token
    lab.terminate()
    try:
        lab.wait(timeout=20)
    except subprocess.TimeoutExpired:
        lab.kill()


def test_body_map_is_live_in_jupyterlab(browser, jupyterlab):
    base, token = jupyterlab
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/lab/tree/notebooks/anatomy-map.ipynb?token={token}")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget", timeout=60_000)
    page.locator(".jp-Notebook").first.wait_for(timeout=60_000)
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel?.status === 'idle'", timeout=60_000
    )
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    body_map = page.locator(".jp-OutputArea .body-map").first
    body_map.wait_for(timeout=60_000)
    body_map.locator("[data-region='right_thigh']").first.click()
    panel = body_map.locator(".region-panel[data-region='right_thigh']")
    panel.wait_for(state="visible")
    assert "Foley catheter and bag" in panel.inner_text()
    context.close()


def test_trainee_filters_the_evidence_map_in_the_static_page(page, site):
    page.goto(f"{site}/notebooks/evidence-explorer.html")
    select = page.locator("select").first
    select.wait_for()
    assert page.locator("img[alt^='Pooled effects of massage: all outcomes']").is_visible()
    select.select_option(label="Depression")
    page.locator("img[alt^='Pooled effects of massage: depression']").wait_for(state="visible")
    assert not page.locator("img[alt^='Pooled effects of massage: all outcomes']").is_visible()
    page.wait_for_load_state("networkidle")
    assert outside(page.requests, site) == []
