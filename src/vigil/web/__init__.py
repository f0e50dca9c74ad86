"""The dashboard's files: `app/` is written by hand and kept in git; `static/` is built from
npm packages (Leaflet, marker clustering, Swagger UI, governorate boundaries) by
`frontend/build.mjs` and kept out of git. `build()` runs that build (needs node and npm);
`ensure_built()` runs it only when the lock file or the build script changed."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

WEB_DIR = Path(__file__).parent
APP_DIR = WEB_DIR / "app"
STATIC_DIR = WEB_DIR / "static"
FRONTEND_DIR = WEB_DIR / "frontend"
BOUNDARIES_DIR = STATIC_DIR / "boundaries"
STAMP = STATIC_DIR / ".build-inputs"


def built() -> bool:
    """Whether the front-end build has run (the map and the API docs need it)."""
    return (STATIC_DIR / "vendor" / "leaflet" / "leaflet.js").is_file()


class BuildError(RuntimeError):
    """The front-end build could not run."""


def build(*, timeout: float = 300) -> None:
    """`npm ci` (from the lock file, install scripts off) then `node build.mjs` into `static/`."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if not npm or not node:
        raise BuildError("the dashboard build needs node and npm on PATH")
    for command in (
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
        [node, "build.mjs"],
    ):
        done = subprocess.run(command, cwd=FRONTEND_DIR, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise BuildError(f"{' '.join(command[:2])} failed:\n{done.stderr[-2000:]}")


def _inputs_digest() -> str:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json", "build.mjs"):
        digest.update((FRONTEND_DIR / name).read_bytes())
    return digest.hexdigest()


def ensure_built(*, timeout: float = 300) -> bool:
    """Build `static/` unless it was built from the current lock file and script; True if it built."""
    want = _inputs_digest()
    if built() and STAMP.is_file() and STAMP.read_text().strip() == want:
        return False
    build(timeout=timeout)
    STAMP.write_text(want + "\n")
    return True
