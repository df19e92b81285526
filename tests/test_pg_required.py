"""Where no PostgreSQL server answers, its tests are skipped with the reason, except under
CI=true, where they fail: a green CI run always means they ran."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
from pg_support import require_postgres

def test_needs_the_server():
    require_postgres()
"""


def run_probe(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_probe.py").write_text(PROBE)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["ATLAS_TEST_POSTGRES_URL"] = "postgresql://postgres@127.0.0.1:1/test"  # nobody there
    env["PYTHONPATH"] = str(Path(__file__).parent)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )


@pytest.mark.parametrize("ci", [None, "false"])
def test_no_server_skips_with_the_reason(tmp_path: Path, ci: str | None) -> None:
    done = run_probe(tmp_path, ci)
    assert done.returncode == 0, done.stdout
    assert "1 skipped" in done.stdout
    assert "no PostgreSQL server at ATLAS_TEST_POSTGRES_URL (127.0.0.1:1/test)" in done.stdout


def test_no_server_under_ci_fails(tmp_path: Path) -> None:
    done = run_probe(tmp_path, "true")
    assert done.returncode == 1, done.stdout
    assert "1 failed" in done.stdout
    assert "under CI=true the PostgreSQL tests must run" in done.stdout
