"""Schemathesis against the committed openapi.json and a real `atlas serve` process: every
operation, with an admin token, answers no 5xx and only what the schema declares (status,
content type and body).

ATLAS_FUZZ_EXAMPLES raises the examples per operation for a longer run by hand (default 10).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_support import serving
from support import ROOT, run_atlas

pytest.importorskip("fastapi", reason="needs the serve extra")
pytest.importorskip("schemathesis", reason="needs the test extra")
ST = Path(sys.executable).with_name("st")
# Half the path values are ones the store has, so the fuzzer reaches past "not found".
CONFIG = """
[dictionaries.skus]
values = ["A-1", "B-2"]

[dictionaries.locations]
values = ["BIN-1", "BIN-2"]

[dictionaries.sessions]
values = ["1"]

[parameters]
"path.sku" = { dictionary = "skus", probability = 0.5 }
"path.code" = { dictionary = "locations", probability = 0.5 }
"path.session" = { dictionary = "sessions", probability = 0.5 }

# A demo of up to 100,000 items holds the store for minutes: a few are enough here.
[[operations]]
include-path = "/api/v1/demo"
parameters = { "query.items" = 3 }
"""
# ignored_auth: each operation that declares the bearer token also sent without one, and
# with a wrong one, must refuse.
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance,ignored_auth"
)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A server on a store with two items and a count session; its URL and an admin's
    token."""
    db = tmp_path / "atlas.json"
    for args in (
        ["add", "--sku", "A-1", "--name", "widget", "--qty", "5", "--location", "BIN-1"],
        ["add", "--sku", "B-2", "--name", "gadget", "--qty", "2", "--location", "BIN-2"],
        ["count-session", "start", "--location", "BIN-1"],
    ):
        assert run_atlas(*args, db=db).code == 0
    # cwd: anything written relative to the server lands in the test's folder.
    with serving(db, cwd=tmp_path) as server:
        yield server.url, server.tokens["admin"]


def fuzz(url: str, token: str, folder: Path, examples: int) -> subprocess.CompletedProcess[str]:
    """`st run` on the committed schema: seeded, no example database kept."""
    config = folder / "schemathesis.toml"
    config.write_text(CONFIG)
    return subprocess.run(
        [str(ST), "--config-file", str(config), "run", str(ROOT / "openapi.json"), "--url", url,
         "-H", f"Authorization: Bearer {token}", "--checks", CHECKS,
         "--phases", "examples,coverage,fuzzing", "--max-examples", str(examples),
         "--seed", "16", "--generation-database", "none",
         "--workers", "2", "--request-timeout", "60", "--no-color",
         # It writes a new store wherever the body names: not a thing to fuzz as root.
         "--exclude-path", "/api/v1/migrate"],
        capture_output=True, text=True, cwd=folder, timeout=600,
    )  # fmt: skip


def test_every_operation_answers_as_its_schema_says(
    served: tuple[str, str], tmp_path: Path
) -> None:
    url, token = served
    done = fuzz(url, token, tmp_path, int(os.environ.get("ATLAS_FUZZ_EXAMPLES", "10")))
    summary = done.stdout[-6000:]
    assert done.returncode == 0, f"{summary}\n{done.stderr[-2000:]}"
    assert token not in done.stdout  # sanitised output: the token is not shown
