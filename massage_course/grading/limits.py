"""Caps on what one graded notebook may use (memory, processes, CPU time, wall time), and how they are enforced.

A trainee's notebook that allocates 6 GB or forks a thousand processes must not take the grading machine down: its
kernel gets a control group of its own (``/sys/fs/cgroup``, version 1 or 2, writable when grading as root) with a
memory and a process cap, and resource limits (``setrlimit``) for CPU time. Without writable control groups (an
instructor's own account) the memory and process caps fall back to resource limits (``RLIMIT_AS``, ``RLIMIT_NPROC``),
which bubblewrap's user namespace makes count only the sandbox's processes. Wall time per notebook is the grade run's
time limit (``grade_run.py``).

The caps are read from environment variables when grading starts (see ``Caps.from_environment`` and
deploy/OPERATIONS.md). After each notebook the grade run reads the control group's counters (an out-of-memory kill,
a refused fork, the CPU time used) to say which cap stopped a submission.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
GROUP = "massage-course"  # the folder of the grading kernels' control groups
TAG_ENV = "MASSAGE_COURSE_SANDBOX_CGROUP"  # set by a grade worker for each notebook; read by the kernel launcher
ENV = {"memory": "MASSAGE_COURSE_MEMORY_CAP", "processes": "MASSAGE_COURSE_PROCESS_CAP",
       "cpu_seconds": "MASSAGE_COURSE_CPU_SECONDS", "wall_seconds": "MASSAGE_COURSE_WALL_SECONDS"}
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


class Caps:
    """The caps of one notebook (a plain class: the kernel launcher imports this module, and dataclasses costs 15 ms
    there for every notebook)."""

    __slots__ = ("memory", "processes", "cpu_seconds", "wall_seconds")

    def __init__(self, memory: int = 2 << 30, processes: int = 64, cpu_seconds: int = 120, wall_seconds: int = 300):
        self.memory = memory  # bytes, for the kernel and every process it starts
        self.processes = processes  # processes and threads (ipykernel itself uses about ten)
        self.cpu_seconds = cpu_seconds  # per process
        self.wall_seconds = wall_seconds  # the whole notebook

    @classmethod
    def from_environment(cls, environ=os.environ) -> Caps:
        """The caps, each overridable by its variable (memory as bytes or with K/M/G, e.g. 4G)."""
        values = {}
        for name, variable in ENV.items():
            text = environ.get(variable, "").strip().upper().removesuffix("B").removesuffix("I")
            if not text:
                continue
            match = re.fullmatch(r"([0-9]+)\s*([KMGT]?)", text)
            if not match or int(match.group(1)) <= 0 or (match.group(2) and name != "memory"):
                raise ValueError(f"{variable}={environ[variable]!r} is not a positive "
                                 f"{'size such as 2G' if name == 'memory' else 'whole number'}")
            values[name] = int(match.group(1)) * _UNITS[match.group(2)]
        return cls(**values)

    def words(self, name: str) -> str:
        if name == "memory":
            return f"the memory cap ({self.memory / (1 << 30):g} GiB, {ENV['memory']})"
        if name == "processes":
            return f"the process cap ({self.processes} processes, {ENV['processes']})"
        if name == "cpu_seconds":
            return f"the CPU-time cap ({self.cpu_seconds} s, {ENV['cpu_seconds']})"
        return f"the wall-time cap ({self.wall_seconds} s per notebook, {ENV['wall_seconds']})"


# --- control groups ---------------------------------------------------------------------------------------------------

def _v2() -> bool:
    return (CGROUP_ROOT / "cgroup.controllers").exists()


def _own_paths() -> dict[str, str]:
    """This process's control group in each version-1 hierarchy, by controller."""
    paths = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            paths[controller] = path.lstrip("/")
    return paths


def _folders(tag: str) -> dict[str, Path]:
    """{controller: the tag's control group folder}; one folder for all in version 2."""
    if not re.fullmatch(r"[A-Za-z0-9-]{1,64}", tag):
        raise ValueError(f"bad control group name {tag!r}")
    if _v2():
        return {"all": CGROUP_ROOT / GROUP / tag}
    own = _own_paths()
    return {name: CGROUP_ROOT / name / own.get(name, "") / GROUP / tag for name in ("memory", "pids", "cpuacct")}


def _write(path: Path, text: str) -> None:
    path.write_text(text)


def enter(tag: str, caps: Caps, pid: int | None = None) -> bool:
    """Make the control group ``tag`` with the memory and process caps and move this process (or ``pid``) into it;
    its children follow. False, with nothing left behind, when control groups cannot be used here."""
    try:
        folders = _folders(tag)
        if "all" in folders:  # version 2: enable the controllers for the course's folder, then for its children
            _write(CGROUP_ROOT / "cgroup.subtree_control", "+memory +pids")
            folders["all"].parent.mkdir(exist_ok=True)
            _write(folders["all"].parent / "cgroup.subtree_control", "+memory +pids")
            folders["all"].mkdir(exist_ok=True)
            _write(folders["all"] / "memory.max", str(caps.memory))
            if (folders["all"] / "memory.swap.max").exists():
                _write(folders["all"] / "memory.swap.max", "0")
            _write(folders["all"] / "pids.max", str(caps.processes))
        else:
            for folder in folders.values():
                folder.mkdir(parents=True, exist_ok=True)
            _write(folders["memory"] / "memory.limit_in_bytes", str(caps.memory))
            if (folders["memory"] / "memory.memsw.limit_in_bytes").exists():  # no swapping past the cap either
                _write(folders["memory"] / "memory.memsw.limit_in_bytes", str(caps.memory))
            _write(folders["pids"] / "pids.max", str(caps.processes))
        for folder in folders.values():
            _write(folder / "cgroup.procs", str(pid or os.getpid()))
        return True
    except (OSError, ValueError):
        remove(tag)
        return False


def _counter(path: Path, key: str) -> float:
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return float(value)
    except OSError:
        pass
    return 0.0


def stopped_by(tag: str, caps: Caps) -> list[str]:
    """Which caps the notebook run in ``tag`` ran into, in words (empty if none, or without control groups)."""
    try:
        folders = _folders(tag)
    except ValueError:
        return []
    if "all" in folders:
        folder = folders["all"]
        memory, pids = _counter(folder / "memory.events", "oom_kill"), _counter(folder / "pids.events", "max")
        cpu = _counter(folder / "cpu.stat", "usage_usec") / 1e6
    else:
        memory = _counter(folders["memory"] / "memory.oom_control", "oom_kill")
        pids = _counter(folders["pids"] / "pids.events", "max")
        try:
            cpu = int((folders["cpuacct"] / "cpuacct.usage").read_text()) / 1e9
        except (OSError, ValueError):
            cpu = 0.0
    reasons = []
    if memory:
        reasons.append(f"stopped at {caps.words('memory')}: the notebook's code used more memory than a quiz needs")
    if pids:
        reasons.append(f"stopped at {caps.words('processes')}: the notebook's code started too many processes")
    if cpu >= caps.cpu_seconds * 0.9:  # the limit is per process (RLIMIT_CPU); this is the whole group
        reasons.append(f"stopped at {caps.words('cpu_seconds')}: the notebook's code computed for too long")
    return reasons


def remove(tag: str) -> None:
    """End whatever still runs in the control group ``tag`` and remove it (nothing happens if it does not exist)."""
    try:
        folders = _folders(tag)
    except ValueError:
        return
    for folder in folders.values():
        for _ in range(50):
            try:
                pids = [int(pid) for pid in (folder / "cgroup.procs").read_text().split()]
            except OSError:
                break
            for pid in pids:
                try:
                    os.kill(pid, 9)  # SIGKILL
                except OSError:
                    pass
            try:
                folder.rmdir()
                break
            except OSError:
                if not pids:
                    break
                os.sched_yield()


def sweep() -> None:
    """Remove the course's leftover, empty control groups (of kernels whose grade worker was stopped)."""
    folders = [CGROUP_ROOT / GROUP] if _v2() else [CGROUP_ROOT / name / path / GROUP
                                                  for name, path in _own_paths().items()
                                                  if name in ("memory", "pids", "cpuacct")]
    for folder in folders:
        for child in folder.glob("*/") if folder.is_dir() else ():
            try:
                child.rmdir()
            except OSError:
                pass


def problem() -> str | None:
    """Why control groups cannot cap a grading kernel here (None when they can)."""
    import subprocess

    tag = f"probe-{os.getpid()}"
    with subprocess.Popen(["sleep", "30"]) as child:  # moved into the probe group instead of this process
        works = enter(tag, Caps(), child.pid)
        child.kill()
    remove(tag)
    if works:
        return None
    return (f"control groups cannot be made under {CGROUP_ROOT} (they need root and a writable cgroup file system; "
            "in a container, run it with a writable /sys/fs/cgroup)")


# --- resource limits, set inside the sandbox just before the kernel starts --------------------------------------------

def set_rlimits(caps: Caps, memory_too: bool) -> None:
    """CPU time per process and no core files always; memory and processes too when no control group caps them."""
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (caps.cpu_seconds, caps.cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if memory_too:
        resource.setrlimit(resource.RLIMIT_AS, (caps.memory, caps.memory))
        resource.setrlimit(resource.RLIMIT_NPROC, (caps.processes, caps.processes))
