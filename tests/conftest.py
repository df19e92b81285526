"""Shared fixtures: every test runs with its own HOME, XDG dirs, no ATLAS_* settings and no
preferences file but its own."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

import pytest
from pg_support import PrivateServer, finish_drops, fresh_store, private_cluster
from support import BACKENDS, FORK, Result, Start, file_unchanged, run_atlas

from atlas_tui.api import AtlasAPI
from atlas_tui.factory import make_service
from atlas_tui.preferences import config_path
from atlas_tui.services.inventory import InventoryService


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the real user's data, cache, settings or preferences file
    (ATLAS_CONFIG and ATLAS_PROFILE go with the other ATLAS_* variables)."""
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith("ATLAS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    for var, sub in [
        ("XDG_DATA_HOME", "data"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_STATE_HOME", "state"),
    ]:
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("ATLAS_CACHE_DIR", str(home / "atlas-cache"))
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("NO_COLOR", "1")
    assert config_path().is_relative_to(home)  # platformdirs follows HOME/XDG_CONFIG_HOME
    return home


@pytest.fixture
def config_file(isolated_env: Path) -> Path:
    """The preferences file atlas reads in this test (its folder made; the file not yet)."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def patient_writers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writers wait minutes for the lock, not seconds: stress tests on a loaded machine count
    operations, and a slow turn must end in a result, not "busy"."""
    monkeypatch.setenv("ATLAS_LOCK_TIMEOUT", "300")


def pytest_sessionfinish(session: pytest.Session) -> None:
    finish_drops()  # the schemas of the last PostgreSQL tests


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests of a `db` run once per file backend; in modules that set ALL_BACKENDS = True,
    on PostgreSQL too, except tests marked files_only("why"): those are about files as such
    (modes, lock files, journals, headers), which a server store does not have."""
    if "db" in metafunc.fixturenames:
        server = ["postgresql"] if getattr(metafunc.module, "ALL_BACKENDS", False) else []
        marker = metafunc.definition.get_closest_marker("files_only")
        if marker is not None:
            if not (marker.args and isinstance(marker.args[0], str) and marker.args[0].strip()):
                raise pytest.UsageError(f"{metafunc.definition.nodeid}: files_only needs a why")
            server = []
        metafunc.parametrize("db", [*server, *sorted(BACKENDS)], indirect=True)


@pytest.fixture
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """Path of a data file that does not exist yet, once per backend; for PostgreSQL, a
    store in a fresh schema (a `PgStore`: its URL, answering the tests' file questions)."""
    if request.param == "postgresql":
        with fresh_store() as store:
            yield store  # type: ignore[misc]
        return
    yield tmp_path / "data" / BACKENDS[request.param]


@pytest.fixture
def json_db(tmp_path: Path) -> Path:
    """A TinyDB data file path, for what only the JSON backend has."""
    return tmp_path / "data" / "atlas.json"


@pytest.fixture
def private_server() -> Iterator[PrivateServer]:
    """A PostgreSQL cluster of the test's own, to stop hard and start again (the shared
    server is never stopped); skips with the reason where none can be made (fails under
    CI=true)."""
    with private_cluster() as server:
        yield server


@pytest.fixture
def store(json_db: Path) -> Path:
    """A TinyDB store with three items (the app's cursor starts on A-1); modules that need
    another store define their own."""
    service = make_service(json_db)
    service.add("A-1", "Anvil", "Tools", 10, "A1", 2, 50)
    service.add("B-2", "Bolt M6", "Fasteners", 1, "B1", 5, 0)
    service.add("C-3", "Crate", "Packaging", 80, "C1", 0, 60)
    return json_db


@pytest.fixture
def service(db: Path) -> InventoryService:
    return make_service(db)


@pytest.fixture
def api(db: Path) -> AtlasAPI:
    return AtlasAPI(db)


@pytest.fixture
def widget(service: InventoryService) -> InventoryService:
    """A store holding ITEM-001: 100 Widgets at A1, min 10, max 500."""
    service.add("ITEM-001", "Widget", "Electronics", 100, "A1", 10, 500)
    return service


@pytest.fixture
def atlas(db: Path) -> Callable[..., Result]:
    """The CLI bound to this test's data file."""

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        return run_atlas(*args, db=db, env=env)

    return run


@pytest.fixture
def unchanged(db: Path) -> Callable[[], AbstractContextManager[None]]:
    """`with unchanged(): ...` asserts the data file is untouched by the block."""
    return lambda: file_unchanged(db)


@pytest.fixture
def start() -> Iterator[Start]:
    """`start(target, *args)` runs target(*args, pipe) in a forked process; returns the other
    end of the pipe and the process. Processes still running at the end are killed."""
    processes: list[BaseProcess] = []

    def run(target: Callable[..., None], *args: object) -> tuple[Connection, BaseProcess]:
        ours, theirs = FORK.Pipe()
        process = FORK.Process(target=target, args=(*args, theirs), daemon=True)
        process.start()
        processes.append(process)
        return ours, process

    yield run
    for process in processes:
        process.join(timeout=60)
        if process.is_alive():
            process.kill()
            process.join()
