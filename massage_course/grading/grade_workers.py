"""The grade run's worker processes: a few long-lived processes, each grading one trainee at a time through nbgrader's
API, so that a trainee whose grading crashes, hangs or runs into a cap fails alone.

Starting nbgrader costs about 2 s and one trainee about 1 s, so a process per trainee triples the time. A worker
grades trainee after trainee; if it dies or a trainee takes longer than the wall-time cap, only that trainee fails and
a fresh worker takes the rest of the queue. Each trainee's kernel gets a control group of its own (``limits.py``),
named by the worker, which reads its counters afterwards to say which cap, if any, stopped the notebook.
"""

from __future__ import annotations

import itertools
import json
import os
import select
import subprocess
import sys
import threading
import types

# jsonschema's optional IRI format check (rfc3987-syntax, installed for Jupyter's event schemas) builds a parser grammar
# when imported: 1.9 s of CPU in every grading process. Notebook and nbgrader schemas use no IRI format, so skip it.
sys.modules.setdefault("rfc3987_syntax", None)

from . import limits, sandbox  # noqa: E402
from .nbgrader_api import course_api  # noqa: E402

# What nbgrader's log says, in words an instructor can act on (first match wins).
KNOWN_FAILURES = (
    ("CellTimeoutError", "a cell did not finish in time and could not be interrupted (for example an endless loop "
                         "that ignores interruption); look at the trainee's code cells"),
    ("UnresponsiveKernelError", "the notebook's kernel stopped responding while grading"),
    ("DeadKernelError", "the notebook's kernel died while grading (its code may have run into a cap on memory, "
                        "processes or CPU time); look at the trainee's code cells"),
    ("NotJSONError", "the notebook file is not valid"),
    ("SandboxUnavailable", "the grading sandbox could not start (see the grading log)"),
)


def _last_error(log: str) -> str:
    for marker, words in KNOWN_FAILURES:
        if marker in log:
            return words
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    # nbgrader ends with "Please see the above traceback"; the exception line before it says what happened.
    useful = [line for line in lines if ("Error" in line or "error" in line) and "Please see" not in line
              and "There was an error processing" not in line]
    return (useful or lines or ["nbgrader failed without a message"])[-1][:300]


def _check_cell_schemas_once() -> None:
    """nbgrader checks each cell's metadata with ``jsonschema.validate``, which re-checks the schema itself on every
    call: a third of a worker's time per trainee. Check each schema once and reuse its validator (same verdicts)."""
    import jsonschema
    from nbgrader.nbgraderformat import common

    validators = {}

    def validate(instance, schema):
        key = json.dumps(schema, sort_keys=True)  # nbgrader reads the schema file again for every notebook
        if key not in validators:
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            validators[key] = cls(schema)
        error = jsonschema.exceptions.best_match(validators[key].iter_errors(instance))
        if error is not None:
            raise error

    common.jsonschema = types.SimpleNamespace(validate=validate)


def _one_engine_per_database() -> None:
    """nbgrader opens a new SQLAlchemy engine for each of the nine gradebook connections one trainee takes, and so
    loses the engine's cache of compiled SQL every time. A worker keeps one engine per database URL (closing a
    gradebook still ends its session and connections; SQLAlchemy re-opens them from the pool)."""
    import functools

    from nbgrader import api as nbgrader_api

    nbgrader_api.create_engine = functools.lru_cache(maxsize=None)(nbgrader_api.create_engine)


def _reconnect_quickly() -> None:
    """nbgrader's client connects to a kernel's sockets before the kernel (still starting in its sandbox) has made
    them, and ZeroMQ retries a connection every 100 ms: retrying every 10 ms starts each notebook about 0.1 s sooner
    (measured: 0.63 s to 0.55 s for a kernel start, one cell and its end)."""
    import zmq
    import zmq.asyncio

    original = zmq.asyncio.Context.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.setsockopt(zmq.RECONNECT_IVL, 10)  # a default for the sockets this context makes

    zmq.asyncio.Context.__init__ = init


def worker_main(course: str, quiz: str) -> None:
    """Read trainee ids on stdin, autograde each with nbgrader, answer one JSON line per trainee on stdout."""
    import logging

    logging.disable(logging.WARNING)  # nbgrader's checksum warnings on every honest submission (#1961) say nothing
    # Kernels are started with /dev/null as their output (sandbox.py), but nbgrader's own tools may print: keep the
    # answers on a stdout of their own and send everything else written to file descriptor 1 to the grading log.
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    _check_cell_schemas_once()
    _one_engine_per_database()
    _reconnect_quickly()
    caps = limits.Caps.from_environment()
    api = course_api(course)
    for number, line in zip(itertools.count(1), sys.stdin):
        student = line.strip()
        tag = os.environ[limits.TAG_ENV] = f"grade-{os.getpid()}-{number}"  # the kernel's control group
        try:
            result = api.autograde(quiz, student, force=True, create=True)
            ok, message = bool(result["success"]), "" if result["success"] else _last_error(
                (result.get("log") or "") + "\n" + (result.get("error") or ""))
        except Exception as error:  # anything nbgrader raises is that trainee's failure, not the run's
            ok, message = False, f"{type(error).__name__}: {error}"[:300]
        capped = limits.stopped_by(tag, caps)
        limits.remove(tag)
        print(json.dumps({"student": student, "ok": ok, "message": message, "capped": capped}), file=answers,
              flush=True)


class _Worker:
    def __init__(self, course, quiz: str, log):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "massage_course.grading.grade_workers", "--worker", str(course), quiz],
            cwd=course, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1)

    def grade(self, student: str, caps: limits.Caps) -> tuple[bool, str, list[str]]:
        try:
            self.process.stdin.write(student + "\n")
            self.process.stdin.flush()
        except OSError:
            return False, "the grading process stopped unexpectedly", []
        ready, _, _ = select.select([self.process.stdout], [], [], caps.wall_seconds)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            self.stop()
            if not ready:
                return False, "", [f"stopped at {caps.words('wall_seconds')}: grading did not finish in time"]
            return False, "the grading process stopped unexpectedly (see the grading log)", []
        try:
            answer = json.loads(line)
            return answer["ok"], answer["message"], answer["capped"]
        except (ValueError, KeyError):
            self.stop()
            return False, f"the grading process gave an answer that could not be read: {line.strip()[:200]!r}", []

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.stop()


def run_workers(course, quiz: str, students: list[str], workers: int, caps: limits.Caps, log,
                progress=None) -> dict[str, tuple[bool, str, list[str]]]:
    """Grade ``students`` in ``workers`` processes: {student: (nbgrader succeeded, its failure, caps it ran into)}."""
    queue, outcomes, lock = list(students), {}, threading.Lock()

    def work():
        worker = None
        while True:
            with lock:
                if not queue:
                    break
                student = queue.pop(0)
            if worker is None or worker.process.poll() is not None:
                worker = _Worker(course, quiz, log)
            outcome = worker.grade(student, caps)
            with lock:
                outcomes[student] = outcome
            if progress:
                progress()
        if worker is not None:
            worker.close()

    threads = [threading.Thread(target=work) for _ in range(max(1, min(workers, len(students))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if os.geteuid() == 0:
        limits.sweep()  # the control groups of kernels whose worker was stopped
    sandbox.remove_stale_socket_folders()  # and their socket folders
    return outcomes


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"] and len(sys.argv) == 4:
        worker_main(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit("usage: python -m massage_course.grading.grade_workers --worker COURSE QUIZ "
                         "(used by the grade command)")
