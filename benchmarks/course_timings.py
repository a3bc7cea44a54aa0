"""Time the course's setup, a clean strict build and the test suite on a fresh clone; print the figures.

Run by hand (it takes a few minutes): python3 benchmarks/course_timings.py
It clones this repository into a temporary folder beside ../shared, so nothing here is touched.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(label: str, command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    status = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
    print(f"{label:<28} {seconds:7.1f} s  {status}", flush=True)
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:], sep="\n")
        sys.exit(1)
    return seconds


def folder_size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        shared = ROOT.parent / "shared"
        if shared.exists():
            (work / "shared").symlink_to(shared)
        clone = work / "main"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        timed("setup (fresh venv)", ["./course", "setup"], clone)
        timed("setup again (nothing to do)", ["./course", "setup"], clone)
        shutil.rmtree(clone / "_build", ignore_errors=True)
        timed("clean strict build", ["./course", "build"], clone)
        timed("full test suite", ["./course", "test", "-q", "-p", "no:cacheprovider"], clone)
        print(f"{'virtual environment':<28} {folder_size_mb(clone / '.venv'):7.0f} MB")
        print(f"{'built site (_build/html)':<28} {folder_size_mb(clone / '_build' / 'html'):7.1f} MB")


if __name__ == "__main__":
    main()
