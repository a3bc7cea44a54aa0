"""The course hub: JupyterHub for a whole cohort on one machine (``massage-course hub``, as root).

nbgrader knows a trainee by the operating-system account running their JupyterLab (toolchain.md, item 8), so a cohort
needs one account per person, and JupyterHub to log people in and start each one's JupyterLab as that account. This
module prepares the machine from a roster and starts the hub:

- accounts: one per roster name, private home folders; instructors also in the group ``course-instructors``;
- the course folder (nbgrader's source, submissions, grades, gradebook) readable by instructors only, and so is the
  checkout's own nbgrader course (``assignments/``: banks, sources, any gradebook) and a private bank folder, while
  trainees still run the package and read the notebooks from the checkout;
- nbgrader's exchange, where trainees may drop submissions but not read each other's;
- Jupyter settings per role: a trainee's JupyterLab has nbgrader's Assignments list and Validate, never the formgrader;
  only an instructor's server gets the gradebook's address;
- the built book, served beside the hub at /services/book/.

``jupyterhub_config.py`` (next to this file) reads the settings this module writes; the hub's own state (its database,
cookie secret, the passwords and the sign-up codes of sign_up.py) stays in a root-only folder.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..grading.quiz_bank import BANKS_SETTING, bank_folder, load_quizzes
from ..grading.quiz_notebook import write_source
from ..paths import BUILD_HTML, COURSE_ROOT, PROJECT_ROOT, STATE
from ..topics.course_evaluation import DROP_BOX
from ..topics.data_files import CourseDataError, parse_yaml
from .local_lab import free_port, write_if_changed, write_lab_guard, write_trainee_switches
from .sign_up import codes_for_newcomers, codes_table, reissue

COURSE_ID = "hospital-massage"  # as in assignments/nbgrader_config.py (a test checks they agree)
INSTRUCTOR_GROUP = "course-instructors"
DEFAULT_STATE = Path("/srv/massage-course")
HUB_CONFIG = Path(__file__).resolve().parent / "jupyterhub_config.py"
PROXY_PACKAGE = PROJECT_ROOT / "deploy" / "hub"  # package.json + package-lock.json: the proxy, pinned
PROXY_INSTALL = STATE / "hub-proxy"
# Login names: what useradd accepts everywhere and nbgrader can use in file names (no "+", which it splits on).
NAME = re.compile(r"[a-z][a-z0-9-]{0,30}")


class HubError(Exception):
    """Something the person starting the hub must fix; the message says what."""


@dataclass(frozen=True)
class Roster:
    instructors: tuple[str, ...]
    trainees: tuple[str, ...]

    @property
    def everyone(self) -> tuple[str, ...]:
        return self.instructors + self.trainees


def load_roster(path: Path) -> Roster:
    """Read a roster file: YAML with the lists ``instructors`` and ``trainees`` (login names)."""
    try:
        data = parse_yaml(Path(path).read_text(encoding="utf-8"), f"the roster {path}")
    except OSError as error:
        raise HubError(f"cannot read the roster {path}: {error.strerror}") from None
    except CourseDataError as error:
        raise HubError(str(error)) from None
    if not isinstance(data, dict) or set(data) - {"instructors", "trainees"}:
        raise HubError(f"the roster {path} must have two lists, 'instructors' and 'trainees', and nothing else")
    lists = {}
    for role in ("instructors", "trainees"):
        names = data.get(role) or []
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise HubError(f"'{role}' in {path} must be a list of login names")
        bad = [n for n in names if not NAME.fullmatch(n)]
        if bad:
            raise HubError(f"not usable as login names in {path}: {', '.join(bad)} (lower-case letters, digits and "
                           "'-', starting with a letter, at most 31 characters)")
        lists[role] = tuple(names)
    repeated = sorted({n for n in lists["instructors"] + lists["trainees"]
                       if (lists["instructors"] + lists["trainees"]).count(n) > 1})
    if repeated:
        raise HubError(f"named more than once in {path}: {', '.join(repeated)} (one role per person)")
    if not lists["instructors"]:
        raise HubError(f"{path} names no instructor: someone has to release and grade the quizzes")
    return Roster(lists["instructors"], lists["trainees"])


@dataclass(frozen=True)
class Site:
    """Where the hub keeps everything on this machine."""
    state: Path

    @property
    def course(self) -> Path:  # nbgrader's course folder: instructors only
        return self.state / "course"

    @property
    def exchange(self) -> Path:  # nbgrader's exchange: everyone, with nbgrader's own permissions inside
        return self.state / "exchange"

    @property
    def jupyter(self) -> Path:  # Jupyter settings per role
        return self.state / "jupyter"

    @property
    def hub(self) -> Path:  # the hub's database, cookie secret, passwords: root only
        return self.state / "hub"


def _run(*command: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise HubError(f"{' '.join(command)} failed: {(result.stderr or result.stdout).strip()}")


def _exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def ensure_accounts(roster: Roster) -> None:
    """An account per person (home folder private to them), instructors in the instructors' group."""
    try:
        grp.getgrnam(INSTRUCTOR_GROUP)
    except KeyError:
        _run("groupadd", "--system", INSTRUCTOR_GROUP)
    for name in roster.everyone:
        if not _exists(name):
            _run("useradd", "--create-home", "--shell", "/bin/bash", "--user-group", name)
        os.chmod(pwd.getpwnam(name).pw_dir, 0o700)  # Debian's default home is readable by everyone
    members = set(grp.getgrnam(INSTRUCTOR_GROUP).gr_mem)
    for name in roster.instructors:
        if name not in members:
            _run("usermod", "--append", "--groups", INSTRUCTOR_GROUP, name)
    for name in members & set(roster.trainees):  # someone who moved from instructor to trainee
        _run("gpasswd", "--delete", name, INSTRUCTOR_GROUP)


def chown_tree(path: Path, uid: int, gid: int) -> None:
    """Give a folder and everything in it to ``uid:gid``, as root, without ever following a link: a link a trainee
    planted (to /etc/shadow, say) has the link itself changed, never what it points to, and is never walked into.
    os.fwalk holds each folder open while listing it, so a folder swapped for a link meanwhile is not entered either.
    A hard link to a file of someone else's is left alone (the file is elsewhere too)."""
    os.chown(path, uid, gid, follow_symlinks=False)
    for _, folders, files, folder_fd in os.fwalk(path, follow_symlinks=False):
        for name in folders + files:
            try:
                info = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
                if stat.S_ISREG(info.st_mode) and info.st_nlink > 1 and info.st_uid != uid:
                    continue
                os.chown(name, uid, gid, dir_fd=folder_fd, follow_symlinks=False)
            except FileNotFoundError:  # removed while walking
                continue


def give_new_notebooks(name: str, source: Path, target: Path) -> None:
    """Course notebooks added after a trainee's first sign-in (the evaluation, say) reach ``~/notebooks`` at their next
    start, copied as their own account (a link they planted points only where they may write) and never over theirs."""
    copy = ("import shutil, sys\nfrom pathlib import Path\nfor p in sorted(Path(sys.argv[1]).glob('*.ipynb')):\n"
            "    mine = Path(sys.argv[2]) / p.name\n    if not (mine.exists() or mine.is_symlink()):\n"
            "        shutil.copyfile(p, mine)\n")
    subprocess.run(["runuser", "-u", name, "--", sys.executable, "-c", copy, str(source), str(target)],
                   capture_output=True, timeout=60, check=False, cwd="/")


def close_to_trainees(path: Path, gid: int) -> None:
    """Make ``path`` (a folder and everything in it) readable by its owner and the instructors' group ``gid`` only:
    folders 2750 (new files keep the group), files without any permission for others. Links are neither followed
    nor changed; the owner keeps what they had, so the checkout's owner can still work in it."""
    def closed(mode: int) -> int:  # group may read (and run what its owner may run), others nothing
        return 0o2750 if stat.S_ISDIR(mode) else (mode & 0o700) | 0o040 | (mode & 0o100) >> 3

    if path.is_symlink() or not path.exists():
        return
    os.chown(path, -1, gid, follow_symlinks=False)
    path.chmod(closed(path.stat().st_mode))
    if not path.is_dir():
        return
    for _, folders, files, folder_fd in os.fwalk(path, follow_symlinks=False):
        for name in folders + files:
            info = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                continue
            os.chown(name, -1, gid, dir_fd=folder_fd, follow_symlinks=False)
            os.chmod(name, closed(info.st_mode), dir_fd=folder_fd)


def close_checkout(gid: int) -> None:
    """Trainees have accounts on this machine and run the course from this checkout: its nbgrader course
    (assignments/: the item banks, the quiz sources, any gradebook or trainee work from a local run) and the private
    bank folder, if one is named, become the instructors' only. The package and the notebooks stay readable."""
    banks = bank_folder(COURSE_ROOT)
    if banks.is_dir() and (any(p.is_dir() for p in banks.iterdir()) or banks.resolve() in PROJECT_ROOT.parents):
        raise HubError(f"{BANKS_SETTING} names {banks}, which holds folders: name the folder of the item banks "
                       "themselves (quiz-*.yaml files only), which the hub then closes to trainees")
    close_to_trainees(COURSE_ROOT, gid)
    close_to_trainees(banks, gid)


def prepare_course(site: Site, roster: Roster) -> None:
    """The course folder (first time: nbgrader_config.py, the item banks and the quiz sources, without any trainee
    data) and the exchange. The banks come from the private folder MASSAGE_COURSE_BANKS names, if set, and the sources
    are then written from them; otherwise both are the checkout's practice banks and sources."""
    owner = roster.instructors[0]
    site.state.mkdir(parents=True, exist_ok=True)
    site.state.chmod(0o755)
    if not site.course.exists():
        banks = bank_folder(COURSE_ROOT)
        if not banks.is_dir():
            raise HubError(f"no item banks in {banks} ({BANKS_SETTING} names the folder of the course's real banks)")
        site.course.mkdir()
        shutil.copy(COURSE_ROOT / "nbgrader_config.py", site.course)
        shutil.copytree(banks, site.course / "quizzes")
        if banks == COURSE_ROOT / "quizzes":
            shutil.copytree(COURSE_ROOT / "source", site.course / "source")
        else:
            for quiz in load_quizzes(site.course).values():
                write_source(quiz, site.course)
    chown_tree(site.course, pwd.getpwnam(owner).pw_uid, grp.getgrnam(INSTRUCTOR_GROUP).gr_gid)
    for folder, _, _ in os.walk(site.course):  # instructors share it; nobody else may even list it
        os.chmod(folder, 0o2770)
    # nbgrader wants the exchange root writable by everyone (it checks the mode); the sticky bit stops anyone from
    # renaming or deleting what others put there. The course's folder in it belongs to the instructor who releases,
    # made now so that no trainee can create it first.
    site.exchange.mkdir(exist_ok=True)
    site.exchange.chmod(0o1777)
    # the evaluations' drop box: trainees add files, cannot list them; instructors read and clear it (setgid)
    box = site.exchange / DROP_BOX
    if box.is_symlink() or (box.exists() and (not box.is_dir() or box.stat().st_uid != 0)):
        raise HubError(f"{box} is not the course's own folder (someone else made it): move it away, then start again")
    box.mkdir(exist_ok=True)
    os.chown(box, 0, grp.getgrnam(INSTRUCTOR_GROUP).gr_gid)
    box.chmod(0o2773)
    course_exchange = site.exchange / COURSE_ID
    course_exchange.mkdir(exist_ok=True)
    os.chown(course_exchange, pwd.getpwnam(owner).pw_uid, grp.getgrnam(INSTRUCTOR_GROUP).gr_gid)
    course_exchange.chmod(0o755)


# What a trainee's nbgrader needs: the course id and the exchange, written out (the course folder is closed to them).
TRAINEE_NBGRADER = '''"""Written by massage_course/hub/machine.py: what a trainee's nbgrader needs (course id and exchange), nothing more."""
c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = {exchange!r}
'''
# An instructor's nbgrader reads the course's own configuration (gradebook address from the environment).
INSTRUCTOR_NBGRADER = '''"""Written by massage_course/hub/machine.py: an instructor's nbgrader uses the course folder's own configuration."""
from traitlets.config.loader import PyFileConfigLoader

c.merge(PyFileConfigLoader("nbgrader_config.py", path={course!r}).load_config())
'''


def write_jupyter_settings(site: Site) -> dict[str, Path]:
    """One Jupyter config folder per role; the spawner points JUPYTER_CONFIG_PATH at the person's."""
    trainee, instructor = site.jupyter / "trainee", site.jupyter / "instructor"
    write_if_changed(trainee / "nbgrader_config.py",
                     TRAINEE_NBGRADER.format(course_id=COURSE_ID, exchange=str(site.exchange)))
    write_trainee_switches(trainee)
    write_if_changed(instructor / "nbgrader_config.py", INSTRUCTOR_NBGRADER.format(course=str(site.course)))
    for role in (trainee, instructor):  # the course's guard of the formgrader on every server (lab_guard.py)
        write_lab_guard(role)
    for folder, _, files in os.walk(site.jupyter):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
    return {"trainee": trainee, "instructor": instructor}


def check_environment_is_shared() -> None:
    """Every account runs JupyterLab from the course's Python environment: it must be readable by all."""
    python = Path(os.path.realpath(sys.executable))
    for path in [python, Path(sys.prefix), PROJECT_ROOT / "massage_course", PROJECT_ROOT / "notebooks"]:
        for folder in [path, *path.parents]:
            if not folder.stat().st_mode & 0o005 == 0o005:
                raise HubError(f"{folder} is closed to other accounts, so trainees could not run the course from "
                               f"{path}; install the course where everyone can read it (e.g. under /opt or /srv)")


def install_proxy() -> Path:
    """JupyterHub's proxy from the npm registry, the exact versions of deploy/hub/package-lock.json (npm ci)."""
    command = PROXY_INSTALL / "node_modules" / ".bin" / "configurable-http-proxy"
    lock = PROXY_PACKAGE / "package-lock.json"
    stamp = PROXY_INSTALL / "package-lock.json"
    if command.exists() and stamp.exists() and stamp.read_bytes() == lock.read_bytes():
        return command
    if shutil.which("npm") is None:
        raise HubError("npm is needed to install JupyterHub's proxy: apt-get install npm (./course setup does)")
    PROXY_INSTALL.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(PROXY_PACKAGE / name, PROXY_INSTALL / name)
    result = subprocess.run(["npm", "ci", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error"],
                            cwd=PROXY_INSTALL, capture_output=True, text=True)
    if result.returncode != 0 or not command.exists():
        raise HubError(f"installing the proxy failed: {(result.stderr or result.stdout).strip()[-800:]}")
    return command


def prepare(roster_path: Path, state: Path = DEFAULT_STATE, port: int = 8000, ip: str = "127.0.0.1",
            gradebook_url: str | None = None, admin_token: str | None = None) -> Path:
    """Everything the hub needs on this machine; returns the settings file jupyterhub_config.py reads."""
    if os.geteuid() != 0:
        raise HubError("the hub starts each person's JupyterLab as their own account, so it must run as root "
                       "(sudo ./course hub ...)")
    if not (BUILD_HTML / "index.html").exists():
        raise HubError("the book has not been built yet: run ./course build first")
    roster = load_roster(roster_path)
    check_environment_is_shared()
    site = Site(Path(state).resolve())
    ensure_accounts(roster)
    close_checkout(grp.getgrnam(INSTRUCTOR_GROUP).gr_gid)
    prepare_course(site, roster)
    jupyter = write_jupyter_settings(site)
    from ..grading.sandbox import install_kernelspec

    install_kernelspec()  # instructors grade in it and may not write to the shared environment themselves
    site.hub.mkdir(parents=True, exist_ok=True)
    site.hub.chmod(0o700)
    settings = {
        "ip": ip, "port": port,
        # the hub's own API and the proxy's API: internal, on loopback, any free ports
        "hub_port": free_port(port + 81), "proxy_api_port": free_port(port + 1), "book_port": free_port(port + 2),
        "instructors": list(roster.instructors), "trainees": list(roster.trainees),
        "course": str(site.course), "exchange": str(site.exchange), "hub_state": str(site.hub),
        "jupyter": {role: str(path) for role, path in jupyter.items()},
        "python_bin": str(Path(sys.executable).parent), "python": sys.executable,
        "notebooks": str(PROJECT_ROOT / "notebooks"),
        "proxy": str(install_proxy()),
        "gradebook_url": gradebook_url, "admin_token": admin_token,
    }
    path = site.hub / "settings.json"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # may hold the gradebook's password
    with os.fdopen(descriptor, "w") as handle:
        json.dump(settings, handle, indent=2)
    return path


def start(settings: Path, log=None) -> subprocess.Popen:
    """Start JupyterHub with the course's configuration (it starts the proxy and the book service itself), in a
    process group of its own, so that stopping the group stops everything the hub started."""
    hub_state = Path(json.loads(settings.read_text())["hub_state"])
    env = {**os.environ, "MASSAGE_COURSE_HUB_SETTINGS": str(settings),
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    env.pop("MASSAGE_COURSE_GRADEBOOK_URL", None)  # handed to instructors' servers only, from the settings
    return subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(HUB_CONFIG)], cwd=hub_state, env=env,
                            start_new_session=True, stdout=log, stderr=subprocess.STDOUT if log else None)


def hub_command(roster: str, state: str, port: int, ip: str) -> int:
    """``massage-course hub``: prepare the machine, then run the hub until Ctrl+C."""
    try:
        settings = prepare(Path(roster), Path(state), port, ip,
                           gradebook_url=os.environ.get("MASSAGE_COURSE_GRADEBOOK_URL"),
                           admin_token=os.environ.get("MASSAGE_COURSE_HUB_ADMIN_TOKEN"))
    except HubError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    codes = codes_for_newcomers(Path(json.loads(settings.read_text())["hub_state"]), load_roster(Path(roster)).everyone)
    if codes:
        print("\n" + codes_table(codes), flush=True)
    print(f"\nThe course hub is starting (Ctrl+C stops it):\n  Sign in: http://{ip}:{port}/\n"
          f"  Book:    http://{ip}:{port}/services/book/\n"
          "  At the first sign-in each person types their sign-up code with the password they choose; a new code\n"
          f"  (which also resets a forgotten password): sudo ./course hub-codes --state {state} NAME ...\n", flush=True)
    hub = start(settings)
    try:
        return hub.wait()
    except KeyboardInterrupt:
        hub.terminate()
        return hub.wait(timeout=30)


def hub_codes_command(state: str, names: list[str]) -> int:
    """``massage-course hub-codes NAME ...``: new sign-up codes for these people, removing their passwords (a reset)."""
    hub_state = Site(Path(state).resolve()).hub
    problem = None
    if os.geteuid() != 0:
        problem = "the sign-up codes are root's (sudo ./course hub-codes ...)"
    elif not (hub_state / "settings.json").exists():
        problem = f"no course hub in {state}: start it once with sudo ./course hub --roster ... --state {state}"
    else:
        settings = json.loads((hub_state / "settings.json").read_text())
        unknown = sorted(set(names) - set(settings["instructors"]) - set(settings["trainees"]))
        problem = f"not on the hub's roster: {', '.join(unknown)}" if unknown else None
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    print(codes_table(reissue(hub_state, names)))
    return 0
