"""Serving the built book on 127.0.0.1: compressed as production web servers send it, under any address prefix
(the course hub puts it at /services/book/)."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

from ..paths import BUILD_HTML


def serve_book(port: int, prefix: str = "/", background: bool = True) -> http.server.ThreadingHTTPServer:
    """Serve the built book on 127.0.0.1 only, in a background thread (or in this one: ``background=False``).
    ``prefix``: the address the book sits under, e.g. /services/book/ behind the course hub's proxy."""
    if not (BUILD_HTML / "index.html").exists():
        raise SystemExit("The book has not been built yet: run ./course start (or ./course build) first.")
    handler = functools.partial(QuietHandler, directory=str(BUILD_HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    if background:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    else:
        server.serve_forever()
    return server


# Text, scripts and the in-browser Python's WebAssembly shrink to a fraction when compressed, as any production web
# server sends them; the theme's icon script alone is 1.5 MB as it is (benchmarks/pages.py measures the difference).
COMPRESSED_TYPES = {".html", ".css", ".js", ".mjs", ".json", ".svg", ".wasm", ".txt", ".ipynb", ".ttf", ".eot"}


@functools.lru_cache(maxsize=512)
def gzipped(path: str, modified_ns: int) -> bytes:
    """The file's bytes compressed once per version of the file (``modified_ns``: its modification time)."""
    import gzip

    return gzip.compress(Path(path).read_bytes(), compresslevel=6)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the standard library's name)
        pass

    def translate_path(self, path):
        prefix = getattr(self.server, "prefix", "/")
        if prefix != "/" and (path + "/").startswith(prefix):
            path = "/" + path[len(prefix):]
        return super().translate_path(path)

    def do_GET(self):
        path = Path(self.translate_path(self.path))
        accepts_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (accepts_gzip and path.suffix in COMPRESSED_TYPES and path.is_file()):
            return super().do_GET()
        modified = path.stat().st_mtime_ns
        body = gzipped(str(path), modified)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Last-Modified", self.date_time_string(modified / 1e9))
        self.end_headers()
        self.wfile.write(body)
