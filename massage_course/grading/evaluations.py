"""The instructors' export of the anonymous course evaluations (``massage-course evaluations --cohort NAME``).

Each response waits in the drop box as a file of answers (lessons/evaluation_form.py). The export reads them all,
keeps one per account (the latest: one trainee cannot flood the results; the account is used only for that and is
never written down), appends the answers to the cohort's CSV in an order unrelated to time or account, writes a
summary per statement, and deletes the files, so that nothing that could tie an answer to a person is kept. A file
that is not a valid response (broken, too big, a link, extra fields such as a name) is counted and deleted, never
exported.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ..topics.course_evaluation import DROP_BOX, check_response, evaluation
from ..topics.data_files import CourseDataError

MAX_FILE = 64 * 1024
FEWEST_FOR_SUMMARY = 3  # below this, a cohort's answers could point to a person: the summary says so


@dataclass
class ExportResult:
    table: Path
    summary: Path
    added: int
    duplicates: int  # earlier responses of an account that sent several
    unreadable: int
    total: int  # rows in the cohort's table after this export


def _read(path: Path) -> tuple[int, float, dict] | None:
    """(owner, time, answers) of a valid response, else None. Opened without following links."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE:
            return None
        try:
            return info.st_uid, info.st_mtime, check_response(json.loads(handle.read().decode("utf-8")))
        except (ValueError, UnicodeDecodeError, CourseDataError):
            return None


def _cell(value) -> str:
    """A CSV cell a spreadsheet shows as text: a trainee's answer starting with = + - @ is not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_evaluations(course: Path, cohort: str, exchange: Path) -> ExportResult:
    box = Path(exchange) / DROP_BOX
    form = evaluation()
    latest: dict[int, tuple[float, dict]] = {}
    duplicates = unreadable = 0
    files = sorted(box.iterdir()) if box.is_dir() else []
    for path in files:
        response = _read(path)
        if response is None:
            unreadable += 1
            continue
        owner, when, answers = response
        if owner in latest:
            duplicates += 1
            if when <= latest[owner][0]:
                continue
        latest[owner] = (when, answers)
    rows = [answers for _, answers in latest.values()]
    # an order that says nothing about who or when: by a digest of the answers themselves
    rows.sort(key=lambda row: hashlib.sha256(json.dumps(row, sort_keys=True).encode()).hexdigest())
    folder = Path(course) / "evaluations" / cohort
    folder.mkdir(parents=True, exist_ok=True)
    table = folder / f"{cohort}-evaluations.csv"
    new_file = not table.exists()
    with table.open("a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=form.columns)
        if new_file:
            writer.writeheader()
        writer.writerows({key: _cell(row[key]) for key in form.columns} for row in rows)
    for path in files:  # after the answers are safely written
        path.unlink(missing_ok=True)
    with table.open(newline="", encoding="utf-8") as handle:
        everything = list(csv.DictReader(handle))
    summary = folder / f"{cohort}-summary.csv"
    with summary.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["statement", "answers", "mean (1-5)", *form.scale])
        for key, text in form.statements:
            ratings = [int(row[key]) for row in everything if row[key]]
            mean = f"{sum(ratings) / len(ratings):.2f}" if ratings else ""
            writer.writerow([text, len(ratings), mean, *(ratings.count(n) for n in range(1, len(form.scale) + 1))])
    return ExportResult(table, summary, len(rows), duplicates, unreadable, len(everything))


def evaluations_command(course: Path, cohort: str) -> int:
    """``massage-course evaluations``: export, then print the summary table."""
    from rich.console import Console
    from rich.table import Table

    from .completion import usable_cohort_name
    from .exchange import prepare_exchange

    if not usable_cohort_name(cohort):
        return 2
    result = export_evaluations(course, cohort, prepare_exchange())
    console = Console()
    console.print(f"Exported {result.added} new evaluation(s) to {result.table} ({result.total} in all, no names).")
    if result.duplicates:
        console.print(f"{result.duplicates} earlier response(s) from an account that sent again were left out.")
    if result.unreadable:
        console.print(f"[yellow]{result.unreadable} file(s) in the box were not valid responses and were removed.[/]")
    if result.total < FEWEST_FOR_SUMMARY:
        console.print(f"[yellow]Fewer than {FEWEST_FOR_SUMMARY} responses: with so few, answers may point to a "
                      "person; wait for more before sharing them.[/]")
    table = Table(title=f"Course evaluation, {cohort}")
    with result.summary.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    for name in rows[0]:
        table.add_column(name)
    for row in rows[1:]:
        table.add_row(*row)
    console.print(table)
    return 0
