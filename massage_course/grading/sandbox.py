"""A Jupyter kernel that runs a trainee's notebook inside a bubblewrap sandbox during grading.

nbgrader executes a submission with the instructor's rights, in a folder inside the course: without a sandbox a
submission can walk up and read ``source/`` (the answer key), other trainees' work and the gradebook, or overwrite
them. Inside this sandbox the kernel sees only the system's programs and libraries, the course's Python environment,
this package's code, its connection file, the folder of the notebook being run (read-only) and a private folder for
its sockets; home and /tmp are empty and thrown away. It also has:

- no network: a network namespace of its own (an empty loopback), so the kernel talks to its client over Unix
  sockets (``transport = "ipc"``, set in ``nbgrader_config.py`` with a private socket folder, ``ipc_prefix``);
- nothing of the grader's environment: bubblewrap itself starts with a minimal environment (in the sandbox's PID
  namespace ``/proc/1/environ`` is bubblewrap's), and no other process of the machine is visible;
- no privileges: user ``nobody`` (65534) in a user namespace of its own, with every capability dropped, so a read-only
  folder cannot be remounted writable even when grading as root;
- no inherited files: standard input and output are /dev/null and every other inherited descriptor is closed (the
  grade worker's log file was open in the kernel);
- caps on memory, processes and CPU time (``limits.py``).

The kernelspec is installed into the environment (``install_kernelspec``) and named in ``nbgrader_config.py``
(``Execute.kernel_name``), so every nbgrader execution of the course (autograde, validate) uses it. An instructor may
grade without it only by saying so (``UNSANDBOXED_ENV``; ``grade_run.grade_quiz(unsandboxed_at_my_own_risk=True)``).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from . import limits

KERNEL_NAME = "massage-course-sandbox"
PACKAGE_DIR = Path(__file__).resolve().parent.parent  # massage_course/, which the quiz notebooks import
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
BWRAP_ENV = "MASSAGE_COURSE_BWRAP"  # the bubblewrap program (default: bwrap on the PATH)
UNSANDBOXED_ENV = "MASSAGE_COURSE_UNSANDBOXED"
UNSANDBOXED_VALUE = "at-my-own-risk"
SANDBOX_UID = 65534  # nobody
SOCKET_FOLDER_PREFIX = "massage-course-kernel-"
INSIDE_PATH = os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"])
UNSANDBOXED_HINT = ("To grade anyway, without isolating trainee code from this machine, the course and the gradebook "
                    "(only if you trust every submission), run grade with --unsandboxed-at-my-own-risk (or "
                    f"{UNSANDBOXED_ENV}={UNSANDBOXED_VALUE} in its environment).")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create a sandbox on this machine."""


def kernelspec_dir(prefix: str | Path = sys.prefix) -> Path:
    return Path(prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME


def _environment_python() -> str:
    """The environment's Python by one name, whether this process was started as python, python3 or python3.11."""
    python = Path(sys.prefix) / "bin" / "python"
    return str(python) if python.exists() else sys.executable


def install_kernelspec(prefix: str | Path = sys.prefix) -> Path:
    """Write the sandboxed kernel's kernelspec into the environment (idempotent)."""
    folder = kernelspec_dir(prefix)
    spec = {
        "argv": [_environment_python(), "-m", "massage_course.grading.sandbox", "-f", "{connection_file}"],
        "display_name": "Python 3 (course grading sandbox)",
        "language": "python",
        # An interrupt must reach the kernel as a message: a signal would hit bubblewrap, which ends the sandbox
        "interrupt_mode": "message",
        "metadata": {"debugger": False},
    }
    target = folder / "kernel.json"
    text = json.dumps(spec, indent=2) + "\n"
    if target.exists() and target.read_text() == text:
        return folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    except PermissionError:  # e.g. an instructor's account on the course hub, where the environment is root's
        raise SandboxUnavailable(f"the grading sandbox's kernel is missing or outdated in {folder}, and this account "
                                 "may not install it: run `massage-course install-sandbox` as the environment's "
                                 "owner (./course setup does)") from None
    return folder


def ipc_prefix() -> str:
    """Where a grading process's kernels put their sockets: ``<a private temporary folder>/kernel`` (the client adds
    ``-1`` ... ``-5``). One folder per process, made now and removed at exit; kernels of one process run one after
    the other, and each kernel's sandbox sees this folder only."""
    import atexit
    import tempfile

    folder = tempfile.mkdtemp(prefix=f"{SOCKET_FOLDER_PREFIX}{os.getpid()}-")
    atexit.register(shutil.rmtree, folder, True)
    return os.path.join(folder, "kernel")


def remove_stale_socket_folders() -> None:
    """Remove the socket folders of grading processes that ended without removing theirs (a worker stopped at the
    wall-time cap is killed, so its exit handlers never run)."""
    import tempfile

    for folder in Path(tempfile.gettempdir()).glob(f"{SOCKET_FOLDER_PREFIX}*-*"):
        try:
            pid, status = int(folder.name.split("-")[3]), folder.lstat()
            if status.st_uid != os.geteuid() or folder.is_symlink():
                continue
            os.kill(pid, 0)  # still running: leave it
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (ValueError, IndexError, OSError):
            continue


def bwrap_program() -> str | None:
    name = os.environ.get(BWRAP_ENV, "bwrap")
    return shutil.which(name)


def check_available() -> None:
    """Raise SandboxUnavailable, saying what to do, unless this machine can run a grading kernel with every defence:
    bubblewrap with user, PID and network namespaces, no capabilities, and caps on memory and processes."""
    import subprocess

    bwrap = bwrap_program()
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap is not installed, so trainee code cannot be isolated while grading. "
                                 "Install it (Debian/Ubuntu: apt-get install bubblewrap) or run ./course setup. "
                                 + UNSANDBOXED_HINT)
    probe = subprocess.run([bwrap, *_isolation(), "--ro-bind", "/", "/", "true"], capture_output=True, text=True,
                           env={"PATH": "/usr/bin:/bin"}, check=False)
    if probe.returncode != 0:
        raise SandboxUnavailable("bubblewrap cannot create the grading sandbox on this machine (it needs user, PID "
                                 "and network namespaces: check that user namespaces are enabled, e.g. "
                                 "sysctl user.max_user_namespaces, and, in a container, that it may create them): "
                                 f"{probe.stderr.strip()}. " + UNSANDBOXED_HINT)
    if os.geteuid() == 0 and (why := limits.problem()):
        # as root, RLIMIT_NPROC does not count: only a control group caps the processes of a kernel
        raise SandboxUnavailable(f"grading as root needs control groups to cap a submission's memory and processes, "
                                 f"but {why}. Grade as an ordinary account (resource limits then cap them), or give "
                                 "this machine writable control groups. " + UNSANDBOXED_HINT)


def _isolation() -> list[str]:
    """Every namespace (no network), user nobody without capabilities, killed with its grade worker."""
    return ["--die-with-parent", "--unshare-all", "--unshare-user", "--uid", str(SANDBOX_UID), "--gid",
            str(SANDBOX_UID), "--cap-drop", "ALL"]


def _inside_command(connection_file: str, caps: limits.Caps, capped_by_cgroup: bool) -> list[str]:
    return [sys.executable, "-m", "massage_course.grading.sandbox", "--inside", str(caps.cpu_seconds),
            str(caps.processes), str(caps.memory), "1" if capped_by_cgroup else "0", "-f", connection_file,
            # a one-line error instead of a highlighted traceback (a wrong answer costs a third of the time),
            # and no history database: the kernel lives for one notebook
            "--InteractiveShell.xmode=Minimal", "--HistoryManager.enabled=False"]


def bwrap_command(connection_file: str, workdir: str | Path, socket_folder: str | Path,
                  caps: limits.Caps | None = None, capped_by_cgroup: bool = False) -> list[str]:
    """The bwrap command line that starts an IPython kernel for ``connection_file`` in ``workdir``, with its Unix
    sockets in ``socket_folder``."""
    workdir = str(Path(workdir).resolve())
    command = [bwrap_program() or "bwrap", *_isolation(), "--proc", "/proc", "--dev", "/dev",
               "--tmpfs", "/tmp", "--tmpfs", "/sandbox-home", "--tmpfs", "/sandbox-tmp",
               # None of the grader's environment: it may hold the gradebook's database address and password. (This
               # also drops JPY_PARENT_PID: in its own PID namespace the kernel would think its parent had died.)
               "--clearenv", "--setenv", "HOME", "/sandbox-home",
               "--setenv", "TMPDIR", "/sandbox-tmp",  # writable even if /tmp is bound
               "--setenv", "PATH", INSIDE_PATH, "--setenv", "LANG", "C.UTF-8",
               "--setenv", "PYTHONDONTWRITEBYTECODE", "1"]
    readable = [d for d in SYSTEM_DIRS if os.path.exists(d)]
    readable += [sys.base_prefix, sys.prefix, str(PACKAGE_DIR), workdir]
    for path in dict.fromkeys(readable):  # keeps order, drops repeats
        kind = "--ro-bind" if not os.path.islink(path) else "--symlink"
        command += [kind, os.readlink(path) if kind == "--symlink" else path, path]
    command += ["--bind", str(socket_folder), str(socket_folder), "--ro-bind", connection_file, connection_file,
                "--chdir", workdir, *_inside_command(connection_file, caps or limits.Caps(), capped_by_cgroup)]
    return command


def _empty(folder: str) -> None:
    """Remove what a previous kernel (or its trainee's code) left in the socket folder."""
    for entry in os.scandir(folder):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            os.unlink(entry.path)


def _no_inherited_files() -> None:
    """Standard input and output to /dev/null (they were the grade worker's pipe and log), every other fd closed."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, os.sysconf("SC_OPEN_MAX") if os.sysconf("SC_OPEN_MAX") > 0 else 65536)


def launch(connection_file: str, workdir: str) -> None:
    """Start the kernel for ``connection_file``: in the sandbox, or, if the instructor said so, without it."""
    info = json.loads(Path(connection_file).read_text())
    if info.get("transport") != "ipc" or not os.path.isabs(info.get("ip", "")):
        raise SystemExit("the grading sandbox has no network: its kernel must be reached over Unix sockets "
                         "(c.KernelManager.transport = 'ipc' and ip = sandbox.ipc_prefix(), as in the course's "
                         "nbgrader_config.py)")
    socket_folder = os.path.dirname(info["ip"])
    status = os.lstat(socket_folder)
    if (not os.path.basename(socket_folder).startswith(SOCKET_FOLDER_PREFIX) or status.st_uid != os.geteuid()
            or status.st_mode & 0o077 or not os.path.isdir(socket_folder) or os.path.islink(socket_folder)):
        raise SystemExit(f"{socket_folder} is not a private socket folder made by sandbox.ipc_prefix()")
    _empty(socket_folder)
    caps = limits.Caps.from_environment()
    in_cgroup = os.geteuid() == 0 and limits.enter(os.environ.get(limits.TAG_ENV) or f"kernel-{os.getpid()}", caps)
    if os.environ.get(UNSANDBOXED_ENV) == UNSANDBOXED_VALUE:
        command = _inside_command(connection_file, caps, in_cgroup)
        environment = {"HOME": socket_folder, "PATH": INSIDE_PATH, "LANG": "C.UTF-8"}
    else:
        command = bwrap_command(connection_file, workdir, socket_folder, caps, in_cgroup)
        environment = {"PATH": "/usr/bin:/bin"}  # bubblewrap's own environment is what the kernel sees as pid 1's
    _no_inherited_files()
    os.execve(command[0], command, environment)


def inside(argv: list[str]) -> None:
    """In the sandbox: set the resource limits, then become the IPython kernel."""
    cpu, processes, memory, in_cgroup, *kernel_argv = argv
    limits.set_rlimits(limits.Caps(int(memory), int(processes), int(cpu)), memory_too=in_cgroup != "1")
    if sys.path and sys.path[0] in ("", os.getcwd()):  # the submission's folder is no place to import from
        del sys.path[0]
    # The kernelspec has no debugger, but ipykernel imports debugpy anyway if it can: 0.1 s of CPU, a third of the
    # kernel's start, for every notebook graded. Without it ipykernel starts as it does where debugpy is missing.
    sys.modules["debugpy"] = None
    from ipykernel import kernelapp

    kernelapp.launch_new_instance(argv=kernel_argv)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--inside"] and len(argv) >= 7:
        return inside(argv[1:])
    if len(argv) != 2 or argv[0] != "-f":
        raise SystemExit("usage: python -m massage_course.grading.sandbox -f CONNECTION_FILE")
    # jupyter_client starts the kernel in the notebook's folder; that folder is all the kernel may read of the course
    launch(os.path.abspath(argv[1]), os.getcwd())


if __name__ == "__main__":
    main()
