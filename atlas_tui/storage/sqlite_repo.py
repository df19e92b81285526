"""The SQLite backend (stdlib sqlite3, WAL): for inventories past ~20k items."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import urllib.parse
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atlas_tui.domain.errors import BusyError, StorageError
from atlas_tui.domain.models import InventoryItem, Movement, sku_key
from atlas_tui.domain.stock import Location, location_key
from atlas_tui.storage.base import Polled, joined
from atlas_tui.storage.files import (
    FileLock,
    LockWatcher,
    check_still_ours,
    fsync_dir,
    new_temp,
    remove_stale_temps,
    remove_temp,
    share_like,
)
from atlas_tui.storage.rows import (
    item_values,
    loads,
    movement_values,
    stored_item,
    stored_movement,
)

if TYPE_CHECKING:
    from atlas_tui.storage.backups import BackupPolicy

# 2: stock lines (items gain unit, barcodes, lines, places) and the locations table. A
# store of version 1 is read as it is and upgraded, after a backup, at its first write or
# when `upgrade()` is called (every command and the app do at start).
SCHEMA_VERSION = 2
# A transaction that writes more rows than this (an import, a demo, a restore) gets a page
# cache of up to BULK_CACHE_KIB for its duration. SQLite's default of 2 MiB is soon full of
# the transaction's changed pages; it then spills them to the WAL before the commit, and
# writes them again each time they change: at a million rows, 170 s instead of 45 s. The
# cache only holds what is used and goes back to its size after the transaction; it
# changes nothing of what reaches the disk at the commit, or of when.
BULK_ROWS = 5_000
BULK_CACHE_KIB = 256 * 1024
# Marks a file as an ATLAS database ("ATLS"), so another program's database is refused.
APPLICATION_ID = 0x41544C53

LOCATIONS_TABLE = """
CREATE TABLE locations (
    key TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    parent TEXT NOT NULL,
    retired INTEGER NOT NULL
);
"""
SCHEMA = f"""
CREATE TABLE items (
    key TEXT PRIMARY KEY,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    location TEXT NOT NULL,
    min_stock INTEGER NOT NULL,
    max_stock INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    attributes TEXT NOT NULL,
    unit TEXT NOT NULL DEFAULT 'pcs',
    barcodes TEXT NOT NULL DEFAULT '{{}}',
    lines TEXT NOT NULL DEFAULT '[]',
    places INTEGER NOT NULL DEFAULT 0
);
{LOCATIONS_TABLE}CREATE TABLE movements (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL,
    sku_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    delta INTEGER NOT NULL,
    quantity_before INTEGER NOT NULL,
    quantity_after INTEGER NOT NULL,
    reason TEXT NOT NULL,
    user TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX movements_by_sku ON movements (sku_key, id);
CREATE INDEX movements_by_time ON movements (timestamp);
CREATE INDEX movements_by_user ON movements (user, id);
"""
# Stores made before undo followed the user lack it: their first write adds it (once).
USER_INDEX = "CREATE INDEX IF NOT EXISTS movements_by_user ON movements (user, id)"
# Movements read per query of `user_movements`.
USER_PAGE = 64
# A new database: the tables, marked as ATLAS's and with the schema's version.
CREATE_SCRIPT = (
    f"{SCHEMA}PRAGMA application_id = {APPLICATION_ID};PRAGMA user_version = {SCHEMA_VERSION};"
)

ITEM_COLUMNS = (
    "sku, name, category, quantity, location, min_stock, max_stock, "
    "created_at, updated_at, attributes, unit, barcodes, lines"
)
# Version 1 stores, read before their upgrade: one line at the location (lines NULL).
LEGACY_COLUMNS = (
    "sku, name, category, quantity, location, min_stock, max_stock, "
    "created_at, updated_at, attributes, 'pcs', '{}', NULL"
)
# The items table's columns: the location shows "+2" when two other locations hold some.
ROW_COLUMNS = (
    "sku, name, category, quantity, "
    "CASE WHEN places > 0 THEN location || ' +' || places ELSE location END, "
    "min_stock, max_stock, "
    # The earliest expiry of the stock on hand. Most rows have none; a row with one expiry
    # and no empty line reads it off the text; only the rest are parsed (a million rows: the
    # scan is a background read, and parsing each would double it).
    "CASE WHEN instr(lines, '\"expiry\"') = 0 THEN '' "
    'WHEN instr(lines, \'"quantity":0\') = 0 AND instr(lines, \'"expiry":"\') > 0 '
    "AND length(lines) - length(replace(lines, '\"expiry\"', '')) = 8 "
    'THEN substr(lines, instr(lines, \'"expiry":"\') + 10, 10) '
    "ELSE coalesce((SELECT min(json_extract(value, '$.expiry')) FROM json_each(lines) "
    "WHERE json_extract(value, '$.quantity') > 0 AND json_extract(value, '$.expiry') != ''), '') "
    "END"
)
LEGACY_ROW_COLUMNS = "sku, name, category, quantity, location, min_stock, max_stock, ''"
UPGRADE_SCRIPT = f"""
ALTER TABLE items ADD COLUMN unit TEXT NOT NULL DEFAULT 'pcs';
ALTER TABLE items ADD COLUMN barcodes TEXT NOT NULL DEFAULT '{{}}';
ALTER TABLE items ADD COLUMN lines TEXT NOT NULL DEFAULT '[]';
ALTER TABLE items ADD COLUMN places INTEGER NOT NULL DEFAULT 0;
UPDATE items SET lines = json_array(json_object('location', location, 'quantity', quantity))
    WHERE quantity > 0;
CREATE TABLE locations (
    key TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    parent TEXT NOT NULL,
    retired INTEGER NOT NULL
);
PRAGMA user_version = {SCHEMA_VERSION};
"""
MOVEMENT_COLUMNS = (
    "id, sku, kind, delta, quantity_before, quantity_after, reason, user, timestamp, details"
)
INSERT_ITEM = (
    f"INSERT OR REPLACE INTO items (key, {ITEM_COLUMNS}, places) VALUES ({', '.join('?' * 15)})"
)
INSERT_LOCATION = "INSERT OR REPLACE INTO locations VALUES (?, ?, ?, ?, ?)"
# What identifies a movement for `history_mark`.
_MARK = "id, sku_key, kind, delta, quantity_after, timestamp, user"
INSERT_MOVEMENT = (
    "INSERT INTO movements (id, sku, sku_key, kind, delta, quantity_before, quantity_after, "
    f"reason, user, timestamp, details) VALUES ({', '.join('?' * 11)})"
)


def _movement_row(movement: Movement, id: int | None = None) -> tuple[Any, ...]:
    return (movement.id if id is None else id, *movement_values(movement))


def _not_json(constant: str) -> object:
    raise ValueError(f"{constant} is not JSON")


def _loads_one(text: object) -> object:
    """`loads` for a single row, with the json module every command has loaded already:
    orjson costs more to import (it brings uuid and platform) than it saves on one row.
    NaN and Infinity are refused, as orjson refuses them."""
    if not isinstance(text, str | bytes):
        return text
    try:
        return json.loads(text, parse_constant=_not_json)
    except ValueError:
        return text


class SQLiteRepository(Polled):
    """Inventory data in one SQLite file; readers never wait.

    Writers queue on a FileLock beside the file (served in arrival order) before BEGIN
    IMMEDIATE, so SQLite's busy handler, which polls with sleeps, never decides who goes
    next; BEGIN IMMEDIATE still keeps out writers that do not take the lock.
    """

    backend = "sqlite"

    def __init__(
        self, path: Path, *, lock_timeout: float = 10.0, backups: BackupPolicy | None = None
    ) -> None:
        self._path = Path(path)
        self._timeout = lock_timeout
        self._lock = FileLock(self._path.with_name(self._path.name + ".lock"), lock_timeout)
        self._backups = backups
        self._backed_up = False
        self._mutex = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._depth = 0
        self._commits = 0
        self._dirty = False
        self._created = False
        self._items_cache: tuple[Hashable, list[InventoryItem]] | None = None
        # A new file built to replace one SQLite cannot open, and its flocked descriptor;
        # `exclusive()` puts it in place when its block ends well.
        self._staging = False
        self._staged: tuple[Path, int] | None = None
        self._next_movement_id: int | None = None
        self._written = 0  # rows written by the open transaction
        self._cache_before: int | None = None  # the cache size a bulk transaction raised
        self._format = SCHEMA_VERSION  # 1 while a store of before stock lines is read
        self._user_index = False  # whether this connection made sure of movements_by_user

    @property
    def path(self) -> Path:
        return self._path

    @property
    def label(self) -> str:
        return self._path.name

    # Connection -------------------------------------------------------------------------------

    def _refuse(self, problem: str) -> StorageError:
        return StorageError(f"data file {self._path} {problem}; the file was left untouched")

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        """The open connection; None while the file does not exist and reading only."""
        if self._conn is not None:
            return self._conn
        try:
            info: os.stat_result | None = self._path.stat()
        except FileNotFoundError:
            if not create:
                return None
            self._created = self._create_database()
            info = None
        if info is not None and info.st_size == 0:
            raise self._refuse("is empty (0 bytes), not an ATLAS database")
        # A file without any write bit is opened read-only, so a write is refused (root
        # included) rather than made. SQLite gives -wal and -shm the database's mode.
        read_only = info is not None and not info.st_mode & 0o222
        where = f"file:{urllib.parse.quote(str(self._path))}?mode=ro" if read_only else self._path
        # The file is never opened outside SQLite: closing any descriptor of it would drop
        # the POSIX locks this process's other connections hold, and that corrupts databases.
        try:
            conn = sqlite3.connect(
                where,
                timeout=self._timeout,
                isolation_level=None,
                check_same_thread=False,
                uri=read_only,
            )
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open data file {self._path}: {exc}") from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
            self._check_schema(conn)
            if not read_only:
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as exc:
            conn.close()
            if "not a database" in str(exc):
                raise self._refuse("is not an SQLite database") from None
            raise self._refuse(f"cannot be used ({exc})") from None
        except StorageError:
            conn.close()
            raise
        self._conn = conn
        return conn

    def _create_database(self) -> bool:
        """Create the file complete with its schema, atomically; False if another won.

        Its mode follows the umask and its group the folder, as for TinyDB files
        (SQLite's own 0644 would shut a group-shared store to the group).
        """
        self._path.parent.mkdir(parents=True, exist_ok=True)
        try:
            remove_stale_temps(self._path, legacy=True)
            for _attempt in range(10):
                temp, fd = new_temp(self._path)
                try:
                    try:
                        share_like(fd, None)
                        with contextlib.closing(sqlite3.connect(temp)) as conn:
                            check_still_ours(temp, fd)
                            conn.execute("PRAGMA journal_mode = OFF")  # no -journal beside it
                            conn.executescript(CREATE_SCRIPT)
                            conn.execute("PRAGMA journal_mode = WAL")
                        os.fsync(fd)
                    finally:
                        os.close(fd)  # before the file becomes the database (see _connect)
                    try:
                        # link() never replaces: with several processes starting at once,
                        # one wins.
                        os.link(temp, self._path)
                    except FileExistsError:
                        return False
                    except FileNotFoundError:
                        continue  # another creator's cleanup took it for a leftover
                    fsync_dir(self._path.parent)
                    return True
                finally:
                    remove_temp(temp)
            raise OSError("its temp file kept disappearing")
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot create data file {self._path}: {exc}") from None

    def _check_schema(self, conn: sqlite3.Connection) -> None:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if app_id == APPLICATION_ID and version in (1, SCHEMA_VERSION):
            self._format = version
            return
        if app_id == APPLICATION_ID and version > SCHEMA_VERSION:
            raise self._refuse(
                f"was written by a newer ATLAS (store format {version}; this ATLAS reads "
                f"formats up to {SCHEMA_VERSION}): upgrade ATLAS to open it"
            )
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables or app_id not in (0, APPLICATION_ID):
            raise self._refuse(
                f"is an SQLite database of another program or version "
                f"(application_id {app_id:#x}, user_version {version})"
            )
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.executescript(CREATE_SCRIPT)

    def _columns(self) -> str:
        return ITEM_COLUMNS if self._current() else LEGACY_COLUMNS

    def _current(self) -> bool:
        """Whether the store has this format (another process may have upgraded it)."""
        if self._format != SCHEMA_VERSION and self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._format = self._conn.execute("PRAGMA user_version").fetchone()[0]
        return self._format == SCHEMA_VERSION

    def upgrade(self) -> Path | None:
        """Bring a store of before stock lines to this format, after a backup of it; returns
        the backup (None when nothing needed doing). A read-only file is left as it is."""
        with self._mutex:
            conn = self._connect(create=False)
            if conn is None or self._format == SCHEMA_VERSION or self._depth:
                return None
            if not os.access(self._path, os.W_OK):
                return None
            self._lock.acquire()
            try:
                self._begin(conn)
                try:
                    version = conn.execute("PRAGMA user_version").fetchone()[0]
                    if version == SCHEMA_VERSION:  # another process upgraded it meanwhile
                        conn.execute("ROLLBACK")
                        self._format = SCHEMA_VERSION
                        return None
                    kept = self._upgrade_backup()
                    for statement in UPGRADE_SCRIPT.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.DatabaseError as exc:
                raise StorageError(
                    f"cannot upgrade data file {self._path}: {exc}; it was left as it was"
                ) from None
            finally:
                self._lock.release()
            self._format = SCHEMA_VERSION
            self._items_cache = None
            self._commits += 1
            return kept

    def _upgrade_backup(self) -> Path:
        from atlas_tui.storage.backups import default_backup_dir, upgrade_backup_name

        directory = self._backups.directory if self._backups else default_backup_dir(self._path)
        target = directory / upgrade_backup_name(self._path, ".sqlite")
        self._copy_committed(target)
        return target

    def _read(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row | tuple[Any, ...]]:
        conn = self._connect(create=False)
        if conn is None:
            return []
        try:
            return conn.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot read data file {self._path}: {exc}") from None

    # Transactions -----------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._mutex:
            if self._depth:
                with joined(self):
                    yield
                return
            conn = self._connect(create=True)
            assert conn is not None
            if self._format != SCHEMA_VERSION:
                self.upgrade()
                if self._format != SCHEMA_VERSION:
                    raise StorageError(
                        f"data file {self._path} is of an older format and cannot be "
                        "upgraded (it is read-only); nothing was changed"
                    )
            self._lock.acquire()
            try:
                self._begin(conn)
            except BaseException:
                self._lock.release()
                raise
            self._depth = 1
            self._dirty = False
            self._next_movement_id = None
            self._written = 0
            try:
                if not self._user_index:
                    conn.execute(USER_INDEX)
                yield
                if self._dirty:
                    self._backup_once()
                try:
                    conn.execute("COMMIT")
                except sqlite3.DatabaseError as exc:
                    raise StorageError(f"cannot write data file {self._path}: {exc}") from None
                self._user_index = True
                if self._dirty:
                    self._commits += 1
                    self._items_cache = None
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                self._items_cache = None
                raise
            finally:
                self._depth = 0
                self._restore_cache(conn)
                self._lock.release()

    def _begin(self, conn: sqlite3.Connection) -> None:
        try:
            watcher = self._lock.on_wait
            if watcher is None:
                conn.execute("BEGIN IMMEDIATE")
            else:
                self._begin_watched(conn, watcher)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise BusyError(
                    f"data is busy (held by another ATLAS process) for more than "
                    f"{self._timeout:g}s, try again"
                ) from None
            raise StorageError(f"cannot write data file {self._path}: {exc}") from None

    def _begin_watched(self, conn: sqlite3.Connection, watcher: LockWatcher) -> None:
        """BEGIN IMMEDIATE, telling `watcher` when it has to wait for SQLite's own lock
        (a writer outside ATLAS's lock file: an older ATLAS, or the sqlite3 shell)."""
        patient = f"PRAGMA busy_timeout = {int(self._timeout * 1000)}"
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
        finally:
            conn.execute(patient)
        watcher("another ATLAS process")
        try:
            conn.execute("BEGIN IMMEDIATE")
        finally:
            watcher(None)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the write lock across several whole-store steps: one write transaction.

        A file SQLite cannot open cannot be written by anyone, so there is no lock to hold:
        `replace_all` builds the new file beside it, reads in the block see that new file,
        and it takes the old one's place (one rename) when the block ends without error.
        """
        with self._mutex:
            if self._depth:
                raise RuntimeError("exclusive() cannot start inside a transaction")
            if not self._unusable():
                with self.transaction():
                    yield
                return
            self._staging = True
            try:
                yield
                self._swap_in()
            finally:
                self._staging = False
                self._discard_staged()

    def _unusable(self) -> bool:
        """Whether the data file exists but SQLite cannot use it (damaged, not a database)."""
        try:
            self._connect(create=True)
        except StorageError:
            return self._path.exists()
        return False

    def _write(self, sql: str, args: Any, many: bool = False) -> None:
        if self._depth == 0:
            raise RuntimeError("changes to the inventory must happen inside a transaction")
        assert self._conn is not None
        self._written += len(args) if many else 1
        if self._written > BULK_ROWS and self._cache_before is None:
            self._raise_cache(self._conn)
        try:
            if many:
                self._conn.executemany(sql, args)
            else:
                self._conn.execute(sql, args)
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot write data file {self._path}: {exc}") from None
        self._dirty = True

    def _raise_cache(self, conn: sqlite3.Connection) -> None:
        """A page cache that holds a bulk transaction's changes (see BULK_CACHE_KIB)."""
        try:
            before = int(conn.execute("PRAGMA cache_size").fetchone()[0])
            if before >= 0 or -before < BULK_CACHE_KIB:  # >= 0: in pages, SQLite's default
                conn.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
                self._cache_before = before
        except sqlite3.Error:
            pass  # only slower

    def _restore_cache(self, conn: sqlite3.Connection) -> None:
        """The cache back to its size, which frees what a bulk transaction held."""
        if self._cache_before is None:
            return
        with contextlib.suppress(sqlite3.Error):
            conn.execute(f"PRAGMA cache_size = {self._cache_before}")
        self._cache_before = None

    def _backup_once(self) -> None:
        if self._backups is None or self._backed_up:
            return
        self._backed_up = True
        if self._created:
            return  # a file this process just created holds nothing worth keeping
        from atlas_tui.storage.backups import backup_name, rotate  # with backups on only

        self._copy_committed(self._backups.directory / backup_name(self._path, ".sqlite"))
        rotate(self._path, self._backups)

    def _copy_committed(self, target: Path) -> None:
        """Back up the committed data while this connection holds a write transaction.

        The backup API cannot read a connection that is writing (it would wait forever); a
        second connection reads past our open write (WAL) and sees the data as before it.
        """
        with contextlib.closing(sqlite3.connect(self._path, timeout=self._timeout)) as reader:
            self._copy_to(reader, target)

    # Items ------------------------------------------------------------------------------------

    def _to_item(
        self, row: tuple[Any, ...], parse: Callable[[object], object] = loads
    ) -> InventoryItem:
        data = dict(zip(_ITEM_NAMES, row, strict=True))
        data["attributes"] = parse(data["attributes"])
        data["barcodes"] = parse(data["barcodes"])
        data["lines"] = parse(data["lines"])
        return stored_item(data, f"data file {self._path}")

    def get(self, sku: str) -> InventoryItem | None:
        with self._mutex:
            rows = self._read(f"SELECT {self._columns()} FROM items WHERE key = ?", (sku_key(sku),))
            return self._to_item(tuple(rows[0]), _loads_one) if rows else None

    def items(self) -> list[InventoryItem]:
        with self._mutex:
            version = self.version()
            if self._depth == 0 and self._items_cache and self._items_cache[0] == version:
                return list(self._items_cache[1])
            rows = self._read(f"SELECT {self._columns()} FROM items ORDER BY key")
            found = [self._to_item(tuple(row)) for row in rows]
            if self._depth == 0:
                self._items_cache = (version, found)
            return list(found)

    def head(self, limit: int) -> list[InventoryItem]:
        with self._mutex:
            rows = self._read(f"SELECT {self._columns()} FROM items ORDER BY key LIMIT ?", (limit,))
            return [self._to_item(tuple(row)) for row in rows]

    def scan(self, batch: int = 10_000) -> Iterator[list[tuple[Any, ...]]]:
        """Rows in SKU order from one read snapshot, on a connection of the scan's own: the
        repository's lock is not held, so writes and the version check go on meanwhile."""
        with self._mutex:
            if self._connect(create=False) is None:  # also checks the file is ours
                return
        uri = f"file:{urllib.parse.quote(str(self._path))}?mode=ro"
        try:
            conn = sqlite3.connect(
                uri, uri=True, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StorageError(f"cannot read data file {self._path}: {exc}") from None
        try:
            conn.execute("BEGIN")  # one snapshot for every batch
            columns = ROW_COLUMNS if self._current() else LEGACY_ROW_COLUMNS
            cursor = conn.execute(f"SELECT {columns} FROM items ORDER BY key")
            while rows := cursor.fetchmany(batch):
                yield rows
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot read data file {self._path}: {exc}") from None
        finally:
            conn.close()

    def warm_history(self) -> None:
        """Nothing to do: the movements table has an index by SKU."""

    def raw_items(self) -> list[tuple[str, dict[str, Any]]]:
        with self._mutex:
            result = []
            for row in self._read(f"SELECT {self._columns()} FROM items ORDER BY key"):
                data = dict(zip(_ITEM_NAMES, row, strict=True))
                data["attributes"] = loads(data["attributes"])
                data["barcodes"] = loads(data["barcodes"])
                data["lines"] = loads(data["lines"])
                if data["lines"] is None:  # a store of before stock lines
                    del data["unit"], data["barcodes"], data["lines"]
                result.append((f"item {data['sku']!r}", data))
            return result

    def count(self) -> int:
        with self._mutex:
            rows = self._read("SELECT count(*) FROM items")
            return int(rows[0][0]) if rows else 0

    def put(self, item: InventoryItem) -> None:
        with self._mutex:
            self._write(INSERT_ITEM, item_values(item))

    def put_many(self, items: Sequence[InventoryItem]) -> None:
        """`put` every item, in one statement."""
        with self._mutex:
            self._write(INSERT_ITEM, [item_values(item) for item in items], many=True)

    def remove(self, sku: str) -> None:
        with self._mutex:
            self._write("DELETE FROM items WHERE key = ?", (sku_key(sku),))

    def holding(self, location: str) -> list[InventoryItem]:
        """Items with a stock line at this location (any case), by SKU."""
        wanted = location_key(location)
        with self._mutex:
            if not self._current():
                return [item for item in self.items() if _holds(item, wanted)]
            # A quick pass over the stored text (LIKE ignores ASCII case), then the exact
            # check: a million items are not all built.
            needle = json.dumps(location.strip())[1:-1]
            needle = needle.replace("!", "!!").replace("%", "!%").replace("_", "!_")
            rows = self._read(
                f"SELECT {ITEM_COLUMNS} FROM items WHERE lines LIKE ? ESCAPE '!' "
                "OR location LIKE ? ESCAPE '!' ORDER BY key",
                (f"%{needle}%", f"%{needle}%"),
            )
            found = [self._to_item(tuple(row)) for row in rows]
        return [item for item in found if _holds(item, wanted)]

    # Locations --------------------------------------------------------------------------------

    def locations(self) -> list[Location]:
        with self._mutex:
            if self._connect(create=False) is None or not self._current():
                return []
            rows = self._read("SELECT code, name, parent, retired FROM locations ORDER BY key")
        return [Location(str(c), str(n), str(p), bool(r)) for c, n, p, r in rows]

    def put_location(self, location: Location) -> None:
        with self._mutex:
            self._write(INSERT_LOCATION, _location_row(location))

    def remove_location(self, code: str) -> None:
        with self._mutex:
            self._write("DELETE FROM locations WHERE key = ?", (location_key(code),))

    # Movements --------------------------------------------------------------------------------

    def movement_count(self) -> int:
        with self._mutex:
            rows = self._read("SELECT coalesce(max(id), 0) FROM movements")
            return int(rows[0][0]) if rows else 0

    def append_movement(self, movement: Movement) -> Movement:
        with self._mutex:
            # No other writer can get in while our transaction is open (BEGIN IMMEDIATE),
            # so the next id is counted once per transaction, not once per movement.
            if self._depth == 0 or self._next_movement_id is None:
                self._next_movement_id = self.movement_count() + 1
            recorded = replace(movement, id=self._next_movement_id)
            self._write(INSERT_MOVEMENT, _movement_row(recorded))
            self._next_movement_id += 1
            return recorded

    def append_movements(self, movements: Sequence[Movement]) -> None:
        """Record movements, numbered on from the last, in one statement."""
        with self._mutex:
            if self._depth == 0 or self._next_movement_id is None:
                self._next_movement_id = self.movement_count() + 1
            first = self._next_movement_id
            rows = [_movement_row(m, first + n) for n, m in enumerate(movements)]
            self._write(INSERT_MOVEMENT, rows, many=True)
            self._next_movement_id = first + len(rows)

    def prepare_writes(
        self, items: Sequence[InventoryItem], movements: Sequence[Movement]
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The statement parameters of `put_many(items)` and `append_movements(movements)`,
        one row per item and per movement, made before the lock is taken; the movements
        (new ones: no id yet) are numbered on from the last as `write_prepared` stores them."""
        return [item_values(item) for item in items], [_movement_row(m) for m in movements]

    def write_prepared(self, prepared: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]) -> None:
        """Store what `prepare_writes` made: two statements."""
        item_rows, movement_rows = prepared
        if not item_rows and not movement_rows:
            return  # every row refused: the store is not touched (no version change)
        with self._mutex:
            self._write(INSERT_ITEM, item_rows, many=True)
            # A NULL id becomes the last id + 1, as append_movements numbers them.
            self._write(INSERT_MOVEMENT, movement_rows, many=True)
            self._next_movement_id = None

    def history_mark(self) -> tuple[int, tuple[Any, ...] | None]:
        """Where the history ends now: its last movement (id and what it records)."""
        with self._mutex:
            rows = self._read(f"SELECT {_MARK} FROM movements ORDER BY id DESC LIMIT 1")
            return (int(rows[0][0]), tuple(rows[0])) if rows else (0, None)

    def changed_since(self, mark: tuple[int, tuple[Any, ...] | None]) -> set[str] | None:
        """The SKU keys of the movements recorded after `mark` (a `history_mark`): every
        change of an item records one. None when the history is no longer the one marked
        (replaced by a restore), and so cannot tell what changed."""
        last_id, last = mark
        if last is None:  # nothing to recognise the history by: a restore could not be told
            return None
        with self._mutex:
            rows = self._read(f"SELECT {_MARK} FROM movements WHERE id = ?", (last_id,))
            if not rows or tuple(rows[0]) != last:
                return None
            rows = self._read("SELECT DISTINCT sku_key FROM movements WHERE id > ?", (last_id,))
            return {str(row[0]) for row in rows}

    def movements(self, sku: str | None = None) -> list[Movement]:
        with self._mutex:
            if sku is None:
                rows = self._read(f"SELECT {MOVEMENT_COLUMNS} FROM movements ORDER BY id")
            else:
                rows = self._read(
                    f"SELECT {MOVEMENT_COLUMNS} FROM movements WHERE sku_key = ? ORDER BY id",
                    (sku_key(sku),),
                )
            return [self._to_movement(tuple(row)) for row in rows]

    def latest_movements(self, limit: int) -> list[Movement]:
        with self._mutex:
            rows = self._read(
                f"SELECT {MOVEMENT_COLUMNS} FROM movements ORDER BY id DESC LIMIT ?", (limit,)
            )
            return [self._to_movement(tuple(row)) for row in rows]

    def user_movements(self, user: str) -> Iterator[Movement]:
        """The user's movements newest first, a page of USER_PAGE per query (indexed)."""
        before: int | None = None
        while True:
            with self._mutex:
                rows = self._read(
                    f"SELECT {MOVEMENT_COLUMNS} FROM movements WHERE user = ? AND id < ? "
                    "ORDER BY id DESC LIMIT ?",
                    (user, before if before is not None else 2**62, USER_PAGE),
                )
                page = [self._to_movement(tuple(row)) for row in rows]
            yield from page
            if len(page) < USER_PAGE:
                return
            before = page[-1].id

    def later_movements(self, sku: str, after: int) -> list[Movement]:
        with self._mutex:
            rows = self._read(
                f"SELECT {MOVEMENT_COLUMNS} FROM movements WHERE sku_key = ? AND id > ? "
                "ORDER BY id",
                (sku_key(sku), after),
            )
            return [self._to_movement(tuple(row)) for row in rows]

    def movements_after(self, after: int, limit: int) -> list[Movement]:
        with self._mutex:
            rows = self._read(
                f"SELECT {MOVEMENT_COLUMNS} FROM movements WHERE id > ? ORDER BY id LIMIT ?",
                (after, limit),
            )
            return [self._to_movement(tuple(row)) for row in rows]

    def _to_movement(self, row: tuple[Any, ...]) -> Movement:
        data = dict(zip(MOVEMENT_COLUMNS.split(", "), row, strict=True))
        data["details"] = loads(data["details"])
        return stored_movement(data, str(self._path))

    # Whole-store operations -------------------------------------------------------------------

    def replace_all(
        self,
        items: list[InventoryItem],
        movements: list[Movement],
        locations: Sequence[Location] = (),
    ) -> None:
        """Make the store hold exactly these items and this history (restore, migration).

        Inside `exclusive()` it joins its transaction. A file SQLite cannot open is replaced
        by a new one, written beside it and renamed over it.
        """
        movement_rows = [_movement_row(replace(m, id=n)) for n, m in enumerate(movements, start=1)]
        item_rows = [item_values(item) for item in items]
        location_rows = [_location_row(location) for location in locations]
        with self._mutex:
            if not self._depth and self._unusable():
                self._stage(item_rows, movement_rows, location_rows)
                if not self._staging:
                    self._swap_in()
                return
            with self.transaction():
                self._write("DELETE FROM items", ())
                self._write("DELETE FROM movements", ())
                self._write("DELETE FROM locations", ())
                self._write(INSERT_ITEM, item_rows, many=True)
                self._write(INSERT_MOVEMENT, movement_rows, many=True)
                self._write(INSERT_LOCATION, location_rows, many=True)

    def _stage(
        self,
        item_rows: list[tuple[Any, ...]],
        movement_rows: list[tuple[Any, ...]],
        location_rows: list[tuple[Any, ...]],
    ) -> None:
        """Build a complete new database beside the data file; reads now see it."""
        self._discard_staged()
        self.close()
        try:
            temp, fd = new_temp(self._path)
        except OSError as exc:
            raise StorageError(f"cannot replace data file {self._path}: {exc}") from None
        self._staged = (temp, fd)
        try:
            share_like(fd, self._path)
            with contextlib.closing(sqlite3.connect(temp, isolation_level=None)) as conn:
                conn.executescript(CREATE_SCRIPT)
                conn.execute("BEGIN")
                conn.executemany(INSERT_ITEM, item_rows)
                conn.executemany(INSERT_MOVEMENT, movement_rows)
                conn.executemany(INSERT_LOCATION, location_rows)
                conn.execute("COMMIT")
                conn.execute("PRAGMA journal_mode = WAL")
            os.fsync(fd)
            self._conn = sqlite3.connect(
                temp, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            self._discard_staged()
            raise StorageError(
                f"cannot replace data file {self._path}: {exc}; it was left as it was"
            ) from None

    def _swap_in(self) -> None:
        """Rename the staged file over the data file (atomic: every process finds the old
        file, which nobody can write, or the whole new one)."""
        if self._staged is None:
            return
        temp, fd = self._staged
        self.close()  # the reader of the staged file, before it becomes the data file
        try:
            # The old file's WAL and index belong to it; left in place they would be read
            # as part of the new file.
            for side in ("-wal", "-shm"):
                Path(f"{self._path}{side}").unlink(missing_ok=True)
            os.replace(temp, self._path)  # still flocked: no cleanup takes it meanwhile
            fsync_dir(self._path.parent)
        except OSError as exc:
            raise StorageError(
                f"cannot replace data file {self._path}: {exc}; it was left as it was"
            ) from None
        finally:
            self._staged = None
            os.close(fd)  # no connection of ours is open on it (see _connect)
            remove_temp(temp)

    def _discard_staged(self) -> None:
        if self._staged is None:
            return
        temp, fd = self._staged
        self._staged = None
        self.close()
        os.close(fd)
        remove_temp(temp)

    def read_all(self) -> tuple[list[InventoryItem], list[Movement]]:
        """Every item and the whole history from one read transaction: one moment's data."""
        with self._mutex:
            if self._depth:
                return self.items(), self.movements()
            conn = self._connect(create=False)
            if conn is None:
                return [], []
            conn.execute("BEGIN")  # deferred: the first SELECT fixes what both reads see
            try:
                item_rows = self._read(f"SELECT {self._columns()} FROM items ORDER BY key")
                movement_rows = self._read(f"SELECT {MOVEMENT_COLUMNS} FROM movements ORDER BY id")
            finally:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            items = [self._to_item(tuple(row)) for row in item_rows]
            return items, [self._to_movement(tuple(row)) for row in movement_rows]

    def snapshot(self, target: Path) -> Path:
        """A consistent copy through SQLite's online backup."""
        with self._mutex:
            if self._depth:
                # Inside exclusive(): under our write lock, the committed data is the latest.
                if self._dirty:
                    raise RuntimeError("snapshot() cannot copy uncommitted changes")
                self._copy_committed(target)
                return target
            conn = self._connect(create=True)
            assert conn is not None
            self._copy_to(conn, target)
        return target

    def _copy_to(self, conn: sqlite3.Connection, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            # Also those of earlier, killed backups of this store.
            remove_stale_temps(target, legacy=True)
            temp, fd = new_temp(target)
        except OSError as exc:
            raise StorageError(
                f"cannot write backup {target}: {exc}; nothing was changed"
            ) from None
        try:
            share_like(fd, self._path)
            with contextlib.closing(sqlite3.connect(temp)) as copy:
                check_still_ours(temp, fd)
                # No rollback journal: a backup killed midway leaves its temp file only.
                copy.execute("PRAGMA journal_mode = OFF")
                conn.backup(copy)
                copy.execute("PRAGMA journal_mode = DELETE")
            os.fsync(fd)
            os.replace(temp, target)
            fsync_dir(target.parent)
        except (OSError, sqlite3.Error) as exc:
            remove_temp(temp)
            raise StorageError(
                f"cannot write backup {target}: {exc}; nothing was changed"
            ) from None
        finally:
            os.close(fd)  # after the rename: held until then, the temp is known to be live

    # Housekeeping -----------------------------------------------------------------------------

    def version(self) -> Hashable:
        with self._mutex:
            rows = self._read("PRAGMA data_version")
            return (rows[0][0] if rows else None, self._commits)

    def watch_lock(self, watcher: LockWatcher | None) -> None:
        """Have `watcher` told when a write starts waiting for another's lock, and ends."""
        self._lock.on_wait = watcher

    def close(self) -> None:
        with self._mutex:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


_ITEM_NAMES = ITEM_COLUMNS.split(", ")


def _location_row(location: Location) -> tuple[Any, ...]:
    return (location.key, location.code, location.name, location.parent, int(location.retired))


def _holds(item: InventoryItem, wanted: str) -> bool:
    return any(location_key(line.location) == wanted for line in item.stock)
