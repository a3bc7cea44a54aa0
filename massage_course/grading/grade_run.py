"""The instructor's `grade` command: autograde every submission of a quiz, safely and in parallel, and say for each
trainee whether it was graded, waits for hand grading, or failed, and why.

nbgrader does the grading, in the sandboxed kernel (``sandbox.py``); this module adds what it lacks: an integrity check
of each notebook before grading, parallel worker processes in which a trainee whose grading crashes or hangs fails
alone, a cross-check of every multiple-choice score against the answer line read as text, and a report in which a
failure is a failure, never a silent zero.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
import types
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

# jsonschema's optional IRI format check (rfc3987-syntax, installed for Jupyter's event schemas) builds a parser grammar
# when imported: 1.9 s of CPU in every grading process. Notebook and nbgrader schemas use no IRI format, so skip it.
sys.modules.setdefault("rfc3987_syntax", None)

import nbformat  # noqa: E402
from nbgrader.api import MissingEntry  # noqa: E402

from ..paths import COURSE_ROOT  # noqa: E402
from . import sandbox  # noqa: E402
from .nbgrader_api import course_api  # noqa: E402
from .quiz_bank import WRITTEN_STUB, Quiz, bank_folder, load_quiz, read_answer  # noqa: E402


@dataclass
class GradingResult:
    student: str
    status: str = "graded"  # "graded" | "needs_manual_grading" | "failed"
    score: float | None = None
    max_score: float | None = None
    problems: list[str] = field(default_factory=list)


def _grade_cells(nb) -> list[tuple[str, str]]:
    """The cells nbgrader grades or restores: (grade_id, cell_type) of answer, check and task cells."""
    found = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade_id") and (meta.get("grade") or meta.get("solution") or meta.get("task")):
            found.append((meta["grade_id"], cell.cell_type))
    return found


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
            if grade_id.endswith("-answer"):  # nbgrader restores graded cells, not the trainee's answer line
                notes.append(f"the answer cell {grade_id!r} was deleted, so that question has no answer")
            else:
                notes.append(f"the deleted cell {grade_id!r} was restored from the quiz before grading")
        written = {cell.metadata["massage_course"]["written_answer_for"]: cell.source for cell in nb.cells
                   if isinstance(cell.get("metadata", {}).get("massage_course"), dict)
                   and "written_answer_for" in cell.metadata["massage_course"]}
        for grade_id in expected:
            if grade_id.endswith("-task"):
                item = grade_id.removesuffix("-task")
                if item not in written:
                    notes.append(f"the answer cell of the written question {item!r} was deleted: look for the "
                                 "answer elsewhere in the notebook when grading it by hand")
                elif written[item].strip() in ("", WRITTEN_STUB):
                    notes.append(f"the written question {item!r} was left blank")
    return fatal, notes


# What nbgrader's log says, in words an instructor can act on (first match wins).
KNOWN_FAILURES = (
    ("CellTimeoutError", "a cell did not finish in time and could not be interrupted (for example an endless loop "
                         "that ignores interruption); look at the trainee's code cells"),
    ("UnresponsiveKernelError", "the notebook's kernel stopped responding while grading"),
    ("NotJSONError", "the notebook file is not valid"),
    ("SandboxUnavailable", "the grading sandbox could not start (see the grading log)"),
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


# --- workers: a few long-lived processes, each grading one trainee at a time through nbgrader's API ------------------
#
# Starting nbgrader costs about 2 s and one trainee about 1 s, so a process per trainee triples the time. A worker
# grades trainee after trainee; if it dies or a trainee takes longer than the time limit, only that trainee fails and
# a fresh worker takes the rest of the queue.

def _check_cell_schemas_once() -> None:
    """nbgrader checks each cell's metadata with ``jsonschema.validate``, which re-checks the schema itself on every
    call: a third of a worker's time per trainee. Check each schema once and reuse its validator (same verdicts)."""
    import jsonschema
    from nbgrader.nbgraderformat import common

    validators = {}

    def validate(instance, schema):
        key = json.dumps(schema, sort_keys=True)  # nbgrader reads the schema file again for every notebook
        if key not in validators:
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            validators[key] = cls(schema)
        error = jsonschema.exceptions.best_match(validators[key].iter_errors(instance))
        if error is not None:
            raise error

    common.jsonschema = types.SimpleNamespace(validate=validate)


def _one_engine_per_database() -> None:
    """nbgrader opens a new SQLAlchemy engine for each of the nine gradebook connections one trainee takes, and so
    loses the engine's cache of compiled SQL every time. A worker keeps one engine per database URL (closing a
    gradebook still ends its session and connections; SQLAlchemy re-opens them from the pool)."""
    import functools

    from nbgrader import api as nbgrader_api

    nbgrader_api.create_engine = functools.lru_cache(maxsize=None)(nbgrader_api.create_engine)


def worker_main(course: str, quiz: str) -> None:
    """Read trainee ids on stdin, autograde each with nbgrader, answer one JSON line per trainee on stdout."""
    import logging

    logging.disable(logging.WARNING)  # nbgrader's checksum warnings on every honest submission (#1961) say nothing
    # Kernels inherit this process's stdout and print banners there: keep the answers on a stdout of their own and
    # send everything else written to file descriptor 1 to the grading log.
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    _check_cell_schemas_once()
    _one_engine_per_database()
    api = course_api(course)
    for line in sys.stdin:
        student = line.strip()
        try:
            result = api.autograde(quiz, student, force=True, create=True)
            ok, message = bool(result["success"]), "" if result["success"] else _last_error(
                (result.get("log") or "") + "\n" + (result.get("error") or ""))
        except Exception as error:  # anything nbgrader raises is that trainee's failure, not the run's
            ok, message = False, f"{type(error).__name__}: {error}"[:300]
        print(json.dumps({"student": student, "ok": ok, "message": message}), file=answers, flush=True)


class _Worker:
    def __init__(self, course: Path, quiz: str, log):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "massage_course.grading.grade_run", "--worker", str(course), quiz],
            cwd=course, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1)

    def grade(self, student: str, timeout: float) -> tuple[bool, str]:
        try:
            self.process.stdin.write(student + "\n")
            self.process.stdin.flush()
        except OSError:
            return False, "the grading process stopped unexpectedly"
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            self.stop()
            if not ready:
                return False, f"grading did not finish within {timeout:.0f} seconds"
            return False, "the grading process stopped unexpectedly (see the grading log)"
        try:
            answer = json.loads(line)
            return answer["ok"], answer["message"]
        except (ValueError, KeyError):
            self.stop()
            return False, f"the grading process gave an answer that could not be read: {line.strip()[:200]!r}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.stop()


def _run_workers(course: Path, quiz: str, students: list[str], workers: int, timeout: float, log,
                 progress=None) -> dict[str, tuple[bool, str]]:
    queue, outcomes, lock = list(students), {}, threading.Lock()

    def work():
        worker = None
        while True:
            with lock:
                if not queue:
                    break
                student = queue.pop(0)
            if worker is None or worker.process.poll() is not None:
                worker = _Worker(course, quiz, log)
            outcome = worker.grade(student, timeout)
            with lock:
                outcomes[student] = outcome
            if progress:
                progress()
        if worker is not None:
            worker.close()

    threads = [threading.Thread(target=work) for _ in range(max(1, min(workers, len(students))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


# --- after nbgrader: the answer lines, read without running them --------------------------------------------------

def cross_check(nb, quiz: Quiz, grades: dict[str, float | None]) -> tuple[list[str], dict[str, float]]:
    """Compare nbgrader's score of each choice item with the trainee's answer line read as text.

    The check cells run in the trainee's kernel, where a trainee's code could patch them; the answer line cannot lie.
    Returns (problems, corrected scores {grade_id: score}) for items where the two disagree.
    """
    problems, corrected = [], {}
    answers = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell.source for cell in nb.cells}
    for item in quiz.items:
        if item.kind != "choice":
            continue
        number = quiz.number(item)
        letter = read_answer(answers.get(f"{item.id}-answer", ""), item.letters)
        if letter is None:
            problems.append(f"question {number}: the answer cell holds more than one answer line; check it by hand")
            continue
        expected = float(letter == item.answer)
        scored = grades.get(f"{item.id}-check")
        if scored is not None and scored != expected:
            problems.append(f"question {number}: the notebook's check gave {scored:g} but the answer line says "
                            f"{letter or 'nothing'!r}: scored {expected:g} from the answer line (was the check "
                            "tampered with?)")
            corrected[f"{item.id}-check"] = expected
    return problems, corrected


def grade_quiz(quiz: str, course: Path = COURSE_ROOT, workers: int = 2, timeout: float = 300,
               progress=None) -> list[GradingResult]:
    """Check and autograde every submission in ``course/submitted/*/quiz/``; write reports/<quiz>-grading.json."""
    course = Path(course).resolve()
    source = course / "source" / quiz
    if not source.is_dir():
        raise FileNotFoundError(f"no quiz named {quiz!r} in {course / 'source'}")
    bank = load_quiz(bank_folder(course) / f"{quiz}.yaml")
    sandbox.install_kernelspec()
    sandbox.check_available()
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
    reports = course / "reports"
    reports.mkdir(exist_ok=True)
    with open(reports / f"{quiz}-grading.log", "w") as log:
        outcomes = _run_workers(course, quiz, to_grade, workers, timeout, log, progress)
    for student in to_grade:
        ok, message = outcomes.get(student, (False, "not graded: the grading process ended before this trainee "
                                                    "(see the grading log)"))
        if not ok:
            results[student].status = "failed"
            results[student].problems.append(f"autograding failed: {message}")
    api = course_api(course)
    with api.gradebook as gradebook:
        for result in results.values():
            if result.status == "failed":
                continue
            try:
                notebook = gradebook.find_submission_notebook(bank.notebook.removesuffix(".ipynb"), quiz,
                                                              result.student)
                graded_nb = nbformat.read(course / "autograded" / result.student / quiz / bank.notebook, as_version=4)
            except (MissingEntry, OSError, ValueError) as error:
                result.status = "failed"
                result.problems.append(f"nbgrader reported success but its result cannot be read ({error}); "
                                       "grade this trainee again")
                continue
            grades = {grade.name: grade.score for grade in notebook.grades}
            problems, corrected = cross_check(graded_nb, bank, grades)
            for grade in notebook.grades:
                if grade.name in corrected:
                    grade.manual_score = corrected[grade.name]
            gradebook.db.commit()
            result.problems += problems
            submission = gradebook.find_submission(quiz, result.student)
            result.score, result.max_score = submission.score, submission.max_score
            if submission.needs_manual_grade or any("by hand" in p for p in problems):
                result.status = "needs_manual_grading"
    ordered = [results[s] for s in sorted(results)]
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


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"] and len(sys.argv) == 4:
        worker_main(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit("usage: python -m massage_course.grading.grade_run --worker COURSE QUIZ (used by the grade command)")
