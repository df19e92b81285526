"""What only the PostgreSQL backend has: connections that are cut off (while a write waits for
the lock, while it writes, while it commits), the fate of a commit that lost its connection,
and how the app names a server store."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator

import psycopg
import pytest
from pg_support import PgStore, fresh_store
from psycopg import sql
from support import Result, poll, run_atlas, screen_lines
from test_app import ready

from atlas_tui.app import make_app
from atlas_tui.dburl import parse_database_url
from atlas_tui.factory import make_service
from atlas_tui.storage.pg import schema as pg_schema
from atlas_tui.storage.pg.repo import PostgresRepository

SECRET = "Pw-s3cr3t"


@pytest.fixture
def store() -> Iterator[PgStore]:
    with fresh_store() as made:
        yield made


def run(store: PgStore, statement: str, *args: object) -> list[tuple[object, ...]]:
    """One statement on the server, `{s}` standing for the store's schema."""
    with psycopg.connect(store.server, autocommit=True) as conn:
        cursor = conn.execute(statement.replace("{s}", store.schema).encode(), args)
        return cursor.fetchall() if cursor.description else []


def atlas_backend(store: PgStore, pid: int, condition: str) -> int | None:
    """The server process of ATLAS process `pid` that is in `condition`, if any."""
    rows = run(
        store,
        "SELECT pid FROM pg_stat_activity WHERE application_name LIKE %s AND " + condition,
        f"atlas % pid {pid}",
    )
    return int(str(rows[0][0])) if rows else None


def server_of(store: PgStore) -> str:
    return parse_database_url(str(store)).server


# Connection loss ----------------------------------------------------------------------------------

STALL = """
CREATE FUNCTION {s}.stall() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(600); RETURN NULL; END $$;
"""
DEFERRED = (
    "CREATE CONSTRAINT TRIGGER stall AFTER UPDATE ON {s}.%s DEFERRABLE INITIALLY DEFERRED "
    "FOR EACH ROW EXECUTE FUNCTION {s}.stall()"
)
ADJUST = ("adjust", "--sku", "A", "--delta", "3")
COUNT = ("count-session", "count", "1", "A", "3")
# Where the test cuts a write off: the trigger that makes it wait there (none: the test holds
# the write lock), what its server process is doing meanwhile, and the write.
CUT = {
    "waiting for the lock": ("", "wait_event_type = 'Lock'", ADJUST),
    "writing": (
        "CREATE TRIGGER stall AFTER UPDATE ON {s}.store FOR EACH ROW EXECUTE FUNCTION {s}.stall()",
        "wait_event = 'PgSleep'",
        ADJUST,
    ),
    "committing": (DEFERRED % "store", "wait_event = 'PgSleep' AND query = 'COMMIT'", ADJUST),
    "committing a count": (
        DEFERRED % "documents",
        "wait_event = 'PgSleep' AND query = 'COMMIT'",
        COUNT,
    ),
}


def cut_off(store: PgStore, command: tuple[str, ...], waiting: str, lock: bool) -> Result:
    """Run the CLI's `command`, terminate its server process once it is `waiting`: what the
    CLI said. With `lock`, the test holds the write lock meanwhile."""
    holder = psycopg.connect(store.server)  # a transaction: holds the lock until rollback
    process = None
    try:
        if lock:
            key = pg_schema.lock_key(store.schema, "write")
            holder.execute(sql.SQL("SELECT pg_advisory_xact_lock({})").format(key))
        process = subprocess.Popen(
            [sys.executable, "-m", "atlas_tui", "--db", str(store), *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "ATLAS_LOCK_TIMEOUT": "600"},
        )
        found: list[int | None] = [None]

        def stuck() -> bool:
            found[0] = atlas_backend(store, process.pid, waiting)
            return found[0] is not None

        poll(stuck, f"{command[0]} to wait where it is cut off")
        holder.execute("SELECT pg_terminate_backend(%s)", (found[0],))
        out, err = process.communicate(timeout=60)
    finally:
        holder.rollback()
        holder.close()
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
    return Result(process.returncode, out, err)


@pytest.mark.parametrize("cut", list(CUT))
def test_a_write_cut_off_changes_nothing_and_the_next_one_works(store: PgStore, cut: str) -> None:
    setup = [("add", "--sku", "A", "--name", "a", "--qty", "5", "--location", "A1")]
    if CUT[cut][2] == COUNT:
        setup.append(("count-session", "start", "--location", "A1"))
    for step in setup:
        done = run_atlas("--db", str(store), *step)
        assert done.code == 0, done.err
    trigger, waiting, command = CUT[cut]
    if trigger:
        run(store, STALL)
        run(store, trigger)
    before = store.read_bytes()
    result = cut_off(store, command, waiting, lock=not trigger)
    assert result.code == 1, result
    assert "Traceback" not in result.err
    last = result.err.strip().splitlines()[-1]
    assert last.startswith(f"error: database unreachable ({server_of(store)})"), result.err
    assert last.endswith("nothing was changed"), result.err
    if trigger:
        run(store, "DROP FUNCTION {s}.stall() CASCADE")
    assert store.read_bytes() == before
    again = run_atlas("--db", str(store), *command)
    assert again.code == 0, again.err
    assert store.read_bytes() != before


def test_a_service_whose_connections_were_cut_reconnects(store: PgStore) -> None:
    """The server restarted (or an idle timeout closed the pool's connections) while the app
    was open: the next read, write, scan and snapshot work, without a word to the user."""
    service = make_service(store)
    repository = service.repository
    assert isinstance(repository, PostgresRepository)

    def cut() -> None:
        killed = run(
            store,
            "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name LIKE %s AND pid <> pg_backend_pid()",
            f"atlas % pid {os.getpid()}",
        )
        assert killed, "no connection of this process to cut"
        # pg_terminate_backend only signals: wait until the server has let them go, as
        # after a restart (a check of the pool meanwhile could find one still answering).
        pids = [pid for pid, _ in killed]
        poll(
            lambda: not run(store, "SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", pids),
            "the cut connections to be gone",
        )

    try:
        service.add("A", "a", quantity=5)
        cut()
        assert service.get("A").quantity == 5
        cut()
        service.adjust("A", 2)
        assert run(store, "SELECT quantity FROM {s}.items") == [(7,)]
        cut()
        assert [row[0] for rows in repository.scan() for row in rows] == ["A"]
        cut()
        items, movements = repository.read_all()
        assert [item.quantity for item in items] == [7] and len(movements) == 2
    finally:
        repository.close()


def test_connections_the_server_closed_for_idling_are_replaced(store: PgStore) -> None:
    """A server with idle_session_timeout closes the pool's idle connections; the next read
    and write work all the same."""
    parts = urllib.parse.urlsplit(str(store))
    options = f"-csearch_path={store.schema} -cidle_session_timeout=1000"
    query = urllib.parse.urlencode({"options": options}, quote_via=urllib.parse.quote)
    url = parts._replace(query=query).geturl()
    service = make_service(url)
    try:
        service.add("A", "a", quantity=5)

        def all_closed() -> bool:
            mine = f"atlas % pid {os.getpid()}"
            query = "SELECT pid FROM pg_stat_activity WHERE application_name LIKE %s"
            return not run(store, query, mine)

        poll(all_closed, "the server to close the idle connections")
        assert service.get("A").quantity == 5
        poll(all_closed, "the server to close the idle connections")
        service.adjust("A", 2)
        assert service.get("A").quantity == 7
    finally:
        service.repository.close()


def test_the_fate_of_a_transaction_is_asked_of_the_server(store: PgStore) -> None:
    repository = PostgresRepository(parse_database_url(str(store)), connect_timeout=1)
    # As _begin keeps it: the id, and the server's start time (a restart may reuse ids).
    xid = "SELECT pg_current_xact_id()::text || ' ' || pg_postmaster_start_time()::text"
    with psycopg.connect(store.server) as conn:
        committed = str(conn.execute(xid).fetchall()[0][0])
        conn.commit()
        aborted = str(conn.execute(xid).fetchall()[0][0])
        conn.rollback()
        assert repository._fate(committed) == "committed"
        assert repository._fate(aborted) == "aborted"
        # Not known to be of this server's run: "committed" could be another's with its id.
        assert repository._fate(committed.partition(" ")[0]) is None
        # Still open: undecided, so neither "saved" nor "nothing was changed" may be said.
        running = str(conn.execute(xid).fetchall()[0][0])
        assert repository._fate(running) is None
        conn.rollback()
    unreachable = urllib.parse.urlsplit(str(store))._replace(netloc="postgres@127.0.0.1:1")
    closed = PostgresRepository(parse_database_url(unreachable.geturl()), connect_timeout=0.5)
    assert closed._fate(committed) is None


# How the app names the store ------------------------------------------------------------------


async def test_the_status_line_names_a_server_store_without_its_password(store: PgStore) -> None:
    parts = urllib.parse.urlsplit(str(store))
    url = parts._replace(netloc=f"postgres:{SECRET}@{parts.netloc.rpartition('@')[2]}").geturl()
    service = make_service(url)
    service.add("A-1", "Anvil", quantity=3)
    service.repository.close()
    app = make_app(url)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await ready(app, pilot)
            label = f"{parse_database_url(url).dbname}/{store.schema}@{server_of(store)}"
            assert app.session.store == f"{label} · PostgreSQL"
            assert any(label in line for line in screen_lines(app))
            assert not any(SECRET in line for line in screen_lines(app))
    finally:
        app.service.repository.close()  # its watch too
