"""The course's command line: fetch the offline assets, build the book strictly, serve the book and JupyterLab, and
the instructor's quiz commands (quizzes, release, collect, zip-collect, grade, feedback, report, demo).

Called by the top-level ``./course`` script, which first makes the virtual environment; instructors run
``python -m massage_course COMMAND --help``.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from . import assets

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUILD_HTML = PROJECT_ROOT / "_build" / "html"
COURSE_ROOT = PROJECT_ROOT / "assignments"
# Warnings are errors, references are checked (nitpicky), and every problem is reported before the build fails.
STRICT_BUILD = ["jupyter-book", "build", ".", "-W", "-n", "--keep-going"]


def build_book() -> int:
    assets.fetch_vendor_assets()
    print("Building the book (every notebook is executed; warnings are errors)...", flush=True)
    return subprocess.call(STRICT_BUILD, cwd=PROJECT_ROOT)


def free_port(preferred: int) -> int:
    """The preferred port if it is free on 127.0.0.1, else one the system picks."""
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError("no free port on 127.0.0.1")


def serve_book(port: int, prefix: str = "/", background: bool = True) -> http.server.ThreadingHTTPServer:
    """Serve the built book on 127.0.0.1 only, in a background thread (or in this one: ``background=False``).
    ``prefix``: the address the book sits under, e.g. /services/book/ behind the course hub's proxy."""
    if not (BUILD_HTML / "index.html").exists():
        raise SystemExit("The book has not been built yet: run ./course start (or ./course build) first.")
    handler = functools.partial(QuietHandler, directory=str(BUILD_HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    if background:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    else:
        server.serve_forever()
    return server


# Text, scripts and the in-browser Python's WebAssembly shrink to a fraction when compressed, as any production web
# server sends them; the theme's icon script alone is 1.5 MB as it is (benchmarks/pages.py measures the difference).
COMPRESSED_TYPES = {".html", ".css", ".js", ".mjs", ".json", ".svg", ".wasm", ".txt", ".ipynb", ".ttf", ".eot"}


@functools.lru_cache(maxsize=512)
def gzipped(path: str, modified_ns: int) -> bytes:
    """The file's bytes compressed once per version of the file (``modified_ns``: its modification time)."""
    import gzip

    return gzip.compress(Path(path).read_bytes(), compresslevel=6)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the standard library's name)
        pass

    def translate_path(self, path):
        prefix = getattr(self.server, "prefix", "/")
        if prefix != "/" and (path + "/").startswith(prefix):
            path = "/" + path[len(prefix):]
        return super().translate_path(path)

    def do_GET(self):
        path = Path(self.translate_path(self.path))
        accepts_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (accepts_gzip and path.suffix in COMPRESSED_TYPES and path.is_file()):
            return super().do_GET()
        modified = path.stat().st_mtime_ns
        body = gzipped(str(path), modified)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Last-Modified", self.date_time_string(modified / 1e9))
        self.end_headers()
        self.wfile.write(body)


def prepare_exchange() -> Path:
    """nbgrader's exchange folder must exist and be writable by everyone who submits."""
    exchange = Path(os.environ.get("MASSAGE_COURSE_EXCHANGE", COURSE_ROOT / "exchange"))
    exchange.mkdir(parents=True, exist_ok=True)
    if exchange.stat().st_uid == os.geteuid():  # the course hub's shared exchange is root's, set up by hub.py
        exchange.chmod(0o777)
    return exchange


# Jupyter config folders the course writes for its JupyterLab (under .course/, which git ignores). JupyterLab gets them
# through JUPYTER_CONFIG_PATH, which Jupyter reads before the environment's own config.
JUPYTER_CONFIG = PROJECT_ROOT / ".course" / "jupyter"
# nbgrader's trainee side (the Assignments list, Validate) reads nbgrader_config.py from Jupyter's config path and
# JupyterLab's root folder, never from assignments/: without this it sees no course and no released quiz. It takes the
# course id and the exchange from the course's own config, read each time (so MASSAGE_COURSE_EXCHANGE applies), and
# nothing else of it (no gradebook, no grading sandbox).
COURSE_FOR_TRAINEES = '''"""Written by massage_course/cli.py: what nbgrader's trainee side needs from the course."""
from traitlets.config.loader import PyFileConfigLoader

course = PyFileConfigLoader("nbgrader_config.py", path={course!r}).load_config()
c.CourseDirectory.course_id = course.CourseDirectory.course_id
c.Exchange.root = course.Exchange.root
'''
# After install nbgrader 0.9.6 turns every part on for everyone (toolchain.md, item 9). A trainee keeps the Assignments
# list (fetch, submit, feedback) and Validate; these instructor parts are switched off, on the server (so /formgrader
# does not answer) and in the page (so no menu entry leads there). Creating assignments has no server part.
INSTRUCTOR_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list")
INSTRUCTOR_LAB_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                          "@jupyter/nbgrader:course-list")


def write_if_changed(path: Path, text: str) -> None:
    """Write a config file without ever leaving it half-written for a JupyterLab that is already reading it."""
    if path.exists() and path.read_text() == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(text)
    partial.replace(path)


def write_trainee_switches(folder: Path) -> None:
    """Into a Jupyter config folder: nbgrader's instructor parts off, on the server and in the page."""
    server = {"ServerApp": {"jpserver_extensions": {name: False for name in INSTRUCTOR_SERVER_EXTENSIONS}}}
    write_if_changed(folder / "jupyter_server_config.json", json.dumps(server, indent=2) + "\n")
    page = {"disabledExtensions": {plugin: True for plugin in INSTRUCTOR_LAB_PLUGINS}}
    write_if_changed(folder / "labconfig" / "page_config.json", json.dumps(page, indent=2) + "\n")


def jupyter_config_folders(trainee: bool) -> list[Path]:
    """The config folders for the course's JupyterLab: the course for nbgrader's trainee side, and in trainee mode
    nbgrader's instructor parts switched off."""
    course = JUPYTER_CONFIG / "course"
    write_if_changed(course / "nbgrader_config.py", COURSE_FOR_TRAINEES.format(course=str(COURSE_ROOT)))
    if not trainee:
        return [course]
    trainee_only = JUPYTER_CONFIG / "trainee"
    write_trainee_switches(trainee_only)
    return [trainee_only, course]


def start_jupyterlab(port: int, token: str, root_dir: Path = PROJECT_ROOT, *extra: str,
                     trainee: bool = False) -> subprocess.Popen:
    """JupyterLab over ``root_dir`` (the whole course by default). For the instructor it starts in assignments/ so
    nbgrader's formgrader finds the course; in trainee mode it starts in ``root_dir``, with nbgrader's instructor parts
    off."""
    prepare_exchange()
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--ServerApp.root_dir={root_dir}", f"--IdentityProvider.token={token}", *extra,
    ]
    if os.geteuid() == 0:  # containers and CI machines run as root; JupyterLab refuses that unless told
        command.append("--allow-root")
    config_path = [str(folder) for folder in jupyter_config_folders(trainee)]
    if os.environ.get("JUPYTER_CONFIG_PATH"):
        config_path.append(os.environ["JUPYTER_CONFIG_PATH"])
    env = {**os.environ, "JUPYTER_CONFIG_PATH": os.pathsep.join(config_path)}
    return subprocess.Popen(command, cwd=root_dir if trainee else COURSE_ROOT, env=env)


def addresses(book_port: int, lab_port: int, token: str, trainee: bool = False) -> str:
    """What serve prints. In trainee mode there is no formgrader, so it is not named."""
    lines = [
        "The course is running (press Ctrl+C to stop):",
        f"  Book:        http://127.0.0.1:{book_port}/",
        f"  JupyterLab:  http://127.0.0.1:{lab_port}/lab?token={token}",
    ]
    if trainee:
        lines.append(f"  Trainee mode: the folder {TRAINEE_WORKSPACE.relative_to(PROJECT_ROOT)}/; quizzes are in "
                     "JupyterLab's menu Nbgrader > Assignment List.")
    else:
        lines.append(f"  Formgrader:  http://127.0.0.1:{lab_port}/formgrader?token={token}  (instructors)")
    return "\n" + "\n".join(lines) + "\n"


TRAINEE_WORKSPACE = PROJECT_ROOT / ".course" / "trainee"


def trainee_workspace() -> Path:
    """The folder a trainee's JupyterLab opens on: a copy of the interactive notebooks (made once, so a trainee's
    changes stay) and the quizzes the trainee fetches; not the course's sources, item banks or gradebook."""
    notebooks = TRAINEE_WORKSPACE / "notebooks"
    if not notebooks.exists():
        shutil.copytree(PROJECT_ROOT / "notebooks", notebooks)
    return TRAINEE_WORKSPACE


def serve(book_port: int, lab_port: int, trainee: bool = False) -> int:
    book_port, lab_port = free_port(book_port), free_port(lab_port)
    server = serve_book(book_port)
    token = secrets.token_hex(16)
    lab = start_jupyterlab(lab_port, token, trainee_workspace() if trainee else PROJECT_ROOT, trainee=trainee)
    print(addresses(book_port, lab_port, token, trainee), flush=True)

    def stop(signum, frame):  # `kill` (SIGTERM) stops JupyterLab too, as Ctrl+C does, instead of orphaning it
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        return lab.wait()
    except KeyboardInterrupt:
        lab.terminate()
        lab.wait(timeout=20)
        return 0
    finally:
        server.shutdown()


def grade_command(quiz: str, course: Path, workers: int) -> int:
    """Grade every submission; exit 1 if any failed, so a script notices (the report says which and why)."""
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
            results = grade_quiz(quiz, course, workers, progress=lambda: progress.advance(task))
        except SandboxUnavailable as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    print_report(results, quiz)
    print(f"Report: {course / 'reports' / (quiz + '-grading.json')}")
    return 1 if any(r.status == "failed" for r in results) else 0


def plan_command(chart_path: str, as_json: bool) -> int:
    """Print the planner's plan for a chart file; a bad chart gets a clear message and exit code 2, never a traceback."""
    import json

    import yaml

    from .precautions import ChartError, plan_session

    try:
        text = Path(chart_path).read_text(encoding="utf-8")
    except OSError as error:
        print(f"error: cannot read the chart {chart_path}: {error.strerror}", file=sys.stderr)
        return 2
    try:
        chart = yaml.safe_load(text)  # YAML also reads JSON
    except yaml.YAMLError as error:
        print(f"error: {chart_path} is not valid YAML or JSON: {error}", file=sys.stderr)
        return 2
    try:
        plan = plan_session(chart)
    except ChartError as error:
        print(f"error: {chart_path} cannot be planned:\n{error}", file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps(plan.as_dict(), indent=2))
    else:
        print(describe_plan(plan))
    return 0


def describe_plan(plan) -> str:
    lines = [f"Pressure: level {plan.max_pressure} at most (Walton pressure scale)"]
    for region, rule in sorted(plan.sites.items()):
        lines.append(f"  {region.replace('_', ' ')}: {'avoid' if rule == 'avoid' else 'light (level 2 at most)'}")
    lines.append("Positions to avoid: " + (", ".join(p.replace("_", "-") for p in sorted(plan.avoid_positions)) or "none"))
    lines.append("Check with the care team first: " + ("yes" if plan.consult_care_team else "no"))
    lines.append("Why:")
    lines += [f"  - [{r.source or 'no source found'}, {r.mark}] {r.text}" for r in plan.reasons]
    lines.append("This is a teaching exercise: for a real patient the care team and the unit's policies decide.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="massage-course", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fetch-assets", help="fetch the widget, RequireJS and MathJax files the book serves itself, "
                                             "and Pyodide and the wheels of the in-browser Python (JupyterLite)")
    commands.add_parser("fetch-assets-if-missing", help="the same, only for assets not yet in place")
    commands.add_parser("build", help="build the book strictly into _build/html")
    plan_parser = commands.add_parser("plan", help="plan a session from a (synthetic) chart: pressure, sites, positions")
    plan_parser.add_argument("chart", help="a chart file, YAML or JSON")
    plan_parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    course_help = "the nbgrader course folder (default: assignments/)"

    def quiz_command(name: str, help_text: str, quiz: bool = True):
        sub = commands.add_parser(name, help=help_text)
        if quiz:
            sub.add_argument("quiz", help="a quiz id, e.g. quiz-1-hospital")
        sub.add_argument("--course", default=str(COURSE_ROOT), help=course_help)
        return sub

    quiz_command("quizzes", "write each quiz's nbgrader source notebook from its item bank", quiz=False)
    quiz_command("release", "release a quiz to trainees through nbgrader's exchange")
    quiz_command("collect", "collect trainees' submissions of a quiz from the exchange")
    zip_parser = quiz_command("zip-collect", "collect submissions downloaded from an LMS (zip files or notebooks)")
    zip_parser.add_argument("files", nargs="+", help="zip files or notebooks named <trainee id>_<quiz>.ipynb")
    grade_parser = quiz_command("grade", "check and autograde every submission of a quiz, in parallel")
    grade_parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    feedback_parser = quiz_command("feedback", "write each graded trainee's feedback page")
    feedback_parser.add_argument("--release", action="store_true", help="also release it through the exchange")
    quiz_command("report", "grades (CSV), item analysis, mastery per objective and plots for a quiz")
    demo_parser = quiz_command("demo", "make a fictional class that has submitted every quiz (try the workflow)",
                               quiz=False)
    demo_parser.add_argument("--trainees", type=int, default=36)
    demo_parser.add_argument("--seed", type=int, default=2026)
    commands.add_parser("install-sandbox", help="install the sandboxed kernel that grading runs trainee code in")
    serve_parser = commands.add_parser("serve", help="serve the built book and start JupyterLab with the formgrader")
    serve_parser.add_argument("--book-port", type=int, default=8000)
    serve_parser.add_argument("--lab-port", type=int, default=8888)
    serve_parser.add_argument("--trainee", action="store_true",
                              help="a trainee's JupyterLab: the Assignments list only, without nbgrader's instructor "
                                   "tools (formgrader, creating assignments, course list)")
    book_parser = commands.add_parser("serve-book", help="serve the built book only (the course hub runs this)")
    book_parser.add_argument("--port", type=int, default=8000)
    book_parser.add_argument("--prefix", default=os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/"),
                             help="the address the book sits under (default: the hub service's, or /)")
    hub_parser = commands.add_parser(
        "hub", help="the course hub for a cohort (as root): accounts from a roster, JupyterHub, the book beside it")
    hub_parser.add_argument("--roster", required=True,
                            help="YAML file with the lists 'instructors' and 'trainees' (login names)")
    hub_parser.add_argument("--state", default="/srv/massage-course",
                            help="where the course folder, the exchange and the hub's own files live")
    hub_parser.add_argument("--port", type=int, default=8000)
    hub_parser.add_argument("--ip", default="127.0.0.1", help="address to listen on (put HTTPS in front of it)")
    args = parser.parse_args(argv)
    if args.command == "serve-book":
        serve_book(args.port, args.prefix, background=False)
        return 0
    if args.command == "hub":
        from .hub import hub_command

        return hub_command(args.roster, args.state, args.port, args.ip)
    if args.command.startswith("fetch-assets"):
        assets.fetch_vendor_assets(force=args.command == "fetch-assets")
        from . import lite

        lite.fetch_pyodide(force=args.command == "fetch-assets")
        lite.fetch_wheels()
        return 0
    if args.command == "build":
        return build_book()
    if args.command == "plan":
        return plan_command(args.chart, as_json=args.json)
    if args.command == "install-sandbox":
        from .sandbox import install_kernelspec

        install_kernelspec()
        return 0
    if args.command == "grade":
        return grade_command(args.quiz, Path(args.course), args.workers)
    if args.command != "serve":
        from . import instructor

        course = Path(args.course).resolve()
        handlers = {
            "quizzes": lambda: instructor.quizzes_command(course),
            "release": lambda: instructor.release_command(course, args.quiz),
            "collect": lambda: instructor.collect_command(course, args.quiz),
            "zip-collect": lambda: instructor.zip_collect_command(course, args.quiz, args.files),
            "feedback": lambda: instructor.feedback_command(course, args.quiz, args.release),
            "report": lambda: instructor.report_command(course, args.quiz),
            "demo": lambda: instructor.demo_command(course, args.trainees, args.seed),
        }
        return handlers[args.command]()
    return serve(args.book_port, args.lab_port, args.trainee)


if __name__ == "__main__":
    sys.exit(main())
