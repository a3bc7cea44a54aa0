"""The graded quizzes' item banks: one reviewed YAML file per quiz, turned into nbgrader source notebooks.

The banks in ``assignments/quizzes/`` are the repository's practice (demo) banks: public, so their keys are no secret.
A course that grades for real keeps its own banks in a private folder that only instructors can read and names it
with the setting ``MASSAGE_COURSE_BANKS`` (:func:`bank_folder`); those banks are never committed or copied into the
image trainees' servers run (deploy/OPERATIONS.md, "Item banks: practice banks here, real banks private").

A bank holds the answer key, so it lives beside the nbgrader course, never in this package's ``data/`` folder (the
trainee's kernel can import the package) and never in ``source/<quiz>/`` (nbgrader copies every other file there into
the release). The notebook keeps the key only as a digest (see :func:`answer_digest`).
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jsonschema
import yaml

from ..paths import PROJECT_ROOT
from ..topics.data_files import CourseDataError, parse_yaml, require

BOOK = PROJECT_ROOT / "book"
DEFAULT_PASS_MARK = 70  # percent: the modelled hospital course's online test asks for 70% (facts.md, dion2015)
DEFAULT_FINAL_ATTEMPTS = 1  # the modelled hospital course allows one attempt at its online test (facts.md)
WRITTEN_STUB = "Write your answer here."  # also ClearSolutions.text_stub in assignments/nbgrader_config.py

_SCHEMA = yaml.safe_load(r"""
type: object
required: [quiz, title, chapters, items]
additionalProperties: false
properties:
  quiz: {type: string, pattern: "^quiz-[0-9]+-[a-z0-9-]+$"}
  title: {type: string, minLength: 5}
  chapters: {type: array, minItems: 1, items: {type: string}}
  pass_mark: {type: integer, minimum: 1, maximum: 100}
  reveal_answers: {type: boolean}
  final: {type: boolean}
  attempts: {type: integer, minimum: 1, maximum: 10}
  time_limit_minutes: {type: integer, minimum: 5, maximum: 600}
  items:
    type: array
    minItems: 2
    items:
      type: object
      required: [id, objectives, read_more, sources]
      properties:
        id: {type: string, pattern: "^(q|w)[0-9]{2}$"}
        objectives: {type: array, minItems: 1, items: {type: string, pattern: "^[a-z-]+:[0-9]+$"}}
        read_more:
          type: object
          required: [chapter, section]
          additionalProperties: false
          properties: {chapter: {type: string}, section: {type: string}}
        sources: {type: array, minItems: 1, items: {type: string}}
        stem: {type: string, minLength: 10}
        choices:
          type: object
          minProperties: 3
          maxProperties: 5
          propertyNames: {pattern: "^[a-e]$"}
          additionalProperties: {type: string, minLength: 1}
        answer: {type: string, pattern: "^[a-e]$"}
        rationale: {type: string, minLength: 20}
        points: {type: integer, minimum: 1, maximum: 10}
        prompt: {type: string, minLength: 10}
        model_answer: {type: string, minLength: 20}
        rubric:
          type: array
          minItems: 1
          items:
            type: object
            required: [points, criterion]
            additionalProperties: false
            properties: {points: {type: integer, minimum: 1}, criterion: {type: string, minLength: 5}}
""")
_CHOICE_KEYS = {"id", "objectives", "read_more", "sources", "stem", "choices", "answer", "rationale"}
_WRITTEN_KEYS = {"id", "objectives", "read_more", "sources", "prompt", "points", "model_answer", "rubric"}


@dataclass(frozen=True)
class Chapter:
    slug: str
    number: int
    title: str
    objectives: tuple[str, ...]
    headings: tuple[str, ...]

    def objective(self, number: int) -> str:
        return self.objectives[number - 1]


@dataclass(frozen=True)
class Item:
    """One quiz item: a single-best-answer question (``kind == "choice"``) or a written answer graded by hand."""

    id: str
    kind: str
    objectives: tuple[str, ...]
    read_more: dict
    sources: tuple[str, ...]
    points: int
    stem: str = ""
    choices: dict = field(default_factory=dict)
    answer: str = ""
    rationale: str = ""
    model_answer: str = ""
    rubric: tuple[dict, ...] = ()

    @property
    def letters(self) -> str:
        return "".join(sorted(self.choices))


@dataclass(frozen=True)
class Quiz:
    id: str
    title: str
    chapters: tuple[str, ...]
    pass_mark: int
    reveal_answers: bool
    items: tuple[Item, ...]
    final: bool = False  # the course's final post-test: every chapter, an attempts limit, a certificate if passed
    attempts: int | None = None  # submissions graded per trainee (None: no limit); the final test's default is 1
    time_limit_minutes: int | None = None  # shown to trainees; the course does not stop the clock

    @property
    def max_score(self) -> int:
        return sum(item.points for item in self.items)

    @property
    def notebook(self) -> str:
        return f"{self.id}.ipynb"

    def number(self, item: Item) -> int:
        return self.items.index(item) + 1

    def item(self, item_id: str) -> Item:
        return next(item for item in self.items if item.id == item_id)


# --- chapters: objectives, numbers and titles, read from the book itself ----------------------------------------------

@lru_cache(maxsize=None)
def chapters(book: Path = BOOK) -> dict[str, Chapter]:
    """The numbered chapters in book order, with their learning objectives and section headings."""
    toc = yaml.safe_load((book.parent / "_toc.yml").read_text(encoding="utf-8"))
    numbered = next(part for part in toc["parts"] if part.get("numbered"))
    found = {}
    for number, entry in enumerate(numbered["chapters"], start=1):
        slug = Path(entry["file"]).name
        text = (book / f"{slug}.md").read_text(encoding="utf-8")
        title = re.search(r"^# (.+)$", text, re.M).group(1).strip()
        section = re.search(r"^## Learning objectives\n(.*?)(?=^#|^Time to read)", text, re.M | re.S).group(1)
        objectives = tuple(" ".join(goal.split()) for goal in re.findall(r"^\d+\.\s+(.*?)(?=^\d+\.|\Z)", section,
                                                                           re.M | re.S))
        headings = tuple(h.strip() for h in re.findall(r"^#{2,4} (.+)$", text, re.M))
        found[slug] = Chapter(slug, number, title, objectives, headings)
    return found


def objective_text(tag: str) -> str:
    slug, number = tag.split(":")
    return chapters()[slug].objective(int(number))


def where_to_read(item: Item) -> str:
    chapter = chapters()[item.read_more["chapter"]]
    return f"Chapter {chapter.number}, {chapter.title}, section \u201c{item.read_more['section']}\u201d"


# --- loading and checking a bank ---------------------------------------------------------------------------------------

def load_quiz(path: str | Path) -> Quiz:
    """Read and check one item bank; every problem is reported with the file and the item."""
    path = Path(path)
    if not path.is_file():
        raise CourseDataError(f"No item bank at {path}")
    where = str(path)
    raw = parse_yaml(path.read_text(encoding="utf-8"), where)
    try:
        jsonschema.validate(raw, _SCHEMA)
    except jsonschema.ValidationError as error:
        location = "/".join(str(part) for part in error.absolute_path) or "top level"
        raise CourseDataError(f"{where}, at {location}: {error.message}") from None
    require(raw["quiz"] == path.stem, where, f"'quiz' must match the file name ({path.stem!r})")
    known = chapters()
    for slug in raw["chapters"]:
        require(slug in known, where, f"chapter {slug!r} is not a numbered chapter in _toc.yml")
    items, seen = [], set()
    for entry in raw["items"]:
        item_where = f"{where}, item {entry['id']}"
        require(entry["id"] not in seen, item_where, "item ids must be unique")
        seen.add(entry["id"])
        for tag in entry["objectives"]:
            slug, number = tag.split(":")
            require(slug in known and 1 <= int(number) <= len(known[slug].objectives), item_where,
                    f"objective {tag!r} does not exist (chapter:number of a learning objective)")
        chapter = entry["read_more"]["chapter"]
        require(chapter in known and entry["read_more"]["section"] in known[chapter].headings, item_where,
                f"read_more names no section heading of chapter {chapter!r}")
        common = dict(id=entry["id"], objectives=tuple(entry["objectives"]), read_more=entry["read_more"],
                      sources=tuple(entry["sources"]))
        if entry["id"].startswith("q"):
            require(set(entry) == _CHOICE_KEYS, item_where, f"a choice item has exactly the keys {sorted(_CHOICE_KEYS)}")
            letters = sorted(entry["choices"])
            require("".join(letters) == "abcde"[:len(letters)], item_where, "choices must be lettered a, b, c, ...")
            require(entry["answer"] in entry["choices"], item_where, "the answer must be one of the choices")
            items.append(Item(kind="choice", points=1, stem=entry["stem"], choices=dict(entry["choices"]),
                              answer=entry["answer"], rationale=entry["rationale"], **common))
        else:
            require(set(entry) == _WRITTEN_KEYS, item_where, f"a written item has exactly the keys {sorted(_WRITTEN_KEYS)}")
            require(sum(r["points"] for r in entry["rubric"]) == entry["points"], item_where,
                    "the rubric's points must add up to the item's points")
            items.append(Item(kind="written", points=entry["points"], stem=entry["prompt"],
                              model_answer=entry["model_answer"], rubric=tuple(entry["rubric"]), **common))
    require(any(i.kind == "written" for i in items), where, "a quiz needs at least one written (hand-graded) item")
    return Quiz(id=raw["quiz"], title=raw["title"], chapters=tuple(raw["chapters"]),
                pass_mark=raw.get("pass_mark", DEFAULT_PASS_MARK), reveal_answers=raw.get("reveal_answers", True),
                items=tuple(items), final=raw.get("final", False),
                attempts=raw.get("attempts", DEFAULT_FINAL_ATTEMPTS if raw.get("final") else None),
                time_limit_minutes=raw.get("time_limit_minutes"))


BANKS_SETTING = "MASSAGE_COURSE_BANKS"  # names the private folder of a course's real item banks


def bank_folder(course_root: str | Path) -> Path:
    """Where the course's item banks are: the folder ``MASSAGE_COURSE_BANKS`` names when it is set (a course's real
    banks, private to instructors), otherwise ``quizzes/`` in the course folder (the repository's practice banks)."""
    named = os.environ.get(BANKS_SETTING, "").strip()
    return Path(named).expanduser() if named else Path(course_root) / "quizzes"


def load_quizzes(course_root: str | Path) -> dict[str, Quiz]:
    """Every quiz of the course, by id, in order."""
    folder = bank_folder(course_root)
    if os.environ.get(BANKS_SETTING, "").strip() and not folder.is_dir():
        raise CourseDataError(f"{BANKS_SETTING} names {folder}, which is not a folder this account can read: point it "
                              "at the folder of the course's item banks (quiz-*.yaml)")
    return {quiz.id: quiz for quiz in (load_quiz(p) for p in sorted(folder.glob("quiz-*.yaml")))}


# --- the answer key as the notebook holds it ---------------------------------------------------------------------------

def answer_digest(quiz_id: str, item_id: str, letter: str) -> str:
    """What a check cell compares with: the answer's SHA-256 salted with the item, so the key is never in plain form."""
    return hashlib.sha256(f"{quiz_id}/{item_id}:{letter}".encode()).hexdigest()


def _answer_value(source: str) -> ast.expr | None:
    """The right-hand side when the cell is exactly one ``answer = ...`` line, read without running it; else None."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assign):
        return None
    statement = tree.body[0]
    return statement.value if [getattr(t, "id", None) for t in statement.targets] == ["answer"] else None


def typed_answer(source: str) -> str | None:
    """The text an answer cell assigns when it is one plain ``answer = "..."`` line (any text, a letter or not), read
    without running it; None for anything else (code that computes an answer, several lines, no assignment)."""
    value = _answer_value(source)
    return value.value if isinstance(value, ast.Constant) and type(value.value) is str else None


def read_answer(source: str, letters: str = "abcde") -> str | None:
    """The letter an answer cell sets, read without running it: "" when unanswered, None when the cell is anything
    other than one ``answer = "x"`` line (or ``answer = x`` with a letter name, which the quiz also accepts)."""
    value = _answer_value(source)
    if isinstance(value, ast.Constant) and type(value.value) is str:
        text = value.value.strip().lower()
        return text if text == "" or text in letters else None
    if isinstance(value, ast.Name) and value.id in letters:
        return value.id
    return None
