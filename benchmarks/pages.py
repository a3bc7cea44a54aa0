"""Benchmark: what each page of the built book weighs and how long it takes to load, in headless Chromium.

Run by hand, after a build:  .venv/bin/python benchmarks/pages.py [--runs 3]
The book is served on 127.0.0.1 as `./course start` serves it (compressed for browsers that accept it), each page is
opened in a fresh browser context (an empty cache, as on a trainee's first visit) and the server counts what it sends:
requests and bytes over the wire (headers and bodies, including what JupyterLite's kernel fetches from its worker,
which the browser's page events do not show), with the time until the page's load event and until the network is
idle. Then each
interactive notebook is opened in JupyterLite and run: bytes and the time until its first output, as a trainee who
follows the page's link meets it. Budget: 1 MB per chapter page without JupyterLite. The figures go in the issue note,
not in a test.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import statistics
import sys
import threading
import time
from pathlib import Path

import yaml
from playwright.sync_api import sync_playwright
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from massage_course.hub.local_lab import free_port  # noqa: E402
from massage_course.paths import BUILD_HTML  # noqa: E402
from massage_course.site.serve import QuietHandler  # noqa: E402

CHAPTER_BUDGET = 1_000_000  # bytes
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


def toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [entry["file"] for part in toc["parts"] for entry in part["chapters"]]


class CountingHandler(QuietHandler):
    """The course's handler, counting the requests it answers and every byte it writes."""

    lock = threading.Lock()
    requests = 0
    sent = 0

    def setup(self):
        super().setup()
        handler, wire = type(self), self.wfile

        class Counted:
            def write(self, data):
                with handler.lock:
                    handler.sent += len(data)
                return wire.write(data)

            def __getattr__(self, name):
                return getattr(wire, name)

        self.wfile = Counted()

    def log_request(self, code="-", size="-"):
        with type(self).lock:
            type(self).requests += 1


def measure(browser, url: str, ready) -> dict:
    """Open ``url`` in a fresh context; ``ready(page)`` waits for what counts as loaded."""
    context = browser.new_context()
    page = context.new_page()
    outside = []
    page.on("request", lambda request: outside.append(request.url) if "127.0.0.1" not in request.url
            and not request.url.startswith("data:") else None)
    CountingHandler.requests = CountingHandler.sent = 0
    start = time.perf_counter()
    page.goto(url)
    loaded = time.perf_counter() - start
    ready(page)
    settled = time.perf_counter() - start
    context.close()
    return {"bytes": CountingHandler.sent, "requests": CountingHandler.requests, "load": loaded, "ready": settled,
            "outside": outside}


def page_ready(page):
    page.wait_for_load_state("networkidle")


def notebook_ready(page):
    """JupyterLite shown, all cells run, first output drawn (kernel start-up and package loading included)."""
    page.locator(".jp-Notebook").wait_for(timeout=120_000)
    page.locator(".jp-Notebook").click()
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
    page.locator("li[data-command='runmenu:run-all']").click()
    page.locator(".jp-OutputArea-output").first.wait_for(timeout=300_000)
    page.wait_for_load_state("networkidle")


def median_of(runs: list[dict]) -> dict:
    return {key: statistics.median(run[key] for run in runs) if key != "outside" else runs[0][key]
            for key in runs[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="loads per page; the median is shown (default 3)")
    args = parser.parse_args()
    if not (BUILD_HTML / "index.html").exists():
        raise SystemExit("Build the book first: ./course build")
    handler = functools.partial(CountingHandler, directory=str(BUILD_HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port(8000)), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site = f"http://127.0.0.1:{server.server_address[1]}"
    console = Console()
    over_budget = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pages = Table(title=f"Pages without JupyterLite (median of {args.runs} cold loads)")
        for column in ("page", "requests", "KB transferred", "load event (s)", "network idle (s)", "outside"):
            pages.add_column(column, justify="left" if column == "page" else "right")
        for name in toc_pages():
            figures = median_of([measure(browser, f"{site}/{name}.html", page_ready) for _ in range(args.runs)])
            chapter = name.startswith("book/")
            if chapter and figures["bytes"] > CHAPTER_BUDGET:
                over_budget.append(name)
            pages.add_row(name, f"{figures['requests']:.0f}", f"{figures['bytes'] / 1000:,.0f}",
                          f"{figures['load']:.2f}", f"{figures['ready']:.2f}", str(len(figures["outside"])))
        console.print(pages)

        lite = Table(title="Interactive notebooks opened in JupyterLite from their page (one cold load each)")
        for column in ("notebook", "requests", "MB transferred", "first output (s)", "outside"):
            lite.add_column(column, justify="left" if column == "notebook" else "right")
        for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
            figures = measure(browser, f"{site}/lite/notebooks/index.html?path={notebook.name}", notebook_ready)
            lite.add_row(notebook.name, str(figures["requests"]), f"{figures['bytes'] / 1e6:.1f}",
                         f"{figures['ready']:.1f}", str(len(figures["outside"])))
        console.print(lite)
        browser.close()
    server.shutdown()
    size = sum(p.stat().st_size for p in (ROOT / "_build" / "html" / "lite").rglob("*") if p.is_file())
    console.print(f"JupyterLite on disk in the site: {size / 1e6:.1f} MB")
    console.print(f"Chapter pages over the {CHAPTER_BUDGET / 1e6:.0f} MB budget: {', '.join(over_budget) or 'none'}")
    return 1 if over_budget else 0


if __name__ == "__main__":
    raise SystemExit(main())
