"""The first hour of a new instructor, as README.md and the guides write the commands (issue 21): each documented
command works in its documented form from a shell whose PATH does not hold the course's environment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import copy_course

QUIZ = "quiz-1-hospital"


def documented(root: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    """`.venv/bin/python -m massage_course ...` with only a minimal environment: no activated environment on PATH."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "COLUMNS": "200",
           "MASSAGE_COURSE_EXCHANGE": str(home / "exchange")}
    return subprocess.run([sys.executable, "-m", "massage_course", *args, f"--course={root}"], capture_output=True,
                          text=True, env=env, cwd=home)


def test_the_first_release_works_without_the_environment_on_path(tmp_path):
    """It failed with "generate_assignment failed ... see the above traceback": nbgrader runs `alembic` by name."""
    root = copy_course(tmp_path / "course")
    result = documented(root, tmp_path, "release", QUIZ)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (root / "release" / QUIZ / f"{QUIZ}.ipynb").exists()


def test_the_demo_class_works_without_the_environment_on_path(tmp_path):
    root = copy_course(tmp_path / "course")
    result = documented(root, tmp_path, "demo", "--trainees", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(list((root / "submitted").glob(f"demo0*/{QUIZ}"))) == 3  # and one broken submission, on purpose


def test_each_mode_keeps_its_jupyter_state_inside_the_course(tmp_path, monkeypatch):
    """A fresh clone showed an old submission and a "Fetch Feedback" button from nbgrader's cache in the home folder,
    and an old workspace tab: Jupyter's data, runtime, settings and workspaces now live in the course's state folder,
    one set per mode, and the news prompt is off."""
    from massage_course.hub import local_lab

    monkeypatch.setattr(local_lab, "STATE", tmp_path / "state")
    monkeypatch.setattr(local_lab, "JUPYTER_CONFIG", tmp_path / "state" / "jupyter")
    trainee, instructor = local_lab.lab_environment(trainee=True), local_lab.lab_environment(trainee=False)
    for name in ("JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR"):
        assert Path(trainee[name]).is_relative_to(tmp_path / "state" / "lab" / "trainee"), name
        assert Path(instructor[name]).is_relative_to(tmp_path / "state" / "lab" / "instructor"), name
    # nbgrader's cache of fetched quizzes and feedback follows Jupyter's data folder
    data_dir = subprocess.run([sys.executable, "-c", "from jupyter_core.paths import jupyter_data_dir; "
                               "print(jupyter_data_dir())"], env=trainee, capture_output=True, text=True).stdout.strip()
    assert Path(data_dir) == tmp_path / "state" / "lab" / "trainee" / "data"
    news = Path(trainee["JUPYTERLAB_SETTINGS_DIR"]) / "@jupyterlab" / "apputils-extension"
    assert '"fetchNews": "false"' in (news / "notification.jupyterlab-settings").read_text()


def test_a_second_start_is_refused_and_says_where_the_first_runs(tmp_path, monkeypatch, capsys):
    """A second `./course start` rebuilt the book the first was serving and started a second JupyterLab on the same
    gradebook: now the build and the serve step both refuse, naming the running one."""
    import json
    import os

    from massage_course import cli
    from massage_course.hub import local_lab

    running = tmp_path / "running.json"
    monkeypatch.setattr(local_lab, "RUNNING", running)
    running.write_text(json.dumps({"pid": os.getpid(), "addresses": "\n  Book:        http://127.0.0.1:8000/\n",
                                   "trainee": False}))
    assert cli.main(["build"]) == 1
    assert "already running from this folder" in capsys.readouterr().err
    assert local_lab.serve(0, 0) == 1
    said = capsys.readouterr().err
    assert f"process {os.getpid()}" in said and "http://127.0.0.1:8000/" in said and "Stop it first" in said
    # a run that crashed leaves its file behind; a dead process is not "running"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    running.write_text(json.dumps({"pid": dead.pid, "addresses": "", "trainee": False}))
    assert local_lab.running_course() is None



def test_the_demo_makes_its_own_clean_copy_and_its_hint_names_that_copy(tmp_path):
    """The demo's hint left out --course (so following it graded the real course), and a copy of assignments/ made
    after real use was refused as holding real submissions: the demo now copies the course into a new folder."""
    target = tmp_path / "demo-course"
    result = documented(target, tmp_path, "demo", "--trainees", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (target / "nbgrader_config.py").exists() and (target / "quizzes").is_dir()
    assert f"--course {target}" in " ".join(result.stdout.split())
    assert {p.name for p in (target / "submitted").iterdir()} == {"demo01", "demo02", "demo-broken"}


def released_quiz(tmp_path: Path):
    import nbformat

    from massage_course.grading.nbgrader_api import course_api

    root = copy_course(tmp_path / "course")
    assert course_api(root).generate_assignment(QUIZ)["success"]
    path = root / "release" / QUIZ / f"{QUIZ}.ipynb"
    return path, nbformat.read(path, as_version=4)


def test_a_trainee_sees_one_plain_sentence_naming_the_question_in_the_notebook_and_in_validate(tmp_path):
    """A check cell showed a red AssertionError traceback with the package's lines before the helpful one, and
    Validate showed the traceback with no question number."""
    import html

    import nbformat
    from nbclient import NotebookClient
    from nbgrader.validator import Validator

    from .conftest import fill_quiz

    path, release = released_quiz(tmp_path)
    filled = fill_quiz(release, {"q03": 'answer = "Explain"'})
    NotebookClient(filled, kernel_name="python3", allow_errors=True, timeout=60).execute()
    errors = [out for cell in filled.cells for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert errors, "the malformed answer was not reported"
    shown = "\n".join("\n".join(out["traceback"]) for out in errors)
    assert "Question 3: 'Explain' is not one of the choices; type one of \"a\", \"b\", \"c\", \"d\"" in shown
    assert "Traceback" not in shown and "massage_course" not in shown and "AssertionError" not in shown
    nbformat.write(filled, tmp_path / "filled.ipynb")
    report = Validator(output_json=True).validate(str(tmp_path / "filled.ipynb"))
    failed = " ".join(" ".join(html.unescape(cell["error"]).split()) for cell in report["failed"])  # JSON escapes it
    assert "Question 3: 'Explain' is not one of the choices" in failed and "Traceback" not in failed


def test_a_word_instead_of_a_letter_scores_0_with_a_note_and_never_blocks_feedback(tmp_path, monkeypatch):
    """`answer = "Explain"` was reported as "holds more than one answer line; check it by hand" (it holds one), the
    formgrader offered nothing to grade for it, and feedback waited for hand grading for good."""
    import nbformat

    from massage_course.grading.feedback import write_feedback
    from massage_course.grading.grade_run import grade_quiz
    from massage_course.grading.nbgrader_api import course_api

    from .conftest import fill_quiz, quiz_key

    monkeypatch.delenv("MASSAGE_COURSE_GRADEBOOK_URL", raising=False)
    path, release = released_quiz(tmp_path)
    root = path.parents[2]
    filled = fill_quiz(release, {**quiz_key(), "q03": 'answer = "Explain"'}, "Written.")
    target = root / "submitted" / "ana" / QUIZ / path.name
    target.parent.mkdir(parents=True)
    nbformat.write(filled, target)
    [result] = grade_quiz(QUIZ, root, workers=1)
    note = [p for p in result.problems if p.startswith("question 3")]
    assert note == ["question 3: 'Explain' is not one of a, b, c, d: scored 0"], result.problems
    with course_api(root).gradebook as gradebook:
        check = gradebook.find_grade("q03-check", QUIZ, QUIZ, "ana")
        assert check.score == 0 and not check.needs_manual_grade
        written = gradebook.find_grade("w01-task", QUIZ, QUIZ, "ana")
        written.manual_score, written.needs_manual_grade = 1, False  # the instructor grades the written answer
        gradebook.db.commit()
    pages, skipped = write_feedback(root, QUIZ)
    assert skipped == [], skipped
    page = next(p for p in pages if "ana" in p.parts).read_text()
    assert "you wrote \u201cExplain\u201d, which is not one of the choices (a, b, c, d), so it scored 0" in page


def test_the_build_leaves_out_jupyter_books_file_address(monkeypatch, capsys):
    """Jupyter Book's closing "open file:///..." block came right before the real addresses (issue 21, item 7)."""
    from massage_course.site import build

    fake = ("import sys; print('reading sources... book/intro'); print('Finished generating HTML for book.'); "
            "print(\"Your book's HTML pages are here:\"); print('    file:///somewhere/index.html')")
    monkeypatch.setattr(build, "STRICT_BUILD", [sys.executable, "-c", fake])
    monkeypatch.setattr(build.assets, "fetch_vendor_assets", lambda: None)
    assert build.build_book() == 0
    said = capsys.readouterr().out
    assert "reading sources" in said and "Finished generating HTML" in said
    assert "file:///" not in said and "The book is built" in said


def test_the_feedback_page_reads_as_plain_sentences():
    """Seen in the first-hour browser test: a wrong answer read "not right(0 of 1 point)", the objectives "... role;;
    pass on ...", and the sources showed BibTeX's markup ("{Mayo Clinic} (2023)", "49 Pa. Code \\S\\ 20.41",
    "``Do Not Use''", "\\emph Clostridium")."""
    from massage_course.grading.answer_key import visible_text
    from massage_course.grading.feedback import _bibliography, feedback_page, short_reference
    from massage_course.grading.quiz_bank import load_quiz
    from massage_course.grading.results import ItemResult, TraineeResult
    from massage_course.paths import PROJECT_ROOT

    quiz = load_quiz(PROJECT_ROOT / "assignments" / "quizzes" / f"{QUIZ}.yaml")
    items = {item.id: ItemResult(item.id, 0, item.points, choice="" if item.kind == "choice" else None)
             for item in quiz.items}
    text = visible_text(feedback_page(quiz, TraineeResult("ana", "graded", 0, quiz.max_score, items)))
    first = next(item for item in quiz.items if item.kind == "choice")
    assert f"Question {quiz.number(first)}: not right (0 of 1 point)" in text
    checks = text.split("What this question checks: ")[1:]
    assert checks and all(";;" not in line and ".;" not in line for line in checks)
    assert all(line.split(" Read more:")[0].endswith(".") for line in checks)
    shown = [short_reference(key) for key in _bibliography()]  # every source a question may cite
    for markup in ("{", "}", "\\", "``", "''"):
        assert markup not in text, f"the page shows {markup!r}"
        assert not [line for line in shown if markup in line], f"sources show {markup!r}"
