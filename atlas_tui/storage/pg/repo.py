"""The PostgreSQL backend: a store many hosts share, in a schema of its own.

Writers take one advisory lock of the schema's for the length of their transaction, as
the file backends take their lock file: the service's rules span items (a barcode is
unique across the store, a location is retired only when nothing is left there, the item
limit), so a change must see the store as no other writer can change it meanwhile. Readers
never wait: each read is one statement on a pooled connection, and whole-store reads run in
one REPEATABLE READ snapshot.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from atlas_tui.dburl import DatabaseURL
from atlas_tui.domain.errors import BusyError, StorageError, UnreachableError
from atlas_tui.domain.models import (
    ITEM_FIELDS,
    InventoryItem,
    Movement,
    sku_key,
)
from atlas_tui.domain.stock import Location, location_key
from atlas_tui.storage.base import joined
from atlas_tui.storage.files import login_name
from atlas_tui.storage.pg import schema as pg_schema
from atlas_tui.storage.pg.notify import channel_of, payload_of
from atlas_tui.storage.pg.watch import OnChange, OnState, StoreWatch
from atlas_tui.storage.rows import (
    item_values,
    loads,
    movement_values,
    stored_item,
    stored_movement,
)

if TYPE_CHECKING:
    from atlas_tui.storage.backups import BackupPolicy
    from atlas_tui.storage.files import LockWatcher

Conn = psycopg.Connection[tuple[Any, ...]]

# Connections a process keeps: the app's screen, its loader, its history pane and a count
# session's document each read on one of their own while a write holds another.
POOL_SIZE = 8
CONNECT_TIMEOUT = 5.0
USER_PAGE = 64
# Rows past this go to the server with COPY (a restore, a migration).
COPY_ROWS = 2_000

ITEM_NAMES = ITEM_FIELDS
ITEM_COLUMNS = ", ".join(ITEM_NAMES)
# JSON columns are read as their text and parsed here (orjson), as the other backends do.
ITEM_SELECT = (
    "sku, name, category, quantity, location, min_stock, max_stock, created_at, updated_at, "
    "attributes::text, unit, barcodes::text, lines::text"
)
WRITTEN_COLUMNS = f"key, {ITEM_COLUMNS}, places, expiry"
ON_CONFLICT = "ON CONFLICT (key) DO UPDATE SET " + ", ".join(
    f"{name} = EXCLUDED.{name}" for name in (*ITEM_NAMES, "places", "expiry")
)
UPSERT_ITEM = (
    f"INSERT INTO items ({WRITTEN_COLUMNS}) VALUES ({', '.join(['%s'] * 16)}) {ON_CONFLICT}"
)
# A big batch of items (an import) goes to the server with COPY into a table of the
# transaction's own, then into items with one statement.
UPSERT_TABLE = "atlas_upsert"
UPSERT_FROM_TABLE = (
    f"INSERT INTO items ({WRITTEN_COLUMNS}) SELECT {WRITTEN_COLUMNS} FROM {UPSERT_TABLE} "
    f"{ON_CONFLICT}"
)
ROW_SELECT = (
    "sku, name, category, quantity, "
    "CASE WHEN places > 0 THEN location || ' +' || places ELSE location END, "
    "min_stock, max_stock, expiry"
)
MOVEMENT_NAMES = (
    "id",
    "sku",
    "kind",
    "delta",
    "quantity_before",
    "quantity_after",
    "reason",
    "user",
    "timestamp",
    "details",
)
MOVEMENT_SELECT = (
    'id, sku, kind, delta, quantity_before, quantity_after, reason, "user", timestamp, '
    "details::text"
)
MOVEMENT_WRITTEN = (
    'sku, sku_key, kind, delta, quantity_before, quantity_after, reason, "user", timestamp, details'
)
INSERT_MOVEMENT = f"INSERT INTO movements ({MOVEMENT_WRITTEN}) VALUES ({', '.join(['%s'] * 10)})"
UPSERT_LOCATION = (
    "INSERT INTO locations (key, code, name, parent, retired) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (key) DO UPDATE SET code = EXCLUDED.code, name = EXCLUDED.name, "
    "parent = EXCLUDED.parent, retired = EXCLUDED.retired"
)
# What identifies a movement for `history_mark`.
MARK = 'id, sku_key, kind, delta, quantity_after, timestamp, "user"'
# The last step of every write: the store's version moves on and listeners are told, both
# at the commit (NOTIFY is transactional).
FINISH = (
    "WITH s AS (UPDATE store SET version = version + 1, movements = movements + %s "
    "RETURNING version) SELECT version, pg_notify(%s, version || ' ' || %s) FROM s"
)

# The pool's warnings (a failed reconnection, a pool let go with its threads still
# stopping) would go to stderr beside the one-line "database unreachable" message, unless
# the application configures logging itself.
logging.getLogger("psycopg.pool").addHandler(logging.NullHandler())


def _item_row(item: InventoryItem) -> tuple[Any, ...]:
    """The item's columns, and the earliest expiry of its stock (the table's column)."""
    return (*item_values(item), item.earliest_expiry)


def _location_row(location: Location) -> tuple[Any, ...]:
    return (location.key, location.code, location.name, location.parent, location.retired)


# A server that stops answering without closing the connection (a network cut, a host
# gone) is found out in seconds, not after the system's TCP timeout of many minutes: libpq's
# keepalives for idle connections, and a limit on data sent but not acknowledged.
TCP_OPTIONS: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 15_000,
}

# The server ended the session: shut down, crashed, not up yet, terminated it, or closed it
# for idling (idle_session_timeout, idle_in_transaction_session_timeout).
SESSION_ENDED = ("57P01", "57P02", "57P03", "57P05", "25P03")


def lost(error: psycopg.Error) -> bool:
    """Whether the connection to the server is gone (rather than a statement refused)."""
    state = error.sqlstate
    if state in SESSION_ENDED:
        return True
    if not isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
        return False
    return state is None or state.startswith("08")


def application_name() -> str:
    """How this process shows in pg_stat_activity, and in "held by" messages."""
    return f"atlas {login_name()}@{os.uname().nodename} pid {os.getpid()}"[:63]


class PostgresRepository:
    """Inventory data in a PostgreSQL schema; see the module's docstring."""

    backend = "postgresql"

    def __init__(
        self,
        url: DatabaseURL,
        *,
        lock_timeout: float = 10.0,
        connect_timeout: float = CONNECT_TIMEOUT,
        pool_size: int = POOL_SIZE,
        backups: BackupPolicy | None = None,
    ) -> None:
        self.url = url
        self._backups = backups
        self._backed_up = False
        self._made = False  # this process created the store (nothing in it to back up)
        self._timeout = lock_timeout
        self._connect_timeout = connect_timeout
        self._pool_size = pool_size
        self._pool: ConnectionPool[Conn] | None = None
        self._pool_mutex = threading.RLock()
        self._writer = threading.RLock()  # one write transaction of this process at a time
        self._tx: Conn | None = None
        self._tx_thread: int | None = None
        self._depth = 0
        self._created = False  # the schema is known to exist, at this ATLAS's version
        self._watcher: LockWatcher | None = None
        self._changed: set[str] = set()
        self._moved = 0
        self._dirty = False
        self._items_cache: tuple[Hashable, list[InventoryItem]] | None = None
        self._count_cache: tuple[Hashable, int] | None = None
        self._schema = sql.Identifier(url.schema)
        self.channel = channel_of(url.schema)
        self._watch: StoreWatch | None = None
        self._written_version = 0  # the version our last commit made

    @property
    def path(self) -> Path:
        """No file: the store's local name (backups of it go to backups/ beside it)."""
        return self.url.anchor

    @property
    def label(self) -> str:
        return self.url.label

    # Connections ------------------------------------------------------------------------------

    def connect(self, **options: Any) -> Conn:
        """A new connection of its own (a listener's), in autocommit, on the schema."""
        try:
            conn: Conn = psycopg.connect(
                self.url.conninfo,
                autocommit=True,
                connect_timeout=max(1, round(self._connect_timeout)),
                application_name=application_name(),
                **TCP_OPTIONS,
                **options,
            )
        except psycopg.Error as exc:
            raise self.unreachable(exc) from None
        return conn

    def unreachable(self, error: BaseException | None, *, changed: str = "") -> UnreachableError:
        """The one-line message of a server that cannot be reached (password never shown).

        The pool is let go: the next call starts afresh with a connection of its own,
        which fails at once while the server is down and succeeds as soon as it is back
        (a pool would wait out its own growing pauses between attempts)."""
        self._drop_pool()
        why = ""
        if isinstance(error, psycopg.Error):
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            why = self.url.scrub(f": {first}") if first else ""
        return UnreachableError(f"database unreachable ({self.url.server}){why}{changed}")

    def _drop_pool(self) -> None:
        with self._pool_mutex:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close(timeout=0)  # connections in use are closed as they are given back

    def _configure(self, conn: Conn) -> None:
        conn.execute(sql.SQL("SET search_path = {}").format(self._schema))

    def _open_pool(self) -> ConnectionPool[Conn]:
        watch = self._watch
        if watch is not None and watch.down:
            # The watch reconnects in the background; meanwhile every call says so at once
            # rather than each waiting out the connection timeout (the app's screen would).
            raise self.unreachable(None)
        with self._pool_mutex:
            if self._pool is None:
                pool: ConnectionPool[Conn] = ConnectionPool(
                    self.url.conninfo,
                    kwargs={
                        "autocommit": True,
                        "application_name": application_name(),
                        "connect_timeout": max(1, round(self._connect_timeout)),
                        **TCP_OPTIONS,
                    },
                    min_size=1,
                    max_size=self._pool_size,
                    open=False,
                    configure=self._configure,
                    timeout=self._connect_timeout,
                    reconnect_timeout=365 * 86400.0,  # keep trying while the app runs
                    num_workers=1,
                    name=f"atlas-{self.url.schema}",
                )
                # The first connection is made here, so a server that is down says why
                # at once (rather than after the pool's wait).
                first = self.connect()
                first.close()
                pool.open(wait=False)
                self._pool = pool
            return self._pool

    @contextmanager
    def _connection(self) -> Iterator[Conn]:
        """The open transaction's connection on its own thread, else a pooled one."""
        if self._depth and self._tx_thread == threading.get_ident():
            assert self._tx is not None
            yield self._tx
            return
        with self._pooled() as conn:
            yield conn

    @contextmanager
    def _pooled(self, changed: str = "") -> Iterator[Conn]:
        """A pooled connection, also on a thread whose transaction is open (a read of the
        data as committed); `changed` ends the message when none can be had."""
        pool = self._open_pool()
        try:
            with pool.connection(timeout=self._connect_timeout) as conn:
                yield conn
        except PoolTimeout:
            raise self.unreachable(None, changed=changed) from None

    def _exists(self) -> bool:
        """Whether ATLAS's tables are there (reads of a store never made find it empty)."""
        if self._created:
            return True
        with self._connection() as conn:
            version = pg_schema.installed_version(conn, self.url.schema)
            if version is None:
                # Reads refuse another program's schema too, rather than show it empty.
                pg_schema.check_unused(conn, self.url.schema, self._where())
        if version is None:
            return False
        pg_schema.check_version(version, self._where())
        self._created = version == pg_schema.SCHEMA_VERSION
        return True

    def _ensure_schema(self, conn: Conn) -> None:
        if not self._created:
            had = pg_schema.migrate(conn, self.url.schema, self._where())
            self._made = self._made or had == 0
            self._created = True

    def _where(self) -> str:
        return f"store {self.url.label}"

    def _read(self, query: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one statement; [] while the store has not been created. A connection
        found broken is replaced once (the pool drops it), outside a transaction."""
        for attempt in (1, 2):
            try:
                if not self._exists():
                    return []
                with self._connection() as conn:
                    return conn.execute(query.encode(), args).fetchall()
            except psycopg.errors.UndefinedTable:
                self._created = False  # dropped under us: the store is gone
                if attempt == 2 or self._depth:
                    return []
            except psycopg.Error as exc:
                if not lost(exc) or attempt == 2 or self._in_transaction():
                    raise self._failed(exc, "read") from None
                self.check_pool()
        return []

    def read_rows(self, query: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one statement on this store's tables ([] before the store is made)."""
        return self._read(query, args)

    @contextmanager
    def own_connection(self) -> Iterator[Conn]:
        """A pooled connection for a transaction of the caller's (the schema made first)."""
        with self._pooled(changed="; nothing was changed") as conn:
            try:
                self._ensure_schema(conn)
            except psycopg.Error as exc:
                raise self._failed(exc, "write") from None
            yield conn

    def check_pool(self) -> None:
        """Drop the pool's idle connections the server no longer answers on."""
        pool = self._pool
        if pool is not None:
            with contextlib.suppress(psycopg.Error):
                pool.check()

    def failed(self, error: psycopg.Error, doing: str) -> StorageError:
        """The message of a statement that failed while reading or writing."""
        return self._failed(error, doing)

    def _in_transaction(self) -> bool:
        return bool(self._depth) and self._tx_thread == threading.get_ident()

    def _failed(self, error: psycopg.Error, doing: str) -> StorageError:
        nothing = "; nothing was changed" if doing == "write" else ""
        if lost(error):
            return self.unreachable(error, changed=nothing)
        if isinstance(error, psycopg.errors.LockNotAvailable):
            return BusyError(
                f"data is busy (held by {self._holder()}) for more than {self._timeout:g}s, "
                "try again"
            )
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return StorageError(f"cannot {doing} {self._where()}: {self.url.scrub(first)}{nothing}")

    # Transactions -----------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._writer:
            if self._depth:
                with joined(self):
                    yield
                return
            pool = self._open_pool()
            conn, xid = self._started(pool)
            self._tx, self._tx_thread, self._depth = conn, threading.get_ident(), 1
            self._changed, self._moved, self._dirty = set(), 0, False
            done = False
            try:
                yield
                version = self._finish(conn) if self._dirty else 0
                self._commit(conn, xid)
                done = True
                self._written_version = max(self._written_version, version)
            finally:
                if not done:
                    with contextlib.suppress(psycopg.Error):
                        conn.execute("ROLLBACK")
                if self._dirty or not done:
                    self._items_cache = None
                self._tx, self._tx_thread, self._depth = None, None, 0
                pool.putconn(conn)

    def _started(self, pool: ConnectionPool[Conn]) -> tuple[Conn, str]:
        """A pooled connection with the write transaction begun, and its id. A connection
        found dead at BEGIN (the server restarted, or closed it while idle) is replaced
        once: nothing had been sent. Cut off later (waiting for the lock), it is told."""
        for attempt in (1, 2):
            try:
                conn = pool.getconn(timeout=self._connect_timeout)
            except PoolTimeout:
                raise self.unreachable(None, changed="; nothing was changed") from None
            try:
                self._ensure_schema(conn)
                try:
                    conn.execute("BEGIN")
                except psycopg.Error as exc:
                    if attempt == 1 and lost(exc):
                        pool.putconn(conn)
                        self.check_pool()
                        continue
                    raise
                return conn, self._begin(conn)
            except psycopg.Error as exc:
                pool.putconn(conn)
                raise self._failed(exc, "write") from None
            except BaseException:
                pool.putconn(conn)
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _backup_once(self) -> None:
        """Before this process's first write: a backup of the store as committed, read in one
        snapshot on another connection while we hold the write lock (no writer moves it
        meanwhile, and ours has not written yet, so holds no lock that read would wait
        for), then the oldest backups beyond the policy's count dropped. A backup that
        fails refuses the write, and the next write tries again."""
        if self._backups is None or self._made:
            # (A store this process just created holds nothing worth keeping.)
            self._backed_up = True
            return
        from atlas_tui.storage.backups import backup_name, rotate  # with backups on only
        from atlas_tui.storage.pg.snapshot import write_sqlite_copy

        items, movements, locations = self._read_whole(committed=True)
        target = self._backups.directory / backup_name(self.path, ".sqlite")
        write_sqlite_copy(target, items, movements, locations)
        self._backed_up = True
        rotate(self.path, self._backups)

    def _begin(self, conn: Conn) -> str:
        """The write lock (telling the watcher while it waits), and the transaction's id, by
        which the fate of a commit the connection lost is found out afterwards."""
        key = pg_schema.lock_key(self.url.schema, "write")
        conn.execute(
            "SELECT set_config('lock_timeout', %s, true)", (f"{round(self._timeout * 1000)}ms",)
        )
        watcher = self._watcher
        got = False
        if watcher is not None:
            tried = conn.execute(sql.SQL("SELECT pg_try_advisory_xact_lock({})").format(key))
            got = bool((tried.fetchone() or (False,))[0])
            if not got:
                watcher(self._holder())
        try:
            if not got:
                conn.execute(sql.SQL("SELECT pg_advisory_xact_lock({})").format(key))
        finally:
            if watcher is not None and not got:
                watcher(None)
        # With the server's start time: after a restart the id may have been handed out again.
        row = conn.execute(
            "SELECT pg_current_xact_id()::text || ' ' || pg_postmaster_start_time()::text"
        ).fetchone()
        return str(row[0]) if row else ""

    def _holder(self) -> str:
        """Who holds the write lock: user@host pid N since HH:MM:SSZ (from the server)."""
        key = pg_schema.lock_key(self.url.schema, "write")
        query = sql.SQL(
            "SELECT a.application_name, to_char(a.xact_start AT TIME ZONE 'UTC', "
            "'HH24:MI:SS\"Z\"') FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database()) AND "
            "((l.classid::bigint << 32) | l.objid::bigint) = {} LIMIT 1"
        ).format(key)
        try:
            with self.connect() as conn:
                row = conn.execute(query).fetchone()
        except (psycopg.Error, StorageError):
            row = None
        if not row or not row[0]:
            return "another ATLAS process"
        name = str(row[0]).removeprefix("atlas ")
        return f"{name} since {row[1]}" if row[1] else name

    def _finish(self, conn: Conn) -> int:
        """Move the store's version on and tell listeners which SKUs changed."""
        try:
            row = conn.execute(FINISH, (self._moved, self.channel, payload_of(self._changed)))
            found = row.fetchone()
        except psycopg.Error as exc:
            raise self._failed(exc, "write") from None
        return int(found[0]) if found else 0

    def _commit(self, conn: Conn, xid: str) -> None:
        try:
            conn.execute("COMMIT")
        except psycopg.Error as exc:
            if not lost(exc):
                raise self._failed(exc, "write") from None
            self.commit_lost(exc, xid, "look at the item's history")

    def commit_lost(self, error: psycopg.Error, xid: str, look: str) -> None:
        """After a COMMIT lost its connection: returns when the server had committed the
        transaction `xid`, else raises what became of it (`look`: where to see for oneself
        when the server cannot tell)."""
        fate = self._fate(xid) if xid else None
        if fate == "committed":
            return  # saved: the server had it before the connection went
        if fate is None:
            raise self.unreachable(
                error,
                changed=" during the commit; whether the change was saved is unknown "
                f"(the server could not tell): {look}",
            ) from None
        raise self.unreachable(error, changed=" during the commit; nothing was changed") from None

    def _fate(self, xid: str) -> str | None:
        """committed or aborted, asked of the server once it answers again; None when it
        cannot tell within the connect timeout. A transaction still in progress is waited
        for: a backend that lost its client to the network (or is still exiting) has not
        decided yet, and "aborted" then could be a lie.

        `xid` is "<id> <server start time>", as `_begin` gives it. A server that restarted
        since may have crashed: then an id whose commit never reached the log is handed out
        again, and its status is a later transaction's. So after a restart an id not handed
        out again yet ("in the future"), or running now, did not commit, and "committed"
        cannot be told from reuse.
        """
        number, _, started = xid.partition(" ")
        deadline = time.monotonic() + self._connect_timeout
        while True:
            state, restarted = None, True
            try:
                with psycopg.connect(
                    self.url.conninfo,
                    autocommit=True,
                    connect_timeout=2,
                    application_name=application_name(),
                    **TCP_OPTIONS,
                ) as conn:
                    row = conn.execute("SELECT pg_postmaster_start_time()::text").fetchone()
                    restarted = not started or row is None or str(row[0]) != started
                    try:
                        row = conn.execute("SELECT pg_xact_status(%s::xid8)", (number,)).fetchone()
                    except psycopg.errors.InvalidParameterValue:
                        return "aborted"  # "in the future": lost in a crash before its commit
                state = None if row is None else row[0]
            except psycopg.Error:
                pass
            if state == "committed":
                return None if restarted else "committed"
            if state == "aborted" or (state == "in progress" and restarted):
                return "aborted"
            if time.monotonic() > deadline:
                return None
            time.sleep(0.2)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """The write lock across several whole-store steps: one write transaction."""
        if self._depth:
            raise RuntimeError("exclusive() cannot start inside a transaction")
        with self.transaction():
            yield

    def _write(self, query: str, args: Any, *, many: bool = False) -> psycopg.Cursor[Any]:
        if not self._in_transaction():
            raise RuntimeError("changes to the inventory must happen inside a transaction")
        assert self._tx is not None
        if not self._backed_up:
            self._backup_once()
        try:
            cursor = self._tx.cursor()
            if many:
                cursor.executemany(query.encode(), args)
            else:
                cursor.execute(query.encode(), args)
        except psycopg.Error as exc:
            raise self._failed(exc, "write") from None
        self._dirty = True
        return cursor

    def _copy(self, table: str, columns: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Rows into a table with COPY: a restore's million in seconds."""
        if not self._in_transaction():
            raise RuntimeError("changes to the inventory must happen inside a transaction")
        assert self._tx is not None
        if not self._backed_up:
            self._backup_once()
        try:
            with (
                self._tx.cursor() as cursor,
                cursor.copy(f"COPY {table} ({columns}) FROM STDIN".encode()) as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        except psycopg.Error as exc:
            raise self._failed(exc, "write") from None
        self._dirty = True

    def _upsert_items(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Item rows stored, each replacing the stored item of its key; a big batch with
        COPY (an import of 100k rows: several times quicker than a statement per row)."""
        if len(rows) < COPY_ROWS:
            self._write(UPSERT_ITEM, rows, many=True)
            return
        # One INSERT … ON CONFLICT changes a row once: of rows of one key, the last one
        # is stored (as it is when they are written one after another).
        last = {row[0]: row for row in rows}
        if len(last) < len(rows):
            rows = list(last.values())
        self._write(f"CREATE TEMPORARY TABLE {UPSERT_TABLE} (LIKE items) ON COMMIT DROP", ())
        self._copy(UPSERT_TABLE, WRITTEN_COLUMNS, rows)
        self._write(UPSERT_FROM_TABLE, ())
        self._write(f"DROP TABLE {UPSERT_TABLE}", ())

    def _insert_movements(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Movement rows appended in order (ids in the same order); a big batch with COPY."""
        if len(rows) < COPY_ROWS:
            self._write(INSERT_MOVEMENT, rows, many=True)
        else:
            self._copy("movements", MOVEMENT_WRITTEN, rows)
        self._moved += len(rows)

    def upgrade(self) -> Path | None:
        """Nothing to bring up to date by hand: the schema is migrated when first written."""
        return None

    # Items ------------------------------------------------------------------------------------

    def _to_item(self, row: tuple[Any, ...]) -> InventoryItem:
        data = dict(zip(ITEM_NAMES, row, strict=True))
        for name in ("attributes", "barcodes", "lines"):
            data[name] = loads(data[name])
        return stored_item(data, self._where())

    def get(self, sku: str) -> InventoryItem | None:
        rows = self._read(f"SELECT {ITEM_SELECT} FROM items WHERE key = %s", (sku_key(sku),))
        return self._to_item(rows[0]) if rows else None

    def items(self) -> list[InventoryItem]:
        version = None if self._in_transaction() else self.version()
        cached = self._items_cache
        if version is not None and cached is not None and cached[0] == version:
            return list(cached[1])
        found = [
            self._to_item(r) for r in self._read(f"SELECT {ITEM_SELECT} FROM items ORDER BY key")
        ]
        if version is not None:
            self._items_cache = (version, found)
        return list(found)

    def head(self, limit: int) -> list[InventoryItem]:
        rows = self._read(f"SELECT {ITEM_SELECT} FROM items ORDER BY key LIMIT %s", (limit,))
        return [self._to_item(row) for row in rows]

    def count(self) -> int:
        # count(*) reads every row (a tenth of a second at a million items, on each add
        # under ATLAS_MAX_ITEMS): kept with the store's version it was read at. Within a
        # transaction the version stands still until its own first write.
        version = None if self._in_transaction() and self._dirty else self.version()
        cached = self._count_cache
        if version is not None and cached is not None and cached[0] == version:
            return cached[1]
        rows = self._read("SELECT count(*) FROM items")
        found = int(rows[0][0]) if rows else 0
        if version is not None:
            self._count_cache = (version, found)
        return found

    def scan(self, batch: int = 10_000) -> Iterator[list[tuple[Any, ...]]]:
        """Rows in SKU order from one snapshot, through a server-side cursor on a pooled
        connection of the scan's own: writers and other readers go on meanwhile."""
        if not self._exists():
            return
        for attempt in (1, 2):
            sent = False
            try:
                with self._pooled() as conn, conn.transaction():
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    with conn.cursor(name="atlas_scan") as cursor:
                        cursor.itersize = batch
                        cursor.execute(f"SELECT {ROW_SELECT} FROM items ORDER BY key".encode())
                        while rows := cursor.fetchmany(batch):
                            sent = True
                            yield rows
                return
            except psycopg.Error as exc:
                # A dead pooled connection is replaced once, before any row was given.
                if sent or attempt == 2 or not lost(exc):
                    raise self._failed(exc, "read") from None
                self.check_pool()

    def warm_history(self) -> None:
        """Nothing to do: the movements table has an index by SKU."""

    def raw_items(self) -> list[tuple[str, dict[str, Any]]]:
        result = []
        for row in self._read(f"SELECT {ITEM_SELECT} FROM items ORDER BY key"):
            data = dict(zip(ITEM_NAMES, row, strict=True))
            for name in ("attributes", "barcodes", "lines"):
                data[name] = loads(data[name])
            result.append((f"item {data['sku']!r}", data))
        return result

    def put(self, item: InventoryItem) -> None:
        self._write(UPSERT_ITEM, _item_row(item))
        self._changed.add(item.key)

    def put_many(self, items: Sequence[InventoryItem]) -> None:
        if items:
            self._upsert_items([_item_row(item) for item in items])
            self._changed.update(item.key for item in items)

    def remove(self, sku: str) -> None:
        self._write("DELETE FROM items WHERE key = %s", (sku_key(sku),))
        self._changed.add(sku_key(sku))

    def holding(self, location: str) -> list[InventoryItem]:
        """Items with a stock line at this location (any case), by SKU: a quick pass over
        the stored text, then the exact check (a million items are not all built)."""
        import json

        wanted = location_key(location)
        needle = json.dumps(location.strip())[1:-1]
        needle = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self._read(
            f"SELECT {ITEM_SELECT} FROM items WHERE lines::text ILIKE %s OR location ILIKE %s "
            "ORDER BY key",
            (f"%{needle}%", f"%{needle}%"),
        )
        found = [self._to_item(row) for row in rows]
        return [i for i in found if any(location_key(x.location) == wanted for x in i.stock)]

    # Locations --------------------------------------------------------------------------------

    def locations(self) -> list[Location]:
        rows = self._read("SELECT code, name, parent, retired FROM locations ORDER BY key")
        return [Location(str(c), str(n), str(p), bool(r)) for c, n, p, r in rows]

    def put_location(self, location: Location) -> None:
        self._write(UPSERT_LOCATION, _location_row(location))

    def remove_location(self, code: str) -> None:
        self._write("DELETE FROM locations WHERE key = %s", (location_key(code),))

    # Movements --------------------------------------------------------------------------------

    def movement_count(self) -> int:
        rows = self._read("SELECT movements FROM store")
        return int(rows[0][0]) if rows else 0

    def append_movement(self, movement: Movement) -> Movement:
        cursor = self._write(f"{INSERT_MOVEMENT} RETURNING id", movement_values(movement))
        row = cursor.fetchone()
        assert row is not None
        self._moved += 1
        self._changed.add(sku_key(movement.sku))
        return replace(movement, id=int(row[0]))

    def append_movements(self, movements: Sequence[Movement]) -> None:
        if not movements:
            return
        self._insert_movements([movement_values(m) for m in movements])
        self._changed.update(sku_key(m.sku) for m in movements)

    def prepare_writes(
        self, items: Sequence[InventoryItem], movements: Sequence[Movement]
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The rows of `put_many(items)` and `append_movements(movements)`, made before the
        lock is taken (ids come from the database as they are stored)."""
        return [_item_row(item) for item in items], [movement_values(m) for m in movements]

    def write_prepared(self, prepared: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]) -> None:
        item_rows, movement_rows = prepared
        if not item_rows and not movement_rows:
            return  # every row refused: the store is not touched (no version change)
        if item_rows:
            self._upsert_items(item_rows)
            self._changed.update(str(row[0]) for row in item_rows)
        if movement_rows:
            self._insert_movements(movement_rows)
            self._changed.update(str(row[1]) for row in movement_rows)

    def history_mark(self) -> tuple[int, tuple[Any, ...] | None]:
        rows = self._read(f"SELECT {MARK} FROM movements ORDER BY id DESC LIMIT 1")
        return (int(rows[0][0]), tuple(rows[0])) if rows else (0, None)

    def changed_since(self, mark: tuple[int, tuple[Any, ...] | None]) -> set[str] | None:
        last_id, last = mark
        if last is None:
            return None
        rows = self._read(f"SELECT {MARK} FROM movements WHERE id = %s", (last_id,))
        if not rows or tuple(rows[0]) != last:
            return None
        rows = self._read("SELECT DISTINCT sku_key FROM movements WHERE id > %s", (last_id,))
        return {str(row[0]) for row in rows}

    def movements(self, sku: str | None = None) -> list[Movement]:
        if sku is None:
            rows = self._read(f"SELECT {MOVEMENT_SELECT} FROM movements ORDER BY id")
        else:
            rows = self._read(
                f"SELECT {MOVEMENT_SELECT} FROM movements WHERE sku_key = %s ORDER BY id",
                (sku_key(sku),),
            )
        return [self._to_movement(row) for row in rows]

    def latest_movements(self, limit: int) -> list[Movement]:
        rows = self._read(
            f"SELECT {MOVEMENT_SELECT} FROM movements ORDER BY id DESC LIMIT %s", (limit,)
        )
        return [self._to_movement(row) for row in rows]

    def user_movements(self, user: str) -> Iterator[Movement]:
        before = 2**62
        while True:
            rows = self._read(
                f'SELECT {MOVEMENT_SELECT} FROM movements WHERE "user" = %s AND id < %s '
                "ORDER BY id DESC LIMIT %s",
                (user, before, USER_PAGE),
            )
            page = [self._to_movement(row) for row in rows]
            yield from page
            if len(page) < USER_PAGE:
                return
            before = page[-1].id or 0

    def later_movements(self, sku: str, after: int) -> list[Movement]:
        rows = self._read(
            f"SELECT {MOVEMENT_SELECT} FROM movements WHERE sku_key = %s AND id > %s ORDER BY id",
            (sku_key(sku), after),
        )
        return [self._to_movement(row) for row in rows]

    def movements_after(self, after: int, limit: int) -> list[Movement]:
        # Writers hold the store's advisory lock until they commit, so ids become visible
        # in order: none below the last one seen can appear later.
        rows = self._read(
            f"SELECT {MOVEMENT_SELECT} FROM movements WHERE id > %s ORDER BY id LIMIT %s",
            (after, limit),
        )
        return [self._to_movement(row) for row in rows]

    def _to_movement(self, row: tuple[Any, ...]) -> Movement:
        data = dict(zip(MOVEMENT_NAMES, row, strict=True))
        data["details"] = loads(data["details"])
        return stored_movement(data, self._where())

    # Whole-store operations -------------------------------------------------------------------

    def replace_all(
        self,
        items: list[InventoryItem],
        movements: list[Movement],
        locations: Sequence[Location] = (),
    ) -> None:
        """Make the store hold exactly these items, history and locations (restore,
        migration): TRUNCATE, then COPY, in one transaction (the history's rows are never
        updated or deleted one by one)."""
        item_rows = [_item_row(item) for item in items]
        movement_rows = [(n, *movement_values(m)) for n, m in enumerate(movements, start=1)]
        with self.transaction():
            self._write("TRUNCATE items, movements, locations RESTART IDENTITY", ())
            self._copy("items", WRITTEN_COLUMNS, item_rows)
            self._copy("movements", f"id, {MOVEMENT_WRITTEN}", movement_rows)
            self._copy(
                "locations",
                "key, code, name, parent, retired",
                [_location_row(location) for location in locations],
            )
            if movement_rows:
                self._write(
                    "SELECT setval(pg_get_serial_sequence('movements', 'id'), %s)",
                    (len(movement_rows),),
                )
            self._write("UPDATE store SET movements = 0", ())
            self._moved = len(movement_rows)
            self._changed = {"*"}
        if not self._depth:
            # The planner's statistics are of the store that was: a migrated million rows
            # would be estimated at a fraction. Worth a second; a failure costs only plans.
            with contextlib.suppress(psycopg.Error, StorageError), self._pooled() as conn:
                conn.execute("ANALYZE items, movements, locations")

    def read_all(self) -> tuple[list[InventoryItem], list[Movement]]:
        """Every item and the whole history from one snapshot."""
        items, movements, _ = self._read_whole()
        return items, movements

    def _read_whole(
        self, *, committed: bool = False
    ) -> tuple[list[InventoryItem], list[Movement], list[Location]]:
        """Items, history and locations of one snapshot: inside a transaction, as it sees
        them, unless `committed` (then as committed, on a connection of their own)."""
        if self._in_transaction() and not committed:
            return self.items(), self.movements(), self.locations()
        if not self._exists():
            return [], [], []
        for attempt in (1, 2):
            try:
                with self._pooled() as conn, conn.transaction():
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    item_rows = conn.execute(
                        f"SELECT {ITEM_SELECT} FROM items ORDER BY key".encode()
                    ).fetchall()
                    movement_rows = conn.execute(
                        f"SELECT {MOVEMENT_SELECT} FROM movements ORDER BY id".encode()
                    ).fetchall()
                    location_rows = conn.execute(
                        b"SELECT code, name, parent, retired FROM locations ORDER BY key"
                    ).fetchall()
                break
            except psycopg.Error as exc:
                if attempt == 2 or not lost(exc):
                    raise self._failed(exc, "read") from None
                self.check_pool()
        return (
            [self._to_item(row) for row in item_rows],
            [self._to_movement(row) for row in movement_rows],
            [Location(str(c), str(n), str(p), bool(r)) for c, n, p, r in location_rows],
        )

    def snapshot(self, target: Path) -> Path:
        """A self-contained ATLAS backup: an SQLite store of one moment's items, history and
        locations (for the server itself, use pg_dump)."""
        from atlas_tui.storage.pg.snapshot import write_sqlite_copy

        items, movements, locations = self._read_whole()
        return write_sqlite_copy(target, items, movements, locations)

    # Housekeeping -----------------------------------------------------------------------------

    def version(self) -> Hashable:
        """The store's version: kept up to date by the watch where one runs (no query:
        screens ask several times a second), else read."""
        watch = self._watch
        if watch is not None and watch.version is not None:
            return max(watch.version, self._written_version)
        rows = self._read("SELECT version FROM store")
        return int(rows[0][0]) if rows else 0

    def watch_changes(self, on_change: OnChange, on_state: OnState) -> bool:
        """Push: `on_change(skus)` for every change committed by anyone (None: too many to
        name, reload), `on_state(problem)` on an outage and `on_state(None)` once the
        server answers again; both called on a thread of the watch's."""
        if self._watch is None:
            self._watch = StoreWatch(self, on_change, on_state)
            self._watch.start()
        return True

    def stop_watching(self) -> None:
        """End the watch `watch_changes` started (its thread stops within a heartbeat)."""
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.stop()

    def watch_lock(self, watcher: LockWatcher | None) -> None:
        self._watcher = watcher

    def close(self) -> None:
        self.stop_watching()
        with self._pool_mutex:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
