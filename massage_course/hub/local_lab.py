"""JupyterLab on one machine, as an instructor has it (with nbgrader's formgrader) or as a trainee has it (the
Assignments list only), beside the served book: what ``./course start`` and ``./course serve`` run.

The course hub (``machine.py``) reuses the trainee switches and the config writer, so that one machine and a cohort
switch off the same instructor parts.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from ..grading.exchange import prepare_exchange
from ..paths import COURSE_ROOT, PROJECT_ROOT, STATE
from ..site.serve import serve_book


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


# Jupyter config folders the course writes for its JupyterLab (under .course/, which git ignores). JupyterLab gets them
# through JUPYTER_CONFIG_PATH, which Jupyter reads before the environment's own config.
JUPYTER_CONFIG = STATE / "jupyter"
# nbgrader's trainee side (the Assignments list, Validate) reads nbgrader_config.py from Jupyter's config path and
# JupyterLab's root folder, never from assignments/: without this it sees no course and no released quiz. It takes the
# course id and the exchange from the course's own config, read each time (so MASSAGE_COURSE_EXCHANGE applies), and
# nothing else of it (no gradebook, no grading sandbox).
COURSE_FOR_TRAINEES = '''"""Written by massage_course/hub/local_lab.py: what nbgrader's trainee side needs from the course."""
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
# JupyterLab's "Would you like to get notified about official Jupyter news?" prompt: news from the internet, which a
# trainee does not need and a hospital network may block. Its plugin is off for trainees, on one machine and on the hub
# (JupyterLite leaves it out as well: lite/jupyter-lite.json); the course's own JupyterLab also has news set to Never.
NEWS_PLUGIN = "@jupyterlab/apputils-extension:announcements"
TRAINEE_LAB_PLUGINS_OFF = (*INSTRUCTOR_LAB_PLUGINS, NEWS_PLUGIN)


def write_if_changed(path: Path, text: str) -> None:
    """Write a config file without ever leaving it half-written for a JupyterLab that is already reading it."""
    if path.exists() and path.read_text() == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(text)
    partial.replace(path)


def write_trainee_switches(folder: Path) -> None:
    """Into a Jupyter config folder: nbgrader's instructor parts off, on the server and in the page, and the news
    prompt off."""
    server = {"ServerApp": {"jpserver_extensions": {name: False for name in INSTRUCTOR_SERVER_EXTENSIONS}}}
    write_if_changed(folder / "jupyter_server_config.json", json.dumps(server, indent=2) + "\n")
    page = {"disabledExtensions": {plugin: True for plugin in TRAINEE_LAB_PLUGINS_OFF}}
    write_if_changed(folder / "labconfig" / "page_config.json", json.dumps(page, indent=2) + "\n")


# The course's server extension (lab_guard.py): formgrader pages with a Content-Security-Policy, and no switch to another
# folder's configuration by address. In a config folder's jupyter_server_config.d/, as pip-installed extensions are.
LAB_GUARD = {"ServerApp": {"jpserver_extensions": {"massage_course.hub.lab_guard": True}}}


def write_lab_guard(folder: Path) -> Path:
    """Into a Jupyter config folder: the course's lab_guard extension switched on. Returns the file."""
    path = folder / "jupyter_server_config.d" / "massage_course.json"
    write_if_changed(path, json.dumps(LAB_GUARD, indent=2) + "\n")
    return path


def jupyter_config_folders(trainee: bool) -> list[Path]:
    """The config folders for the course's JupyterLab: the course for nbgrader's trainee side and the course's guard
    of the formgrader, and in trainee mode nbgrader's instructor parts switched off."""
    course = JUPYTER_CONFIG / "course"
    write_if_changed(course / "nbgrader_config.py", COURSE_FOR_TRAINEES.format(course=str(COURSE_ROOT)))
    write_lab_guard(course)
    if not trainee:
        return [course]
    trainee_only = JUPYTER_CONFIG / "trainee"
    write_trainee_switches(trainee_only)
    return [trainee_only, course]


def lab_state(trainee: bool) -> Path:
    """The course's own folder for one mode's JupyterLab state (instructor or trainee)."""
    return STATE / "lab" / ("trainee" if trainee else "instructor")


def lab_environment(trainee: bool) -> dict[str, str]:
    """The environment of the course's JupyterLab: the course's config folders, and Jupyter's data, runtime, settings
    and workspaces inside the course's state folder, one set per mode. So a fresh clone starts fresh (nbgrader's
    cache of fetched quizzes and feedback lives under Jupyter's data folder, and workspaces reopen old tabs), and two
    courses, or the two modes, never mix. The "official Jupyter news" prompt is off: it asks to reach the internet."""
    state = lab_state(trainee)
    folders = {"JUPYTER_DATA_DIR": state / "data", "JUPYTER_RUNTIME_DIR": state / "runtime",
               "JUPYTERLAB_SETTINGS_DIR": state / "settings", "JUPYTERLAB_WORKSPACES_DIR": state / "workspaces"}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    news = folders["JUPYTERLAB_SETTINGS_DIR"] / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    write_if_changed(news, json.dumps({"fetchNews": "false", "checkForUpdates": False}, indent=2) + "\n")
    config_path = [str(folder) for folder in jupyter_config_folders(trainee)]
    if os.environ.get("JUPYTER_CONFIG_PATH"):
        config_path.append(os.environ["JUPYTER_CONFIG_PATH"])
    return {**os.environ, "JUPYTER_CONFIG_PATH": os.pathsep.join(config_path),
            **{name: str(folder) for name, folder in folders.items()}}


def start_jupyterlab(port: int, token: str, root_dir: Path = PROJECT_ROOT, *extra: str,
                     trainee: bool = False) -> subprocess.Popen:
    """JupyterLab over ``root_dir`` (the whole course by default). For the instructor it starts in assignments/ so
    nbgrader's formgrader finds the course; in trainee mode it starts in ``root_dir``, with nbgrader's instructor parts
    off. Its log shows warnings and errors only, so the addresses stay in view."""
    prepare_exchange()
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--ServerApp.root_dir={root_dir}", f"--IdentityProvider.token={token}", "--log-level=WARN", *extra,
    ]
    if os.geteuid() == 0:  # containers and CI machines run as root; JupyterLab refuses that unless told
        command.append("--allow-root")
    return subprocess.Popen(command, cwd=root_dir if trainee else COURSE_ROOT, env=lab_environment(trainee))


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


TRAINEE_WORKSPACE = STATE / "trainee"


def trainee_workspace() -> Path:
    """The folder a trainee's JupyterLab opens on: a copy of the interactive notebooks (made once, so a trainee's
    changes stay) and the quizzes the trainee fetches; not the course's sources, item banks or gradebook."""
    notebooks = TRAINEE_WORKSPACE / "notebooks"
    if not notebooks.exists():
        shutil.copytree(PROJECT_ROOT / "notebooks", notebooks)
    return TRAINEE_WORKSPACE


RUNNING = STATE / "running.json"  # the course served from this folder now: its process and addresses


def running_course() -> dict | None:
    """What ``serve`` recorded, if that process is still alive (a crashed run leaves a stale file, which is ignored)."""
    try:
        running = json.loads(RUNNING.read_text())
        os.kill(running["pid"], 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return running


def refuse_if_running(doing: str) -> str | None:
    """A clear line if the course is already served from this folder (``doing`` would disturb it), else None."""
    running = running_course()
    if running is None:
        return None
    return (f"The course is already running from this folder (process {running['pid']}), so it will not {doing}."
            f"{running['addresses']}Stop it first (Ctrl+C in its terminal, or `kill {running['pid']}`).")


def wait_until_listening(port: int, lab: subprocess.Popen, seconds: float = 120) -> None:
    """Wait for JupyterLab's port, so that the addresses are the last thing printed, after its start-up lines."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and lab.poll() is None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)


def serve(book_port: int, lab_port: int, trainee: bool = False) -> int:
    refusal = refuse_if_running("start a second copy")
    if refusal:
        print(refusal, file=sys.stderr)
        return 1
    book_port, lab_port = free_port(book_port), free_port(lab_port)
    server = serve_book(book_port)
    token = secrets.token_hex(16)
    lab = start_jupyterlab(lab_port, token, trainee_workspace() if trainee else PROJECT_ROOT, trainee=trainee)
    block = addresses(book_port, lab_port, token, trainee)
    write_if_changed(RUNNING, json.dumps({"pid": os.getpid(), "addresses": block, "trainee": trainee}) + "\n")
    wait_until_listening(lab_port, lab)
    print(block, flush=True)

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
        RUNNING.unlink(missing_ok=True)
