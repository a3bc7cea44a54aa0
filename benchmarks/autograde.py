"""Benchmark: the course's `grade` command against plain `nbgrader autograde QUIZ` on the same 40 submissions.

Run by hand:  .venv/bin/python benchmarks/autograde.py [--trainees 40] [--workers N]
Both runs use the same course configuration (so the same sandboxed kernel) in fresh copies of the course, and the
same demo submissions. Prints both times and the ratio; the figures go in the issue note, not in a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]

from massage_course.grading.demo import write_demo  # noqa: E402
from massage_course.grading.nbgrader_api import course_api  # noqa: E402

QUIZ = "quiz-1-hospital"


def fresh_course(folder: Path, trainees: int) -> Path:
    course = folder / "course"
    course.mkdir(parents=True)
    shutil.copy(ROOT / "assignments" / "nbgrader_config.py", course)
    for name in ("source", "quizzes"):
        shutil.copytree(ROOT / "assignments" / name, course / name)
    write_demo(course, trainees=trainees, seed=40, broken=False)
    return course


def _score(gradebook, student: str):
    try:
        return gradebook.find_submission(QUIZ, student).score
    except Exception as error:  # a trainee that one run failed to grade has no submission there
        return f"not graded ({type(error).__name__})"


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (Linux /proc/stat): unlike getrusage this counts the
    sandboxed kernels, whose processes are killed, not waited for, when their notebook is done."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall-clock seconds, and the machine's busy CPU seconds meanwhile (run it on an otherwise idle machine)."""
    cpu = busy_cpu_seconds()
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=False, capture_output=True)
    return time.perf_counter() - start, busy_cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trainees", type=int, default=40)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    os.environ.pop("MASSAGE_COURSE_GRADEBOOK_URL", None)
    with tempfile.TemporaryDirectory() as tmp:
        plain_course = fresh_course(Path(tmp) / "plain", args.trainees)
        ours_course = fresh_course(Path(tmp) / "ours", args.trainees)
        plain, plain_cpu = timed([sys.executable, "-m", "nbgrader", "autograde", QUIZ, "--force"], plain_course)
        ours, ours_cpu = timed([sys.executable, "-m", "massage_course", "grade", QUIZ, f"--course={ours_course}",
                      f"--workers={args.workers}"], ours_course)
        with course_api(plain_course).gradebook as a, course_api(ours_course).gradebook as b:
            differ = []
            for student in a.students:
                scores = [_score(book, student.id) for book in (a, b)]
                if scores[0] != scores[1]:
                    differ.append(f"{student.id}: plain {scores[0]}, ours {scores[1]}")
        same = not differ
        report = json.loads((ours_course / "reports" / f"{QUIZ}-grading.json").read_text())
        problems = [f"{row['student']}: {row['status']}: {'; '.join(row['problems'])}" for row in report
                    if row["status"] == "failed"]
        log_tail = (ours_course / "reports" / f"{QUIZ}-grading.log").read_text()[-3000:] if problems else ""
    print(f"{args.trainees} submissions of {QUIZ}, {os.cpu_count()} CPU cores, {args.workers} workers")
    print(f"plain nbgrader autograde: {plain:6.1f} s ({plain / args.trainees:.2f} s per submission), "
          f"CPU {plain_cpu:.1f} s")
    print(f"massage_course grade:     {ours:6.1f} s ({ours / args.trainees:.2f} s per submission, "
          "including the integrity checks, the answer-line cross-check and the report), "
          f"CPU {ours_cpu:.1f} s")
    print(f"ratio: {plain / ours:.2f}x   same scores in both gradebooks: {same}")
    for line in differ:
        print("  differs:", line)
    for line in problems:
        print("  failed in the grade command:", line)
    if log_tail:
        print(log_tail)


if __name__ == "__main__":
    main()
