"""The strict build of the book: warnings are errors, references are checked, every notebook is executed."""

from __future__ import annotations

import subprocess
import time

from ..paths import PROJECT_ROOT
from . import assets

# Warnings are errors, references are checked (nitpicky), and every problem is reported before the build fails.
STRICT_BUILD = ["jupyter-book", "build", ".", "-W", "-n", "--keep-going"]
# Jupyter Book ends with where the pages are and a file:/// address to open: the course serves the book instead, and
# that address would sit just above the real ones (issue 21), so the closing block is left out.
CLOSING_BLOCK = "Your book's HTML pages are here:"


def build_book() -> int:
    assets.fetch_vendor_assets()
    print("Building the book (every notebook is executed; warnings are errors)...", flush=True)
    start = time.monotonic()
    with subprocess.Popen(STRICT_BUILD, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, bufsize=1) as build:
        closing = False
        for line in build.stdout:
            closing = closing or CLOSING_BLOCK in line
            if not closing:
                print(line, end="", flush=True)
    if build.returncode == 0:
        print(f"The book is built ({time.monotonic() - start:.0f} s): _build/html/", flush=True)
    return build.returncode
