"""The instructor's `demo` command: a fictional class that has taken the quizzes, to try the whole workflow in minutes.

Every trainee and answer is made up. Answers follow a simple model of a real class: each trainee has an ability,
each question a difficulty (a one-parameter logistic model), wrong answers favour one tempting option, and a few
trainees type their letter in capitals, with a space, without quotes, or leave a question blank.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np

from .nbgrader_api import course_api
from .quiz_bank import WRITTEN_STUB, Quiz, bank_folder, load_quizzes

FIRST = ["Ana", "Ben", "Chloe", "Dev", "Elif", "Farah", "Gus", "Hana", "Ivo", "Jade", "Kofi", "Lena", "Mateo", "Nia",
         "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tess", "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoe", "Arlo",
         "Bea", "Cyrus", "Dara", "Emil", "Fern", "Gia", "Hugo", "Iris", "Jonah", "Kaia", "Luca", "Mira", "Noor"]
LAST = ["Abbott", "Baker", "Castillo", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jensen", "Kowalski",
        "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quist", "Rossi", "Santos", "Tanaka", "Ulloa", "Varga",
        "Weber", "Xu", "Yilmaz", "Zimmer", "Alvarez", "Brennan", "Chen", "Duarte", "Ekwueme", "Farouk", "Gallo",
        "Horvat", "Ibsen", "Jovanovic", "Keller", "Lopez", "Mensah", "Novak"]
# Written answers of three qualities (fictional, and generic on purpose: the instructor grades them by hand).
WRITTEN = [
    "I would not start until I had read the chart and spoken with the patient's nurse about any limits. I would adapt "
    "the session to what the care team says (pressure, position, areas to avoid), watch the patient throughout, and "
    "document what I did and anything I noticed.",
    "I would check with the nurse first and keep the pressure light.",
    "I would do my usual routine but a bit gentler.",
]


@dataclass
class DemoTrainee:
    student: str
    first_name: str
    last_name: str
    ability: float
    answers: dict[str, dict[str, str]] = field(default_factory=dict)  # quiz -> item -> answer cell text


def _choice_line(rng, letter: str) -> str:
    """How this trainee types a letter: mostly tidy, sometimes in capitals, with a space or without quotes."""
    style = rng.random()
    if style < 0.06:
        return f'answer = "{letter.upper()}"'
    if style < 0.10:
        return f'answer = "{letter} "'
    if style < 0.13:
        return f"answer = {letter}"
    return f'answer = "{letter}"'


def _answers(rng, quiz: Quiz, ability: float, difficulty: dict[str, float], lure: dict[str, str]) -> dict[str, str]:
    answers = {}
    for item in quiz.items:
        if item.kind == "written":
            level = 0 if ability > 0.5 else 1 if ability > -0.7 else 2
            answers[item.id] = WRITTEN_STUB if rng.random() < 0.04 else WRITTEN[level]
            continue
        if rng.random() < 0.02:
            answers[item.id] = 'answer = ""'  # left blank
            continue
        if rng.random() < 1 / (1 + np.exp(-(1.3 * ability - difficulty[item.id]))):
            letter = item.answer
        else:
            wrong = [letter for letter in item.letters if letter != item.answer]
            weights = np.array([3.0 if letter == lure[item.id] else 1.0 for letter in wrong])
            letter = str(rng.choice(wrong, p=weights / weights.sum()))
        answers[item.id] = _choice_line(rng, letter)
    return answers


def make_cohort(quizzes: dict[str, Quiz], trainees: int = 36, seed: int = 2026) -> list[DemoTrainee]:
    if not 1 <= trainees <= len(FIRST):
        raise ValueError(f"a demo class has between 1 and {len(FIRST)} trainees")
    rng = np.random.default_rng(seed)
    cohort = [DemoTrainee(f"demo{n:02d}", FIRST[n - 1], LAST[n - 1], float(rng.normal(0.6, 1.0)))
              for n in range(1, trainees + 1)]
    for quiz in quizzes.values():
        difficulty = {i.id: float(rng.normal(-0.8, 0.9)) for i in quiz.items}
        lure = {i.id: str(rng.choice([x for x in i.letters if x != i.answer])) for i in quiz.items if i.kind == "choice"}
        for trainee in cohort:
            trainee.answers[quiz.id] = _answers(rng, quiz, trainee.ability, difficulty, lure)
    return cohort


def filled_notebook(release_nb, answers: dict[str, str]):
    nb = nbformat.from_dict(release_nb)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        written_for = cell.metadata.get("massage_course", {}).get("written_answer_for")
        if grade_id.endswith("-answer") and grade_id.removesuffix("-answer") in answers:
            cell.source = answers[grade_id.removesuffix("-answer")]
        elif written_for in answers:
            cell.source = answers[written_for]
    return nb


def write_demo(course: str | Path, trainees: int = 36, seed: int = 2026, broken: bool = True,
               progress=None) -> list[DemoTrainee]:
    """Release every quiz (nbgrader generate_assignment), enrol the fictional trainees in the gradebook and place
    their submissions in submitted/<trainee>/<quiz>/ as nbgrader's collect would. With ``broken``, one extra trainee
    hands in a damaged file for the first quiz, to show how the grade command reports it."""
    course = Path(course).resolve()
    quizzes = load_quizzes(course)
    if not quizzes:
        raise FileNotFoundError(f"no item banks in {bank_folder(course)}")
    cohort = make_cohort(quizzes, trainees, seed)
    api = course_api(course)
    for quiz in quizzes.values():
        result = api.generate_assignment(quiz.id)
        if not result["success"]:
            raise RuntimeError(f"nbgrader could not generate {quiz.id}: {result['error']}")
    with api.gradebook as gradebook:
        for t in cohort:
            gradebook.update_or_create_student(t.student, first_name=t.first_name, last_name=t.last_name)
        if broken:
            gradebook.update_or_create_student("demo-broken", first_name="Pat", last_name="Damaged")
    stamp = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.timezone.utc)
    for quiz in quizzes.values():
        release_nb = nbformat.read(course / "release" / quiz.id / quiz.notebook, as_version=4)
        for n, t in enumerate(cohort):
            folder = course / "submitted" / t.student / quiz.id
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(filled_notebook(release_nb, t.answers[quiz.id]), folder / quiz.notebook)
            (folder / "timestamp.txt").write_text(str(stamp + dt.timedelta(minutes=7 * n)))
            # what nbgrader's submit writes: the key under which feedback is released to this trainee
            (folder / "submission_secret.txt").write_text(secrets.token_hex(64))
        if progress:
            progress()
    if broken:
        first = next(iter(quizzes.values()))
        folder = course / "submitted" / "demo-broken" / first.id
        folder.mkdir(parents=True, exist_ok=True)
        text = (course / "release" / first.id / first.notebook).read_text()
        (folder / first.notebook).write_text(text[: len(text) // 2])  # a half-saved file: not valid JSON
        (folder / "timestamp.txt").write_text(str(stamp))
    return cohort
