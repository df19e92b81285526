"""The PostgreSQL server the tests use, and a store in a fresh schema of it per test.

The server is $ATLAS_TEST_POSTGRES_URL (default: the local one, trust auth, database test).
Where none answers, PostgreSQL tests are skipped with the reason, except under CI=true,
where that fails them: a green CI run always means they ran.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import glob
import os
import pwd
import queue
import shutil
import socket
import subprocess
import tempfile
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
URL_ENV = "ATLAS_TEST_POSTGRES_URL"


def server_url() -> str:
    return os.environ.get(URL_ENV, "").strip() or DEFAULT_URL


@functools.cache
def server_problem(url: str) -> str | None:
    """Why the server cannot be used, or None when it answers."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'atlas-tui[postgres]')"
    try:
        with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return f"no PostgreSQL server at {URL_ENV} ({url.rpartition('@')[2]}): {first}"
    return None


def require_postgres(env: dict[str, str] | os._Environ[str] | None = None) -> str:
    """The server's URL; skips the test when none answers (fails it under CI=true)."""
    env = os.environ if env is None else env
    url = server_url()
    problem = server_problem(url)
    if problem is not None:
        if env.get("CI", "").strip().lower() == "true":
            pytest.fail(f"{problem}; under CI=true the PostgreSQL tests must run", False)
        pytest.skip(problem)
    return url


def with_schema(url: str, schema: str) -> str:
    """The URL with libpq's options naming the schema (search_path)."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query)
    query = [(k, v) for k, v in query if k != "options"]
    query.append(("options", f"-csearch_path={schema}"))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


class PgStore(str):
    """A PostgreSQL store's URL standing where tests take a data file's path: make_service,
    --db and ATLAS_STORAGE_PATH take it as it is, and the few file questions tests ask
    (does it exist, its bytes, the folder its backups go to) are answered for the schema."""

    schema: str
    server: str

    def __new__(cls, server: str, schema: str) -> PgStore:
        store = super().__new__(cls, with_schema(server, schema))
        store.schema, store.server = schema, server
        return store

    def _anchor(self) -> Path:
        from atlas_tui.dburl import parse_database_url

        return parse_database_url(str(self)).anchor

    @property
    def parent(self) -> Path:
        return self._anchor().parent

    @property
    def name(self) -> str:
        return self._anchor().name

    @property
    def stem(self) -> str:
        return self._anchor().stem

    @property
    def suffix(self) -> str:
        return ".pg"

    def with_name(self, name: str) -> PgDocument:
        """What a file backend keeps beside its data file: for a server store, a row of
        its documents table (the count sessions: `sessions_path(store)`)."""
        if name != f"{self.name}.counts.json":
            raise ValueError(f"a PostgreSQL store keeps nothing named {name!r}")
        from atlas_tui.storage.pg.documents import NAME

        return PgDocument(self, NAME)

    def exists(self) -> bool:
        """Whether ATLAS has created its tables in the schema."""
        return bool(self._query("SELECT to_regclass(%s) IS NOT NULL", f"{self.schema}.store"))

    def read_bytes(self) -> bytes:
        """Every row of every table of the store, in order: equal bytes, equal data."""
        if not self.exists():
            return b""
        parts = []
        for table, order in (
            ("items", "key"),
            ("movements", "id"),
            ("locations", "key"),
            ("store", "one"),
            ("documents", "name"),
        ):
            parts.append(
                self._query(
                    f"SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY {order}), '') "
                    f"FROM {self.schema}.{table} t"
                )
            )
        return "\f".join(str(part) for part in parts).encode()

    def _query(self, query: str, *args: object) -> object:
        import psycopg

        with psycopg.connect(self.server, autocommit=True) as conn:
            row = conn.execute(query.encode(), args).fetchone()
        return None if row is None else row[0]


class PgDocument:
    """A document of a store (its count sessions) where tests take the file holding it."""

    def __init__(self, store: PgStore, name: str) -> None:
        self.store, self.name = store, name

    def __str__(self) -> str:
        return f"document {self.name} of {self.store.schema}"

    def exists(self) -> bool:
        return self.read_bytes() != b""

    def read_bytes(self) -> bytes:
        """The document's row as text (b"" when there is none)."""
        if not self.store.exists():
            return b""
        found = self.store._query(
            f"SELECT t::text FROM {self.store.schema}.documents t WHERE name = %s", self.name
        )
        return b"" if found is None else str(found).encode()


# Schemas tests are done with are dropped on a thread of the tests' own: a DROP waits for
# the server's WAL flush, which the next test need not wait for. What this process has open
# on the server is ended first, in the test's teardown (see drop()).
_doomed: queue.Queue[tuple[str, str] | None] = queue.Queue()
_dropper: threading.Thread | None = None
_admin: dict[tuple[int, int, str], Any] = {}  # (pid, thread, server): housekeeping's own
_missed: set[tuple[str, str]] = set()  # handed to drop(), not dropped yet
# Pools a test left unreachable in a reference cycle keep two threads until a collection.
THREADS_BEFORE_GC = 64


def _admin_execute(server: str, query: bytes | str, args: tuple[object, ...] = ()) -> None:
    """A statement of the tests' housekeeping, on a connection kept for it per process and
    thread (made again when the server dropped it: a test may restart the server)."""
    import psycopg

    key = (os.getpid(), threading.get_ident(), server)
    for attempt in (1, 2):
        conn = _admin.get(key)
        if conn is None or conn.closed or conn.broken:
            conn = _admin[key] = psycopg.connect(server, autocommit=True)
        try:
            conn.execute(query, args)
            return
        except (psycopg.OperationalError, psycopg.InterfaceError):
            conn.close()
            if attempt == 2:
                raise


def _drop_schema(server: str, schema: str) -> None:
    _admin_execute(server, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'.encode())


def _drop_queued() -> None:
    while (job := _doomed.get()) is not None:
        try:
            with contextlib.suppress(Exception):  # tried again at the end (finish_drops)
                _drop_schema(*job)
                _missed.discard(job)
        finally:
            _doomed.task_done()
    _doomed.task_done()


def drop(server: str, schema: str) -> None:
    """End what this process left open on the server; the schema is dropped soon after."""
    global _dropper
    if threading.active_count() > THREADS_BEFORE_GC:
        gc.collect()  # repositories a test dropped close their pools
    # Connections this process leaked (a pool of a service never closed, a batch left
    # open) would hold up the DROP, and count against max_connections over a whole run.
    _admin_execute(
        server,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name LIKE %s AND pid <> pg_backend_pid()",
        (f"atlas % pid {os.getpid()}",),
    )
    if _dropper is None or not _dropper.is_alive():
        _dropper = threading.Thread(target=_drop_queued, name="pg-dropper", daemon=True)
        _dropper.start()
    _missed.add((server, schema))
    _doomed.put((server, schema))


def finish_drops() -> None:
    """Wait until every schema handed to drop() is dropped (at the end of the run)."""
    global _dropper
    if _dropper is not None and _dropper.is_alive():
        _doomed.put(None)
        _doomed.join()
        _dropper.join()
    _dropper = None
    for job in list(_missed):  # those the thread could not drop: now, or say why
        _drop_schema(*job)
        _missed.discard(job)


@contextmanager
def fresh_store() -> Iterator[PgStore]:
    """A store in a new schema of the test server, dropped afterwards."""
    server = require_postgres()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    try:
        yield PgStore(server, schema)
    finally:
        drop(server, schema)


# A server of a test's own, to stop hard -------------------------------------------------


def _pg_bin() -> Path | None:
    """Where initdb and pg_ctl are: $ATLAS_TEST_PG_BIN, Debian's folder, else PATH."""
    given = os.environ.get("ATLAS_TEST_PG_BIN", "").strip()
    found = [given] if given else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in found:
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateServer:
    """A PostgreSQL cluster of this test's own (trust auth, 127.0.0.1, a free port): the
    shared server is never stopped. initdb refuses root, so as root the cluster belongs to
    the `postgres` OS user; its folder is made under the system's temporary folder, since
    pytest's own are closed to other users."""

    def __init__(self, bin: Path) -> None:
        self.bin = bin
        self.root = Path(tempfile.mkdtemp(prefix="atlas-pg-"))
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        self.data = self.root / "data"
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run([*self.as_owner, str(self.bin / tool), *args],
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, f"{tool} {args}: {done.stdout}{done.stderr}"

    def create(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--no-sync")  # fmt: skip
        self.start()

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root}"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-o", options,
                  "-w", "start")  # fmt: skip

    def kill(self) -> None:
        """Stop at once: every server process quits, nothing is flushed or finished."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            stop = [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]
            subprocess.run([*self.as_owner, *stop], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def _private_server_problem(bin: Path | None) -> str | None:
    if bin is None:
        return "no initdb/pg_ctl found (set ATLAS_TEST_PG_BIN)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and no `postgres` OS user to own a cluster"
        if shutil.which("runuser") is None:
            return "running as root, and no runuser to start a cluster as `postgres`"
    return None


@contextmanager
def private_cluster() -> Iterator[PrivateServer]:
    """A private cluster, removed afterwards; skips with the reason where none can be made
    (fails under CI=true)."""
    bin = _pg_bin()
    problem = _private_server_problem(bin)
    if problem is not None:
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"cannot make a private PostgreSQL cluster: {problem}", False)
        pytest.skip(f"cannot make a private PostgreSQL cluster: {problem}")
    assert bin is not None
    server = PrivateServer(bin)
    try:
        server.create()
        yield server
    finally:
        server.remove()
