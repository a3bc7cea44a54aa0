"""The interactive notebooks in JupyterLite (Python in the browser), offline: the pieces it is assembled from, and a
real Chromium that opens the notebooks from the built site with every request outside 127.0.0.1 blocked."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from massage_course.paths import BUILD_HTML, PROJECT_ROOT
from massage_course.site import lite
from massage_course.topics.data_files import _parse_yaml_in_the_browser

YAML_FILES = sorted(p for folder in ("massage_course", "notebooks", "assignments/quizzes")
                    for p in (PROJECT_ROOT / folder).rglob("*.yaml"))


def test_every_course_yaml_file_reads_the_same_in_the_browser():
    """In the browser the course reads YAML with ruamel.yaml (PyYAML has no browser build): same data, every file."""
    assert len(YAML_FILES) > 20
    for path in YAML_FILES:
        text = path.read_text(encoding="utf-8")
        assert _parse_yaml_in_the_browser(text, str(path)) == yaml.safe_load(text), path.relative_to(PROJECT_ROOT)
    # PyYAML's YAML 1.1 words, which a YAML 1.2 reader would take as text
    assert _parse_yaml_in_the_browser("a: yes\nb: off\nc: 1_000\n", "x") == yaml.safe_load("a: yes\nb: off\nc: 1_000\n")


# Python as in the browser: PyYAML, numpy, matplotlib and jsonschema cannot be imported.
WITHOUT_COMPILED = """
import json, sys
for name in ("yaml", "numpy", "matplotlib", "jsonschema"):
    sys.modules[name] = None
from massage_course.lessons import anatomy_map, pressure_scale_cards
from massage_course.topics import anatomy, pressure_scale
result = {"regions": sorted(anatomy.regions()), "muscles": len(anatomy.muscles()),
          "levels": [level.name for level in pressure_scale.load_pressure_scale().levels],
          "quiz": anatomy_map.muscle_self_check()}
for module in ("massage_course.lessons.evidence_explorer", "massage_course.lessons.session_planner"):
    try:
        __import__(module)
    except ImportError as error:
        result[module] = str(error)
print(json.dumps(result))
"""


def test_the_offline_notebooks_work_without_the_compiled_packages_and_the_others_say_why():
    output = subprocess.run([sys.executable, "-c", WITHOUT_COMPILED], capture_output=True, text=True, check=True)
    seen = json.loads(output.stdout)
    from massage_course.lessons import anatomy_map
    from massage_course.topics import anatomy, pressure_scale

    assert seen["regions"] == sorted(anatomy.regions())
    assert seen["muscles"] == len(anatomy.muscles())
    assert seen["levels"] == [level.name for level in pressure_scale.load_pressure_scale().levels]
    assert seen["quiz"] == anatomy_map.muscle_self_check()
    assert "numpy and matplotlib" in seen["massage_course.lessons.evidence_explorer"]
    assert "jsonschema" in seen["massage_course.lessons.session_planner"]
    for module in ("massage_course.lessons.evidence_explorer", "massage_course.lessons.session_planner"):
        assert "cannot load without the internet" in seen[module] and "JupyterLab" in seen[module]


def test_jupyterlite_never_asks_about_jupyter_news():
    """JupyterLab's "official Jupyter news" prompt (news from the internet) is off in the course's JupyterLite too, as it
    is for trainees in JupyterLab (issue 21)."""
    from massage_course.hub.local_lab import NEWS_PLUGIN

    config = json.loads((lite.LITE_DIR / "jupyter-lite.json").read_text())["jupyter-config-data"]
    assert NEWS_PLUGIN in config["disabledExtensions"]


def fake_wheel(folder: Path, name: str, requires: list[str]) -> Path:
    path = folder / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(f"{name}/__init__.py", "")
        metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n" + "".join(
            f"Requires-Dist: {r}\n" for r in requires)
        wheel.writestr(f"{name}-1.0.dist-info/METADATA", metadata)
    return path


def test_the_lock_file_refuses_a_wheel_whose_needs_are_not_served(tmp_path):
    lock = tmp_path / "pyodide-lock.json"
    lock.write_text(json.dumps({"info": {"python": "3.14.2"}, "packages": {}}))
    served = [fake_wheel(tmp_path, "alpha", ["beta", "colorama; sys_platform == 'win32'", "pytest; extra == 'test'"]),
              fake_wheel(tmp_path, "beta", [])]
    written = lite.write_lock(served, lock)
    assert written["packages"]["alpha"]["depends"] == ["beta"]  # markers for Windows and extras do not apply
    assert written["packages"]["alpha"]["imports"] == ["alpha"]
    assert written["packages"]["alpha"]["sha256"] == hashlib.sha256(served[0].read_bytes()).hexdigest()
    with pytest.raises(lite.LiteBuildError, match="alpha needs beta"):
        lite.write_lock(served[:1], lock)


@pytest.mark.build
def test_the_site_serves_pyodide_and_every_wheel_its_lock_lists(built_html):
    pyodide = built_html / "lite" / "static" / "pyodide"
    lock = json.loads((pyodide / "pyodide-lock.json").read_text())
    packages = lock["packages"]
    assert {"massage-course", "ipywidgets", "jupyterquiz", "ruamel-yaml", "ipython", "micropip"} <= set(packages)
    assert not {"numpy", "matplotlib", "pyyaml", "jsonschema"} & set(packages)
    for entry in packages.values():
        wheel = pyodide / entry["file_name"]
        assert hashlib.sha256(wheel.read_bytes()).hexdigest() == entry["sha256"], entry["file_name"]
        assert set(entry["depends"]) <= set(packages), entry["name"]
    for runtime in ("pyodide.mjs", "pyodide.asm.wasm", "python_stdlib.zip"):
        assert (pyodide / runtime).is_file()
    config = json.loads((built_html / "lite" / "jupyter-lite.json").read_text())["jupyter-config-data"]
    kernel = config["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    assert kernel["disablePyPIFallback"] is True
    assert kernel["pyodideUrl"].startswith("./static/pyodide/")  # the site's own copy, not a CDN
    assert "@jupyter/nbgrader" in config["disabledExtensions"]
    assert "@jupyterlab/apputils-extension:announcements" in config["disabledExtensions"]
    # the course wheel in the site is the package as it is now
    course = next(pyodide.glob("massage_course-*.whl"))
    with zipfile.ZipFile(course) as wheel:
        assert wheel.read("massage_course/topics/anatomy.py") == (PROJECT_ROOT / "massage_course" / "topics" / "anatomy.py").read_bytes()


def open_in_jupyterlite(browser, site: str, notebook: str):
    """The notebook in JupyterLite, all cells run; every request outside the site is blocked and recorded."""
    context = browser.new_context()
    blocked, problems = [], []

    def only_the_site(route):
        if route.request.url.startswith(site + "/"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_site)
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.goto(f"{site}/lite/notebooks/index.html?path={notebook}")
    page.locator(".jp-Notebook").wait_for(timeout=60000)
    page.locator(".jp-Notebook").click()
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
    page.locator("li[data-command='runmenu:run-all']").click()
    return context, page, blocked, problems


def wait_for(page, condition: str, timeout: float = 150):
    """Kernel start-up and package loading in the browser take tens of seconds on this 2-core machine."""
    page.wait_for_function(condition, timeout=timeout * 1000)


@pytest.mark.browser
def test_the_body_map_notebook_runs_offline_in_jupyterlite(browser, site):
    context, page, blocked, problems = open_in_jupyterlite(browser, site, "anatomy-map.ipynb")
    try:
        wait_for(page, "document.querySelectorAll('.jp-OutputArea .Quiz').length > 0"
                       " || document.querySelector('[data-mime-type=\"application/vnd.jupyter.stderr\"]') !== null")
        errors = page.locator("[data-mime-type='application/vnd.jupyter.stderr']")
        assert errors.count() == 0, errors.first.inner_text()
        assert page.locator(".jp-OutputArea .body-map svg").count() >= 1  # drawn by the course package, in Python
        assert page.locator(".jp-OutputArea .jupyter-widgets").count() >= 1  # the region explorer's widgets
        text = "\n".join(page.locator(".jp-MarkdownOutput").all_inner_texts())
        assert "References" in text and "{footcite" not in text and "{doc}" not in text and "```" not in text
        page.locator(".jp-OutputArea .Quiz label.MCButton").first.click()
        page.locator(".jp-OutputArea .Quiz .Feedback").first.wait_for(state="visible")
        assert "Pyodide" in page.locator(".jp-KernelName, .jp-Toolbar-kernelName").first.inner_text()
        assert blocked == []
        assert problems == []
    finally:
        context.close()


@pytest.mark.browser
def test_the_evidence_explorer_in_jupyterlite_says_what_it_needs(browser, site):
    context, page, blocked, problems = open_in_jupyterlite(browser, site, "evidence-explorer.ipynb")
    try:
        wait_for(page, "document.querySelector('[data-mime-type=\"application/vnd.jupyter.stderr\"]') !== null")
        message = page.locator("[data-mime-type='application/vnd.jupyter.stderr']").first.text_content()
        assert "needs numpy and matplotlib" in message and "JupyterLab" in message
        assert blocked == []
        assert problems == []
    finally:
        context.close()


@pytest.mark.browser
def test_every_interactive_page_links_to_its_notebook_in_jupyterlite(browser, site):
    from massage_course.site.sphinx_lite import NEEDS_JUPYTERLAB

    pages = sorted(p.relative_to(BUILD_HTML) for p in (BUILD_HTML / "notebooks").glob("*.html"))
    assert len(pages) == 4
    context = browser.new_context()
    page = context.new_page()
    try:
        for path in pages:
            page.goto(f"{site}/{path}")
            link = page.get_by_role("link", name="open this page as a live notebook")
            href = link.get_attribute("href")
            assert href == f"../lite/notebooks/index.html?path={path.stem}.ipynb"
            assert (BUILD_HTML / "lite" / "files" / f"{path.stem}.ipynb").is_file()
            box = page.locator(".lite-launch").inner_text()
            assert ("needs" in box) == (f"notebooks/{path.stem}" in NEEDS_JUPYTERLAB), path
    finally:
        context.close()
