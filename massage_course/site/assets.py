"""The JavaScript the built book serves itself, so that its pages make no request outside the site.

Fetched from the npm registry at pinned versions, checked against their published sha512 integrity, and unpacked
into ``book/_static/vendor/`` (not committed; ``./course`` fetches it during setup).
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..paths import PROJECT_ROOT

VENDOR_DIR = PROJECT_ROOT / "book" / "_static" / "vendor"
# The widget renderer's stylesheet asks for its icon fonts relative to the page (all widget pages are in notebooks/),
# at notebooks/@jupyter-widgets/html-manager/dist/ or, depending on how its script was located, at
# notebooks/@jupyter-widgets/: Sphinx copies this folder into the site as it is (html_extra_path), so those requests
# find the fonts instead of failing.
EXTRA_DIR = PROJECT_ROOT / "book" / "_extra"
WIDGET_FONTS = EXTRA_DIR / "notebooks" / "@jupyter-widgets" / "html-manager" / "dist"
WIDGET_FONT_FOLDERS = (WIDGET_FONTS, EXTRA_DIR / "notebooks" / "@jupyter-widgets")
# Tools the tests load into pages (never part of the site): ignored by git like the site's vendored files.
TEST_VENDOR_DIR = PROJECT_ROOT / "tests" / "_vendor"


@dataclass(frozen=True)
class NpmAsset:
    spec: str  # name@version on the npm registry
    integrity: str  # the registry's sha512 for that tarball
    folder: str  # inside the tarball: what to copy
    target: str  # under book/_static/vendor/


ASSETS = (
    # The ipywidgets renderer for static pages (the version myst-nb loads from a CDN by default).
    NpmAsset(
        "@jupyter-widgets/html-manager@1.0.6",
        "sha512-+Mn+Ra8wyIHrYaUpfmf9A3dsLkt/NuwzPQN8sthdxBD35VV5cOJbpmgMhNR27n/rmP3mKyEe0PWCJrtZrXTXDQ==",
        "package/dist",
        "html-manager",
    ),
    NpmAsset(
        "requirejs@2.3.4",
        "sha512-qPD5gRrj6kGQ0ZySAJgqbArkaDqPMbQIT0zSZDkIv1mfA17w/tR2Faq5l2qqRf2CdQx6FWln9nUrgd2UDzb19A==",
        "package",
        "requirejs",
    ),
    NpmAsset(
        "mathjax@3.2.2",
        "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
        "package/es5",
        "mathjax",
    ),
)


# axe-core: the accessibility engine the browser tests run on every page (WCAG 2.1 A and AA rules).
TEST_ASSETS = (
    NpmAsset(
        "axe-core@4.14.1",
        "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
        "package",
        "axe-core",
    ),
)


def place_widget_fonts(vendor_dir: Path = VENDOR_DIR) -> None:
    for folder in WIDGET_FONT_FOLDERS:
        folder.mkdir(parents=True, exist_ok=True)
        for font in (vendor_dir / "html-manager").iterdir():
            if font.suffix in (".woff", ".woff2", ".ttf", ".eot", ".svg"):
                shutil.copy(font, folder / font.name)


def sha512_integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def fetch_vendor_assets(force: bool = False, vendor_dir: Path = VENDOR_DIR, assets: tuple = ASSETS) -> None:
    """Fetch and unpack every asset not already in place (all of them when ``force``)."""
    missing = [asset for asset in assets if force or not (vendor_dir / asset.target).is_dir()]
    if not missing:
        if assets is ASSETS and not all(any(folder.glob("*.woff2")) for folder in WIDGET_FONT_FOLDERS):
            place_widget_fonts(vendor_dir)
        return
    if shutil.which("npm") is None:
        raise SystemExit("npm is needed once to fetch the book's JavaScript (apt-get install npm).")
    with tempfile.TemporaryDirectory() as download:
        for asset in missing:
            print(f"Fetching {asset.spec} from the npm registry...", flush=True)
            output = subprocess.run(
                ["npm", "pack", "--silent", asset.spec], cwd=download, check=True, capture_output=True, text=True
            ).stdout.strip().splitlines()[-1]
            tarball = Path(download) / output
            if sha512_integrity(tarball) != asset.integrity:
                raise SystemExit(f"{asset.spec}: the downloaded file does not match its pinned sha512; not using it.")
            unpack(tarball, asset, vendor_dir)
    if assets is ASSETS:
        place_widget_fonts(vendor_dir)


def unpack(tarball: Path, asset: NpmAsset, vendor_dir: Path) -> None:
    target = vendor_dir / asset.target
    shutil.rmtree(target, ignore_errors=True)
    prefix = asset.folder.rstrip("/") + "/"
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            if not member.isfile() or not member.name.startswith(prefix) or member.name.endswith(".map"):
                continue
            destination = target / member.name[len(prefix):]
            destination.parent.mkdir(parents=True, exist_ok=True)
            with archive.extractfile(member) as source, open(destination, "wb") as sink:
                shutil.copyfileobj(source, sink)
