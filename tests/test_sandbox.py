"""The grading sandbox against a trainee who attacks it: no network, none of the grader's environment, no privileges
even when grading as root, none of the grader's open files, caps on memory, processes, CPU and wall time (a capped
submission scores 0 with the reason, the others are graded normally), no credit for an answer the cell computes, and
no grading without the sandbox unless the instructor says so. Real nbgrader, real bubblewrap, real control groups."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import nbformat
import pytest

from massage_course.grading.grade_run import grade_quiz
from massage_course.grading.nbgrader_api import course_api

from .conftest import QUIZ, copy_course, fill_quiz, quiz_key

CORRECT = quiz_key()
MC = len(CORRECT)  # multiple-choice items of 1 point (the written answer adds 3)
NOTEBOOK = f"{QUIZ}.ipynb"
SECRET = "postgresql+psycopg2://instructor:s3cret-in-the-grader@127.0.0.1/gradebook"
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="the attacks on root privileges need the grader to be root "
                                                        "(CI grades as root)")


def released(root):
    return nbformat.read(root / "release" / QUIZ / NOTEBOOK, as_version=4)


OWN_CELL = "# a cell of the trainee's own\n"


def place(root, student, code: str | None = None, **answers: str):
    """A submission with every multiple-choice answer right (or as in ``answers``), and ``code`` in a cell of the
    trainee's own before the questions."""
    nb = fill_quiz(released(root), {**CORRECT, **answers}, "Written.")
    if code is not None:
        nb.cells.insert(2, nbformat.v4.new_code_cell(OWN_CELL + code))
    target = root / "submitted" / student / QUIZ / NOTEBOOK
    target.parent.mkdir(parents=True)
    nbformat.write(nb, target)


def printed(root, student) -> str:
    nb = nbformat.read(root / "autograded" / student / QUIZ / NOTEBOOK, as_version=4)
    cell = next(c for c in nb.cells if c.source.startswith(OWN_CELL))
    return "".join(o.get("text", "") for o in cell.outputs)


def connects_to(port: int) -> str:
    return (f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2).close()\n"
            "    print('CONNECTED')\nexcept OSError as error:\n    print('REFUSED', error)")


def reads_environments() -> str:
    return ("import glob\nfound = []\nfor path in glob.glob('/proc/*/environ'):\n    try:\n"
            f"        if {SECRET.encode()!r} in open(path, 'rb').read():\n            found.append(path)\n"
            "    except OSError:\n        pass\nprint('ENVIRON:', found, len(glob.glob('/proc/*/environ')))")


def acts_as_root(root) -> str:
    return ("import os, subprocess\n"
            "mount = subprocess.run(['mount', '-o', 'remount,rw', os.getcwd()], capture_output=True, text=True)\n"
            f"written = []\nfor path in ['planted.txt', {str(root / 'planted.txt')!r}]:\n    try:\n"
            "        open(path, 'w').write('x')\n        written.append(path)\n    except OSError:\n        pass\n"
            "cap = [line.split()[1] for line in open('/proc/self/status') if line.startswith('CapEff')][0]\n"
            "print('UID:', os.getuid(), 'CAPEFF:', cap, 'MOUNT:', mount.returncode, 'WRITTEN:', written)")


LISTS_FDS = ("import os\nfds = {}\nfor fd in os.listdir('/proc/self/fd'):\n    try:\n"
             "        fds[fd] = os.readlink('/proc/self/fd/' + fd)\n    except OSError:\n        pass\nprint('FDS:', fds)")
HOG = "block = b'x' * (6 << 30)  # 6 GB, every page touched\nprint('ALLOCATED', len(block))"
FORKER = ("import os, time\nchildren = []\ntry:\n    for _ in range(300):\n        pid = os.fork()\n"
          "        if pid == 0:\n            time.sleep(2)\n            os._exit(0)\n        children.append(pid)\n"
          "except OSError as error:\n    print('REFUSED', error)\nfor pid in children:\n    os.waitpid(pid, 0)\n"
          "print('FORKED', len(children))")


def computed_answers() -> dict[str, str]:
    """Three answer cells that compute the right letter, and one typed without quotes (tolerated: it still counts)."""
    q01, q02, q03, q04 = (CORRECT[item] for item in ("q01", "q02", "q03", "q04"))
    return {"q01": f'answer = "ABCD"[{"abcd".index(q01)}].lower()',
            "q02": f"answer = chr({ord(q02)})",
            "q03": f"import os\npath = os.path.join(os.environ.get('TMPDIR', '/tmp'), 'letter')\n"
                   f"open(path, 'w').write({q03!r})\nanswer = open(path).read()",
            "q04": f"answer = {q04}"}


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("MASSAGE_COURSE_CELL_TIMEOUT", "15")
    mp.delenv("MASSAGE_COURSE_GRADEBOOK_URL", raising=False)
    mp.setenv("MASSAGE_COURSE_PROBE", SECRET)  # in the grader's environment, as a gradebook URL would be
    for variable in ("MASSAGE_COURSE_MEMORY_CAP", "MASSAGE_COURSE_PROCESS_CAP", "MASSAGE_COURSE_CPU_SECONDS",
                     "MASSAGE_COURSE_WALL_SECONDS", "MASSAGE_COURSE_UNSANDBOXED"):
        mp.delenv(variable, raising=False)
    root = copy_course(tmp_path_factory.mktemp("sandbox") / "course")
    assert course_api(root).generate_assignment(QUIZ)["success"]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    place(root, "ana")
    place(root, "net", connects_to(listener.getsockname()[1]))
    place(root, "env", reads_environments())
    place(root, "rex", acts_as_root(root))
    place(root, "fdz", LISTS_FDS)
    place(root, "hog", HOG)
    place(root, "fox", FORKER)
    place(root, "cal", **computed_answers())
    results = {r.student: r for r in grade_quiz(QUIZ, root, workers=2)}
    listener.setblocking(False)
    try:
        listener.accept()
        reached = True
    except BlockingIOError:
        reached = False
    listener.close()
    yield root, results, reached
    mp.undo()


def test_an_honest_submission_graded_beside_the_attacks_gets_its_full_score(attacked):
    _, results, _ = attacked
    assert (results["ana"].status, results["ana"].score, results["ana"].problems) == ("needs_manual_grading", MC, [])


def test_trainee_code_cannot_connect_to_a_port_open_on_the_grading_machine(attacked):
    root, results, reached = attacked
    assert "REFUSED" in printed(root, "net"), printed(root, "net")
    assert not reached  # the host's listener never saw a connection
    assert results["net"].score == MC  # graded normally otherwise


def test_no_environment_the_kernel_can_read_holds_the_graders_secrets(attacked):
    root, _, _ = attacked
    text = printed(root, "env")
    assert "ENVIRON: []" in text, text
    assert int(text.split()[-1]) >= 1  # it did read its own environment: the probe worked


@ROOT_ONLY
def test_trainee_code_graded_as_root_is_nobody_without_capabilities_and_cannot_remount_or_write(attacked):
    root, _, _ = attacked
    text = printed(root, "rex")
    assert "UID: 65534 CAPEFF: 0000000000000000" in text, text
    assert "MOUNT: 0" not in text and "'planted.txt'" not in text, text  # its own folder stayed read-only
    # The test course sits under /tmp, an empty, throwaway folder in the sandbox: writing "there" may succeed in the
    # sandbox's copy; the real course must be untouched.
    assert list(root.rglob("planted.txt")) == []


def test_the_kernel_holds_none_of_the_graders_open_files(attacked):
    root, _, _ = attacked
    text = printed(root, "fdz")
    assert "FDS:" in text and "grading.log" not in text and str(root) not in text, text


@ROOT_ONLY
def test_a_submission_that_allocates_6_gb_scores_0_and_is_flagged_with_the_memory_cap(attacked):
    _, results, _ = attacked
    hog = results["hog"]
    assert (hog.status, hog.score, hog.max_score) == ("needs_manual_grading", 0, MC + 3), hog
    assert any("memory cap (2 GiB, MASSAGE_COURSE_MEMORY_CAP)" in p and "scored 0" in p for p in hog.problems), hog


@ROOT_ONLY
def test_a_submission_that_forks_hundreds_of_processes_scores_0_and_is_flagged_with_the_process_cap(attacked):
    root, results, _ = attacked
    fox = results["fox"]
    assert (fox.status, fox.score) == ("needs_manual_grading", 0), fox
    assert any("process cap (64 processes" in p for p in fox.problems), fox
    assert "REFUSED" in printed(root, "fox")
    with course_api(root).gradebook as gradebook:
        assert gradebook.find_submission(QUIZ, "fox").score == 0


def test_answers_the_cell_computes_score_0_and_are_flagged_whatever_they_evaluate_to(attacked):
    root, results, _ = attacked
    cal = results["cal"]
    assert cal.status == "needs_manual_grading" and cal.score == MC - 3, cal  # q04 typed without quotes still counts
    flagged = [p for p in cal.problems if "does not simply state a letter" in p]
    assert [p.split(":")[0] for p in flagged] == ["question 1", "question 2", "question 3"], cal.problems
    with course_api(root).gradebook as gradebook:
        assert gradebook.find_submission(QUIZ, "cal").score == MC - 3


@pytest.fixture(scope="module")
def timed(tmp_path_factory):
    """A second run with small CPU and wall-time caps: one submission spins, one sleeps, one is honest."""
    mp = pytest.MonkeyPatch()
    mp.setenv("MASSAGE_COURSE_CELL_TIMEOUT", "20")  # well past the CPU cap, even on a loaded machine
    mp.setenv("MASSAGE_COURSE_CPU_SECONDS", "3")
    mp.setenv("MASSAGE_COURSE_WALL_SECONDS", "40")  # the sleeper needs 4 s per item
    mp.delenv("MASSAGE_COURSE_GRADEBOOK_URL", raising=False)
    root = copy_course(tmp_path_factory.mktemp("timed") / "course")
    assert course_api(root).generate_assignment(QUIZ)["success"]
    place(root, "ana")
    place(root, "spin", "while True:\n    pass")
    sleeps = {item: f"import time\ntime.sleep(4)\nanswer = {letter!r}" for item, letter in CORRECT.items()}
    place(root, "zzz", **sleeps)
    results = {r.student: r for r in grade_quiz(QUIZ, root, workers=3)}
    yield results
    mp.undo()


@ROOT_ONLY
def test_a_submission_that_computes_past_the_cpu_cap_scores_0_and_is_flagged(timed):
    spin = timed["spin"]
    assert (spin.status, spin.score) == ("needs_manual_grading", 0), spin
    assert any("CPU-time cap (3 s, MASSAGE_COURSE_CPU_SECONDS)" in p for p in spin.problems), spin
    assert timed["ana"].score == MC


def test_a_submission_that_runs_past_the_wall_time_cap_scores_0_and_is_flagged(timed):
    zzz = timed["zzz"]
    assert (zzz.status, zzz.score) == ("needs_manual_grading", 0), zzz
    assert any("wall-time cap (40 s per notebook, MASSAGE_COURSE_WALL_SECONDS)" in p for p in zzz.problems), zzz


def grade_command(root, *flags, **environment) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "MASSAGE_COURSE_CELL_TIMEOUT": "10", **environment}
    env.pop("MASSAGE_COURSE_GRADEBOOK_URL", None)
    return subprocess.run([sys.executable, "-m", "massage_course", "grade", QUIZ, f"--course={root}", *flags],
                          capture_output=True, text=True, env=env, check=False)


@pytest.fixture
def small_course(tmp_path):
    root = copy_course(tmp_path / "course")
    assert course_api(root).generate_assignment(QUIZ)["success"]
    place(root, "ana")
    return root


def test_grade_refuses_without_a_working_sandbox_and_says_what_to_do(small_course):
    result = grade_command(small_course, MASSAGE_COURSE_BWRAP="/nonexistent/bwrap")
    assert result.returncode == 2, result.stdout + result.stderr
    message = " ".join(result.stderr.split())
    assert "bubblewrap is not installed" in message and "apt-get install bubblewrap" in message, message
    assert "only if you trust every submission" in message and "--unsandboxed-at-my-own-risk" in message
    assert not (small_course / "autograded").exists()


@pytest.mark.parametrize("consent", [{"flags": ["--unsandboxed-at-my-own-risk"]},
                                     {"environment": {"MASSAGE_COURSE_UNSANDBOXED": "at-my-own-risk"}}],
                         ids=["flag", "environment"])
def test_grade_without_the_sandbox_only_when_the_instructor_takes_the_risk_and_warns(small_course, consent):
    result = grade_command(small_course, *consent.get("flags", []), MASSAGE_COURSE_BWRAP="/nonexistent/bwrap",
                           **consent.get("environment", {}))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "grading WITHOUT the sandbox" in result.stderr
    with course_api(small_course).gradebook as gradebook:
        assert gradebook.find_submission(QUIZ, "ana").score == MC
