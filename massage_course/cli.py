"""The course's command line: fetch the offline assets, build the book strictly, serve the book and JupyterLab, plan a
session from a chart, run the course hub, and the instructor's quiz commands (quizzes, release, collect, zip-collect,
grade, feedback, report, demo).

Argument parsing only: each command is one call into one part of the package, imported inside the command, so that
``plan`` loads the planner and nothing else (benchmarks/plan_start.py measures it). Called by the top-level
``./course`` script, which first makes the virtual environment; instructors run
``python -m massage_course COMMAND --help``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .paths import COURSE_ROOT


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(prog="massage-course", description=__doc__.split("\n\n")[0])
    commands = main_parser.add_subparsers(dest="command", required=True)
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
    grade_parser.add_argument("--unsandboxed-at-my-own-risk", action="store_true",
                              help="grade even where the sandbox cannot isolate trainee code (only if you trust "
                                   "every submission: their code then runs with your rights)")
    feedback_parser = quiz_command("feedback", "write each graded trainee's feedback page")
    feedback_parser.add_argument("--release", action="store_true", help="also release it through the exchange")
    quiz_command("report", "grades (CSV), item analysis, mastery per objective and plots for a quiz")
    completion_parser = quiz_command(
        "completion", "the cohort's completion record (CSV) and a certificate for each trainee who passed", quiz=False)
    completion_parser.add_argument("--cohort", default="cohort", help="a name for this cohort, e.g. 2027-spring")
    completion_parser.add_argument("--no-pdf", action="store_true", help="certificates as HTML only")
    evaluations_parser = quiz_command(
        "evaluations", "export the cohort's anonymous course evaluations (CSV and a summary)", quiz=False)
    evaluations_parser.add_argument("--cohort", default="cohort", help="a name for this cohort, e.g. 2027-spring")
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
    codes_parser = commands.add_parser(
        "hub-codes", help="new one-time sign-up codes for people on the hub's roster (as root); resets their passwords")
    codes_parser.add_argument("names", nargs="+", help="login names")
    codes_parser.add_argument("--state", default="/srv/massage-course", help="the hub's state folder (as for hub)")
    return main_parser


def plan(chart: str, as_json: bool) -> int:
    """Print the planner's plan for a chart file; a bad chart is a clear message and exit code 2, never a traceback."""
    from .topics.charts import ChartError, read_chart_file
    from .topics.precautions import plan_session

    try:
        session_plan = plan_session(read_chart_file(chart))
    except ChartError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    import json

    try:
        print(json.dumps(session_plan.as_dict(), indent=2) if as_json else session_plan.describe(), flush=True)
    except BrokenPipeError:  # `plan chart.yaml | head`: the reader has all it wanted
        sys.stdout = None
    return 0


def tools_on_path() -> None:
    """nbgrader runs its own tools (alembic, jupyter) by name: put this environment's bin folder first on PATH, so the
    documented `.venv/bin/python -m massage_course ...` works from any shell, activated or not."""
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if bin_dir not in path.split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bin_dir, path]) if path else bin_dir


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    tools_on_path()
    command = args.command
    if command == "plan":
        return plan(args.chart, as_json=args.json)
    if command == "build":
        from .hub.local_lab import refuse_if_running
        from .site.build import build_book

        refusal = refuse_if_running("rebuild the book it is serving")
        if refusal:
            print(refusal, file=sys.stderr)
            return 1
        return build_book()
    if command.startswith("fetch-assets"):
        from .site import assets, lite

        force = command == "fetch-assets"
        assets.fetch_vendor_assets(force=force)
        lite.fetch_pyodide(force=force)
        lite.fetch_wheels()
        return 0
    if command == "serve-book":
        from .site.serve import serve_book

        serve_book(args.port, args.prefix, background=False)
        return 0
    if command == "serve":
        from .hub.local_lab import serve

        return serve(args.book_port, args.lab_port, args.trainee)
    if command == "hub":
        from .hub.machine import hub_command

        return hub_command(args.roster, args.state, args.port, args.ip)
    if command == "hub-codes":
        from .hub.machine import hub_codes_command

        return hub_codes_command(args.state, args.names)
    if command == "install-sandbox":
        from .grading.sandbox import install_kernelspec

        install_kernelspec()
        return 0
    from .grading import instructor
    from .grading.completion import completion_command
    from .grading.evaluations import evaluations_command

    course = Path(args.course).resolve()
    handlers = {
        "quizzes": lambda: instructor.quizzes_command(course),
        "release": lambda: instructor.release_command(course, args.quiz),
        "collect": lambda: instructor.collect_command(course, args.quiz),
        "zip-collect": lambda: instructor.zip_collect_command(course, args.quiz, args.files),
        "grade": lambda: instructor.grade_command(args.quiz, course, args.workers, args.unsandboxed_at_my_own_risk),
        "feedback": lambda: instructor.feedback_command(course, args.quiz, args.release),
        "report": lambda: instructor.report_command(course, args.quiz),
        "demo": lambda: instructor.demo_command(course, args.trainees, args.seed),
        "completion": lambda: completion_command(course, args.cohort, not args.no_pdf),
        "evaluations": lambda: evaluations_command(course, args.cohort),
    }
    return handlers[command]()


if __name__ == "__main__":
    sys.exit(main())
