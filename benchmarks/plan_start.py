"""How long `python -m massage_course plan CHART` takes from start to printed plan, and which of the package's parts
it loads. Target (issue 15): 0.5 s or less on a 2-core machine, median of 5.

Run by hand: .venv/bin/python benchmarks/plan_start.py [CHART]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5
# Prints the package modules `plan` imported, after it printed the plan (same process, same command line).
LOADED = ("import sys, runpy; sys.argv = ['massage_course', 'plan', {chart!r}]\n"
          "try:\n    runpy.run_module('massage_course', run_name='__main__')\nexcept SystemExit:\n    pass\n"
          "print(sorted(m for m in sys.modules if m.startswith('massage_course')), file=sys.stderr)")


def main() -> None:
    chart = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "notebooks" / "charts" / "05-clot-in-the-calf.yaml")
    command = [sys.executable, "-m", "massage_course", "plan", chart]
    subprocess.run(command, cwd=ROOT, capture_output=True, check=True)  # warm the disk cache and bytecode
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    print(f"plan start to finish: median {statistics.median(times):.3f} s over {RUNS} runs "
          f"(min {min(times):.3f}, max {max(times):.3f})")
    loaded = subprocess.run([sys.executable, "-c", LOADED.format(chart=chart)], cwd=ROOT, capture_output=True,
                            text=True, check=True).stderr.strip().splitlines()[-1]
    print(f"package modules loaded: {loaded}")


if __name__ == "__main__":
    main()
