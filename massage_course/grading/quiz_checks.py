"""Checks that trainees see in graded quizzes: they test the *form* of an answer, never whether it is right."""

from __future__ import annotations

import hashlib

# A trainee who types answer = b instead of answer = "b" means the same letter: these names make it so.
a, b, c, d, e = "abcde"


def check_choice_format(answer: object, letters: str = "abcd") -> None:
    """Tell the trainee, in plain words, when a multiple-choice answer is not one of the allowed letters."""
    allowed = ", ".join(f'"{letter}"' for letter in letters)
    if type(answer) is not str:  # a str subclass could pretend to equal anything, so only a plain str counts
        raise AssertionError(f"Write your answer as one letter between quotes, for example answer = {allowed.split(', ')[0]}.")
    if answer.strip() == "":
        raise AssertionError("You have not answered yet: type one letter between the quotes, then run the cell.")
    if answer.strip().lower() not in letters:
        raise AssertionError(f"{answer!r} is not one of the choices. Type one of {allowed}.")


def take_answer(namespace: dict, letters: str = "abcd") -> str:
    """Take the trainee's ``answer`` out of the notebook's namespace and check its form.

    Taking it out means the next question starts with no answer: if a trainee's next answer cell fails, grading sees
    no answer there instead of silently reusing this one.
    """
    if "answer" not in namespace:
        raise AssertionError("No answer yet: run the cell with your answer (Shift+Enter) first, then this one. If that "
                             'cell showed an error, write one letter between quotes, for example answer = "a".')
    answer = namespace.pop("answer")
    check_choice_format(answer, letters)
    return answer


def assert_choice(answer: str, item: str, digest: str) -> None:
    """The hidden grading check: the answer's digest (see ``quiz_bank.answer_digest``) against the key's.

    The key is kept as a digest so that it is not in plain form in the trainee's kernel. The grade command also reads
    each answer line without running it and flags any item where the two disagree (a patched check, for instance).
    """
    letter = answer.strip().lower() if type(answer) is str else None
    if letter is None or hashlib.sha256(f"{item}:{letter}".encode()).hexdigest() != digest:
        raise AssertionError("That is not the best answer. Re-read the section named in the question.")
