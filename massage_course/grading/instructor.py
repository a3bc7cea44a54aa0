"""The instructor's commands around nbgrader: write the quizzes from their item banks, release and collect them,
collect submissions downloaded from an LMS, grade them, write feedback and report on a quiz, and make a demo class.

Each prints a short, plain summary; errors say what to do and return exit code 2 (1 when some trainees failed).
"""

from __future__ import annotations

import itertools
import re
import shutil
import stat
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from ..paths import COURSE_ROOT
from ..topics.data_files import CourseDataError
from .nbgrader_api import course_api
from .quiz_bank import BANKS_SETTING, bank_folder, chapters, load_quizzes
from .quiz_notebook import write_source
from .trainee_text import printable

console = Console()


def _error(message: str) -> int:
    console.print(f"[bold red]error:[/] {printable(message)}", highlight=False)
    return 2


def _known_quiz(course: Path, quiz: str) -> bool:
    return (bank_folder(course) / f"{quiz}.yaml").is_file()


def quizzes_command(course: Path) -> int:
    """Rewrite every quiz's source notebook from its bank and show which objectives each quiz covers."""
    try:
        quizzes = load_quizzes(course)
    except CourseDataError as error:
        return _error(str(error))
    table = Table(title=f"Quizzes (from {printable(str(bank_folder(course)))})")
    table.add_column("Quiz", no_wrap=True)
    for column in ("Items", "Points", "Pass mark", "Answers shown", "Objectives covered"):
        table.add_column(column)
    for quiz in quizzes.values():
        write_source(quiz, course)
        tags = {t for i in quiz.items for t in i.objectives}
        total = sum(len(chapters()[slug].objectives) for slug in quiz.chapters)
        table.add_row(quiz.id, str(len(quiz.items)), str(quiz.max_score), f"{quiz.pass_mark}%",
                      "yes" if quiz.reveal_answers else "no", f"{len(tags)} of {total}")
    console.print(table)
    return 0


def release_command(course: Path, quiz: str) -> int:
    """nbgrader generate_assignment + release_assignment: the quiz goes to the exchange for trainees to fetch."""
    from .exchange import prepare_exchange

    if not _known_quiz(course, quiz):
        return _error(f"no quiz named {quiz!r} (item banks are in {bank_folder(course)})")
    prepare_exchange()
    api = course_api(course)
    for step in (api.generate_assignment, api.release_assignment):
        result = step(quiz)
        if not result["success"]:
            return _error(f"{step.__name__} failed for {quiz}: {(result.get('error') or result.get('log'))[-800:]}")
    console.print(f"Released {quiz}: trainees can fetch it from the Assignments tab.")
    return 0


def collect_command(course: Path, quiz: str) -> int:
    """nbgrader collect: copy the trainees' submissions from the exchange into submitted/. Exit 1 if any was refused
    (written in another trainee's name, holding a link or special file, or a time that cannot be read: exchange.py)."""
    if not _known_quiz(course, quiz):
        return _error(f"no quiz named {quiz!r}")
    result = course_api(course).collect(quiz)
    if not result["success"]:
        return _error(f"collect failed: {(result.get('error') or result.get('log'))[-800:]}")
    count = len(list((course / "submitted").glob(f"*/{quiz}")))
    console.print(f"Collected {quiz}: {count} submission(s) in {course / 'submitted'}. Next: grade {quiz}")
    refused = [line.split("Refused", 1)[1].strip(" :") for line in (result.get("log") or "").splitlines()
               if line.startswith("[ERROR] Refused")]
    for line in refused:
        console.print(f"[yellow]not collected[/] {printable(line)}", highlight=False)
    return 1 if refused else 0


# What one LMS download may unpack to: far more than a class's quiz notebooks, far less than a full disk.
ZIP_MAX_FILES = 5000
ZIP_MAX_BYTES = 256 * 2**20  # in all, per archive
NOTEBOOK_MAX_BYTES = 32 * 2**20
ARCHIVE_ENDINGS = (".zip", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".7z", ".rar")
TRAINEE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*")


def _copy_limited(source, target: Path, limit: int) -> bool:
    """Copy a stream into a new file (mode 0644 whatever the archive said); False, and no file, past ``limit`` bytes."""
    written = 0
    with open(target, "xb") as out:
        while chunk := source.read(2**20):
            written += len(chunk)
            if written > limit:
                break
            out.write(chunk)
    if written > limit:
        target.unlink()
    return written <= limit


def _unpack(path: Path, place, refuse, skip) -> list[Path]:
    """The notebooks of one downloaded file (a zip or a notebook), each written where ``place(name)`` says. Anything
    unsafe is refused, one line each; files that are not notebooks are skipped."""
    if path.suffix == ".ipynb":
        target = place(path.name)
        with open(path, "rb") as source:
            if _copy_limited(source, target, NOTEBOOK_MAX_BYTES):
                return [target]
        refuse(f"{path.name}: larger than {NOTEBOOK_MAX_BYTES // 2**20} MB, so not a quiz notebook")
        return []
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        kind = "a damaged or incomplete zip file" if path.suffix.lower() == ".zip" else \
            "neither a zip file nor a notebook"
        refuse(f"{path.name}: {kind}; download it again as a zip file")
        return []
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        total = sum(m.file_size for m in members)
        if len(members) > ZIP_MAX_FILES or total > ZIP_MAX_BYTES:
            refuse(f"{path.name}: not opened, it would unpack to {len(members)} files and {total // 2**20} MB "
                   f"(at most {ZIP_MAX_FILES} files and {ZIP_MAX_BYTES // 2**20} MB)")
            return []
        found = []
        for member in members:
            name, parts = member.filename, member.filename.replace("\\", "/").split("/")
            where = f"{path.name}: {name}"
            if name.startswith(("/", "\\")) or ".." in parts or re.match("[A-Za-z]:", name):
                refuse(f"{where}: a path that leads out of the download folder")
            elif stat.S_IFMT(member.external_attr >> 16) not in (0, stat.S_IFREG):
                refuse(f"{where}: a link or special file, not a notebook")
            elif name.lower().endswith(ARCHIVE_ENDINGS):
                refuse(f"{where}: an archive inside the download, not opened (it could hold files in other "
                       "trainees' names); ask for the notebook itself")
            elif not name.endswith(".ipynb"):
                skip(f"{where} (not a notebook)")
            else:
                target = place(parts[-1])
                try:
                    with archive.open(member) as source:
                        ok = _copy_limited(source, target, NOTEBOOK_MAX_BYTES)
                except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, RuntimeError,
                        NotImplementedError) as error:  # damaged, encrypted, or compressed in an unknown way
                    target.unlink(missing_ok=True)
                    refuse(f"{where}: cannot be unpacked ({error})")
                    continue
                if not ok:
                    refuse(f"{where}: larger than {NOTEBOOK_MAX_BYTES // 2**20} MB, so not a quiz notebook")
                elif target.read_bytes()[:4] == b"PK\x03\x04":
                    target.unlink()
                    refuse(f"{where}: a zip file named as a notebook, not opened")
                else:
                    found.append(target)
        return found


def zip_collect_command(course: Path, quiz: str, archives: list[str]) -> int:
    """nbgrader zip_collect: submissions downloaded from an LMS (zip files or notebooks) into submitted/.

    The course unpacks the downloads itself, notebooks only, before nbgrader sees them: an archive inside an archive,
    a path with ``..``, a link, a zip bomb, two files for one trainee, a damaged or non-zip file are each refused with
    one line, and everything else is collected. Exit 1 if anything was refused."""
    from traitlets.config.loader import PyFileConfigLoader

    if not _known_quiz(course, quiz):
        return _error(f"no quiz named {quiz!r}")
    staging = course / "downloaded" / quiz / "archive"
    shutil.rmtree(staging, ignore_errors=True)  # this run's downloads only; submitted/ keeps earlier ones
    staging.mkdir(parents=True)
    refused, skipped, notebooks, numbers = [], [], [], itertools.count()

    def place(name: str) -> Path:  # a numbered folder per file: two of one name never overwrite each other
        folder = staging / str(next(numbers))
        folder.mkdir()
        return folder / name

    for name in archives:
        path = Path(name)
        if not path.is_file():
            refused.append(f"{name}: no such file")
        else:
            notebooks += _unpack(path, place, refused.append, skipped.append)
    try:
        pattern = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config() \
            .FileNameCollectorPlugin.named_regexp
    except Exception as error:  # the course's own file, run as Python: anything it raises
        return _error(f"cannot read {course / 'nbgrader_config.py'}: {type(error).__name__}: {error}")
    by_trainee: dict[str, list[Path]] = {}
    for notebook in notebooks:
        match = re.match(pattern, "/" + notebook.name) if pattern else None
        if match:
            by_trainee.setdefault(match.group("student_id"), []).append(notebook)
    for trainee, files in sorted(by_trainee.items()):
        problem = None if TRAINEE_ID.fullmatch(trainee) and ".." not in trainee else \
            f"{files[0].name}: {trainee!r} cannot be a trainee id"
        if problem is None and len(files) > 1:
            problem = (f"{trainee}: {len(files)} files name this trainee ({', '.join(f.name for f in files)}), so none "
                       "was collected; keep the right one and zip-collect it")
        if problem:
            refused.append(problem)
            for notebook in files:
                shutil.rmtree(notebook.parent)
    result = subprocess.run([sys.executable, "-m", "nbgrader", "zip_collect", quiz, "--force"], cwd=course,
                            capture_output=True, text=True)
    log = result.stdout + result.stderr
    skipped += [f"{Path(line.rsplit(': ', 1)[-1].strip()).name} (file names must be <trainee id>_{quiz}.ipynb)"
                for line in log.splitlines() if "Skipped submission" in line]
    if result.returncode != 0:
        return _error(f"zip_collect failed:\n{log[-1500:]}")
    count = len(list((course / "submitted").glob(f"*/{quiz}")))
    console.print(f"Collected from the LMS download: {count} submission(s) of {quiz} in {course / 'submitted'}.")
    for line in skipped:
        console.print(f"[yellow]skipped[/] {printable(line, one_line=True)}", highlight=False)
    for line in refused:
        console.print(f"[yellow]refused[/] {printable(line, one_line=True)}", highlight=False)
    return 1 if refused else 0


def feedback_command(course: Path, quiz: str, release: bool) -> int:
    from .feedback import write_feedback

    try:
        with Progress(transient=True) as progress:
            task = progress.add_task("Writing feedback", total=None)
            written, skipped = write_feedback(course, quiz, progress=lambda: progress.advance(task))
    except (FileNotFoundError, CourseDataError) as error:
        return _error(str(error))
    console.print(f"Feedback pages written for {len(written)} trainee(s) in {course / 'feedback'}.")
    for line in skipped:
        console.print(f"[yellow]no feedback yet[/] {printable(line, one_line=True)}", highlight=False)
    if release and written:
        api, released = course_api(course), 0
        for page in written:
            student = page.parent.parent.name
            if not (page.parent / "submission_secret.txt").exists():
                console.print(f"[yellow]not released[/] {printable(student)}: this submission did not come through "
                              f"the exchange (e.g. zip-collect), so share {printable(page)} another way",
                              highlight=False)
                continue
            result = api.release_feedback(quiz, student)
            if not result["success"]:
                return _error(f"release_feedback failed for {student}: "
                              f"{(result.get('error') or result.get('log'))[-800:]}")
            released += 1
        console.print(f"Released feedback for {released} trainee(s): they fetch it from the Assignments tab.")
    return 0


def report_command(course: Path, quiz: str) -> int:
    import pandas as pd

    from .report import write_report

    try:
        summary = write_report(course, quiz)
    except (FileNotFoundError, CourseDataError) as error:
        return _error(str(error))
    items = summary["items_table"]
    kr20 = "too few trainees to compute" if summary["kr20"] is None else summary["kr20"]
    table = Table(title=f"{quiz}: item analysis (KR-20 of the multiple-choice items: {kr20})")
    letters = [c for c in items.columns if c.startswith("chose_")]
    for column in ("Q", "Objectives", "Key", "Difficulty", "Discrimination", *[c[-1] for c in letters], "blank"):
        table.add_column(column, overflow="fold")
    for _, row in items.iterrows():
        counts = ["" if pd.isna(row[c]) else str(int(row[c])) for c in letters]  # blank for written items
        table.add_row(str(row["question"]), row["objectives"], row["answer"], f"{row['difficulty']:.2f}",
                      "n/a" if pd.isna(row["discrimination"]) else f"{row['discrimination']:.2f}",
                      *counts, "" if pd.isna(row["no_answer"]) else str(int(row["no_answer"])))
    console.print(table)
    if summary["waiting_for_hand_grading"]:
        console.print(f"{summary['waiting_for_hand_grading']} written answer(s) wait for hand grading in the formgrader: "
                      "until then their difficulty is blank, and discrimination and KR-20 come from the "
                      "multiple-choice items alone. Run report again when they are graded.")
    mastery = summary["objectives_table"]
    table = Table(title=f"{quiz}: mastery per learning objective (pass mark {summary['pass_mark']}%)")
    for column in ("Objective", "Items", "Cohort's share of points", "Trainees at the pass mark"):
        table.add_column(column, overflow="fold")  # never cut an objective's name off
    for _, row in mastery.iterrows():
        table.add_row(row["objective"], row["items"], f"{100 * row['mastery']:.0f}%",
                      f"{row['trainees_at_pass_mark']} of {row['trainees']}")
    console.print(table)
    console.print(f"{summary['trainees']} trainee(s): {summary['status']}; passed: {summary['passed']}; "
                  f"mean score {summary['mean_percent']}%.")
    console.print("Files:\n  " + "\n  ".join(summary["files"]), highlight=False)
    return 0


def demo_command(course: Path, trainees: int, seed: int) -> int:
    """A fictional class in ``course``. A folder that does not exist yet gets a clean copy of the course first (its
    configuration, quiz sources and item banks, no trainee work), so trying the workflow never touches the real one."""
    import os

    from .demo import write_demo

    if os.environ.get(BANKS_SETTING, "").strip():  # the demo's copy holds the practice banks and their sources
        return _error(f"the demo class uses the repository's practice banks: unset {BANKS_SETTING} (it names the "
                      "course's real banks) to make the demo and to grade it")
    if not course.exists():
        clean_demo_copy(course)
        console.print(f"Made a clean copy of the course for the demo in {printable(course)}")
    elif any((course / "submitted").glob("*/*")) and not any((course / "submitted").glob("demo*")):
        return _error(f"{course / 'submitted'} already holds real submissions. Make the demo in a folder that does not "
                      "exist yet, and the command copies the course there: python -m massage_course demo --course "
                      "/tmp/demo-course")
    with Progress(transient=True) as progress:
        task = progress.add_task("Making the demo class", total=len(load_quizzes(course)))
        cohort = write_demo(course, trainees, seed, progress=lambda: progress.advance(task))
    console.print(f"A fictional class of {len(cohort)} trainees (plus one damaged file) has submitted every quiz.\n"
                  f"Try: python -m massage_course grade quiz-1-hospital --course {printable(course)}, then feedback and "
                  "report with the same --course.")
    return 0


def clean_demo_copy(target: Path) -> None:
    """The course as committed: nbgrader_config.py, source/ and quizzes/; never release/, submitted/ or grades."""
    target.mkdir(parents=True)
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", target)
    for name in ("source", "quizzes"):
        shutil.copytree(COURSE_ROOT / name, target / name)


def grade_command(quiz: str, course: Path, workers: int, unsandboxed_at_my_own_risk: bool = False) -> int:
    """Grade every submission; exit 1 if any failed, so a script notices (the report says which and why). Without
    every defence of the sandbox it refuses, unless the instructor says to go on at their own risk."""
    from rich.progress import Progress

    from .grade_run import grade_quiz, print_report
    from .sandbox import SandboxUnavailable

    if not (course / "source" / quiz).is_dir():
        print(f"error: no quiz named {quiz!r} in {course / 'source'}", file=sys.stderr)
        return 2
    submissions = len([p for p in (course / "submitted").glob(f"*/{quiz}") if p.is_dir()])
    with Progress(transient=True) as progress:
        task = progress.add_task(f"Grading {submissions} submission(s)", total=submissions)
        try:
            results = grade_quiz(quiz, course, workers, progress=lambda: progress.advance(task),
                                 unsandboxed_at_my_own_risk=unsandboxed_at_my_own_risk)
        except SandboxUnavailable as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    print_report(results, quiz)
    print(f"Report: {course / 'reports' / (quiz + '-grading.json')}")
    return 1 if any(r.status == "failed" for r in results) else 0
