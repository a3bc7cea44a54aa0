"""Checks that trainees see in graded quizzes: they test the *form* of an answer, never whether it is right."""

from __future__ import annotations

import hashlib

# A trainee who types answer = b instead of answer = "b" means the same letter: these names make it so.
a, b, c, d, e = "abcde"


class AnswerProblem(AssertionError):
    """A problem with the form of an answer. Jupyter shows it as the one plain sentence it holds (IPython calls
    ``_render_traceback_`` instead of printing a traceback), and so does nbgrader's Validate."""

    def _render_traceback_(self) -> list[str]:
        return [str(self)]


def check_choice_format(answer: object, letters: str = "abcd", question: int | None = None) -> None:
    """Tell the trainee, in one plain sentence naming the question, when a multiple-choice answer is not one of the
    allowed letters."""
    allowed = ", ".join(f'"{letter}"' for letter in letters)
    if type(answer) is not str:  # a str subclass could pretend to equal anything, so only a plain str counts
        raise _problem(question, f"write your answer as one letter between quotes, for example "
                                 f"answer = {allowed.split(', ')[0]}.")
    if answer.strip() == "":
        raise _problem(question, "you have not answered yet: type one letter between the quotes, then run the cell.")
    if answer.strip().lower() not in letters:
        raise _problem(question, f"{answer!r} is not one of the choices; type one of {allowed}.")


def _problem(question: int | None, message: str) -> AnswerProblem:
    """One sentence, led by the question it is about when the check cell names it."""
    return AnswerProblem(f"Question {question}: {message}" if question else message[0].upper() + message[1:])


def take_answer(namespace: dict, letters: str = "abcd", question: int | None = None) -> str:
    """Take the trainee's ``answer`` out of the notebook's namespace and check its form.

    Taking it out means the next question starts with no answer: if a trainee's next answer cell fails, grading sees
    no answer there instead of silently reusing this one.
    """
    if "answer" not in namespace:
        raise _problem(question, "no answer yet: run the cell with your answer (Shift+Enter) first, then this one. "
                                 'If that cell showed an error, write one letter between quotes, for example '
                                 'answer = "a".')
    answer = namespace.pop("answer")
    check_choice_format(answer, letters, question)
    return answer


def assert_choice(answer: str, item: str, digest: str) -> None:
    """The hidden grading check: the answer's digest (see ``quiz_bank.answer_digest``) against the key's.

    The key is kept as a digest so that it is not in plain form in the trainee's kernel. The grade command also reads
    each answer line without running it and flags any item where the two disagree (a patched check, for instance).
    """
    letter = answer.strip().lower() if type(answer) is str else None
    if letter is None or hashlib.sha256(f"{item}:{letter}".encode()).hexdigest() != digest:
        raise AssertionError("That is not the best answer. Re-read the section named in the question.")
