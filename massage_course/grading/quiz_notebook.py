"""A quiz's nbgrader source notebook, generated from its item bank (quiz_bank.py): the instructions, each question
with its answer line and check cell, the written answers as hand-graded tasks, the key only as digests."""

from __future__ import annotations

from pathlib import Path

import nbformat

from .quiz_bank import WRITTEN_STUB, Quiz, answer_digest, chapters, where_to_read


def _cell(kind: str, source: str, grade_id: str, *, solution=False, grade=False, locked=True, task=False, points=None,
          extra: dict | None = None):
    meta = {"nbgrader": {"schema_version": 3, "solution": solution, "grade": grade, "locked": locked, "task": task,
                         "grade_id": grade_id}}
    if points is not None:
        meta["nbgrader"]["points"] = points
    meta.update(extra or {})
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    cell = make(source, metadata=meta)
    cell["id"] = grade_id  # a fixed id (nbformat would pick a random one) keeps the generated file reproducible
    if not (locked or solution or grade or task):
        del cell.metadata["nbgrader"]  # the trainee's own cell: nbgrader has no part in it
    return cell


def _intro(quiz: Quiz) -> str:
    choice = [i for i in quiz.items if i.kind == "choice"]
    written = [i for i in quiz.items if i.kind == "written"]
    names = "; ".join(f"Chapter {chapters()[s].number}, *{chapters()[s].title}*" for s in quiz.chapters)
    covers = "every chapter of the course" if quiz.final else names
    return f"""# {quiz.title}
{_final_rules(quiz)}
This quiz covers {covers}. It has {len(choice)} multiple-choice questions (1 point each) and {len(written)} written
{"answer" if len(written) == 1 else "answers"} graded by your instructor, {quiz.max_score} points in all. The pass mark
is {quiz.pass_mark}% ({_points_needed(quiz)} of {quiz.max_score} points).

**Start here.** Run the next cell (click it, then press **Shift+Enter**). It loads the checks.

**How to answer a multiple-choice question.** Under each question there is one line:

```python
answer = ""  # type the letter of your choice between the quotes
```

Type the letter of your choice between the quotes, for example `answer = "c"`, then press **Shift+Enter** to run the
cell, and run the check cell below it. The check tells you only whether you typed one of the letters, not whether it
is right: your instructor's grading does that after you submit.

**How to answer a written question.** Double-click the cell that says *{WRITTEN_STUB}*, replace that text with your
answer, and press **Shift+Enter**.

When you are done, save the notebook, then use **Validate** and **Submit** in the *Assignments* tab.
"""


def _final_rules(quiz: Quiz) -> str:
    """What a trainee must know before starting the final test: attempts, and the time to set aside."""
    if not quiz.final and quiz.attempts is None:
        return ""
    attempts = ("one attempt: only your first submission is graded, so submit when you are done"
                if quiz.attempts == 1 else f"{quiz.attempts} attempts: your last submission within them is graded")
    timing = (f" Set aside {quiz.time_limit_minutes} minutes; work without breaks." if quiz.time_limit_minutes else "")
    return f"""
**{"This is the course's final post-test. " if quiz.final else ""}You have {attempts}.** A later submission is kept
but not graded.{timing} Passing it, with your quizzes, completes the course and gives you its certificate.
"""


def _points_needed(quiz: Quiz) -> float:
    needed = quiz.max_score * quiz.pass_mark / 100
    return int(needed) if needed == int(needed) else round(needed, 1)


def build_notebook(quiz: Quiz):
    """The quiz as an nbgrader source notebook: answers in solution regions, checks as digests in hidden tests."""
    cells = [
        _cell("markdown", _intro(quiz), "instructions"),
        _cell("code", "# Loads the answer checks. It also lets you write answer = b as well as answer = \"b\".\n"
                      "from massage_course.grading.quiz_checks import a, b, c, d, e, take_answer", "setup"),
    ]
    for number, item in enumerate(quiz.items, start=1):
        source = f"*Read: {where_to_read(item)}.*"
        if item.kind == "choice":
            options = "\n".join(f"- **{letter}.** {text}" for letter, text in sorted(item.choices.items()))
            cells.append(_cell("markdown", f"## Question {number}\n\n{item.stem.strip()}\n\n{options}\n\n{source}",
                               f"{item.id}-question"))
            cells.append(_cell("code", f'### BEGIN SOLUTION\nanswer = "{item.answer}"\n### END SOLUTION',
                               f"{item.id}-answer", solution=True, locked=False))
            letters = item.letters
            digest = answer_digest(quiz.id, item.id, item.answer)
            cells.append(_cell(
                "code",
                f"# Question {number}: checks that your answer is one of the letters {', '.join(letters)} (the "
                f"grading check is hidden).\n"
                f"from massage_course.grading.quiz_checks import take_answer, assert_choice\n"
                f'answer_given = take_answer(globals(), "{letters}", question={number})\n'
                f"### BEGIN HIDDEN TESTS\n"
                f'assert_choice(answer_given, "{quiz.id}/{item.id}", "{digest}")\n'
                f"### END HIDDEN TESTS",
                f"{item.id}-check", grade=True, points=1))
        else:
            rubric = "\n".join(f"- {r['points']} point{'s' if r['points'] > 1 else ''}: {r['criterion']}"
                               for r in item.rubric)
            cells.append(_cell(
                "markdown",
                f"## Question {number} (written answer, {item.points} points)\n\n{item.stem.strip()}\n\n{source}\n\n"
                f"Write your answer in the cell below. Your instructor grades it by hand.\n\n"
                f"### BEGIN MARK SCHEME\n**Rubric ({item.points} points)**\n\n{rubric}\n\n"
                f"**Model answer.** {item.model_answer.strip()}\n### END MARK SCHEME",
                f"{item.id}-task", task=True, points=item.points))
            # nbgrader allows no hand-graded answer cell beside a task cell, so the answer is an ordinary cell that
            # the grade command finds by its id and metadata (``written_answer_for``)
            cells.append(_cell("markdown", WRITTEN_STUB, f"{item.id}-written", locked=False,
                               extra={"massage_course": {"written_answer_for": item.id}}))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    return nb


def write_source(quiz: Quiz, course_root: str | Path) -> Path:
    """Write ``source/<quiz>/<quiz>.ipynb`` from the bank (the notebook is generated: edit the bank, not it)."""
    target = Path(course_root) / "source" / quiz.id / quiz.notebook
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(build_notebook(quiz), target)
    return target
