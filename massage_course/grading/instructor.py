"""The instructor's commands around nbgrader: write the quizzes from their item banks, release and collect them,
collect submissions downloaded from an LMS, grade them, write feedback and report on a quiz, and make a demo class.

Each prints a short, plain summary; errors say what to do and return exit code 2 (1 when some trainees failed).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from ..topics.data_files import CourseDataError
from .nbgrader_api import course_api
from .quiz_bank import bank_folder, chapters, load_quizzes, write_source

console = Console()


def _error(message: str) -> int:
    console.print(f"[bold red]error:[/] {message}", highlight=False)
    return 2


def _known_quiz(course: Path, quiz: str) -> bool:
    return (bank_folder(course) / f"{quiz}.yaml").is_file()


def quizzes_command(course: Path) -> int:
    """Rewrite every quiz's source notebook from its bank and show which objectives each quiz covers."""
    try:
        quizzes = load_quizzes(course)
    except CourseDataError as error:
        return _error(str(error))
    table = Table(title="Quizzes (from assignments/quizzes/*.yaml)")
    table.add_column("Quiz", no_wrap=True)
    for column in ("Items", "Points", "Pass mark", "Answers shown", "Objectives covered"):
        table.add_column(column)
    for quiz in quizzes.values():
        write_source(quiz, course)
        tags = {t for i in quiz.items for t in i.objectives}
        total = sum(len(chapters()[slug].objectives) for slug in quiz.chapters)
        table.add_row(quiz.id, str(len(quiz.items)), str(quiz.max_score), f"{quiz.pass_mark}%",
                      "yes" if quiz.reveal_answers else "no", f"{len(tags)} of {total}")
    console.print(table)
    return 0


def release_command(course: Path, quiz: str) -> int:
    """nbgrader generate_assignment + release_assignment: the quiz goes to the exchange for trainees to fetch."""
    from .exchange import prepare_exchange

    if not _known_quiz(course, quiz):
        return _error(f"no quiz named {quiz!r} (item banks are in {bank_folder(course)})")
    prepare_exchange()
    api = course_api(course)
    for step in (api.generate_assignment, api.release_assignment):
        result = step(quiz)
        if not result["success"]:
            return _error(f"{step.__name__} failed for {quiz}: {(result.get('error') or result.get('log'))[-800:]}")
    console.print(f"Released {quiz}: trainees can fetch it from the Assignments tab.")
    return 0


def collect_command(course: Path, quiz: str) -> int:
    """nbgrader collect: copy the trainees' submissions from the exchange into submitted/."""
    if not _known_quiz(course, quiz):
        return _error(f"no quiz named {quiz!r}")
    result = course_api(course).collect(quiz)
    if not result["success"]:
        return _error(f"collect failed: {(result.get('error') or result.get('log'))[-800:]}")
    count = len(list((course / "submitted").glob(f"*/{quiz}")))
    console.print(f"Collected {quiz}: {count} submission(s) in {course / 'submitted'}. Next: grade {quiz}")
    for line in (result.get("log") or "").splitlines():
        if "Refused" in line:  # a submission written in another trainee's name (massage_course/grading/exchange.py)
            console.print(f"[yellow]not collected[/] {line.split('Refused', 1)[1].strip(' :')}", highlight=False)
    return 0


def zip_collect_command(course: Path, quiz: str, archives: list[str]) -> int:
    """nbgrader zip_collect: submissions downloaded from an LMS (zip files or notebooks) into submitted/."""
    if not _known_quiz(course, quiz):
        return _error(f"no quiz named {quiz!r}")
    target = course / "downloaded" / quiz / "archive"
    target.mkdir(parents=True, exist_ok=True)
    for name in archives:
        path = Path(name)
        if not path.is_file():
            return _error(f"no file {name}")
        shutil.copy(path, target / path.name)
    result = subprocess.run([sys.executable, "-m", "nbgrader", "zip_collect", quiz, "--force"], cwd=course,
                            capture_output=True, text=True)
    log = result.stdout + result.stderr
    skipped = [Path(line.rsplit(": ", 1)[-1].strip()).name for line in log.splitlines()
               if "Skipped submission" in line]
    if result.returncode != 0:
        return _error(f"zip_collect failed:\n{log[-1500:]}")
    count = len(list((course / "submitted").glob(f"*/{quiz}")))
    console.print(f"Collected from the LMS download: {count} submission(s) of {quiz} in {course / 'submitted'}.")
    for line in skipped:
        console.print(f"[yellow]skipped[/] {line} (file names must be <trainee id>_{quiz}.ipynb)", highlight=False)
    return 0


def feedback_command(course: Path, quiz: str, release: bool) -> int:
    from .feedback import write_feedback

    try:
        with Progress(transient=True) as progress:
            task = progress.add_task("Writing feedback", total=None)
            written, skipped = write_feedback(course, quiz, progress=lambda: progress.advance(task))
    except (FileNotFoundError, CourseDataError) as error:
        return _error(str(error))
    console.print(f"Feedback pages written for {len(written)} trainee(s) in {course / 'feedback'}.")
    for line in skipped:
        console.print(f"[yellow]no feedback yet[/] {line}", highlight=False)
    if release and written:
        api, released = course_api(course), 0
        for page in written:
            student = page.parent.parent.name
            if not (page.parent / "submission_secret.txt").exists():
                console.print(f"[yellow]not released[/] {student}: this submission did not come through the exchange "
                              f"(e.g. zip-collect), so share {page} another way", highlight=False)
                continue
            result = api.release_feedback(quiz, student)
            if not result["success"]:
                return _error(f"release_feedback failed for {student}: "
                              f"{(result.get('error') or result.get('log'))[-800:]}")
            released += 1
        console.print(f"Released feedback for {released} trainee(s): they fetch it from the Assignments tab.")
    return 0


def report_command(course: Path, quiz: str) -> int:
    import pandas as pd

    from .report import write_report

    try:
        summary = write_report(course, quiz)
    except (FileNotFoundError, CourseDataError) as error:
        return _error(str(error))
    items = summary["items_table"]
    table = Table(title=f"{quiz}: item analysis (KR-20 of the multiple-choice items: {summary['kr20']})")
    letters = [c for c in items.columns if c.startswith("chose_")]
    for column in ("Q", "Objectives", "Key", "Difficulty", "Discrimination", *[c[-1] for c in letters], "blank"):
        table.add_column(column)
    for _, row in items.iterrows():
        counts = ["" if pd.isna(row[c]) else str(int(row[c])) for c in letters]  # blank for written items
        table.add_row(str(row["question"]), row["objectives"], row["answer"], f"{row['difficulty']:.2f}",
                      "n/a" if pd.isna(row["discrimination"]) else f"{row['discrimination']:.2f}",
                      *counts, "" if pd.isna(row["no_answer"]) else str(int(row["no_answer"])))
    console.print(table)
    mastery = summary["objectives_table"]
    table = Table(title=f"{quiz}: mastery per learning objective (pass mark {summary['pass_mark']}%)")
    for column in ("Objective", "Items", "Cohort's share of points", "Trainees at the pass mark"):
        table.add_column(column)
    for _, row in mastery.iterrows():
        table.add_row(row["objective"], row["items"], f"{100 * row['mastery']:.0f}%",
                      f"{row['trainees_at_pass_mark']} of {row['trainees']}")
    console.print(table)
    console.print(f"{summary['trainees']} trainee(s): {summary['status']}; passed: {summary['passed']}; "
                  f"mean score {summary['mean_percent']}%.")
    console.print("Files:\n  " + "\n  ".join(summary["files"]), highlight=False)
    return 0


def demo_command(course: Path, trainees: int, seed: int) -> int:
    from .demo import write_demo

    if any((course / "submitted").glob("*/*")) and not any((course / "submitted").glob("demo*")):
        return _error(f"{course / 'submitted'} already holds real submissions: run the demo in a copy of the course")
    with Progress(transient=True) as progress:
        task = progress.add_task("Making the demo class", total=len(load_quizzes(course)))
        cohort = write_demo(course, trainees, seed, progress=lambda: progress.advance(task))
    console.print(f"A fictional class of {len(cohort)} trainees (plus one damaged file) has submitted every quiz.\n"
                  "Try: python -m massage_course grade quiz-1-hospital, then feedback and report.")
    return 0


def grade_command(quiz: str, course: Path, workers: int) -> int:
    """Grade every submission; exit 1 if any failed, so a script notices (the report says which and why)."""
    from rich.progress import Progress

    from .grade_run import grade_quiz, print_report
    from .sandbox import SandboxUnavailable

    if not (course / "source" / quiz).is_dir():
        print(f"error: no quiz named {quiz!r} in {course / 'source'}", file=sys.stderr)
        return 2
    submissions = len([p for p in (course / "submitted").glob(f"*/{quiz}") if p.is_dir()])
    with Progress(transient=True) as progress:
        task = progress.add_task(f"Grading {submissions} submission(s)", total=submissions)
        try:
            results = grade_quiz(quiz, course, workers, progress=lambda: progress.advance(task))
        except SandboxUnavailable as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    print_report(results, quiz)
    print(f"Report: {course / 'reports' / (quiz + '-grading.json')}")
    return 1 if any(r.status == "failed" for r in results) else 0
