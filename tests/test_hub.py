"""The course hub end to end, with real parts: a PostgreSQL server for the gradebook, JupyterHub with its proxy, real
accounts (an instructor and three trainees), and every step through the hub's and the servers' HTTP APIs: the
instructor releases a quiz, each trainee fetches, answers and submits it, the instructor collects, grades with the
course's grade command and returns feedback, and each trainee fetches their own. Then trainees try to reach what they
must not. Needs root (accounts, and JupyterHub starting servers as them); stops and removes everything it started."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from massage_course.hub import machine as hub
from massage_course.hub import sign_up
from massage_course.hub.local_lab import free_port

from .conftest import QUIZ, fill_quiz, quiz_key, wrong_key

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the course hub creates accounts and needs root")

requests = pytest.importorskip("requests")
websocket = pytest.importorskip("websocket")

INSTRUCTOR = "mc-e2e-instructor"
TRAINEES = ("mc-e2e-trainee1", "mc-e2e-trainee2", "mc-e2e-trainee3")
COURSE_ID = "hospital-massage"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
CORRECT, WRONG = quiz_key(), wrong_key()
HALF = {item: (CORRECT if n % 2 == 0 else WRONG)[item] for n, item in enumerate(sorted(CORRECT))}
ANSWERS = {TRAINEES[0]: CORRECT, TRAINEES[1]: WRONG, TRAINEES[2]: HALF}


WRITTEN_SCORES = {TRAINEES[0]: 3, TRAINEES[1]: 1, TRAINEES[2]: 2}  # the instructor's marks for the written answer


def expected_score(trainee: str) -> int:
    return sum(ANSWERS[trainee][item] == CORRECT[item] for item in CORRECT) + WRITTEN_SCORES[trainee]


def as_postgres(*command: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", "postgres", "--", *command], capture_output=True, text=True, check=check)


def ensure_postgres_installed() -> None:
    if not (PG_BIN / "initdb").exists():
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql-15"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def remove_accounts() -> None:
    for name in (INSTRUCTOR, *TRAINEES):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
        subprocess.run(["userdel", "--remove", name], capture_output=True)


class Hub:
    def __init__(self, url: str, admin_token: str, state: Path, gradebook_url: str):
        self.url, self.admin_token, self.state, self.gradebook_url = url, admin_token, state, gradebook_url
        self.tokens: dict[str, str] = {}

    def api(self, method: str, path: str, token: str | None = None, **kwargs):
        headers = {"Authorization": f"token {token or self.admin_token}"}
        return requests.request(method, self.url + path, headers=headers, timeout=60, **kwargs)

    def server(self, user: str, method: str, path: str, token: str | None = None, **kwargs):
        """A request to ``user``'s JupyterLab server, as ``token``'s owner (``user`` by default)."""
        return self.api(method, f"/user/{user}{path}", token or self.tokens[user], **kwargs)

    def start_server(self, user: str) -> None:
        response = self.api("POST", f"/hub/api/users/{user}/tokens", json={"note": "end-to-end test"})
        assert response.status_code == 201, response.text
        self.tokens[user] = response.json()["token"]
        assert self.api("POST", f"/hub/api/users/{user}/server").status_code in (201, 202)

    def wait_ready(self, user: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.api("GET", f"/hub/api/users/{user}").json().get("servers", {}).get("", {})
            if server.get("ready"):
                return
            time.sleep(0.5)
        raise AssertionError(f"{user}'s server did not start")

    def run_python(self, user: str, code: str, token: str | None = None, timeout: float = 300) -> str:
        """Run ``code`` in a new kernel of ``user``'s server, over the server's kernel API; return what it printed."""
        token = token or self.tokens[user]
        kernel = self.server(user, "POST", "/api/kernels", token, json={"name": "python3"})
        assert kernel.status_code == 201, kernel.text
        kernel_id = kernel.json()["id"]
        ws_url = self.url.replace("http", "ws", 1) + f"/user/{user}/api/kernels/{kernel_id}/channels"
        connection = websocket.create_connection(ws_url, header=[f"Authorization: token {token}"], timeout=timeout)
        msg_id = uuid.uuid4().hex
        connection.send(json.dumps({
            "header": {"msg_id": msg_id, "username": user, "session": uuid.uuid4().hex, "msg_type": "execute_request",
                       "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True},
        }))
        printed, errors = [], []
        try:
            while True:
                message = json.loads(connection.recv())
                if message.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = message["msg_type"]
                if kind == "stream":
                    printed.append(message["content"]["text"])
                elif kind == "error":
                    errors.append("\n".join(message["content"]["traceback"]))
                elif kind == "status" and message["content"]["execution_state"] == "idle":
                    break
        finally:
            connection.close()
            self.server(user, "DELETE", f"/api/kernels/{kernel_id}", token)
        assert not errors, errors
        return "".join(printed)


@pytest.fixture(scope="module")
def cohort(built_html, tmp_path_factory):
    ensure_postgres_installed()
    remove_accounts()  # left by an earlier run that was killed
    group_existed = subprocess.run(["getent", "group", hub.INSTRUCTOR_GROUP], capture_output=True).returncode == 0
    work = Path(tempfile.mkdtemp(prefix="massage-hub-"))
    work.chmod(0o755)  # the accounts must reach the state folder and the database socket below it
    roster = work / "roster.yaml"
    roster.write_text(f"instructors: [{INSTRUCTOR}]\ntrainees: [{', '.join(TRAINEES)}]\n")
    # PostgreSQL, its own cluster in the test's folder; local connections only, each account as itself (peer)
    pgdata, socket_dir = work / "pgdata", work / "pgsocket"
    for folder in (pgdata, socket_dir):
        folder.mkdir()
        shutil.chown(folder, "postgres", "postgres")
    socket_dir.chmod(0o755)
    as_postgres(str(PG_BIN / "initdb"), "-D", str(pgdata), "--auth-local=peer", "--auth-host=reject", "-E", "UTF8")
    as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(pgdata), "-l", str(pgdata / "server.log"), "-w", "start",
                "-o", f"-k {socket_dir} -c listen_addresses=''")
    gradebook_url = f"postgresql+psycopg2:///gradebook?host={socket_dir}"
    port, admin_token = free_port(0), uuid.uuid4().hex + uuid.uuid4().hex
    process = None
    # the setup closes the checkout's assignments/ to trainees (issue 16, item 8); this checkout gets its modes back
    checkout_modes = {path: path.lstat() for path in [hub.COURSE_ROOT, *hub.COURSE_ROOT.rglob("*")]}
    try:
        settings = hub.prepare(roster, work / "state", port=port, gradebook_url=gradebook_url,
                               admin_token=admin_token)
        psql = ["psql", "-h", str(socket_dir), "-v", "ON_ERROR_STOP=1", "-c"]
        as_postgres(*psql, f'CREATE ROLE "{INSTRUCTOR}" LOGIN')
        as_postgres(*psql, f'CREATE DATABASE gradebook OWNER "{INSTRUCTOR}"')
        process = hub.start(settings, log=open(work / "hub.log", "w"))
        the_hub = Hub(f"http://127.0.0.1:{port}", admin_token, work / "state", gradebook_url)
        deadline = time.monotonic() + 60
        while True:
            try:
                if the_hub.api("GET", "/hub/api/users").status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (work / "hub.log").read_text()[-3000:]
            time.sleep(0.3)
        for user in (INSTRUCTOR, *TRAINEES):
            the_hub.start_server(user)
        for user in (INSTRUCTOR, *TRAINEES):
            the_hub.wait_ready(user)
        yield the_hub
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)  # the hub stops the servers and the proxy it started
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop", check=False)
        remove_accounts()
        for path, info in checkout_modes.items():
            if path.exists() and not path.is_symlink():
                os.chown(path, info.st_uid, info.st_gid)
                path.chmod(info.st_mode & 0o7777)
        if not group_existed:
            subprocess.run(["groupdel", hub.INSTRUCTOR_GROUP], capture_output=True)
        kept = tmp_path_factory.mktemp("hub-logs")  # pytest keeps its last runs' folders: the logs stay readable
        for log in (work / "hub.log", pgdata / "server.log"):
            if log.exists():
                shutil.copy(log, kept)
        print(f"hub and database logs: {kept}")
        shutil.rmtree(work, ignore_errors=True)


def formgrader(the_hub: Hub, action: str) -> dict:
    response = the_hub.server(INSTRUCTOR, "POST", f"/formgrader/api/assignment/{QUIZ}/{action}")
    assert response.status_code == 200, response.text
    try:
        result = response.json()  # nbgrader answers JSON (labelled text/html); an error page is HTML
    except ValueError:
        raise AssertionError(f"the formgrader answered {action} with a page, not a result: {response.text[-3000:]}")
    assert result["success"], result.get("log") or result.get("error")
    return result


def instructor_runs(the_hub: Hub, *command: str) -> str:
    """The instructor runs a course command (as in a JupyterLab terminal), in their own server's environment."""
    code = ("import subprocess, sys\n"
            f"r = subprocess.run([sys.executable, '-m', 'massage_course', *{list(command)!r}], capture_output=True, "
            "text=True, env={**__import__('os').environ, 'COLUMNS': '200', 'NO_COLOR': '1', 'TERM': 'dumb'})\n"
            "print(r.stdout[-6000:], r.stderr[-3000:], 'EXIT', r.returncode)")
    return the_hub.run_python(INSTRUCTOR, code)


@pytest.fixture(scope="module")
def graded(cohort):
    the_hub = cohort
    course = str(the_hub.state / "course")
    formgrader(the_hub, "assign")
    formgrader(the_hub, "release")
    for trainee in TRAINEES:
        listed = the_hub.server(trainee, "GET", "/assignments", params={"course_id": COURSE_ID})
        assert listed.status_code == 200 and QUIZ in listed.text, listed.text
        fetched = the_hub.server(trainee, "POST", "/assignments/fetch",
                                 data={"course_id": COURSE_ID, "assignment_id": QUIZ})
        assert fetched.status_code == 200 and json.loads(fetched.text)["success"], fetched.text
        path = f"/api/contents/{QUIZ}/{QUIZ}.ipynb"
        notebook = the_hub.server(trainee, "GET", path).json()["content"]
        answered = fill_quiz(notebook, ANSWERS[trainee], written="I would ask the nurse first.")
        saved = the_hub.server(trainee, "PUT", path, json={"type": "notebook", "format": "json", "content": answered})
        assert saved.status_code == 200, saved.text
        submitted = the_hub.server(trainee, "POST", "/assignments/submit",
                                   data={"course_id": COURSE_ID, "assignment_id": QUIZ})
        assert submitted.status_code == 200 and json.loads(submitted.text)["success"], submitted.text
    # trainee 3 submits again, in trainee 1's name (nbgrader's submit takes any name given with --student): it must
    # not replace trainee 1's work
    impostor, victim = TRAINEES[2], TRAINEES[0]
    printed = the_hub.run_python(impostor, (
        "import os, subprocess, sys\n"
        f"r = subprocess.run([sys.executable, '-m', 'nbgrader', 'submit', {QUIZ!r}, '--course', {COURSE_ID!r}, "
        f"'--student', {victim!r}], capture_output=True, text=True)\n"
        "print(r.returncode, r.stdout[-2000:], r.stderr[-2000:])"))
    assert printed.startswith("0 ") and f"{victim}+{QUIZ}" in printed, printed
    collected = formgrader(the_hub, "collect")
    assert f"Refused {victim}+{QUIZ}+" in collected["log"] and f"the account {impostor} wrote it" in collected["log"]
    graded_output = instructor_runs(the_hub, "grade", QUIZ, f"--course={course}", "--workers=2")
    assert "EXIT 0" in graded_output, graded_output
    # the written answer, graded by hand in the formgrader (what the instructor's clicks send)
    submissions = the_hub.server(INSTRUCTOR, "GET", f"/formgrader/api/submitted_notebooks/{QUIZ}/{QUIZ}").json()
    assert sorted(s["student"] for s in submissions) == sorted(TRAINEES)
    for submission in submissions:
        grades = the_hub.server(INSTRUCTOR, "GET", "/formgrader/api/grades",
                                params={"submission_id": submission["id"]}).json()
        for grade in grades:
            if grade["needs_manual_grade"]:
                response = the_hub.server(INSTRUCTOR, "PUT", f"/formgrader/api/grade/{grade['id']}",
                                          json={"manual_score": WRITTEN_SCORES[submission["student"]],
                                                "extra_credit": 0})
                assert response.status_code == 200, response.text
    feedback_output = instructor_runs(the_hub, "feedback", QUIZ, f"--course={course}", "--release")
    scores = json.loads(the_hub.run_python(INSTRUCTOR, (
        "import json, os\nfrom nbgrader.api import Gradebook\n"
        "with Gradebook(os.environ['MASSAGE_COURSE_GRADEBOOK_URL'], course_id='hospital-massage') as book:\n"
        f"    print(json.dumps({{t: book.find_submission({QUIZ!r}, t).score for t in {list(TRAINEES)!r}}}))"
    )))
    return the_hub, graded_output, feedback_output, scores


def test_the_cohort_is_graded_exactly_in_the_postgresql_gradebook(graded):
    the_hub, graded_output, feedback_output, scores = graded
    assert "EXIT 0" in graded_output, graded_output  # nothing failed (written answers wait for hand grading)
    assert "3 needs_manual_grading" in graded_output, graded_output
    mc, top = len(CORRECT), len(CORRECT) + 3  # the multiple-choice items, and a written answer of 3 points
    half = sum(HALF[item] == CORRECT[item] for item in CORRECT)
    for trainee, autograded in ((TRAINEES[0], f"{mc} / {top}"), (TRAINEES[1], f"0 / {top}"),
                                (TRAINEES[2], f"{half} / {top}")):
        assert f"{trainee} │ needs_manual_grading │ {autograded}" in graded_output, graded_output
    assert scores == {t: expected_score(t) for t in TRAINEES} == {TRAINEES[0]: mc + 3, TRAINEES[1]: 1,
                                                                   TRAINEES[2]: half + 2}
    assert not (the_hub.state / "course" / "gradebook.db").exists()  # PostgreSQL, not the SQLite default
    assert "Released feedback for 3 trainee(s)" in feedback_output, feedback_output


def test_each_trainee_fetches_their_own_feedback_and_no_one_elses(graded):
    the_hub, _, _, scores = graded
    for trainee in TRAINEES:
        response = the_hub.server(trainee, "POST", "/assignments/fetch_feedback",
                                  data={"course_id": COURSE_ID, "assignment_id": QUIZ})
        assert response.status_code == 200 and json.loads(response.text)["success"], response.text
        pages = the_hub.run_python(trainee, (
            "import glob, json\n"
            f"print(json.dumps({{p: open(p).read() for p in glob.glob('{QUIZ}/feedback/*/*.html')}}))"))
        pages = json.loads(pages)
        assert len(pages) == 1, pages.keys()
        page = next(iter(pages.values()))
        assert f"Your score: <strong>{scores[trainee]:g} of " in page, page[:3000]
        others = [t for t in TRAINEES if t != trainee]
        assert not any(other in page for other in others)
        assert "assert_choice" not in page and "Traceback" not in page  # no test code, no answer key in code form


def test_a_trainee_cannot_reach_the_formgrader_the_gradebook_or_anyone_elses_files(graded):
    the_hub = graded[0]
    trainee, other = TRAINEES[0], TRAINEES[1]
    # nbgrader's instructor tools are not there at all on a trainee's server
    assert the_hub.server(trainee, "GET", "/formgrader").status_code == 404
    assert the_hub.server(trainee, "GET", "/formgrader/api/assignments").status_code == 404
    # the hub refuses a trainee on anyone else's server, the instructor's included, and on its admin API
    token = the_hub.tokens[trainee]
    for user in (INSTRUCTOR, other):
        assert the_hub.server(user, "GET", "/api/contents", token).status_code in (403, 404)
        assert the_hub.server(user, "GET", "/formgrader/api/assignments", token).status_code in (403, 404)
    assert the_hub.api("GET", "/hub/api/users", token).status_code == 403
    # and on the machine, from the trainee's own Python: nothing of the course, the gradebook or another trainee
    course, exchange = the_hub.state / "course", the_hub.state / "exchange"
    probes = [str(course / "nbgrader_config.py"), str(course / "source" / QUIZ / f"{QUIZ}.ipynb"),
              f"/home/{other}/{QUIZ}/{QUIZ}.ipynb", str(the_hub.state / "hub" / "settings.json"),
              # the checkout the course runs from: its banks and sources (issue 16, item 8)
              str(hub.COURSE_ROOT / "quizzes" / f"{QUIZ}.yaml"),
              str(hub.COURSE_ROOT / "source" / QUIZ / f"{QUIZ}.ipynb")]
    listings = [str(course), f"/home/{other}", str(exchange / COURSE_ID / "inbound"), str(course / "submitted"),
                str(hub.COURSE_ROOT / "quizzes"), str(hub.COURSE_ROOT / "source")]
    found = json.loads(the_hub.run_python(trainee, (
        "import json, os, psycopg2\nfound = []\n"
        f"for path in {probes!r}:\n"
        "    try:\n        open(path, 'rb').read(1); found.append(path)\n    except OSError:\n        pass\n"
        f"for path in {listings!r}:\n"
        "    try:\n        os.listdir(path); found.append(path)\n    except OSError:\n        pass\n"
        "found += [k for k in os.environ if 'GRADEBOOK' in k]\n"
        "try:\n"
        f"    psycopg2.connect(dbname='gradebook', host={str(Path(the_hub.gradebook_url.split('host=')[1]))!r}, "
        f"user={INSTRUCTOR!r}).close(); found.append('the gradebook database')\n"
        "except psycopg2.OperationalError:\n    pass\n"
        "print(json.dumps(found))")))
    assert found == []
    # while the package and the notebooks the trainee runs from the same checkout stay readable
    notebook = next((hub.PROJECT_ROOT / "notebooks").rglob("*.ipynb"))
    assert the_hub.run_python(trainee, (
        "import massage_course.grading.quiz_checks as checks\n"
        f"print(checks.a, len(open({str(notebook)!r}, 'rb').read()) > 0)")).strip() == "a True"


def test_the_book_is_served_beside_the_hub(cohort):
    the_hub = cohort
    page = requests.get(the_hub.url + "/services/book/book/intro.html", timeout=30)
    assert page.status_code == 200 and "Massage Therapy in the Hospital" in page.text
    assert requests.get(the_hub.url + "/services/book/", timeout=30).status_code == 200


def sign_in(the_hub, user: str, password: str, code: str = "") -> requests.Response:
    """The hub's sign-in form, as a browser posts it (with its _xsrf cookie)."""
    session = requests.Session()
    session.get(the_hub.url + "/hub/login", timeout=30)
    return session.post(the_hub.url + "/hub/login", allow_redirects=False, timeout=30,
                        data={"username": user, "password": password, "otp": code,
                              "_xsrf": session.cookies.get("_xsrf")})


def test_an_account_cannot_be_claimed_without_its_own_one_time_sign_up_code(cohort):
    the_hub = cohort
    owner, other = TRAINEES[2], TRAINEES[1]
    codes = sign_up.codes_for_newcomers(the_hub.state / "hub", [owner, other])
    assert set(codes) == {owner, other}  # neither has signed in yet
    form = requests.get(the_hub.url + "/hub/login", timeout=30).text
    assert 'name="otp"' in form and "Sign-up code" in form
    # whoever types the roster name first no longer gets the account (the pilot login's hole)
    refused = sign_in(the_hub, owner, "an intruder's password")
    assert refused.status_code == 403 and "sign-up code" in refused.text
    assert sign_in(the_hub, owner, "an intruder's password", "AAAA-BBBB-CCCC-DDDD").status_code == 403
    assert sign_in(the_hub, owner, "an intruder's password", codes[other]).status_code == 403  # another's code
    assert sign_in(the_hub, owner, "short", codes[owner]).status_code == 403  # too short: the code still works
    first = sign_in(the_hub, owner, "a long first password", codes[owner].lower())
    assert first.status_code == 302, first.text[:500]
    assert sign_in(the_hub, owner, "a long first password").status_code == 302  # afterwards: the password alone
    assert sign_in(the_hub, owner, "an intruder's password", codes[owner]).status_code == 403  # the code is spent
    assert sign_in(the_hub, owner, "someone else's guess").status_code == 403
    assert sign_in(the_hub, "not-on-the-roster", "a long first password", codes[owner]).status_code == 403
    # a forgotten password: the instructor issues a new code, which removes the old password
    new = sign_up.reissue(the_hub.state / "hub", [owner])
    assert sign_in(the_hub, owner, "a long first password").status_code == 403
    assert sign_in(the_hub, owner, "a new long password", new[owner]).status_code == 302


def test_guessing_a_password_pauses_that_accounts_sign_in_and_no_one_elses(cohort):
    """A trainee who scripts guesses at someone's password (an instructor's opens every answer key) gets five tries,
    then that account's sign-in pauses, even for the right password; a person who mistypes a few times is not
    paused, and other accounts sign in as usual."""
    the_hub = cohort
    target, bystander = TRAINEES[0], TRAINEES[1]
    codes = sign_up.reissue(the_hub.state / "hub", [target, bystander])
    for name in (target, bystander):
        assert sign_in(the_hub, name, "the right long password", codes[name]).status_code == 302
    for guess in range(sign_up.FAILED_SIGN_INS_ALLOWED - 1):
        refused = sign_in(the_hub, target, f"guess number {guess}")
        assert refused.status_code == 403 and "paused" not in refused.text
    assert sign_in(the_hub, target, "the right long password").status_code == 302  # a success starts the count again
    for guess in range(sign_up.FAILED_SIGN_INS_ALLOWED):
        assert sign_in(the_hub, target, f"another guess {guess}").status_code == 403
    paused = sign_in(the_hub, target, "the right long password")
    assert paused.status_code == 403 and "paused" in paused.text and "ask your instructor" in paused.text
    assert sign_in(the_hub, bystander, "the right long password").status_code == 302


def test_trainees_servers_never_get_the_gradebook_address(cohort):
    the_hub = cohort
    for user in (*TRAINEES, INSTRUCTOR):
        env = json.loads(the_hub.run_python(user, "import json, os\nprint(json.dumps(dict(os.environ)))"))
        assert ("MASSAGE_COURSE_GRADEBOOK_URL" in env) == (user == INSTRUCTOR)
        role = "instructor" if user == INSTRUCTOR else "trainee"
        assert env["JUPYTER_CONFIG_PATH"] == str(the_hub.state / "jupyter" / role)
        assert env["USER"] == user  # nbgrader knows the trainee by the account
