"""The PostgreSQL server the tests use, and a store in a fresh schema of it per test.

The server is $ATLAS_TEST_POSTGRES_URL (default: the local one, trust auth, database test).
Where none answers, PostgreSQL tests are skipped with the reason, except under CI=true,
where that fails them: a green CI run always means they ran.
"""

from __future__ import annotations

import functools
import gc
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
    def suffix(self) -> str:
        return ".pg"

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


def drop(server: str, schema: str) -> None:
    """Drop the schema, after closing what this process left open on the server."""
    import psycopg

    gc.collect()  # repositories a test dropped close their pools
    with psycopg.connect(server, autocommit=True) as conn:
        # Connections this process leaked (a pool of a service never closed) would hold up
        # nothing, but count against max_connections over a whole run.
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name LIKE %s AND pid <> pg_backend_pid()",
            (f"atlas % pid {os.getpid()}",),
        )
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'.encode())


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
