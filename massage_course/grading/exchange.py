"""nbgrader's collect step, refusing what a trainee could use against the instructor or against other trainees.

nbgrader names a submission after the trainee its submit step is told about: the account by default, but any name
given with ``nbgrader submit --student NAME`` in a trainee's own terminal. Its collect step only warns when the file's
owner differs, then collects it anyway, so one trainee could replace another's work. On the course hub every trainee
is an account of their own, and the file system records which account wrote each submission: this collect takes each
trainee's latest submission written by that trainee. (On one machine and one account, the trainee's name is that
account's, so nothing changes there.) Named in assignments/nbgrader_config.py.

It also refuses, each with an error naming the trainee, while collecting everyone else:

- a submission holding anything but folders and plain files: a symbolic link (which nbgrader's copy follows, so a
  trainee could have a file only the instructor may read copied into the course), a device, a named pipe (which
  would hang the copy), a socket, or a hard link;
- a submission whose folder name or ``timestamp.txt`` holds no valid time (nbgrader stops collecting for everyone).

- a submission beyond the quiz's attempts limit (the final post-test allows one by default: ``attempts`` in its
  bank). Each trainee's submissions are counted in a ledger in the course folder (``attempts/<quiz>.json``), so a
  trainee who deletes an earlier submission from the exchange does not get a new first attempt; the graded one is
  the latest within the limit.

A refused submission stays in the exchange's inbound folder, untouched. What is collected is copied without following
links, and without execute, setuid or setgid bits.

Feedback goes the other way: ``CourseFeedbackRelease`` releases the course's own feedback pages and refuses nbgrader's
generated notebook (which shows the tests), however the release was asked for.
"""

from __future__ import annotations

import datetime
import glob
import json
import os
import pwd
import shutil
import stat
from pathlib import Path

from nbgrader.exchange import ExchangeError
from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.exchange.default.release_feedback import ExchangeReleaseFeedback
from nbgrader.utils import ignore_patterns, parse_utc

from ..paths import COURSE_ROOT
from ..topics.course_evaluation import DROP_BOX
from .feedback import is_course_page
from .quiz_bank import bank_folder, load_quiz
from .trainee_text import without_controls

KINDS = {stat.S_IFLNK: "a symbolic link", stat.S_IFIFO: "a named pipe (FIFO)", stat.S_IFCHR: "a device",
         stat.S_IFBLK: "a device", stat.S_IFSOCK: "a socket"}


def _writer(path: str) -> str | None:
    try:
        return pwd.getpwuid(os.lstat(path).st_uid).pw_name
    except (KeyError, OSError):
        return None


def unsafe_entry(folder: str | Path) -> str | None:
    """What makes a submission folder unsafe to copy, in words (None when it holds only folders and plain files).
    Nothing is followed: a link is reported as a link, wherever it points."""
    try:
        top = os.lstat(folder)
    except OSError as error:
        return f"it cannot be read ({error.strerror})"
    if not stat.S_ISDIR(top.st_mode):
        return f"it is {KINDS.get(stat.S_IFMT(top.st_mode), 'a file')}, not a folder"
    pending = [str(folder)]
    while pending:
        current = pending.pop()
        try:
            entries = list(os.scandir(current))
        except OSError as error:
            return f"{os.path.relpath(current, folder)} cannot be read ({error.strerror})"
        for entry in entries:
            info = entry.stat(follow_symlinks=False)
            inside = os.path.relpath(entry.path, folder)
            if stat.S_ISDIR(info.st_mode):
                pending.append(entry.path)
            elif not stat.S_ISREG(info.st_mode):
                return f"{inside} is {KINDS.get(stat.S_IFMT(info.st_mode), 'not a plain file')}"
            elif info.st_nlink > 1:
                return f"{inside} is a hard link to a file elsewhere"
    return None


def _timestamp_problem(folder: str) -> str | None:
    """nbgrader reads timestamp.txt again at the next collect and stops for everyone if it holds no time."""
    try:  # neither a link followed nor a pipe waited on, should one have been swapped in since unsafe_entry looked
        descriptor = os.open(os.path.join(folder, "timestamp.txt"), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError:
        return "its timestamp.txt cannot be read"
    try:
        with os.fdopen(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return "its timestamp.txt is not a plain file"
            text = handle.read(200).decode("utf-8").strip()
        if text:
            parse_utc(text)
    except (OSError, ValueError, OverflowError):
        return "its timestamp.txt holds no valid time"
    return None


class OwnerCheckedCollect(ExchangeCollect):
    def _path_to_record(self, path):
        filename = os.path.basename(path)
        try:
            record = super()._path_to_record(path)
            record["problem"] = None
        except (ValueError, OverflowError):  # the time in the folder's name
            record = {"username": filename.rsplit("+", 3)[0], "filename": filename,
                      # never before a due date, and never chosen over a readable record
                      "timestamp": datetime.datetime.max,
                      "problem": "its name holds no valid submission time (trainee+quiz+time)"}
        writer = _writer(path)
        if record["problem"] is None and writer != record["username"]:
            record["problem"] = (f"it names the trainee {record['username']} but the account "
                                 f"{writer or 'an unknown account'} wrote it")
        if record["problem"] is None:
            record["problem"] = unsafe_entry(path) or _timestamp_problem(path)
            if record["problem"]:
                record["problem"] = f"the trainee {record['username']}'s submission: {record['problem']}"
        self._seen[record["filename"]] = record
        return record

    def _sort_by_timestamp(self, records):
        # nbgrader collects the first of each trainee's records: the latest collectable one comes first
        return sorted(records, key=lambda record: (record["problem"] is None, record["timestamp"]), reverse=True)

    def _refuse(self, filename: str, reason: str) -> None:
        self.log.error("Refused %s: %s; it stays in the exchange's inbound folder",
                       without_controls(filename, one_line=True), without_controls(reason, one_line=True))

    def init_src(self):
        self._seen = {}  # every submission nbgrader looked at, by folder name, with what is wrong with it
        super().init_src()
        self._limit_attempts()
        for name, record in sorted(self._seen.items()):
            if record["problem"]:
                self._refuse(name, record["problem"])
        # one record per trainee, the latest collectable (nbgrader groups unsorted records, which can give two)
        latest = {}
        for record in self._seen.values():
            if record["problem"] is None and (record["username"] not in latest
                                              or record["timestamp"] > latest[record["username"]]["timestamp"]):
                latest[record["username"]] = record
        self.src_records = [record for record in self.src_records if latest.get(record["username"]) is record]
        chosen = {record["username"] for record in self.src_records}
        self.src_records += [record for name, record in sorted(latest.items()) if name not in chosen]

    def _limit_attempts(self) -> None:
        """Mark each trainee's submissions beyond the quiz's attempts limit, counted in the course's ledger."""
        quiz = self.coursedir.assignment_id
        bank = bank_folder(self.coursedir.root) / f"{quiz}.yaml"
        limit = load_quiz(bank).attempts if bank.is_file() else None
        if limit is None:
            return
        ledger = AttemptLedger(Path(self.coursedir.root) / "attempts" / f"{quiz}.json")
        counted = ledger.add((r["username"], r["filename"], r["timestamp"]) for r in self._seen.values()
                             if r["problem"] is None)
        attempt = {folder: n for folders in counted.values() for n, folder in enumerate(folders, 1)}
        for record in self._seen.values():
            if record["problem"] is None and attempt.get(record["filename"], 0) > limit:
                record["problem"] = (f"the trainee {record['username']}'s attempt {attempt[record['filename']]} at "
                                     f"{quiz}, which allows "
                                     f"{limit}: kept in the exchange, not graded (the attempt graded is number "
                                     f"{limit})")

    def copy_files(self):
        """nbgrader's copy, one trainee at a time: what stops one trainee's collect (a timestamp.txt already
        collected that holds no time, a copy that fails) is that trainee's refusal, not everyone's."""
        records = self.src_records
        if not records:
            return super().copy_files()
        try:
            for record in records:
                self.src_records = [record]
                collected = self.coursedir.format_path(self.coursedir.submitted_directory, record["username"],
                                                       self.coursedir.assignment_id)
                if _timestamp_problem(collected):  # nbgrader would stop (with an AttributeError, nbgrader 0.9.6)
                    self._refuse(record["filename"], f"the copy collected earlier for the trainee "
                                                     f"{record['username']} ({collected}) has a timestamp.txt that "
                                                     "holds no valid time: correct or delete it, then collect again")
                    continue
                try:
                    super().copy_files()
                except (ExchangeError, OSError, RuntimeError, ValueError) as error:
                    self._refuse(record["filename"], f"the trainee {record['username']}'s submission could not be "
                                                     f"collected ({error})")
        finally:
            self.src_records = records

    def do_copy(self, src, dest, log=None):
        """nbgrader's copy (size limits, ignored files), never following a link; a link or special file swapped in
        since the check at init_src is caught, and that trainee's copy removed."""
        problem = unsafe_entry(src)
        if problem:
            raise ExchangeError(problem)
        dir_size = self.get_size(src)
        if dir_size > 1000 * self.coursedir.max_dir_size:
            raise RuntimeError(f"the submission is too big: {dir_size} bytes, at most "
                               f"{1000 * self.coursedir.max_dir_size}")
        try:
            shutil.copytree(src, dest, symlinks=True,
                            ignore=ignore_patterns(exclude=self.coursedir.ignore, include=self.coursedir.include,
                                                   max_file_size=self.coursedir.max_file_size, log=self.log))
            problem = unsafe_entry(dest)
            if problem:
                raise ExchangeError(problem)
            shared = 0o660 if self.coursedir.groupshared else 0
            for folder, _, files in os.walk(dest):
                if self.coursedir.groupshared:
                    os.chmod(folder, (stat.S_IMODE(os.stat(folder).st_mode) | 0o2770) & 0o2777)
                for name in files:
                    path = os.path.join(folder, name)
                    os.chmod(path, (stat.S_IMODE(os.lstat(path).st_mode) | shared) & 0o666)
        except BaseException:
            shutil.rmtree(dest, ignore_errors=True)
            raise


class AttemptLedger:
    """Every submission of one quiz the course has seen, per trainee, in time order: a JSON file in the course folder
    (instructors only). Entries are only ever added, so deleting a submission from the exchange changes no count."""

    def __init__(self, path: Path):
        self.path = path

    def _load(self) -> dict[str, list[dict]]:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}

    @staticmethod
    def _in_order(data: dict[str, list[dict]]) -> dict[str, list[str]]:
        return {name: [entry["submission"] for entry in sorted(entries, key=lambda e: e["time"])]
                for name, entries in data.items()}

    def read(self) -> dict[str, list[str]]:
        return self._in_order(self._load())

    def add(self, submissions) -> dict[str, list[str]]:
        """Add (trainee, submission folder, time) entries not yet counted; return each trainee's in time order."""
        data = self._load()
        for name, folder, when in submissions:
            entries = data.setdefault(name, [])
            if folder not in {entry["submission"] for entry in entries}:
                entries.append({"submission": folder, "time": when.isoformat()})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".new")
        temporary.write_text(json.dumps(data, indent=1, sort_keys=True))
        os.replace(temporary, self.path)
        return self._in_order(data)

    def count(self, name: str) -> int:
        return len(self.read().get(name, []))


class CourseFeedbackRelease(ExchangeReleaseFeedback):
    """nbgrader's release_feedback (the formgrader's Release Feedback buttons, ``nbgrader release_feedback`` and the
    course's ``feedback --release``) that hands trainees the course's own pages only (feedback.py). nbgrader's
    Generate Feedback writes the graded notebook over them, test cells and all; that trainee's release is refused,
    naming the trainee and what to run, while the others are released."""

    def copy_files(self):
        refused = sorted({path.split(os.sep)[-3] for path in glob.glob(os.path.join(self.src_path, "*.html"))
                          if not is_course_page(path)})
        excluded = {name for name in self.coursedir.student_id_exclude.split(",") if name}
        self.coursedir.student_id_exclude = ",".join(sorted(excluded | set(refused)))
        try:
            super().copy_files()
        finally:
            self.coursedir.student_id_exclude = ",".join(sorted(excluded))
        if refused:
            names = ", ".join(without_controls(name, one_line=True) for name in refused)
            self.fail(f"Refused to release feedback for {names}: it is nbgrader's generated notebook (it shows the "
                      f"tests), not the course's page. Write the course's pages again with `python -m massage_course "
                      f"feedback {self.coursedir.assignment_id} --release`.")


def prepare_exchange() -> Path:
    """nbgrader's exchange folder must exist and be writable by everyone who submits."""
    exchange = Path(os.environ.get("MASSAGE_COURSE_EXCHANGE", COURSE_ROOT / "exchange"))
    exchange.mkdir(parents=True, exist_ok=True)
    if exchange.stat().st_uid == os.geteuid():  # the course hub's shared exchange is root's, set up by hub/machine.py
        exchange.chmod(0o777)
        (exchange / DROP_BOX).mkdir(mode=0o700, exist_ok=True)  # the evaluation drop box (the hub makes its own)
    return exchange
