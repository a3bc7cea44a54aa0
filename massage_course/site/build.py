"""The strict build of the book: warnings are errors, references are checked, every notebook is executed."""

from __future__ import annotations

import subprocess

from ..paths import PROJECT_ROOT
from . import assets

# Warnings are errors, references are checked (nitpicky), and every problem is reported before the build fails.
STRICT_BUILD = ["jupyter-book", "build", ".", "-W", "-n", "--keep-going"]


def build_book() -> int:
    assets.fetch_vendor_assets()
    print("Building the book (every notebook is executed; warnings are errors)...", flush=True)
    return subprocess.call(STRICT_BUILD, cwd=PROJECT_ROOT)
