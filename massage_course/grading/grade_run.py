"""The instructor's `grade` command: autograde every submission of a quiz, safely and in parallel, and say for each
trainee whether it was graded, waits for hand grading, or failed, and why.

nbgrader does the grading, in the sandboxed kernel (``sandbox.py``); this module adds what it lacks: an integrity check
of each notebook before grading, parallel worker processes (``grade_workers.py``) in which a trainee whose grading
crashes or hangs fails alone, caps on memory, processes and time (``limits.py``: a submission stopped by one scores 0
and is flagged with the reason), a cross-check of every multiple-choice score against the answer line read as text
(an answer that is computed rather than typed scores 0 and is flagged), and a report in which a failure is a failure,
never a silent zero.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

# jsonschema's optional IRI format check (rfc3987-syntax, installed for Jupyter's event schemas) builds a parser grammar
# when imported: 1.9 s of CPU in every grading process. Notebook and nbgrader schemas use no IRI format, so skip it.
sys.modules.setdefault("rfc3987_syntax", None)

import nbformat  # noqa: E402
from nbgrader.api import MissingEntry  # noqa: E402

from ..paths import COURSE_ROOT  # noqa: E402
from . import limits, sandbox  # noqa: E402
from .grade_workers import run_workers  # noqa: E402
from .nbgrader_api import course_api  # noqa: E402
from .quiz_bank import WRITTEN_STUB, Quiz, bank_folder, load_quiz, read_answer, typed_answer  # noqa: E402


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


# --- after nbgrader: the answer lines, read without running them --------------------------------------------------

def cross_check(nb, quiz: Quiz, grades: dict[str, float | None]) -> tuple[list[str], dict[str, float]]:
    """Compare nbgrader's score of each choice item with the trainee's answer line read as text.

    The check cells run in the trainee's kernel, where a trainee's code could patch them; the answer line cannot lie.
    Only a typed letter counts (``answer = "c"``, or the tolerated ``answer = c`` and ``answer = "C "``): an answer
    cell that computes its letter (``"ABCD"[2]``, ``chr(67)``, reading a file) scores 0, whatever it evaluates to,
    and is flagged for hand review. Returns (problems, corrected scores {grade_id: score}).
    """
    problems, corrected = [], {}
    answers = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell.source for cell in nb.cells}
    for item in quiz.items:
        if item.kind != "choice":
            continue
        number = quiz.number(item)
        letter = read_answer(answers.get(f"{item.id}-answer", ""), item.letters)
        scored = grades.get(f"{item.id}-check")
        typed = typed_answer(answers.get(f"{item.id}-answer", "")) if letter is None else None
        if typed is not None:  # a word, not a letter: a wrong answer the trainee can understand, not a hand task
            problems.append(f"question {number}: {typed!r} is not one of {', '.join(item.letters)}: scored 0")
            corrected[f"{item.id}-check"] = 0.0
            continue
        if letter is None:
            problems.append(f"question {number}: the answer cell does not simply state a letter "
                            '(answer = "x"): it computes or adds to its answer, so it scored 0 whatever it gives; '
                            "check it by hand")
            corrected[f"{item.id}-check"] = 0.0
            continue
        expected = float(letter == item.answer)
        if scored is not None and scored != expected:
            problems.append(f"question {number}: the notebook's check gave {scored:g} but the answer line says "
                            f"{letter or 'nothing'!r}: scored {expected:g} from the answer line (was the check "
                            "tampered with?)")
            corrected[f"{item.id}-check"] = expected
    return problems, corrected


def _unchecked(gradebook, quiz: str, bank: Quiz, result: GradingResult, error: Exception) -> None:
    """The answer lines could not be read against nbgrader's scores (a graded notebook cut short or not a notebook, a
    cell the check cannot read, no gradebook entry): the submission fails, and in the gradebook its multiple-choice
    scores count 0 and wait for the instructor, so nothing exported credits what was never checked."""
    gradebook.db.rollback()
    try:
        notebook = gradebook.find_submission_notebook(bank.notebook.removesuffix(".ipynb"), quiz, result.student)
        for grade in notebook.grades:
            if grade.name.endswith("-check"):
                grade.manual_score, grade.needs_manual_grade = 0.0, True
        gradebook.db.commit()
    except MissingEntry:
        pass
    result.status, result.score = "failed", None
    result.problems.append(f"the answer lines could not be checked against nbgrader's scores ({type(error).__name__}: "
                           f"{str(error)[:200]}), so none of its multiple-choice answers is credited: grade this "
                           "trainee again, or by hand")


# Error outputs that mean a resource limit stopped the trainee's code (without control groups, a cap is a limit).
_CAP_ERRORS = {"MemoryError": "memory", "BlockingIOError": "processes"}


def stopped_in_outputs(nb, caps: limits.Caps) -> list[str]:
    """The caps a notebook's own error outputs show it ran into (a trainee can only flag their own work this way)."""
    hit = {_CAP_ERRORS[out.get("ename")] for cell in nb.cells for out in cell.get("outputs", [])
           if out.get("output_type") == "error" and out.get("ename") in _CAP_ERRORS}
    return [f"stopped at {caps.words(name)}: the notebook's code asked for more than a quiz needs" for name in sorted(hit)]


def _sandbox_or_consent(unsandboxed_at_my_own_risk: bool) -> bool:
    """True to grade in the sandbox; False (with a warning) to grade without it, only if the instructor said so."""
    try:
        sandbox.check_available()
        return True
    except sandbox.SandboxUnavailable as error:
        if not unsandboxed_at_my_own_risk:
            raise
        print(f"warning: grading WITHOUT the sandbox, at the instructor's own risk: {error}", file=sys.stderr)
        return False


def grade_quiz(quiz: str, course: Path = COURSE_ROOT, workers: int = 2, progress=None,
               unsandboxed_at_my_own_risk: bool = False) -> list[GradingResult]:
    """Check and autograde every submission in ``course/submitted/*/quiz/``; write reports/<quiz>-grading.json.

    Raises SandboxUnavailable, saying what to do, when this machine cannot run trainee code with every defence of the
    sandbox, unless ``unsandboxed_at_my_own_risk`` (or MASSAGE_COURSE_UNSANDBOXED=at-my-own-risk) says to go on."""
    course = Path(course).resolve()
    source = course / "source" / quiz
    if not source.is_dir():
        raise FileNotFoundError(f"no quiz named {quiz!r} in {course / 'source'}")
    bank = load_quiz(bank_folder(course) / f"{quiz}.yaml")
    try:
        caps = limits.Caps.from_environment()
    except ValueError as error:
        raise sandbox.SandboxUnavailable(f"a grading cap is misconfigured: {error}") from None
    sandbox.install_kernelspec()
    consent = unsandboxed_at_my_own_risk or os.environ.get(sandbox.UNSANDBOXED_ENV) == sandbox.UNSANDBOXED_VALUE
    saved = os.environ.pop(sandbox.UNSANDBOXED_ENV, None)  # the workers' kernels read it
    if not _sandbox_or_consent(consent):
        os.environ[sandbox.UNSANDBOXED_ENV] = sandbox.UNSANDBOXED_VALUE
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
    try:
        with open(reports / f"{quiz}-grading.log", "w") as log:
            outcomes = run_workers(course, quiz, to_grade, workers, caps, log, progress)
    finally:
        os.environ.pop(sandbox.UNSANDBOXED_ENV, None)
        if saved is not None:
            os.environ[sandbox.UNSANDBOXED_ENV] = saved
    capped = {}
    for student in to_grade:
        ok, message, capped[student] = outcomes.get(student, (False, "not graded: the grading process ended before "
                                                                     "this trainee (see the grading log)", []))
        if not ok and not capped[student]:
            results[student].status = "failed"
            results[student].problems.append(f"autograding failed: {message}")
    api = course_api(course)
    with api.gradebook as gradebook:
        for result in results.values():
            if result.status == "failed":
                continue
            if capped.get(result.student):
                _score_capped(gradebook, quiz, bank, result, capped[result.student])
                continue
            try:
                notebook = gradebook.find_submission_notebook(bank.notebook.removesuffix(".ipynb"), quiz,
                                                              result.student)
                graded_nb = nbformat.read(course / "autograded" / result.student / quiz / bank.notebook, as_version=4)
                grades = {grade.name: grade.score for grade in notebook.grades}
                problems, corrected = cross_check(graded_nb, bank, grades)
            except Exception as error:  # whatever stops the check fails closed: nbgrader's scores stay unchecked
                _unchecked(gradebook, quiz, bank, result, error)
                continue
            capped[result.student] = capped.get(result.student) or stopped_in_outputs(graded_nb, caps)
            for grade in notebook.grades:
                if grade.name in corrected:
                    grade.manual_score = corrected[grade.name]
            gradebook.db.commit()
            result.problems += problems
            if capped[result.student]:
                _score_capped(gradebook, quiz, bank, result, capped[result.student])
                continue
            submission = gradebook.find_submission(quiz, result.student)
            result.score, result.max_score = submission.score, submission.max_score
            if submission.needs_manual_grade or any("by hand" in p for p in problems):
                result.status = "needs_manual_grading"
    ordered = [results[s] for s in sorted(results)]
    (reports / f"{quiz}-grading.json").write_text(json.dumps([asdict(r) for r in ordered], indent=2))
    return ordered


def _score_capped(gradebook, quiz: str, bank: Quiz, result: GradingResult, reasons: list[str]) -> None:
    """A submission stopped by a cap scores 0 (in the gradebook too, where nbgrader recorded grades) and is flagged."""
    try:
        notebook = gradebook.find_submission_notebook(bank.notebook.removesuffix(".ipynb"), quiz, result.student)
        for grade in notebook.grades:
            grade.manual_score = 0.0
        gradebook.db.commit()
    except MissingEntry:
        pass
    result.status, result.score, result.max_score = "needs_manual_grading", 0.0, float(bank.max_score)
    result.problems += [f"{reason}; scored 0: look at the trainee's code cells (grade by hand if the cap was "
                        "wrong for this quiz)" for reason in reasons]


def print_report(results: list[GradingResult], quiz: str, console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    from .trainee_text import printable

    console = console or Console()
    table = Table(title=f"Grading of {quiz}")
    for column in ("Trainee", "Status", "Score", "Problems"):
        table.add_column(column)
    style = {"graded": "green", "needs_manual_grading": "yellow", "failed": "bold red"}
    for r in results:
        score = "-" if r.score is None else f"{r.score:g} / {r.max_score:g}"
        table.add_row(printable(r.student, one_line=True), f"[{style[r.status]}]{r.status}[/]", score,
                      "\n".join(printable(p, one_line=True) for p in r.problems))
    console.print(table)
    counts = Counter(r.status for r in results)
    console.print(", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no submissions found")

