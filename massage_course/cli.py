"""The course's command line: fetch the offline assets, build the book strictly, serve the book and JupyterLab, and
the instructor's quiz commands (quizzes, release, collect, zip-collect, grade, feedback, report, demo).

Called by the top-level ``./course`` script, which first makes the virtual environment; instructors run
``python -m massage_course COMMAND --help``.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import secrets
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


def serve_book(port: int) -> http.server.ThreadingHTTPServer:
    """Serve the built book on 127.0.0.1 only, in a background thread."""
    if not (BUILD_HTML / "index.html").exists():
        raise SystemExit("The book has not been built yet: run ./course start (or ./course build) first.")
    handler = functools.partial(QuietHandler, directory=str(BUILD_HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the standard library's name)
        pass


def prepare_exchange() -> Path:
    """nbgrader's exchange folder must exist and be writable by everyone who submits."""
    exchange = Path(os.environ.get("MASSAGE_COURSE_EXCHANGE", COURSE_ROOT / "exchange"))
    exchange.mkdir(parents=True, exist_ok=True)
    exchange.chmod(0o777)
    return exchange


def start_jupyterlab(port: int, token: str, root_dir: Path = PROJECT_ROOT, *extra: str) -> subprocess.Popen:
    """JupyterLab over the whole course, started in assignments/ so nbgrader (and its formgrader) finds its config."""
    prepare_exchange()
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--ServerApp.root_dir={root_dir}", f"--IdentityProvider.token={token}", *extra,
    ]
    if os.geteuid() == 0:  # containers and CI machines run as root; JupyterLab refuses that unless told
        command.append("--allow-root")
    return subprocess.Popen(command, cwd=COURSE_ROOT)


def serve(book_port: int, lab_port: int) -> int:
    book_port, lab_port = free_port(book_port), free_port(lab_port)
    server = serve_book(book_port)
    token = secrets.token_hex(16)
    lab = start_jupyterlab(lab_port, token)
    lab_url = f"http://127.0.0.1:{lab_port}/lab?token={token}"
    print(
        "\nThe course is running (press Ctrl+C to stop):\n"
        f"  Book:        http://127.0.0.1:{book_port}/\n"
        f"  JupyterLab:  {lab_url}\n"
        f"  Formgrader:  http://127.0.0.1:{lab_port}/formgrader?token={token}  (instructors)\n",
        flush=True,
    )
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
    commands.add_parser("fetch-assets", help="fetch the widget, RequireJS and MathJax files the book serves itself")
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
    args = parser.parse_args(argv)
    if args.command.startswith("fetch-assets"):
        assets.fetch_vendor_assets(force=args.command == "fetch-assets")
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
    return serve(args.book_port, args.lab_port)


if __name__ == "__main__":
    sys.exit(main())
