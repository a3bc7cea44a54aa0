"""A Jupyter kernel that runs a trainee's notebook inside a bubblewrap sandbox during grading.

nbgrader executes a submission with the instructor's rights, in a folder inside the course: without a sandbox a
submission can walk up and read ``source/`` (the answer key), other trainees' work and the gradebook, or overwrite
them. Inside this sandbox the kernel sees only the system's programs and libraries, the course's Python environment,
this package's code, its connection file, and the folder of the notebook being run (read-only); home and /tmp are
empty and thrown away, and none of the grader's environment variables gets in. The kernel still reaches its client
over 127.0.0.1, so the network is shared.

The kernelspec is installed into the environment (``install_kernelspec``) and named in ``nbgrader_config.py``
(``Execute.kernel_name``), so every nbgrader execution of the course (autograde, validate) uses it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

KERNEL_NAME = "massage-course-sandbox"
PACKAGE_DIR = Path(__file__).resolve().parent.parent  # massage_course/, which the quiz notebooks import
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


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


def check_available() -> None:
    """Raise SandboxUnavailable with what to do, unless bubblewrap can make a sandbox here."""
    if shutil.which("bwrap") is None:
        raise SandboxUnavailable("bubblewrap is not installed, so trainee code cannot be isolated while grading. "
                                 "Install it (Debian/Ubuntu: apt-get install bubblewrap) or run ./course setup.")
    probe = subprocess.run(["bwrap", "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        raise SandboxUnavailable("bubblewrap cannot create a sandbox on this machine (user namespaces may be "
                                 f"disabled): {probe.stderr.strip()}")


def bwrap_command(connection_file: str, workdir: str | Path) -> list[str]:
    """The bwrap command line that starts an IPython kernel for ``connection_file`` in ``workdir``."""
    workdir = str(Path(workdir).resolve())
    command = ["bwrap", "--die-with-parent", "--unshare-all", "--share-net", "--proc", "/proc", "--dev", "/dev",
               "--tmpfs", "/tmp", "--tmpfs", "/sandbox-home", "--tmpfs", "/sandbox-tmp",
               # None of the grader's environment: it may hold the gradebook's database address and password. (This
               # also drops JPY_PARENT_PID: in its own PID namespace the kernel would think its parent had died.)
               "--clearenv", "--setenv", "HOME", "/sandbox-home",
               "--setenv", "TMPDIR", "/sandbox-tmp",  # writable even if /tmp is bound
               "--setenv", "PATH", os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
               "--setenv", "LANG", "C.UTF-8", "--setenv", "PYTHONDONTWRITEBYTECODE", "1"]
    readable = [d for d in SYSTEM_DIRS if os.path.exists(d)]
    readable += [sys.base_prefix, sys.prefix, str(PACKAGE_DIR), workdir]
    for path in dict.fromkeys(readable):  # keeps order, drops repeats
        kind = "--ro-bind" if not os.path.islink(path) else "--symlink"
        command += [kind, os.readlink(path) if kind == "--symlink" else path, path]
    command += ["--ro-bind", connection_file, connection_file, "--chdir", workdir,
                sys.executable, "-m", "ipykernel_launcher", "-f", connection_file,
                # a one-line error instead of a highlighted traceback (a wrong answer costs a third of the time),
                # and no history database: the kernel lives for one notebook
                "--InteractiveShell.xmode=Minimal", "--HistoryManager.enabled=False"]
    return command


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] != "-f":
        raise SystemExit("usage: python -m massage_course.grading.sandbox -f CONNECTION_FILE")
    # jupyter_client starts the kernel in the notebook's folder; that folder is all the kernel may read of the course
    command = bwrap_command(os.path.abspath(argv[1]), os.getcwd())
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
