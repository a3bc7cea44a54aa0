"""Bad input to the instructor's commands, as a trainee (or a damaged download) would give it: collect refuses links,
special files and unreadable times; zip-collect refuses nested, duplicate, escaping, oversized, damaged and non-zip
files; the hub's chown never follows a link; trainee text never restyles or controls the instructor's terminal; and
each of them refuses that one thing with one clear line while everyone else is collected or graded.

Collect and chown need root (submissions written by other accounts, files given away): those tests skip without it.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import zipfile

import nbformat
import pytest

from massage_course.grading.nbgrader_api import course_api
from massage_course.hub import machine as hub

from .conftest import QUIZ, copy_course, fill_quiz, quiz_key
from .conftest import course_command as run

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: files written by other accounts")
NOTEBOOK = f"{QUIZ}.ipynb"
# System accounts that stand for trainees: collect checks that a trainee's own account wrote each submission.
TRAINEES = ("daemon", "bin", "sys", "games", "man", "lp", "mail", "news")



def give(path, account: str) -> None:
    """``path`` and everything in it written by ``account`` (links themselves, never what they point to)."""
    entry = pwd.getpwnam(account)
    for folder, folders, files in os.walk(path):
        for name in [folder, *(os.path.join(folder, n) for n in folders + files)]:
            os.lchown(name, entry.pw_uid, entry.pw_gid)


# --- collect (items 11 and 15) ---------------------------------------------------------------------------------------

@pytest.fixture()
def exchange_course(tmp_path, monkeypatch):
    """A course whose quiz is released to an exchange, and a way to drop a trainee's submission in its inbound."""
    exchange = tmp_path / "exchange"
    monkeypatch.setenv("MASSAGE_COURSE_EXCHANGE", str(exchange))
    monkeypatch.delenv("MASSAGE_COURSE_GRADEBOOK_URL", raising=False)
    root = copy_course(tmp_path / "course")
    released = run(root, "release", QUIZ)
    assert released.returncode == 0, released.stdout + released.stderr
    inbound = exchange / "hospital-massage" / "inbound"
    notebook = (exchange / "hospital-massage" / "outbound" / QUIZ / NOTEBOOK).read_bytes()

    def submit(trainee: str, time: str = "2026-03-02 10:00:00.000000 UTC", file_time: str | None = None):
        """A submission as nbgrader submit makes it: the time in the folder's name and in its timestamp.txt."""
        folder = inbound / f"{trainee}+{QUIZ}+{time}"
        folder.mkdir()
        (folder / NOTEBOOK).write_bytes(notebook)
        (folder / "timestamp.txt").write_text(file_time or time)
        return folder

    return root, inbound, submit


@as_root
def test_collect_refuses_links_and_special_files_naming_the_trainee_and_collects_the_others(exchange_course, tmp_path):
    root, inbound, submit = exchange_course
    secret = tmp_path / "instructor-only.txt"
    secret.write_text("INSTRUCTOR ONLY")
    secret.chmod(0o600)
    good, linked, piped, whole, hard = TRAINEES[:5]
    give(submit(good), good)
    folder = submit(linked)
    (folder / "notes.txt").symlink_to(secret)  # a link to a file only the instructor may read
    give(folder, linked)
    folder = submit(piped)
    os.mkfifo(folder / "pipe")  # would hang nbgrader's copy
    give(folder, piped)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(secret, elsewhere / NOTEBOOK)
    os.symlink(elsewhere, inbound / f"{whole}+{QUIZ}+2026-03-02 10:00:00.000000 UTC")  # the folder itself a link
    os.lchown(inbound / f"{whole}+{QUIZ}+2026-03-02 10:00:00.000000 UTC", pwd.getpwnam(whole).pw_uid, 0)
    folder = submit(hard)
    os.link(secret, folder / "copy.txt")
    give(folder / NOTEBOOK, hard)
    os.lchown(folder, pwd.getpwnam(hard).pw_uid, 0)
    result = run(root, "collect", QUIZ)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert sorted(p.name for p in (root / "submitted").glob("*")) == [good], output
    assert not any("INSTRUCTOR ONLY" in p.read_text(errors="replace") for p in (root / "submitted").rglob("*")
                   if p.is_file())
    lines = [line for line in result.stdout.splitlines() if line.startswith("not collected")]
    assert len(lines) == 4, result.stdout
    for trainee, words in ((linked, "notes.txt is a symbolic link"), (piped, "pipe is a named pipe"),
                           (whole, "is a symbolic link, not a folder"), (hard, "copy.txt is a hard link")):
        assert any(f"the trainee {trainee}'s submission" in line and words in line for line in lines), (trainee, lines)
    assert stat.S_ISFIFO(os.lstat(inbound / f"{piped}+{QUIZ}+2026-03-02 10:00:00.000000 UTC" / "pipe").st_mode)


@as_root
def test_a_submission_with_a_malformed_time_is_skipped_with_a_message_and_the_others_collected(exchange_course):
    root, _, submit = exchange_course
    good, bad_name, bad_file, later = TRAINEES[:4]
    give(submit(good), good)
    give(submit(bad_name, time="not a time"), bad_name)
    give(submit(bad_file, file_time="half past nine"), bad_file)
    give(submit(later), later)
    first = run(root, "collect", QUIZ)
    assert first.returncode == 1, first.stdout + first.stderr
    assert sorted(p.name for p in (root / "submitted").glob("*")) == sorted([good, later]), first.stdout
    assert f"{bad_name}+{QUIZ}+not a time: its name holds no valid submission time" in first.stdout
    assert f"the trainee {bad_file}'s submission: its timestamp.txt holds no valid time" in first.stdout
    # A submission collected before this check, whose timestamp.txt holds no time: nbgrader reads it again when the
    # trainee submits anew, and used to stop there for everyone.
    (root / "submitted" / later / QUIZ / "timestamp.txt").write_text("garbage")
    give(submit(later, time="2026-03-03 10:00:00.000000 UTC"), later)
    give(submit(TRAINEES[4]), TRAINEES[4])
    second = run(root, "collect", QUIZ)
    assert second.returncode == 1, second.stdout + second.stderr
    assert (root / "submitted" / TRAINEES[4] / QUIZ / NOTEBOOK).exists(), second.stdout + second.stderr
    assert any(line.startswith("not collected") and f"the copy collected earlier for the trainee {later}" in line
               for line in second.stdout.splitlines()), second.stdout


# --- the hub's chown (item 12) ---------------------------------------------------------------------------------------

@as_root
def test_chown_tree_never_follows_a_link_a_trainee_planted(tmp_path):
    trainee = pwd.getpwnam("nobody")
    root_file = tmp_path / "root-only"
    root_file.write_text("root's")
    root_folder = tmp_path / "root-folder"
    root_folder.mkdir()
    (root_folder / "inside").write_text("root's")
    home = tmp_path / "home" / "notebooks"
    (home / "sub").mkdir(parents=True)
    (home / "sub" / "lesson.ipynb").write_text("{}")
    (home / "sub" / "shadow").symlink_to(root_file)  # planted: a link to a root-owned file
    (home / "folder").symlink_to(root_folder)  # and to a root-owned folder
    os.link(root_file, home / "hard")  # and a hard link to the root-owned file
    hub.chown_tree(home, trainee.pw_uid, trainee.pw_gid)
    for path in (root_file, root_folder, root_folder / "inside"):
        assert os.stat(path).st_uid == 0, path
    assert os.lstat(home / "sub" / "shadow").st_uid == trainee.pw_uid  # the link itself is theirs
    for path in (home, home / "sub", home / "sub" / "lesson.ipynb"):
        assert os.stat(path).st_uid == trainee.pw_uid, path
    linked_home = tmp_path / "linked"
    linked_home.symlink_to(root_folder)  # the folder given is itself a link
    hub.chown_tree(linked_home, trainee.pw_uid, trainee.pw_gid)
    assert os.stat(root_folder).st_uid == 0 and os.stat(root_folder / "inside").st_uid == 0


# --- zip-collect (item 14) -------------------------------------------------------------------------------------------

def test_zip_collect_refuses_each_bad_file_with_one_line_and_collects_the_rest(tmp_path):
    root = copy_course(tmp_path / "course")
    quiz = "quiz-3-mechanisms-indications"
    assert course_api(root).generate_assignment(quiz)["success"]
    notebook = (root / "release" / quiz / f"{quiz}.ipynb").read_text()
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as zipped:
        zipped.writestr(f"ana_{quiz}.ipynb", '{"cells": "impersonating ana"}')
    lms = tmp_path / "lms-download.zip"
    with zipfile.ZipFile(lms, "w") as zipped:
        zipped.writestr(f"ana_{quiz}.ipynb", notebook)
        zipped.write(inner, f"ben_{quiz}.zip")  # a trainee's "submission" that is a zip holding ana's name
        zipped.writestr(f"cora_{quiz}.ipynb", notebook)
        zipped.writestr(f"dev_{quiz}.ipynb", notebook)
        zipped.writestr(f"dev_late_1234_5678_{quiz}-1.ipynb", notebook)  # two for one trainee
        zipped.writestr(f"../../eli_{quiz}.ipynb", notebook)
        zipped.writestr(f"/tmp/fay_{quiz}.ipynb", notebook)
        zipped.writestr(f".._{quiz}.ipynb", notebook)  # a trainee id that would lead out of submitted/
        setuid = zipfile.ZipInfo(f"gus_{quiz}.ipynb")
        setuid.external_attr = (stat.S_IFREG | 0o6777) << 16
        zipped.writestr(setuid, notebook)
        link = zipfile.ZipInfo(f"hal_{quiz}.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zipped.writestr(link, "/etc/passwd")
        zipped.writestr(f"ivy_{quiz}.ipynb", inner.read_bytes())  # a zip named as a notebook
    second = tmp_path / "second" / "lms-download.zip"  # the same file name again, from another folder
    second.parent.mkdir()
    with zipfile.ZipFile(second, "w") as zipped:
        zipped.writestr(f"kim_{quiz}.ipynb", notebook)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zipped, zipped.open(f"lee_{quiz}.ipynb", "w") as member:
        for _ in range(300):
            member.write(bytes(2**20))  # 300 MB of zeros, a few hundred kB zipped
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zipped:
        for n in range(6000):
            zipped.writestr(f"x{n}.txt", "")
    gz = tmp_path / "download.tar.gz"
    gz.write_bytes(b"\x1f\x8b\x08\x00" + bytes(40))
    broken = tmp_path / "broken.zip"
    broken.write_bytes(lms.read_bytes()[:300])
    result = run(root, "zip-collect", quiz, str(lms), str(second), str(bomb), str(many), str(gz), str(broken))
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == 1, output
    collected = sorted(p.name for p in (root / "submitted").glob("*"))
    assert collected == ["ana", "cora", "gus", "kim"], output
    ana = nbformat.read(root / "submitted" / "ana" / quiz / f"{quiz}.ipynb", as_version=4)
    assert ana.cells and "impersonating" not in json.dumps(ana)
    mode = stat.S_IMODE(os.stat(root / "submitted" / "gus" / quiz / f"{quiz}.ipynb").st_mode)
    assert mode & 0o7111 == 0, oct(mode)  # no setuid, setgid, sticky or execute bit
    refused = [line for line in result.stdout.splitlines() if line.startswith("refused")]
    expected = [f"ben_{quiz}.zip: an archive inside the download", "dev: 2 files name this trainee",
                f"../../eli_{quiz}.ipynb: a path that leads out", f"/tmp/fay_{quiz}.ipynb: a path that leads out",
                "'..' cannot be a trainee id", f"hal_{quiz}.ipynb: a link or special file",
                f"ivy_{quiz}.ipynb: a zip file named as a notebook", "bomb.zip: not opened, it would unpack to 1 files",
                "many.zip: not opened, it would unpack to 6000 files",
                "download.tar.gz: neither a zip file nor a notebook", "broken.zip: a damaged or incomplete zip file"]
    for words in expected:
        assert sum(words in line for line in refused) == 1, (words, refused)
    assert len(refused) == len(expected), refused
    assert not list(tmp_path.rglob(f"eli_{quiz}.ipynb")) and not (root / quiz).exists()


# --- trainee text on the instructor's terminal (item 17) -------------------------------------------------------------

def test_trainee_markup_and_escape_sequences_are_shown_literally_by_grade_feedback_and_report(tmp_path, monkeypatch):
    monkeypatch.delenv("MASSAGE_COURSE_GRADEBOOK_URL", raising=False)
    root = copy_course(tmp_path / "course")
    assert course_api(root).generate_assignment(QUIZ)["success"]
    released = nbformat.read(root / "release" / QUIZ / NOTEBOOK, as_version=4)
    nb = fill_quiz(released, quiz_key())
    forged = {"nbgrader": {"grade_id": "[/][link=https://evil.example]x[/link]\x1b[2J", "solution": True,
                           "grade": False, "locked": False, "schema_version": 3, "task": False}}
    nb.cells += [nbformat.v4.new_code_cell("1", metadata=forged), nbformat.v4.new_code_cell("2", metadata=forged)]
    name = "[bold]eve\x1b]0;pwned\x07\x1b[31m"  # markup, a terminal title and a colour in a submission folder's name
    target = root / "submitted" / name / QUIZ / NOTEBOOK
    target.parent.mkdir(parents=True)
    nbformat.write(nb, target)
    graded = run(root, "grade", QUIZ)
    assert graded.returncode == 1 and "Traceback" not in graded.stderr, graded.stdout + graded.stderr
    assert "[bold]eve" in graded.stdout and "[/][link=https://evil.example]x[/link]" in graded.stdout, graded.stdout
    assert "\x1b" not in graded.stdout and "\x07" not in graded.stdout
    feedback = run(root, "feedback", QUIZ, "--release")
    assert feedback.returncode == 0 and "Traceback" not in feedback.stderr, feedback.stdout + feedback.stderr
    line = next(line for line in feedback.stdout.splitlines() if line.startswith("no feedback yet"))
    assert "[bold]eve" in line and "grading failed" in line and "[/][link=" in line, feedback.stdout
    assert "\x1b" not in feedback.stdout and "\x07" not in feedback.stdout
    report = run(root, "report", QUIZ)
    assert "Traceback" not in report.stderr, report.stdout + report.stderr
    grades = (root / "reports" / f"{QUIZ}-grades.csv").read_text()
    assert "[bold]eve" in grades and "\x1b" not in grades and "\x07" not in grades


# --- the cross-check fails closed (item 16) --------------------------------------------------------------------------

def test_a_graded_notebook_the_cross_check_cannot_read_is_flagged_and_credited_nothing(tmp_path, monkeypatch):
    """nbgrader grades, then its graded notebook cannot be read (cut short as on a full disk, or not a notebook):
    the answer lines cannot be checked, so nbgrader's scores must not stand as if they had been."""
    from massage_course.grading.grade_run import grade_quiz

    monkeypatch.delenv("MASSAGE_COURSE_GRADEBOOK_URL", raising=False)
    root = copy_course(tmp_path / "course")
    assert course_api(root).generate_assignment(QUIZ)["success"]
    released = nbformat.read(root / "release" / QUIZ / NOTEBOOK, as_version=4)
    damage = {"ana": '{"cells": [', "ben": "[]"}
    for student in ("ana", "ben", "cora"):
        target = root / "submitted" / student / QUIZ / NOTEBOOK
        target.parent.mkdir(parents=True)
        nbformat.write(fill_quiz(released, quiz_key()), target)

    def after_each_trainee():  # nbgrader has written the graded notebook; spoil it before the cross-check reads it
        for student, text in damage.items():
            graded = root / "autograded" / student / QUIZ / NOTEBOOK
            if graded.exists() and graded.read_text() != text:
                graded.write_text(text)

    results = {r.student: r for r in grade_quiz(QUIZ, root, workers=1, progress=after_each_trainee)}
    assert results["cora"].status == "needs_manual_grading" and results["cora"].score == len(quiz_key())  # graded as usual
    with course_api(root).gradebook as gradebook:
        for student in damage:
            assert results[student].status == "failed" and results[student].score is None, results[student]
            assert gradebook.find_submission(QUIZ, student).score == 0, student  # nbgrader's 12 does not stand
            checks = [g for g in gradebook.find_submission_notebook(QUIZ, QUIZ, student).grades
                      if g.name.endswith("-check")]
            assert all(g.needs_manual_grade and g.score == 0 for g in checks), student  # flagged for the instructor
            assert any("answer lines could not be checked" in p for p in results[student].problems), \
                results[student].problems


def test_trainee_text_is_printed_as_written_without_its_control_characters():
    import io

    from rich.console import Console

    from massage_course.grading.trainee_text import printable, without_controls

    console = Console(file=io.StringIO(), width=200)
    text = "[bold]x[/] [link=https://evil.example]y[/link]\x1b[2J\x1b]0;title\x07\r\u202eevil\x00 C:\\[b]"
    console.print(f"[red]{printable(text)}[/red]")
    assert console.file.getvalue() == "[bold]x[/] [link=https://evil.example]y[/link][2J]0;titleevil C:\\[b]\n"
    assert without_controls("a\nb\tc\x1b") == "a\nb\tc" and without_controls("a\nb\tc", one_line=True) == "a b c"
