"""The cohort's completion record and the certificates of those who passed (issue 20).

``completion`` writes one CSV per cohort, a row per trainee: each quiz's score, the final post-test's score and
attempts, whether the course is complete, the contact hours and the date. A trainee completes the course by passing
the final post-test (and, when the settings ask for it, by having every quiz graded); anyone still waiting for hand
grading is "waiting", never "failed". Each trainee who completed gets a print-ready certificate page (and a PDF when
Chromium is there to print it), with every field taken from the course's settings (``course_settings.yaml`` in the
course folder), never written here. While any provider field still says PLACEHOLDER, each certificate is stamped as a
sample that is not valid.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import yaml

from ..paths import PROJECT_ROOT
from ..topics.course_hours import METHOD, contact_hours
from ..topics.data_files import CourseDataError, parse_yaml
from .exchange import AttemptLedger
from .nbgrader_api import course_api
from .quiz_bank import load_quizzes
from .results import load_results

SETTINGS_FILE = "course_settings.yaml"
COHORT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,60}")  # a folder name of its own, never a path
PLACEHOLDER = "PLACEHOLDER"
_SCHEMA = yaml.safe_load("""
type: object
required: [course_title, provider_name, provider_number, approval_statement, every_quiz_graded]
additionalProperties: false
properties:
  course_title: {type: string, minLength: 3}
  provider_name: {type: string, minLength: 3}
  provider_number: {type: string, minLength: 1}
  approval_statement: {type: string, minLength: 10}
  every_quiz_graded: {type: boolean}
""")


def usable_cohort_name(cohort: str) -> bool:
    """Whether ``cohort`` can name the cohort's folder (completion, evaluations); if not, one line says why."""
    if COHORT_NAME.fullmatch(cohort):
        return True
    print("error: a cohort name is letters, digits, '.', '_' or '-' (e.g. 2027-spring)", file=sys.stderr)
    return False


def load_settings(course: Path) -> dict:
    path = Path(course) / SETTINGS_FILE
    if not path.is_file():
        raise CourseDataError(f"No course settings at {path}: copy {PROJECT_ROOT / 'assignments' / SETTINGS_FILE} "
                              "there and fill in the provider's details")
    data = parse_yaml(path.read_text(encoding="utf-8"), str(path))
    try:
        jsonschema.validate(data, _SCHEMA)
    except jsonschema.ValidationError as error:
        where = "/".join(str(p) for p in error.absolute_path) or "top level"
        raise CourseDataError(f"{path}, at {where}: {error.message}") from None
    return data


@dataclass
class CompletionRow:
    trainee: str
    name: str  # as the gradebook has it (first and last name), else the login name
    quiz_scores: dict[str, str]  # quiz id -> "85%" | "waiting" | "failed to grade" | "not submitted"
    final_score: str
    final_attempts: int
    status: str  # completed | not passed | waiting
    date: str  # when the graded final post-test was submitted (completed only)


def _score(result) -> str:
    if result is None:
        return "not submitted"
    if result.status == "failed":
        return "failed to grade"
    if result.status != "graded" or result.score is None:
        return "waiting"
    return f"{result.percent:.0f}%"


def completion_rows(course: Path, settings: dict) -> tuple[list[str], list[CompletionRow]]:
    """The quiz ids (in order) and a row per trainee seen by any grade run."""
    course = Path(course).resolve()
    quizzes = load_quizzes(course)
    finals = [quiz for quiz in quizzes.values() if quiz.final]
    if len(finals) != 1:
        raise CourseDataError(f"the course needs exactly one final post-test (final: true in its bank); found "
                              f"{len(finals)}")
    final = finals[0]
    parts = [quiz.id for quiz in quizzes.values() if not quiz.final]
    results: dict[str, dict] = {}
    for quiz_id in [*parts, final.id]:
        try:
            _, trainees = load_results(course, quiz_id)
        except FileNotFoundError:  # not graded yet: every trainee shows "not submitted"
            continue
        for result in trainees:
            results.setdefault(result.student, {})[quiz_id] = result
    ledger = AttemptLedger(course / "attempts" / f"{final.id}.json")
    names = {}
    with course_api(course).gradebook as gradebook:
        for student in gradebook.students:
            full = " ".join(part for part in (student.first_name, student.last_name) if part)
            names[student.id] = full or student.id
    rows = []
    for trainee in sorted(results):
        mine = results[trainee]
        final_result = mine.get(final.id)
        passed = final_result.passed(final) if final_result else None
        parts_ready = all(_score(mine.get(q)).endswith("%") for q in parts)
        if passed and (parts_ready or not settings["every_quiz_graded"]):
            status = "completed"
        elif passed is False:
            status = "not passed"
        else:
            status = "waiting"
        date = ""
        if status == "completed":
            stamp = course / "submitted" / trainee / final.id / "timestamp.txt"
            date = stamp.read_text().strip()[:10] if stamp.is_file() else dt.date.today().isoformat()
        rows.append(CompletionRow(trainee, names.get(trainee, trainee), {q: _score(mine.get(q)) for q in parts}, _score(final_result),
                                  max(ledger.count(trainee), 1 if final_result else 0), status, date))
    return parts, rows


def certificate_html(settings: dict, trainee: str, date: str, hours: float) -> str:
    esc = html.escape
    sample = any(PLACEHOLDER in str(settings[k]) for k in ("provider_name", "provider_number", "approval_statement"))
    stamp = ('<p class="sample">SAMPLE, NOT VALID: the provider\'s details in course_settings.yaml are still '
             'placeholders.</p>' if sample else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Certificate of completion: {esc(trainee)}</title>
<style>
@page {{ size: A4 landscape; margin: 18mm; }}
body {{ font-family: Georgia, serif; color: #111; text-align: center; }}
.frame {{ border: 6px double #1f4e79; padding: 28px 40px; }}
h1 {{ font-size: 30px; margin: 6px 0 18px; color: #1f4e79; }}
.name {{ font-size: 28px; font-weight: bold; margin: 14px 0; }}
.course {{ font-size: 22px; font-style: italic; }}
dl {{ display: grid; grid-template-columns: max-content auto; gap: 6px 18px; text-align: left; width: fit-content;
      margin: 22px auto; }}
dt {{ font-weight: bold; }}
.statement, .method {{ font-size: 13px; max-width: 52em; margin: 10px auto; }}
.sample {{ color: #8b1a1a; font-weight: bold; font-size: 18px; border: 2px solid #8b1a1a; padding: 6px; }}
</style></head>
<body><main class="frame">
{stamp}
<h1>Certificate of completion</h1>
<p>This certifies that</p>
<p class="name">{esc(trainee)}</p>
<p>has completed the course</p>
<p class="course">{esc(settings["course_title"])}</p>
<dl>
<dt>Date completed</dt><dd>{esc(date)}</dd>
<dt>Contact hours</dt><dd>{hours:g}</dd>
<dt>Provider</dt><dd>{esc(settings["provider_name"])}</dd>
<dt>Provider number</dt><dd>{esc(settings["provider_number"])}</dd>
</dl>
<p class="statement">{esc(settings["approval_statement"])}</p>
<p class="method">Contact hours: {esc(METHOD)}.</p>
</main></body></html>
"""


def _print_pdf(pages: list[Path]) -> list[Path]:
    """PDFs of the certificate pages, printed by Chromium when it is installed (Playwright, in requirements.txt)."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not pages or not Path(chromium).exists():
        return []
    from playwright.sync_api import sync_playwright

    printed = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--headless"])
        page = browser.new_page()
        for path in pages:
            page.goto(path.resolve().as_uri())
            page.pdf(path=str(path.with_suffix(".pdf")), landscape=True, prefer_css_page_size=True)
            printed.append(path.with_suffix(".pdf"))
        browser.close()
    return printed


def write_completion(course: Path, cohort: str, pdf: bool = True) -> tuple[Path, list[Path], list[CompletionRow]]:
    """The cohort's CSV and a certificate per trainee who completed; returns (csv, certificate files, rows)."""
    course = Path(course).resolve()
    settings = load_settings(course)
    parts, rows = completion_rows(course, settings)
    hours = contact_hours(PROJECT_ROOT).hours
    folder = course / "completion" / cohort
    (folder / "certificates").mkdir(parents=True, exist_ok=True)
    table = folder / f"{cohort}-completion.csv"
    with table.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["trainee", "name", *parts, "final_post_test", "final_attempts", "status", "contact_hours", "date"])
        for row in rows:
            writer.writerow([row.trainee, row.name, *(row.quiz_scores[q] for q in parts), row.final_score, row.final_attempts,
                             row.status, hours if row.status == "completed" else 0, row.date])
    pages = []
    for row in rows:
        page = folder / "certificates" / f"{row.trainee}.html"
        if row.status == "completed":
            page.write_text(certificate_html(settings, row.name, row.date, hours), encoding="utf-8")
            pages.append(page)
        else:
            page.unlink(missing_ok=True)  # a certificate from an earlier run for someone whose grade has changed
            page.with_suffix(".pdf").unlink(missing_ok=True)
    return table, pages + (_print_pdf(pages) if pdf else []), rows


def completion_command(course: Path, cohort: str, pdf: bool = True) -> int:
    """``massage-course completion``: the CSV and the certificates, with one line per trainee still waiting."""
    from .trainee_text import printable

    if not usable_cohort_name(cohort):
        return 2
    try:
        table, files, rows = write_completion(course, cohort, pdf)
    except CourseDataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    done = [row for row in rows if row.status == "completed"]
    print(f"Completion record for {len(rows)} trainee(s): {table}")
    print(f"Completed: {len(done)}; certificates: {len([f for f in files if f.suffix == '.html'])} page(s)"
          f"{' and PDFs' if any(f.suffix == '.pdf' for f in files) else ''} in {table.parent / 'certificates'}")
    for row in rows:
        if row.status != "completed":
            print(f"  {printable(row.trainee, one_line=True)}: {row.status} (final post-test {row.final_score})")
    return 0
