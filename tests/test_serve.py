"""The run command's last step: the book and JupyterLab (with nbgrader's formgrader) served on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time

import pytest

from massage_course.hub.local_lab import free_port
from massage_course.paths import PROJECT_ROOT

from .conftest import http_get


def wait_for_urls(process: subprocess.Popen, timeout: float = 90) -> dict[str, str]:
    urls, deadline = {}, time.monotonic() + timeout
    while time.monotonic() < deadline and len(urls) < 3:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        match = re.match(r"\s+(Book|JupyterLab|Formgrader):\s+(\S+)", line)
        if match:
            urls[match.group(1)] = match.group(2)
    return urls


@pytest.fixture()
def running_course(built_html, tmp_path):
    book_port, lab_port = free_port(0), free_port(0)
    # Trainee and grade data of this run stay in the test's own folder, not in the course's assignments/.
    env = {
        "MASSAGE_COURSE_EXCHANGE": str(tmp_path / "exchange"),
        "MASSAGE_COURSE_GRADEBOOK_URL": f"sqlite:///{tmp_path / 'gradebook.db'}",
        "MASSAGE_COURSE_STATE": str(tmp_path / "state"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "massage_course", "serve", f"--book-port={book_port}", f"--lab-port={lab_port}"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, **env},
    )
    try:
        yield wait_for_urls(process)
    finally:
        process.terminate()
        process.wait(timeout=30)
    # Stopping the command stops JupyterLab with it: nothing keeps listening on the lab's port.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", lab_port)) != 0:
                break
        time.sleep(0.5)
    else:
        pytest.fail("JupyterLab was still running after the serve command stopped")


def test_run_command_serves_book_and_jupyterlab_with_formgrader(running_course):
    urls = running_course
    # The addresses come last, once JupyterLab listens: nothing it prints at start-up buries them.
    lab_port = int(re.search(r":(\d+)/", urls["JupyterLab"]).group(1))
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", lab_port)) == 0
    assert set(urls) == {"Book", "JupyterLab", "Formgrader"}
    assert all(url.startswith("http://127.0.0.1:") for url in urls.values())
    status, page = http_get(urls["Book"])
    assert status == 200 and "book/intro.html" in page
    status, page = http_get(urls["JupyterLab"])
    assert status == 200 and "JupyterLab" in page
    status, _ = http_get(urls["Formgrader"])
    assert status == 200
    # The formgrader found the course (assignments/nbgrader_config.py) and lists its quiz from source/.
    api = urls["Formgrader"].replace("/formgrader?", "/formgrader/api/assignments?")
    status, body = http_get(api)
    assert status == 200
    listed = {assignment["name"] for assignment in json.loads(body)}
    assert {path.name for path in (PROJECT_ROOT / "assignments" / "source").iterdir()} <= listed
    assert len(listed) >= 6


def test_the_book_is_served_compressed_to_browsers_that_accept_it(built_html):
    """As a production web server does: text and scripts gzip-compressed when the browser says it accepts that, the
    same bytes once decompressed; untouched for a client that does not; images and wheels never."""
    import gzip
    import urllib.request

    from massage_course.site.serve import serve_book

    server = serve_book(free_port(0))
    site = f"http://127.0.0.1:{server.server_address[1]}"

    def get(path: str, encoding: str | None):
        request = urllib.request.Request(site + path, headers={"Accept-Encoding": encoding} if encoding else {})
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.headers.get("Content-Encoding"), response.read()

    try:
        page = (built_html / "book" / "safety.html").read_bytes()
        encoding, body = get("/book/safety.html", "gzip, deflate")
        assert encoding == "gzip" and gzip.decompress(body) == page and len(body) < len(page) / 3
        assert get("/book/safety.html", None) == (None, page)
        assert get("/book/safety.html?x=1", "gzip")[0] == "gzip"  # a query does not change the file
        wheel = next((built_html / "lite" / "static" / "pyodide").glob("*.whl"))
        assert get(f"/lite/static/pyodide/{wheel.name}", "gzip") == (None, wheel.read_bytes())
    finally:
        server.shutdown()
