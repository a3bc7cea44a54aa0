"""Chapter self-checks: multiple-choice questions kept in data files and shown as a clickable quiz.

Self-checks are for practice: their answers are visible in the page source, so a graded question must never be
written here (graded questions live in the nbgrader course under ``assignments/``).
"""

from __future__ import annotations

from ..topics.data_files import CourseDataError, load_yaml, require
from .widgets import show_quiz


def load_self_check(chapter: str) -> dict:
    """Read ``data/self_checks/<chapter>.yaml`` and check it: every question has 2+ options, exactly one correct,
    and feedback on every option (a trainee who picks wrong is told why)."""
    relative = f"self_checks/{chapter}.yaml"
    raw = load_yaml(relative)
    where = f"massage_course/data/{relative}"
    require(isinstance(raw, dict) and raw.get("chapter") == chapter, where, f"'chapter' must be {chapter!r}")
    questions = raw.get("questions") or []
    require(len(questions) >= 1, where, "needs at least one question")
    for number, question in enumerate(questions, start=1):
        q_where = f"{where}, question {number}"
        require(bool(question.get("question")), q_where, "the question text is missing")
        options = question.get("options") or []
        require(len(options) >= 2, q_where, "needs at least two options")
        objective = question.get("objective")
        require(objective is None or (isinstance(objective, int) and objective >= 1), q_where,
                "'objective' must be the number of a learning objective of the chapter")
        require(sum(1 for o in options if o.get("correct") is True) == 1, q_where, "needs exactly one correct option")
        for option in options:
            require(bool(option.get("text")) and bool(option.get("feedback")), q_where, "every option needs text and feedback")
    return raw


def shown_options(question: dict, number: int) -> list[dict]:
    """The options in the order the page shows them: turned round (the others keep their order) so that the right
    answer of question ``number`` (0-based) sits at position ``number`` modulo the option count. Over a chapter the
    right answer then moves through every position, whatever order the data file lists them in, and a trainee cannot
    guess it from its place; the order is the same at every build."""
    options = question["options"]
    right = next(i for i, option in enumerate(options) if option["correct"] is True)
    shift = (right - number) % len(options)
    return options[shift:] + options[:shift]


def as_jupyterquiz(self_check: dict) -> list[dict]:
    """Convert a self-check to the question list that jupyterquiz renders."""
    return [
        {
            "question": question["question"],
            "type": "multiple_choice",
            "answers": [
                {"answer": option["text"], "correct": option["correct"] is True, "feedback": option["feedback"]}
                for option in shown_options(question, number)
            ],
        }
        for number, question in enumerate(self_check["questions"])
    ]


def show_self_check(chapter: str) -> None:
    """Display the chapter's self-check (in a notebook, or in the built book, where it works without a kernel)."""
    show_quiz(as_jupyterquiz(load_self_check(chapter)))


__all__ = ["load_self_check", "as_jupyterquiz", "show_self_check", "CourseDataError"]
