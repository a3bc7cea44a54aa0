"""Grading tools around nbgrader: safe feedback, validation that works, and the course's nbgrader API.

nbgrader's feedback shows hidden tests, and with them the answer key (nbgrader #917, #1363), and its ``validate``
command exits 0 when tests fail (#1908). This module closes both holes the nbgrader way: a preprocessor for feedback,
and a validation function that returns a result to assert on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme, GetGrades

from ..paths import COURSE_ROOT


class HideTestDetails(ClearHiddenTests):
    """Feedback step: remove hidden tests from every grade cell and cut error tracebacks down to their message.

    A traceback quotes the failing assertion line, which holds the right answer, so only ``Error: message`` stays.
    Test messages are written for the trainee ("That is not the best answer...") and never name the answer.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.cell_type == "code" and utils.is_grade(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


FEEDBACK_PREPROCESSORS = [GetGrades, CSSHTMLHeaderPreprocessor, HideTestDetails, ClearMarkScheme]


@dataclass(frozen=True)
class ValidationResult:
    passed: bool
    report: str


def validate_notebook(path: str | Path) -> ValidationResult:
    """Run a notebook's tests like a trainee's "Validate" button, and say whether they all passed."""
    from nbgrader.validator import Validator

    if not Path(path).is_file():
        raise FileNotFoundError(f"No notebook to validate at {path}")
    validator = Validator()
    results = validator.validate(str(path))
    problems = {kind: results.get(kind, []) for kind in ("failed", "changed", "type_changed")}
    if not any(problems.values()):
        return ValidationResult(passed=True, report="Success: all tests passed.")
    details = ", ".join(f"{len(cells)} {kind.replace('_', ' ')}" for kind, cells in problems.items() if cells)
    return ValidationResult(passed=False, report=f"VALIDATION FAILED: {details} cell(s).")


def course_api(course_root: str | Path = COURSE_ROOT, db_url: str | None = None):
    """nbgrader's own API for a course folder, configured from its nbgrader_config.py (for tools and tests)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    course_root = Path(course_root).resolve()
    config = Config()
    config_file = course_root / "nbgrader_config.py"
    if config_file.exists():
        config.merge(PyFileConfigLoader(config_file.name, path=str(course_root)).load_config())
    config.CourseDirectory.root = str(course_root)
    if db_url:
        config.CourseDirectory.db_url = db_url
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
