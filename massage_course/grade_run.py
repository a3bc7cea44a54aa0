"""The instructor's `grade` command: autograde every submission of a quiz, safely and in parallel, and say for each
trainee whether it was graded, waits for hand grading, or failed, and why.

nbgrader does the grading; this module adds what it lacks: an integrity check of each notebook before grading, one
process per trainee so that one bad submission cannot stop the others, and a report in which a failure is a failure,
never a silent zero.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from .grading import COURSE_ROOT, course_api

WRITTEN_STUB = "Write your answer here."  # ClearSolutions.text_stub in assignments/nbgrader_config.py


@dataclass
class GradingResult:
    student: str
    status: str = "graded"  # "graded" | "needs_manual_grading" | "failed"
    score: float | None = None
    max_score: float | None = None
    problems: list[str] = field(default_factory=list)


def _grade_cells(nb) -> list[tuple[str, str]]:
    return [(cell.metadata["nbgrader"]["grade_id"], cell.cell_type) for cell in nb.cells
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")]


def quiz_grade_cells(source_folder: Path) -> dict[str, dict[str, str]]:
    """For each notebook of the quiz source: its graded cells, {grade_id: cell_type} (read once per grading run)."""
    return {source.name: dict(_grade_cells(nbformat.read(source, as_version=4)))
            for source in sorted(source_folder.glob("*.ipynb"))}


def check_submission(folder: Path, quiz_cells: dict[str, dict[str, str]]) -> tuple[list[str], list[str]]:
    """Compare a trainee's notebooks with the quiz source. Returns (fatal problems, repairable notes)."""
    fatal, notes = [], []
    for name, expected in quiz_cells.items():
        submitted = folder / name
        if not submitted.exists():
            fatal.append(f"{name} is missing from the submission")
            continue
        try:
            nb = nbformat.read(submitted, as_version=4)
        except Exception as error:  # nbformat raises several kinds for broken JSON or schema
            fatal.append(f"{name} is not a readable notebook file ({type(error).__name__}): ask the trainee "
                         "to submit it again")
            continue
        found = _grade_cells(nb)
        counts = Counter(grade_id for grade_id, _ in found)
        for grade_id, count in sorted(counts.items()):
            if count > 1:
                fatal.append(f"the cell {grade_id!r} appears {count} times (a copied cell): nbgrader cannot tell "
                             "which one to grade; ask the trainee to delete the copy and submit again")
        for grade_id, cell_type in found:
            if grade_id in expected and expected[grade_id] != cell_type:
                fatal.append(f"the cell {grade_id!r} was changed from {expected[grade_id]} to {cell_type}")
        for grade_id in sorted(set(expected) - set(counts)):
            notes.append(f"the deleted cell {grade_id!r} was restored from the quiz before grading")
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("solution") and meta.get("grade") and cell.cell_type == "markdown" \
                    and cell.source.strip() in ("", WRITTEN_STUB):
                notes.append(f"the written answer {meta['grade_id']!r} was left blank")
    return fatal, notes


def _autograde(course: Path, quiz: str, student: str, timeout: float) -> tuple[bool, str]:
    """One trainee, in a process of its own: a crash or a hang there cannot touch the others."""
    try:
        result = subprocess.run(
            [sys.executable, "-m", "nbgrader", "autograde", quiz, f"--student={student}", "--force"],
            cwd=course, capture_output=True, text=True, timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return False, f"grading did not finish within {timeout:.0f} seconds"
    log = result.stdout + result.stderr
    if result.returncode != 0:
        return False, _last_error(log)
    return True, log


# What nbgrader's log says, in words an instructor can act on (first match wins).
KNOWN_FAILURES = (
    ("CellTimeoutError", "a cell did not finish in time and could not be interrupted (for example an endless loop "
                         "that ignores interruption); look at the trainee's code cells"),
    ("UnresponsiveKernelError", "the notebook's kernel stopped responding while grading"),
    ("NotJSONError", "the notebook file is not valid"),
)


def _last_error(log: str) -> str:
    for marker, words in KNOWN_FAILURES:
        if marker in log:
            return words
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    # nbgrader ends with "Please see the above traceback"; the exception line before it says what happened.
    useful = [line for line in lines if ("Error" in line or "error" in line) and "Please see" not in line
              and "There was an error processing" not in line]
    return (useful or lines or ["nbgrader failed without a message"])[-1][:300]


def grade_quiz(quiz: str, course: Path = COURSE_ROOT, workers: int = 2, timeout: float = 600,
               progress=None) -> list[GradingResult]:
    """Check and autograde every submission in ``course/submitted/*/quiz/``; write reports/<quiz>-grading.json."""
    course = Path(course).resolve()
    source = course / "source" / quiz
    if not source.is_dir():
        raise FileNotFoundError(f"no quiz named {quiz!r} in {course / 'source'}")
    folders = sorted(p for p in (course / "submitted").glob(f"*/{quiz}") if p.is_dir())
    results = {folder.parent.name: GradingResult(folder.parent.name) for folder in folders}
    to_grade = []
    quiz_cells = quiz_grade_cells(source)
    for folder in folders:
        result = results[folder.parent.name]
        fatal, notes = check_submission(folder, quiz_cells)
        result.problems += fatal + notes
        if fatal:
            result.status = "failed"
            if progress:
                progress()
        else:
            to_grade.append(result.student)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(_autograde, course, quiz, student, timeout): student for student in to_grade}
        for future in as_completed(futures):
            ok, message = future.result()
            if not ok:
                results[futures[future]].status = "failed"
                results[futures[future]].problems.append(f"autograding failed: {message}")
            if progress:
                progress()
    api = course_api(course)
    with api.gradebook as gradebook:
        for result in results.values():
            if result.status == "failed":
                continue
            submission = gradebook.find_submission(quiz, result.student)
            result.score, result.max_score = submission.score, submission.max_score
            if submission.needs_manual_grade:
                result.status = "needs_manual_grading"
    ordered = [results[s] for s in sorted(results)]
    reports = course / "reports"
    reports.mkdir(exist_ok=True)
    (reports / f"{quiz}-grading.json").write_text(json.dumps([asdict(r) for r in ordered], indent=2))
    return ordered


def print_report(results: list[GradingResult], quiz: str, console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title=f"Grading of {quiz}")
    for column in ("Trainee", "Status", "Score", "Problems"):
        table.add_column(column)
    style = {"graded": "green", "needs_manual_grading": "yellow", "failed": "bold red"}
    for r in results:
        score = "-" if r.score is None else f"{r.score:g} / {r.max_score:g}"
        table.add_row(r.student, f"[{style[r.status]}]{r.status}[/]", score, "\n".join(r.problems))
    console.print(table)
    counts = Counter(r.status for r in results)
    console.print(", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no submissions found")
