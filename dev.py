#!/usr/bin/env python3
"""Bootstrap and run ATLAS from a checkout with nothing but Python 3.11+.

    python3 dev.py run [ATLAS ARGS...]   start the app on the default store (demo data once)
    python3 dev.py test [PYTEST ARGS...] run the whole test suite

Both create .venv and install the project with its test extra the first time, and again
whenever pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".atlas-installed"


def ensure_environment() -> None:
    """Create .venv and install the project unless it is already current."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not PYTHON.exists():
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing ATLAS and its test tools into .venv ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "--editable", f"{ROOT}[test]"], check=True)
    STAMP.write_text(wanted)


def run_app(args: list[str]) -> int:
    """Seed the store with demo data the first time, then start the app.

    Media search looks in the demo media folder unless ATLAS_MEDIA_DIR says otherwise.
    """
    atlas = [str(PYTHON), "-m", "atlas_tui"]
    env = dict(os.environ)
    env.setdefault("ATLAS_MEDIA_DIR", str(ROOT / "atlas_tui" / "media" / "demo"))
    seeded = subprocess.run([*atlas, "demo", "--if-new"], capture_output=True, text=True, env=env)
    if seeded.returncode != 0:
        sys.stderr.write(seeded.stderr)
        return seeded.returncode
    if seeded.stdout.startswith("added "):
        print(seeded.stdout.strip(), flush=True)
    return subprocess.run([*atlas, *args], env=env).returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test"}:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    ensure_environment()
    if argv[0] == "run":
        return run_app(argv[1:])
    return subprocess.run([str(PYTHON), "-m", "pytest", *argv[1:]], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
