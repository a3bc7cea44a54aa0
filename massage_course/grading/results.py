"""What the gradebook and the graded notebooks say about each trainee's quiz, item by item.

The feedback and report commands both start here: scores come from nbgrader's gradebook, the letters trainees chose
from their answer lines (read as text, never run), and the item details from the quiz's item bank.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .nbgrader_api import course_api
from .quiz_bank import Quiz, bank_folder, load_quiz, read_answer, typed_answer


@dataclass
class ItemResult:
    item_id: str
    score: float | None  # None: not graded yet (a written answer waiting for the instructor)
    points: int
    choice: str | None = None  # the letter chosen, "" for no answer, None for an unreadable answer cell
    comment: str = ""  # the instructor's comment on a written answer
    typed: str | None = None  # what the trainee typed between the quotes when it is not a letter ("Explain")


@dataclass
class TraineeResult:
    student: str
    status: str  # graded | needs_manual_grading | failed (from the grade command's report)
    score: float | None
    max_score: float
    items: dict[str, ItemResult] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def percent(self) -> float | None:
        return None if self.score is None else 100 * self.score / self.max_score

    def passed(self, quiz: Quiz) -> bool | None:
        """Pass or not against the quiz's pass mark; None while anything waits for hand grading or grading failed."""
        if self.status != "graded" or self.score is None:
            return None
        return self.percent >= quiz.pass_mark - 1e-9


def grading_report(course: Path, quiz_id: str) -> dict[str, dict]:
    path = Path(course) / "reports" / f"{quiz_id}-grading.json"
    if not path.exists():
        raise FileNotFoundError(f"No grading report at {path}: run the grade command for {quiz_id} first.")
    return {row["student"]: row for row in json.loads(path.read_text())}


def load_results(course: str | Path, quiz_id: str) -> tuple[Quiz, list[TraineeResult]]:
    """Every trainee the grade command saw, with item scores and choices for those whose grading succeeded."""
    course = Path(course).resolve()
    quiz = load_quiz(bank_folder(course) / f"{quiz_id}.yaml")
    report = grading_report(course, quiz_id)
    notebook_id = quiz.notebook.removesuffix(".ipynb")
    results = []
    with course_api(course).gradebook as gradebook:
        for student, row in sorted(report.items()):
            result = TraineeResult(student, row["status"], None, quiz.max_score, problems=list(row["problems"]))
            results.append(result)
            if row["status"] == "failed":
                continue
            submission = gradebook.find_submission_notebook(notebook_id, quiz_id, student)
            grades = {grade.name: grade for grade in submission.grades}
            comments = {comment.name: comment for comment in submission.comments}
            graded = nbformat.read(course / "autograded" / student / quiz_id / quiz.notebook, as_version=4)
            lines = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell.source for cell in graded.cells}
            for item in quiz.items:
                name = f"{item.id}-check" if item.kind == "choice" else f"{item.id}-task"
                grade = grades[name]
                comment = comments.get(name)
                result.items[item.id] = ItemResult(
                    item.id, grade.score if (grade.manual_score is not None or grade.auto_score is not None) else None,
                    item.points,
                    choice=read_answer(lines.get(f"{item.id}-answer", ""), item.letters) if item.kind == "choice"
                    else None,
                    comment=(comment.comment or "") if comment else "",
                    typed=typed_answer(lines.get(f"{item.id}-answer", "")) if item.kind == "choice" else None)
            result.score = submission.score
            if row["status"] == "needs_manual_grading" and not submission.needs_manual_grade \
                    and not any("by hand" in p for p in row["problems"]):
                result.status = "graded"  # the instructor has graded the written answers since the grade command ran
    return quiz, results
