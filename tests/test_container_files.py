"""The Dockerfile and compose.yaml, checked without a container engine: their commands are
the real `atlas serve` invocation and health check, run here against a real server."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tomllib
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from serve_support import serving
from support import ROOT

pytest.importorskip("fastapi", reason="needs the serve extra")
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments left out."""
    found: list[tuple[str, str]] = []
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def only(name: str) -> str:
    given = [rest for word, rest in instructions() if word == name]
    assert given, f"no {name} in the Dockerfile"
    return given[-1]  # the last one counts


def exec_form(text: str) -> list[str]:
    """An instruction's JSON array (exec form: no shell between Docker and the process)."""
    argv = json.loads(text)
    assert isinstance(argv, list) and all(isinstance(a, str) for a in argv), text
    return argv


def env() -> dict[str, str]:
    found: dict[str, str] = {}
    for word, rest in instructions():
        if word == "ENV":
            found.update(part.split("=", 1) for part in shlex.split(rest))  # type: ignore[misc]
    return found


def compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def test_the_image_runs_atlas_serve_as_a_user_other_than_root() -> None:
    assert only("FROM") == "python:3.11-slim"
    user = only("USER").split(":")[0]
    assert user not in ("root", "0"), user
    run = " ".join(rest for word, rest in instructions() if word == "RUN")
    assert f"--uid {user}" in run or f"useradd {user}" in run, "the USER is not created"
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    match = re.search(r'pip install "\.\[([a-z,]+)\]"', run)
    assert match, run
    assert set(match.group(1).split(",")) <= set(extras["optional-dependencies"])
    for word, rest in instructions():
        if word == "COPY":
            *sources, _ = rest.split()
            assert all((ROOT / s).exists() for s in sources), rest


def test_the_command_is_an_invocation_atlas_serve_accepts() -> None:
    argv = exec_form(only("CMD"))
    assert argv[:2] == ["atlas", "serve"]
    assert "0.0.0.0" in argv  # reachable from outside the container, as EXPOSE says
    # The same flags through the real CLI: --print-openapi parses them all, then only prints.
    done = subprocess.run(
        [sys.executable, "-m", "atlas_tui", *argv[1:], "--print-openapi"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads((ROOT / "openapi.json").read_text())
    helped = subprocess.run(
        [sys.executable, "-m", "atlas_tui", "serve", "--help"], capture_output=True, text=True
    )
    assert re.search(r"port \(default (\d+)\)", helped.stdout).group(1) == only("EXPOSE")  # type: ignore[union-attr]


def test_the_store_lives_on_the_volume() -> None:
    volume = exec_form(only("VOLUME"))[0]
    settings = env()
    assert settings["ATLAS_STORAGE_PATH"].startswith(volume + "/")
    assert settings["XDG_DATA_HOME"] == volume  # a PostgreSQL store's local folder too
    assert compose()["services"]["atlas"]["volumes"][0].endswith(":" + volume)


def _free_port() -> int:
    """A port nothing listens on (bound and let go)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[int]:
    with serving(tmp_path / "atlas.json", "--log-format", "json", users=False) as served:
        port = urllib.parse.urlsplit(served.url).port
        assert port is not None
        yield port


def test_the_health_check_passes_on_a_live_server_and_fails_without_one(server: int) -> None:
    argv = exec_form(only("HEALTHCHECK").split(" CMD ", 1)[1])
    assert argv[:2] == ["python", "-c"]
    code = argv[2]
    path = re.search(r"http://127\.0\.0\.1:(\d+)(/[a-z]+)", code)
    assert path and path.group(1) == only("EXPOSE")
    assert path.group(2) in json.loads((ROOT / "openapi.json").read_text())["paths"]
    here = code.replace(f":{path.group(1)}/", f":{server}/")
    assert subprocess.run([sys.executable, "-c", here], capture_output=True).returncode == 0
    gone = code.replace(f":{path.group(1)}/", f":{_free_port()}/")
    assert subprocess.run([sys.executable, "-c", gone], capture_output=True).returncode != 0


def _filled(value: str) -> str:
    """`${VAR:-default}` as compose fills it in when VAR is not set."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def test_compose_runs_atlas_on_postgres_once_it_is_healthy() -> None:
    from atlas_tui.dburl import parse_database_url

    services = compose()["services"]
    postgres, atlas = services["postgres"], services["atlas"]
    assert postgres["image"] == "postgres:15"
    assert postgres["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL")
    assert atlas["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert atlas["build"] == "."
    url = _filled(atlas["environment"]["ATLAS_STORAGE_PATH"])
    parsed = parse_database_url(url)
    assert parsed.host == "postgres"  # the service's name on compose's network
    pg_env = {name: _filled(value) for name, value in postgres["environment"].items()}
    assert parsed.dbname == pg_env["POSTGRES_DB"]
    assert url.startswith(f"postgresql://{pg_env['POSTGRES_USER']}:{pg_env['POSTGRES_PASSWORD']}@")
    host_port = atlas["ports"][0].rsplit(":", 1)[1]
    assert host_port == only("EXPOSE")
    assert atlas["ports"][0].startswith("127.0.0.1:")  # not published beyond the host
    named = {mount.split(":")[0] for s in services.values() for mount in s.get("volumes", [])}
    assert named <= set(compose()["volumes"])


def test_only_the_sources_go_into_the_build_context() -> None:
    text = (ROOT / ".dockerignore").read_text()
    lines = [line for line in text.split("\n") if line.strip() and not line.startswith("#")]
    assert lines[0] == "*"
    allowed = {line.lstrip("!").rstrip("/") for line in lines if line.startswith("!")}
    copied = {s for word, rest in instructions() if word == "COPY" for s in rest.split()[:-1]}
    assert copied <= allowed


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install 'atlas-tui[test]')")
    done = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_docker_compose_reads_the_file() -> None:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    done = subprocess.run(
        [tool, "-f", str(COMPOSE), "config", "--quiet"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
