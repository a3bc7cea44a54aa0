"""The anonymous course evaluation: its statements and questions (``data/evaluation.yaml``) and what a response may
hold. A response carries ratings and free text only, never a name; the same check guards the form that writes a
response and the export that reads one (a trainee may hand-write the file, so the export trusts nothing in it)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .data_files import CourseDataError, load_yaml, require

MAX_TEXT = 2000  # characters per free-text answer: a paragraph or two, and a bound on what one file can hold


@dataclass(frozen=True)
class Evaluation:
    scale: tuple[str, ...]
    statements: tuple[tuple[str, str], ...]  # (id, text)
    questions: tuple[tuple[str, str], ...]

    @property
    def columns(self) -> list[str]:
        return [key for key, _ in self.statements] + [key for key, _ in self.questions]


@lru_cache(maxsize=None)
def evaluation() -> Evaluation:
    data = load_yaml("evaluation.yaml")
    where = "massage_course/data/evaluation.yaml"
    require(isinstance(data, dict) and {"scale", "statements", "questions"} <= set(data), where,
            "needs 'scale', 'statements' and 'questions'")
    pairs = lambda entries: tuple((entry["id"], entry["text"]) for entry in entries)  # noqa: E731
    found = Evaluation(tuple(data["scale"]), pairs(data["statements"]), pairs(data["questions"]))
    require(len(set(found.columns)) == len(found.columns), where, "ids must be unique")
    return found


def check_response(response: object) -> dict:
    """The response as the export keeps it: each statement rated 1..len(scale) or left out (None), each question's
    text (at most MAX_TEXT characters) or empty. Anything else, or any other key (a name, a date), is refused."""
    form = evaluation()
    if not isinstance(response, dict):
        raise CourseDataError("an evaluation is a set of answers")
    unknown = set(response) - set(form.columns)
    if unknown:
        raise CourseDataError(f"an evaluation holds only the form's answers, not {sorted(unknown)}")
    clean = {}
    for key, _ in form.statements:
        rating = response.get(key)
        if rating is not None and (not isinstance(rating, int) or isinstance(rating, bool)
                                   or not 1 <= rating <= len(form.scale)):
            raise CourseDataError(f"'{key}' must be a rating from 1 to {len(form.scale)}")
        clean[key] = rating
    for key, _ in form.questions:
        text = response.get(key) or ""
        if not isinstance(text, str) or len(text) > MAX_TEXT:
            raise CourseDataError(f"'{key}' must be text of at most {MAX_TEXT} characters")
        clean[key] = text.strip()
    if all(clean[key] in (None, "") for key in form.columns):
        raise CourseDataError("the evaluation is empty")
    return clean


DROP_BOX = "course-evaluations"  # the folder in nbgrader's exchange where responses wait for the export
