"""The course's notebooks live in the browser with no install and no internet: JupyterLite with its Pyodide kernel.

jupyterlite-sphinx builds JupyterLite into the site (``lite/`` in the built book), but the Pyodide runtime and the
packages its kernel loads come from a CDN by default. Here they come from the site itself:

- Pyodide from the npm registry (pinned sha512), unpacked into ``lite/static/pyodide/``, where the JupyterLite build
  finds it;
- the pure-Python wheels the kernel and the notebooks need, from PyPI (pinned with hashes in ``lite/wheels.txt``),
  plus a wheel of this package, beside it;
- a ``pyodide-lock.json`` that lists exactly those wheels, with their own checksums (Pyodide's copies of the same
  versions are repacked and differ), and the dependencies their metadata declare for the browser.

Anything not listed (numpy, matplotlib, jsonschema's compiled part, PyYAML: none has a browser build on npm or PyPI)
fails at import with a message saying so, and the pages that need them say what needs JupyterLab.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from email.parser import Parser
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

from ..paths import PROJECT_ROOT
from .assets import NpmAsset, fetch_vendor_assets

LITE_DIR = PROJECT_ROOT / "lite"
PYODIDE_DIR = LITE_DIR / "static" / "pyodide"
WHEELS_FILE = LITE_DIR / "wheels.txt"
WHEEL_CACHE = LITE_DIR / "wheels"  # downloaded once, not committed

PYODIDE = NpmAsset(
    "pyodide@314.0.6",  # the version jupyterlite-pyodide-kernel 0.8.6 is built for
    "sha512-BKDTJyIqFxC4BExLqeRS3f5xvXZIjOt8C3zGLN/Cc7tFxSwvKVhVkchQQ2AGLOtR4YrVOIFxbV8poyDOOmWwxQ==",
    "package",
    "pyodide",
)
# The browser's Python, for evaluating the environment markers of the wheels' requirements.
PYODIDE_MARKERS = default_environment() | {
    "sys_platform": "emscripten", "platform_system": "Emscripten", "os_name": "posix",
    "platform_machine": "wasm32", "python_version": "3.14", "python_full_version": "3.14.2",
    "implementation_name": "cpython", "platform_python_implementation": "CPython",
}
# The course package declares no dependencies (requirements.txt installs them on a real machine); in the browser it
# needs these, all in wheels.txt. Its numpy-based and jsonschema-based modules cannot run there.
COURSE_PACKAGE_NEEDS = ("ipywidgets", "jupyterquiz", "ruamel-yaml")


class LiteBuildError(RuntimeError):
    """The in-browser Python cannot be assembled: a wheel is missing, altered or needs something not served."""


def fetch_pyodide(force: bool = False) -> None:
    fetch_vendor_assets(force=force, vendor_dir=PYODIDE_DIR.parent, assets=(PYODIDE,))
    for extra in ("console.html", "console-v2.html", "README.md", "package.json", "ffi.d.ts", "pyodide.d.ts"):
        (PYODIDE_DIR / extra).unlink(missing_ok=True)  # examples and type files: not needed by the site


def fetch_wheels() -> list[Path]:
    """The pinned wheels, downloaded (pip checks every hash) unless all are already here."""
    WHEEL_CACHE.mkdir(parents=True, exist_ok=True)
    pinned = [line.split()[0] for line in WHEELS_FILE.read_text().splitlines() if line and not line.startswith("#")]
    wanted = {(canonicalize_name(spec.split("==")[0]), spec.split("==")[1]) for spec in pinned}

    def pinned_version(path: Path) -> tuple[str, str]:
        name, version, _, _ = parse_wheel_filename(path.name)
        return name, str(version)

    def cached() -> list[Path]:
        return [path for path in sorted(WHEEL_CACHE.glob("*.whl")) if pinned_version(path) in wanted]

    if len(cached()) < len(wanted):
        print("Fetching the in-browser Python's wheels from PyPI...", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
                        "--only-binary=:all:", "--python-version", "3.14", "--require-hashes", "-r", str(WHEELS_FILE),
                        "-d", str(WHEEL_CACHE)], check=True)
    if len(cached()) != len(wanted):
        raise LiteBuildError(f"{WHEEL_CACHE} does not hold exactly the wheels pinned in {WHEELS_FILE}")
    return cached()


def build_course_wheel(folder: Path) -> Path:
    """A wheel of this package as it is now (the notebooks must run the same code in the browser). Built from a copy,
    as setuptools leaves a build/ folder beside the sources it builds."""
    source = folder / "source"
    source.mkdir()
    shutil.copy(PROJECT_ROOT / "pyproject.toml", source)
    shutil.copytree(PROJECT_ROOT / "massage_course", source / "massage_course",
                    ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--no-build-isolation", "-w", str(folder), str(source)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return next(folder.glob("massage_course-*.whl"))


def kernel_shim_wheels() -> list[Path]:
    """JupyterLite's own stand-in for widgetsnbextension (the browser already has the widget front end)."""
    labextension = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "@jupyterlite" / "pyodide-kernel-extension"
    shims = sorted((labextension / "static" / "pypi").glob("widgetsnbextension-4.*.whl"))
    if not shims:
        raise LiteBuildError(f"no widgetsnbextension stand-in in {labextension}: is jupyterlite-pyodide-kernel installed?")
    return shims[-1:]


def wheel_entry(path: Path, extra_depends: tuple[str, ...] = ()) -> dict:
    """A pyodide-lock.json entry for a pure-Python wheel, from the wheel itself."""
    name, version, _, _ = parse_wheel_filename(path.name)
    with zipfile.ZipFile(path) as wheel:
        names = wheel.namelist()
        metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(wheel.read(metadata_name).decode())
    depends = set(map(canonicalize_name, extra_depends))
    for line in metadata.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate(PYODIDE_MARKERS | {"extra": ""}):
            depends.add(canonicalize_name(requirement.name))
    # the top-level names it can be imported by (Pyodide loads a package when a cell imports one of them)
    imports = sorted({n.split("/")[0].removesuffix(".py") for n in names
                      if n.endswith(".py") and not n.split("/")[0].endswith((".dist-info", ".data"))})
    return {"name": str(name), "version": str(version), "file_name": path.name, "install_dir": "site",
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "package_type": "package",
            "imports": imports, "depends": sorted(depends), "unvendored_tests": False}


def write_lock(wheels: list[Path], lock_path: Path) -> dict:
    """Replace Pyodide's lock with one listing exactly ``wheels``; every dependency must be among them."""
    info = json.loads(lock_path.read_text())["info"]
    entries = {}
    for wheel in wheels:
        extra = COURSE_PACKAGE_NEEDS if wheel.name.startswith("massage_course-") else ()
        entry = wheel_entry(wheel, extra)
        entries[canonicalize_name(entry["name"])] = entry
    missing = sorted(f"{entry['name']} needs {need}" for entry in entries.values() for need in entry["depends"]
                     if need not in entries)
    if missing:
        raise LiteBuildError("The in-browser Python would lack: " + "; ".join(missing) + f" (add them to {WHEELS_FILE})")
    lock = {"info": info, "packages": dict(sorted(entries.items()))}
    lock_path.write_text(json.dumps(lock, indent=1) + "\n")
    return lock


def prepare(force: bool = False) -> dict:
    """Everything the JupyterLite build needs in ``lite/static/pyodide``; returns the lock written there."""
    fetch_pyodide(force)
    pinned = fetch_wheels()
    for old in PYODIDE_DIR.glob("*.whl"):
        old.unlink()
    with tempfile.TemporaryDirectory() as scratch:
        course = build_course_wheel(Path(scratch))
        served = [shutil.copy(path, PYODIDE_DIR / path.name)
                  for path in [*pinned, *kernel_shim_wheels(), course]]
    return write_lock([Path(path) for path in served], PYODIDE_DIR / "pyodide-lock.json")
