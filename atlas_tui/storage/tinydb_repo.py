"""The TinyDB backend: a TinyDB document of the items (a checkpoint), and an append-only
journal beside it holding the history and every change since the checkpoint."""

from __future__ import annotations

import contextlib
import heapq
import os
import threading
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Any

import orjson

from atlas_tui.domain.errors import AtlasError, StorageError, ValidationError
from atlas_tui.domain.models import InventoryItem, Movement, sku_key
from atlas_tui.domain.stock import Location, location_key
from atlas_tui.storage.backups import BackupPolicy, backup_name, rotate
from atlas_tui.storage.base import Polled, joined
from atlas_tui.storage.files import FileLock, LockWatcher, atomic_write, remove_stale_temps
from atlas_tui.storage.journal import (
    Journal,
    find_item,
    has_commit_line,
    item_line,
    item_records,
    lines,
    new_journal_id,
    transaction,
    transactions,
)
from atlas_tui.storage.tinydb_storage import (
    FORMAT,
    FORMAT_MARK,
    ITEMS,
    LOCATIONS,
    META_TABLE,
    Checkpoint,
    Stamp,
    Tables,
    check_writable,
    doc_key,
    file_stamp,
    journal_id_of,
    write_checkpoint,
)

# Older files (and backups, which are self-contained) keep movements in this table; the
# first write moves them into the journal.
LEGACY_MOVEMENTS = "movements"
# The data file is rewritten once the journal holds this many bytes of changes after it:
# as many as the file itself holds (so rewriting costs at most as much as the appends
# did), but at least 64 KiB and at most 8 MiB (what a new process reads on top of it).
CHECKPOINT_MIN = 64 * 1024
CHECKPOINT_MAX = 8 * 1024 * 1024


@dataclass(eq=False)
class _State:
    """The committed store as this process last read it."""

    checkpoint: Checkpoint | None  # the data file version it starts from (None: no file)
    journal_id: str | None
    base: int  # journal bytes the checkpoint covers
    movements: int
    count: int
    next_id: int
    txn: int
    write_id: str | None = None
    layout: bool = False  # the checkpoint has the sorted-lines layout
    pos: int = 0  # journal bytes applied: always the end of a committed transaction
    seen: int = -1  # journal size when last read
    legacy: dict[str, Any] = field(default_factory=dict)
    others: Tables = field(default_factory=dict)
    format: int = FORMAT  # the data file's (1: written before stock lines)
    # Either every item (read whole)...
    table: dict[str, dict[str, Any]] | None = None
    index: dict[str, int] = field(default_factory=dict)
    # ... or the checkpoint read one item at a time plus the journal bytes after it.
    tail: bytearray = field(default_factory=bytearray)

    @property
    def stamp(self) -> Stamp | None:
        return None if self.checkpoint is None else self.checkpoint.stamp


class TinyDBRepository(Polled):
    """Inventory data in one TinyDB file and its journal, safe to share between threads and
    processes.

    A transaction takes the cross-process lock, works on the freshest data and keeps its
    changes aside; at commit it appends them, with its movements, to the journal as one
    transaction and fsyncs it (the commit point). Every so often the data file is
    rewritten as a checkpoint of all items. Readers need no lock: they apply only the
    journal transactions they have not seen.
    """

    backend = "tinydb"

    def __init__(
        self,
        path: Path,
        *,
        lock_timeout: float = 10.0,
        backups: BackupPolicy | None = None,
    ) -> None:
        self._path = Path(path)
        self._journal = Journal(self._path)
        self._lock = FileLock(self._path.with_name(self._path.name + ".lock"), lock_timeout)
        self._backups = backups
        self._backed_up = False
        self._cleaned = False
        self._wrote = False
        # Transactions of this process, one thread at a time (held across a whole one).
        self._writer = threading.RLock()
        # The in-memory state; held only to read or update it, never across a lock wait.
        self._mutex = threading.RLock()
        self._owner: int | None = None  # the thread whose transaction is open
        self._depth = 0
        # How many open sections (exclusive(), transaction(), replace_all()) hold the lock.
        self._lock_depth = 0
        self._state: _State | None = None
        self._cache: dict[int, tuple[dict[str, Any], InventoryItem]] = {}
        # Changes of the open transaction: sku key -> item (None = removed), new movements.
        self._pending: dict[str, InventoryItem | None] = {}
        self._new_movements: list[Movement] = []
        # Locations the open transaction recorded (None = forgotten), by location key.
        self._pending_locations: dict[str, Location | None] = {}
        self._upgrading = False  # the open transaction rewrites the store in this format
        # (data file stamp, journal path) for version(), replaced whole, read without locks.
        self._version_hint: tuple[Stamp | None, Path | None] | None = None
        self._retry_checkpoint_at = 0
        self.checkpoint_bytes: int | None = None  # tests: a fixed threshold
        self.reloads = 0  # how often the whole data file was parsed

    @property
    def path(self) -> Path:
        return self._path

    @property
    def label(self) -> str:
        return self._path.name

    # Reading the files -----------------------------------------------------------------------

    def _refresh(self) -> _State:
        """The committed state, brought up to date (under `_mutex`): a stat of the data
        file, and of the journal; only bytes appended since are read."""
        for attempt in range(3):
            state = self._refresh_once()
            try:
                self._catch_up(state)
                return state
            except StorageError:
                # A restore replaces the data file and removes the journal it named; if that
                # happened between the two stats, read the new version: nothing is broken.
                if attempt == 2 or file_stamp(self._path) == state.stamp:
                    raise
        raise AssertionError("unreachable")

    def _refresh_once(self) -> _State:
        state = self._state
        if state is None or file_stamp(self._path) != state.stamp:
            checkpoint = Checkpoint.open(self._path)
            try:
                if state is None or checkpoint is None or not self._adopt(state, checkpoint):
                    self._forget()
                    state = self._load(checkpoint)
                    self._state = state
            except BaseException:
                if checkpoint is not None and (state is None or checkpoint is not state.checkpoint):
                    checkpoint.close()
                raise
        return state

    def _load(self, checkpoint: Checkpoint | None) -> _State:
        if checkpoint is None:
            return _State(None, None, 0, 0, 0, 1, 0, table={}, seen=0)
        meta = checkpoint.meta
        if meta is not None:
            state = _State(
                checkpoint,
                meta.get("journal"),
                int(meta.get("journal_bytes", 0)),
                int(meta.get("movements", 0)),
                int(meta.get("count", 0)),
                int(meta.get("next_id", 1)),
                int(meta.get("txn", 0)),
                write_id=meta.get("write_id"),
                layout=True,
                others=checkpoint.others,
                format=checkpoint.format,
            )
        else:
            tables = checkpoint.load()
            self.reloads += 1
            record = tables.get(META_TABLE, {}).get("1", {})
            meta = record if isinstance(record, dict) else {}
            table = tables.get(ITEMS, {})
            legacy = tables.get(LEGACY_MOVEMENTS, {})
            state = _State(
                checkpoint,
                meta.get("journal"),
                int(meta.get("journal_bytes", 0)),
                int(meta.get("movements", 0)),
                len(table),
                max(max(map(int, table), default=0) + 1, int(meta.get("next_id", 1))),
                int(meta.get("txn", 0)),
                write_id=meta.get("write_id"),
                legacy=legacy,
                others={
                    name: value
                    for name, value in tables.items()
                    if name not in (META_TABLE, ITEMS, LEGACY_MOVEMENTS)
                },
                table=table,
                index={doc_key(doc): int(doc_id) for doc_id, doc in table.items()},
                format=checkpoint.format,
            )
        state.pos = state.base
        return state

    def _adopt(self, state: _State, checkpoint: Checkpoint) -> bool:
        """Take on a checkpoint another writer made of data this state already holds,
        without reading its items: only a new write id of the same journal, at or before
        what was applied, qualifies (a hand edit keeps the old write id)."""
        meta = checkpoint.meta
        if (
            meta is None
            or state.journal_id is None
            or meta.get("journal") != state.journal_id
            or meta.get("write_id") == state.write_id
        ):
            return False
        self._catch_up(state)
        base = int(meta.get("journal_bytes", 0))
        if not state.base <= base <= state.pos:
            return False
        if state.table is None:
            del state.tail[: base - state.base]
        if state.checkpoint is not None:
            state.checkpoint.close()
        state.checkpoint, state.base, state.write_id = checkpoint, base, meta.get("write_id")
        state.layout, state.others = True, checkpoint.others
        state.format = checkpoint.format
        return True

    def _catch_up(self, state: _State, *, again: bool = False) -> None:
        """Apply the journal transactions committed since the state was last read."""
        journal_id = state.journal_id
        if journal_id is None:
            return
        size = self._journal.size(journal_id)
        if size == state.seen == state.pos:
            return
        self._journal.check_length(journal_id, state.pos, size)
        if size is None or size == state.pos:
            state.seen = state.pos if size is None else size
            return
        data = self._journal.read(journal_id, state.pos, size)
        applied = self._apply(state, data)
        if applied < len(data) and has_commit_line(data[applied:]):
            # A complete commit line after one that does not check out: damage, unless a
            # writer was cutting a torn tail as this was read. A second look tells.
            if again:
                raise StorageError(
                    f"history journal {self._journal.path(journal_id)} is damaged after byte "
                    f"{state.pos}; run `atlas verify` or restore a backup"
                )
            self._catch_up(state, again=True)
            return
        state.seen = size

    def _apply(self, state: _State, data: bytes) -> int:
        """Apply the complete transactions at the head of `data`; returns their length."""
        applied = 0
        for start, end, totals in transactions(data):
            if state.table is not None:
                for record in item_records(data, start, end):
                    self._set_doc(state, int(record["~i"]), str(record["k"]), record["d"])
            else:
                state.tail += data[start:end]
            state.movements, state.count = int(totals["movements"]), int(totals["count"])
            state.next_id, state.txn = int(totals["next"]), int(totals["~c"])
            applied = end
        state.pos += applied
        return applied

    @staticmethod
    def _set_doc(state: _State, doc_id: int, key: str, doc: dict[str, Any] | None) -> None:
        assert state.table is not None
        if doc is None:
            if state.table.pop(str(doc_id), None) is not None and state.index.get(key) == doc_id:
                del state.index[key]
        else:
            state.table[str(doc_id)] = doc
            state.index[key] = doc_id

    def _whole(self, state: _State) -> dict[str, dict[str, Any]]:
        """Every item document: the checkpoint read whole (once), the journal applied."""
        if state.table is None:
            assert state.checkpoint is not None
            tables = state.checkpoint.load()
            self.reloads += 1
            table = tables.get(ITEMS, {})
            state.index = {doc_key(doc): int(doc_id) for doc_id, doc in table.items()}
            state.table = table
            tail, state.tail = state.tail, bytearray()
            for start, end, _ in transactions(tail):
                for record in item_records(tail, start, end):
                    self._set_doc(state, int(record["~i"]), str(record["k"]), record["d"])
        return state.table

    def _locate(self, state: _State, key: str) -> tuple[int, dict[str, Any]] | None:
        """The committed document of a SKU key and its id."""
        if state.table is not None:
            doc_id = state.index.get(key)
            doc = None if doc_id is None else state.table.get(str(doc_id))
            return None if doc_id is None or doc is None else (doc_id, doc)
        hit = find_item(state.tail, key)
        if hit is not None:
            return None if hit[1] is None else (hit[0], hit[1])
        assert state.checkpoint is not None
        return state.checkpoint.lookup(key)

    def _mine(self) -> bool:
        """Whether this thread has the open transaction (only it sees its changes)."""
        return self._owner == threading.get_ident()

    # Transactions -----------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._mine():
            with joined(self):
                yield
            return
        with self._writer:
            self._take_lock()
            try:
                self._begin()
                self._owner, self._depth = threading.get_ident(), 1
                try:
                    yield
                    self._commit()
                finally:
                    self._owner, self._depth = None, 0
                    self._pending = {}
                    self._new_movements = []
                    self._pending_locations = {}
                    self._upgrading = False
            finally:
                self._drop_lock()

    def _begin(self) -> None:
        """Fresh data, leftovers of killed writers removed (the lock is held)."""
        with self._mutex:
            state = self._refresh()
            if not self._cleaned:
                remove_stale_temps(self._path, legacy=True)
                for orphan in self._journal.others(state.journal_id):
                    orphan.unlink(missing_ok=True)
                self._cleaned = True
            if state.journal_id is not None and state.seen > state.pos:
                torn = self._journal.read(state.journal_id, state.pos, state.seen)
                if has_commit_line(torn):
                    raise StorageError(
                        f"history journal {self._journal.path(state.journal_id)} is damaged "
                        f"after byte {state.pos}; nothing was changed; run `atlas verify` or "
                        "restore a backup"
                    )
                self._journal.cut(state.journal_id, state.pos)
                state.seen = state.pos

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the lock across several whole-store steps; the file is not read to enter."""
        with self._writer:
            if self._mine():
                raise RuntimeError("exclusive() cannot start inside a transaction")
            self._take_lock()
            try:
                yield
            finally:
                self._drop_lock()

    def _take_lock(self) -> None:
        """The cross-process lock, unless this thread holds it already (under `_writer`)."""
        if not self._lock_depth:
            self._lock.acquire()
        self._lock_depth += 1

    def _drop_lock(self) -> None:
        self._lock_depth -= 1
        if not self._lock_depth:
            self._lock.release()

    def _commit(self) -> None:
        with self._mutex:
            state = self._refresh()
            if (
                not self._pending
                and not self._new_movements
                and not state.legacy
                and not self._pending_locations
                and not self._upgrading
            ):
                return
        check_writable(self._path)
        self._backup_once()
        try:
            with self._mutex:
                state = self._refresh()
                changes, count, next_id = self._changes(state)
                records = [movement.to_dict() for movement in self._new_movements]
                whole = bool(self._pending_locations) or state.format < FORMAT
                if not changes and not records and not state.legacy and not whole:
                    return  # e.g. removing what was not there: nothing to write
                totals = {
                    "~c": state.txn + 1,
                    "movements": state.movements + len(state.legacy) + len(records),
                    "count": count,
                    "next": next_id,
                }
                body = b"".join(item_line(*change) for change in changes)
                if (
                    state.journal_id is None
                    or state.legacy
                    or not state.layout
                    or whole  # locations and the format live in the data file
                    or len(body) > self._threshold(state)
                ):
                    self._commit_whole(state, changes, records, totals)
                    return
                payload = transaction(lines(records) + body, totals)
                journal_id, start = state.journal_id, state.pos
            self._journal.append(journal_id, start, payload)
            self._wrote = True
            with self._mutex:
                state = self._refresh()  # reads back what was just appended
                if state.pos - state.base >= max(
                    self._threshold(state), self._retry_checkpoint_at - state.base
                ):
                    try:
                        self._write_checkpoint(state)
                    except StorageError:
                        # The change is committed; a checkpoint is tried again later.
                        self._retry_checkpoint_at = state.pos + self._threshold(state)
        except BaseException:
            with self._mutex:
                self._forget()
            raise

    def _changes(self, state: _State) -> tuple[list[tuple[int, str, Any]], int, int]:
        """The transaction's item changes as (id, key, doc or None), the item count and the
        next item id after it."""
        count = len(state.table) if state.table is not None else state.count
        next_id = state.next_id
        changes: list[tuple[int, str, Any]] = []
        for key, item in self._pending.items():
            found = self._locate(state, key)
            if found is not None:
                doc_id = found[0]
                count -= item is None
            elif item is None:
                continue
            else:
                doc_id, next_id = next_id, next_id + 1
                count += 1
            changes.append((doc_id, key, None if item is None else item.to_dict()))
        return changes, count, next_id

    def _threshold(self, state: _State) -> int:
        if self.checkpoint_bytes is not None:
            return self.checkpoint_bytes
        size = 0 if state.checkpoint is None else state.checkpoint.size
        return min(max(size, CHECKPOINT_MIN), CHECKPOINT_MAX)

    def _commit_whole(
        self,
        state: _State,
        changes: list[tuple[int, str, Any]],
        records: list[dict[str, Any]],
        totals: dict[str, int],
    ) -> None:
        """Commit by rewriting the data file (a new store, an older file, or a change as big
        as a checkpoint): movements appended without a commit line, then the data file,
        which records the journal's new length, replaced (the commit point)."""
        table = self._whole(state)
        if state.format < FORMAT and state.checkpoint is not None:
            self._upgrade_backup()
        if self._pending_locations:
            state.others = {**state.others, LOCATIONS: _location_table(
                self._committed_locations(state), self._pending_locations
            )}  # fmt: skip
        journal_id = state.journal_id or new_journal_id()
        moved = [
            {**doc, "id": int(doc_id)} for doc_id, doc in sorted(state.legacy.items(), key=_by_id)
        ]
        end = self._journal.append(journal_id, state.pos, lines(moved + records))
        for doc_id, key, doc in changes:
            self._set_doc(state, doc_id, key, doc)
        state.journal_id, state.pos, state.seen, state.legacy = journal_id, end, end, {}
        state.movements, state.count = totals["movements"], len(table)
        state.next_id, state.txn = totals["next"], totals["~c"]
        self._write_checkpoint(state)
        self._wrote = True

    def _write_checkpoint(self, state: _State) -> None:
        """Rewrite the data file with every item as committed (the lock is held)."""
        table = self._whole(state)
        if state.format < FORMAT:
            _upgrade_documents(table)
            state.format = FORMAT
        if len(state.index) == len(table):
            order = sorted(state.index.items())
            items = [(doc_id, table[str(doc_id)]) for _, doc_id in order]
        else:  # SKUs stored twice (verify tells): keep every document
            entries = sorted(table.items(), key=lambda entry: (doc_key(entry[1]), int(entry[0])))
            items = [(int(doc_id), doc) for doc_id, doc in entries]
        meta = {
            "journal": state.journal_id,
            "journal_bytes": state.pos,
            "movements": state.movements,
            "txn": state.txn,
            "count": len(table),
            "next_id": state.next_id,
        }
        write_checkpoint(self._path, meta, state.others, items)
        checkpoint = Checkpoint.open(self._path)
        if state.checkpoint is not None:
            state.checkpoint.close()
        state.checkpoint, state.base, state.layout = checkpoint, state.pos, True
        state.write_id = (
            None
            if checkpoint is None or checkpoint.meta is None
            else checkpoint.meta.get("write_id")
        )
        self._retry_checkpoint_at = 0

    def _forget(self) -> None:
        """Drop the in-memory state (after a failed commit): the next read starts afresh."""
        if self._state is not None and self._state.checkpoint is not None:
            self._state.checkpoint.close()
        self._state = None

    def upgrade(self) -> Path | None:
        """Rewrite a store written before stock lines in this format, after a backup of it
        in the backups folder; returns the backup (None: nothing to do, or read-only)."""
        with self._mutex:
            state = self._refresh()
            if state.format >= FORMAT or state.checkpoint is None:
                return None
        try:
            check_writable(self._path)
        except StorageError:
            return None
        with self.transaction():
            self._upgrading = True
            self._upgraded: Path | None = None
        return self._upgraded

    def _upgrade_backup(self) -> None:
        """A copy of the store as it was, before its upgrade (kept out of the rotation)."""
        from atlas_tui.storage.backups import default_backup_dir, upgrade_backup_name

        directory = self._backups.directory if self._backups else default_backup_dir(self._path)
        target = directory / upgrade_backup_name(self._path, ".json")
        self._write_snapshot(target, current=False)
        self._upgraded = target

    def _backup_once(self) -> None:
        """Before this process's first write, keep a snapshot of the data as it was."""
        if self._backups is None or self._backed_up:
            return
        if self._path.exists():
            target = self._backups.directory / backup_name(self._path, ".json")
            self._write_snapshot(target)
            rotate(self._path, self._backups)
        self._backed_up = True

    def _require_transaction(self) -> None:
        if not self._mine():
            raise RuntimeError("changes to the inventory must happen inside a transaction")

    def checkpoint(self) -> bool:
        """Bring the data file up to date, so that a plain TinyDB reader sees every change
        (`atlas verify` and `atlas backup` ask for it); True when it was rewritten.

        A data file that may not be written is left as it is.
        """
        with self.transaction(), self._mutex:
            state = self._refresh()
            current = state.layout and state.pos == state.base
            if current or state.legacy or state.checkpoint is None:
                return False
            try:
                check_writable(self._path)
            except StorageError:
                return False
            self._write_checkpoint(state)
            return True

    # Items ------------------------------------------------------------------------------------

    def _to_item(self, doc_id: int, doc: dict[str, Any]) -> InventoryItem:
        cached = self._cache.get(doc_id)
        # A document is never changed in place, only replaced: the same object, same item.
        if cached is not None and cached[0] is doc:
            return cached[1]
        try:
            item = InventoryItem.from_stored(doc)
        except ValidationError as exc:
            raise StorageError(
                f"data file {self._path}: stored item #{doc_id} is invalid ({exc}); "
                "run `atlas verify` or restore a backup"
            ) from None
        self._cache[doc_id] = (doc, item)
        return item

    def get(self, sku: str) -> InventoryItem | None:
        key = sku_key(sku)
        if self._mine() and key in self._pending:
            return self._pending[key]
        with self._mutex:
            found = self._locate(self._refresh(), key)
        return None if found is None else self._to_item(*found)

    def _documents(self) -> list[tuple[str, dict[str, Any]]]:
        with self._mutex:
            return list(self._whole(self._refresh()).items())

    def items(self) -> list[InventoryItem]:
        # Converted outside the mutex: another thread's get() or version() need not wait.
        to_item = self._to_item
        found = [to_item(int(doc_id), doc) for doc_id, doc in self._documents()]
        if self._mine() and self._pending:
            kept = [item for item in found if item.key not in self._pending]
            found = kept + [item for item in self._pending.values() if item is not None]
        found.sort(key=_item_key)
        return found

    def head(self, limit: int) -> list[InventoryItem]:
        with self._mutex:
            state = self._refresh()
            if state.table is not None:
                docs = list(state.table.items())
                first = heapq.nsmallest(limit, docs, key=lambda entry: doc_key(entry[1]))
                return [self._to_item(int(doc_id), doc) for doc_id, doc in first]
            assert state.checkpoint is not None
            changed: dict[int, dict[str, Any] | None] = {}
            for start, end, _ in transactions(state.tail):
                for record in item_records(state.tail, start, end):
                    changed[int(record["~i"])] = record["d"]
            lines_ = state.checkpoint.first(limit + len(changed))
        docs_ = [(doc_id, doc) for doc_id, doc in lines_ if doc_id not in changed]
        docs_ += [(doc_id, doc) for doc_id, doc in changed.items() if doc is not None]
        first_ = heapq.nsmallest(limit, docs_, key=lambda entry: doc_key(entry[1]))
        return [self._to_item(doc_id, doc) for doc_id, doc in first_]

    def scan(self, batch: int = 10_000) -> Iterator[list[tuple[Any, ...]]]:
        """Rows in SKU order. A sorted checkpoint is read a line at a time from a descriptor
        of the scan's own, with the journal's changes merged in: no lock is held while it is
        read, and no single parse of the whole file holds the interpreter."""
        own: Checkpoint | None = None
        with self._mutex:
            state = self._refresh()
            if state.table is None and state.checkpoint is not None:
                own = Checkpoint.open(self._path)
                if own is not None and (own.stamp != state.checkpoint.stamp or own.meta is None):
                    own.close()
                    own = None
                tail = bytes(state.tail)
            if own is None:
                docs = [doc for _, doc in self._whole(state).items()]
        if own is None:
            rows = list(map(_row, docs))
            del docs
            rows.sort(key=_row_key)
            for start in range(0, len(rows), batch):
                yield rows[start : start + batch]
            return
        try:
            changed: dict[int, dict[str, Any] | None] = {}
            for start, end, _ in transactions(tail):
                for record in item_records(tail, start, end):
                    changed[int(record["~i"])] = record["d"]
            kept = (doc for doc_id, doc in own.each() if doc_id not in changed)
            new = sorted((doc for doc in changed.values() if doc is not None), key=doc_key)
            merged = map(_row, heapq.merge(kept, new, key=doc_key))
            while chunk := list(islice(merged, batch)):
                yield chunk
        finally:
            own.close()

    def raw_items(self) -> list[tuple[str, dict[str, Any]]]:
        return [(f"item #{doc_id}", dict(doc)) for doc_id, doc in self._documents()]

    def count(self) -> int:
        with self._mutex:
            state = self._refresh()
            total = len(state.table) if state.table is not None else state.count
            if self._mine():
                for key, item in self._pending.items():
                    total += (item is not None) - (self._locate(state, key) is not None)
            return total

    def put(self, item: InventoryItem) -> None:
        self._require_transaction()
        self._pending[item.key] = item

    def remove(self, sku: str) -> None:
        self._require_transaction()
        self._pending[sku_key(sku)] = None

    # Movements --------------------------------------------------------------------------------

    def holding(self, location: str) -> list[InventoryItem]:
        """Items with a stock line at this location: documents checked before items are
        built."""
        wanted = location_key(location)
        found = [
            self._to_item(int(doc_id), doc)
            for doc_id, doc in self._documents()
            if _doc_holds(doc, wanted)
        ]
        if self._mine() and self._pending:
            found = [item for item in found if item.key not in self._pending]
            found += [
                item
                for item in self._pending.values()
                if item is not None
                and any(location_key(line.location) == wanted for line in item.stock)
            ]
        found.sort(key=_item_key)
        return found

    # Locations --------------------------------------------------------------------------------

    def _committed_locations(self, state: _State) -> dict[str, Location]:
        table = state.others.get(LOCATIONS, {})
        found: dict[str, Location] = {}
        for doc in table.values():
            with contextlib.suppress(ValidationError, AttributeError):
                location = Location.from_data(doc)
                found[location.key] = location
        return found

    def locations(self) -> list[Location]:
        with self._mutex:
            found = self._committed_locations(self._refresh())
        if self._mine():
            for key, location in self._pending_locations.items():
                if location is None:
                    found.pop(key, None)
                else:
                    found[key] = location
        return [found[key] for key in sorted(found)]

    def put_location(self, location: Location) -> None:
        self._require_transaction()
        self._pending_locations[location.key] = location

    def remove_location(self, code: str) -> None:
        self._require_transaction()
        self._pending_locations[location_key(code)] = None

    def put_many(self, items: Sequence[InventoryItem]) -> None:
        """`put` each item (an import's thousands, in one call)."""
        self._require_transaction()
        self._pending.update((item.key, item) for item in items)

    def append_movement(self, movement: Movement) -> Movement:
        self._require_transaction()
        recorded = replace(movement, id=self.movement_count() + 1)
        self._new_movements.append(recorded)
        return recorded

    def append_movements(self, movements: Sequence[Movement]) -> None:
        """`append_movement` each one, the history's length read once, not per movement."""
        self._require_transaction()
        first = self.movement_count() + 1
        self._new_movements += [replace(m, id=n) for n, m in enumerate(movements, start=first)]

    def history_mark(self) -> tuple[str | None, int]:
        """Where the history ends now: the journal and how many of its bytes are committed."""
        with self._mutex:
            state = self._refresh()
            return state.journal_id, state.pos

    def changed_since(self, mark: tuple[str | None, int]) -> set[str] | None:
        """The SKU keys of the movements committed after `mark` (every change of an item
        records one); None when the journal is no longer the one marked (a restore or a
        migration starts a new one), and so cannot tell what changed."""
        journal_id, pos = mark
        with self._mutex:
            state = self._refresh()
            if journal_id is None or journal_id != state.journal_id or pos > state.pos:
                return None
            end = state.pos
        return set(self._journal.index_all(journal_id, pos, end))

    def movement_count(self) -> int:
        with self._mutex:
            state = self._refresh()
            total = state.movements + len(state.legacy)
        return total + (len(self._new_movements) if self._mine() else 0)

    def _committed_records(
        self, journal_id: str | None, committed: int, legacy: dict[str, Any], wanted: str | None
    ) -> list[dict[str, Any]]:
        """Stored movement records (legacy table, then journal), oldest first."""
        records = [{**doc, "id": int(doc_id)} for doc_id, doc in sorted(legacy.items(), key=_by_id)]
        if wanted is None:
            records += self._journal.records(journal_id, committed)
        else:
            records = [r for r in records if sku_key(str(r.get("sku", ""))) == wanted]
            records += self._journal.records_for(journal_id, committed, wanted)
        return records

    def movements(self, sku: str | None = None) -> list[Movement]:
        wanted = None if sku is None else sku_key(sku)
        while True:
            try:
                with self._mutex:
                    state = self._refresh()
                    where = (state.journal_id, state.pos, state.legacy)
                    if wanted is not None:  # the per-SKU scan keeps its findings: one thread
                        records = self._committed_records(*where, wanted)
                if wanted is None:
                    records = self._committed_records(*where, None)
                break
            except StorageError:
                if not self._replaced_meanwhile():
                    raise  # else a restore took the journal away: read the new version
        found = [self._to_movement(r) for r in records]
        if self._mine():
            found += [m for m in self._new_movements if wanted in (None, sku_key(m.sku))]
        return found

    def latest_movements(self, limit: int) -> list[Movement]:
        """Read backwards from the journal's committed end: a long history costs nothing."""
        while True:
            try:
                with self._mutex:
                    state = self._refresh()
                    journal_id, committed, legacy = state.journal_id, state.pos, state.legacy
                records = self._journal.latest(journal_id, committed, limit)
                break
            except StorageError:
                if not self._replaced_meanwhile():
                    raise
        if len(records) < limit and legacy:
            older = sorted(legacy.items(), key=_by_id, reverse=True)[: limit - len(records)]
            records += [{**doc, "id": int(doc_id)} for doc_id, doc in older]
        found = [self._to_movement(r) for r in records]
        if self._mine():
            found[:0] = reversed(self._new_movements)
        return found[:limit]

    def user_movements(self, user: str) -> Iterator[Movement]:
        """The user's movements newest first: this transaction's, the journal's read
        backwards, then any of the legacy table."""
        with self._mutex:
            state = self._refresh()
            journal_id, committed, legacy = state.journal_id, state.pos, state.legacy
            pending = [m for m in self._new_movements if m.user == user] if self._mine() else []
        yield from reversed(pending)
        for record in self._journal.records_of_user(journal_id, committed, user):
            yield self._to_movement(record)
        for doc_id, doc in sorted(legacy.items(), key=_by_id, reverse=True):
            if doc.get("user") == user:
                yield self._to_movement({**doc, "id": int(doc_id)})

    def later_movements(self, sku: str, after: int) -> list[Movement]:
        return [m for m in self.movements(sku) if m.id is not None and m.id > after]

    def movements_after(self, after: int, limit: int) -> list[Movement]:
        """Read back from the journal's end when they are near it (a reader keeping up),
        else forwards through the whole history (one catching up)."""
        with self._mutex:
            state = self._refresh()
            total = state.movements + len(state.legacy)
        newer = total - after  # ids run 1..total
        if newer <= 0 or limit <= 0:
            return []
        if newer <= 4 * limit:
            found = [m for m in self.latest_movements(newer) if (m.id or 0) > after]
            found.reverse()
        else:
            found = [m for m in self.movements() if (m.id or 0) > after]
        return found[:limit]

    def _replaced_meanwhile(self) -> bool:
        """Whether the data file is another version than the state read (a restore's)."""
        with self._mutex:
            stamp = self._state.stamp if self._state is not None else None
            return file_stamp(self._path) != stamp

    def warm_history(self) -> None:
        """Index where every SKU's movements are in the journal (one pass, no lock held
        while reading), so each later history lookup reads only its own lines."""
        with self._mutex:
            state = self._refresh()
            journal_id, committed = state.journal_id, state.pos
            start = self._journal.indexed(journal_id)
        if journal_id is None or start >= committed:
            return
        found = self._journal.index_all(journal_id, start, committed)
        with self._mutex:
            self._journal.adopt(journal_id, start, committed, found)

    def _to_movement(self, record: dict[str, Any]) -> Movement:
        try:
            return Movement.from_dict(record)
        except ValidationError as exc:
            raise StorageError(
                f"history of {self._path}: movement #{record.get('id')} is invalid ({exc}); "
                "run `atlas verify`"
            ) from None

    # Whole-store operations -------------------------------------------------------------------

    def replace_all(
        self,
        items: list[InventoryItem],
        movements: list[Movement],
        locations: Sequence[Location] = (),
    ) -> None:
        """Make the store hold exactly these items and this history (restore, migration).

        The current file is not read, so this also replaces a file that no longer parses.
        Inside `exclusive()` it joins the lock already held.
        """
        with self._writer:
            if self._mine():
                raise RuntimeError("replace_all cannot run inside a transaction")
            self._take_lock()
            try:
                check_writable(self._path)
                journal_id = new_journal_id()
                records = [
                    m.to_dict() for m in (replace(m, id=n) for n, m in enumerate(movements, 1))
                ]
                committed = self._journal.write_new(journal_id, lines(records))
                table = {str(n): item.to_dict() for n, item in enumerate(items, start=1)}
                state = _State(
                    None,
                    journal_id,
                    committed,
                    len(records),
                    len(table),
                    len(table) + 1,
                    1,
                    pos=committed,
                    seen=committed,
                    table=table,
                    index={doc_key(doc): int(doc_id) for doc_id, doc in table.items()},
                    others={LOCATIONS: _location_table({}, {loc.key: loc for loc in locations})}
                    if locations
                    else {},
                )
                with self._mutex:
                    self._forget()
                    try:
                        self._write_checkpoint(state)
                    finally:
                        if state.checkpoint is not None:
                            state.checkpoint.close()
                for orphan in self._journal.others(journal_id):
                    orphan.unlink(missing_ok=True)
            finally:
                with self._mutex:
                    self._forget()
                self._drop_lock()

    def read_all(self) -> tuple[list[InventoryItem], list[Movement]]:
        """Every item and the whole history as one committed moment had them.

        A moment is a journal and a length of it, and a journal only grows, so no lock is
        needed (a backup on read-only media can be read). Only a restore replaces the
        journal; a read that loses that race starts again.
        """
        if self._mine():
            return self.items(), self.movements()
        while True:
            with self._mutex:
                state = self._refresh()
                docs = list(self._whole(state).items())
                where = (state.journal_id, state.pos, state.legacy)
            try:
                records = self._committed_records(*where, None)
            except StorageError:
                if not self._replaced_meanwhile():
                    raise
                continue  # another version is in: read that one
            items = [self._to_item(int(doc_id), doc) for doc_id, doc in docs]
            items.sort(key=_item_key)
            return items, [self._to_movement(record) for record in records]

    def snapshot(self, target: Path) -> Path:
        """A self-contained copy (items and full history) taken under the lock; the data
        file is brought up to date first when it may be written."""
        with self.transaction():
            with self._mutex:
                state = self._refresh()
                if state.pos > state.base and not state.legacy:
                    with contextlib.suppress(StorageError):
                        check_writable(self._path)
                        self._write_checkpoint(state)
            self._write_snapshot(target)
        return target

    def _write_snapshot(self, target: Path, *, current: bool = True) -> None:
        """Items as committed and the committed history, in one plain TinyDB file (of this
        format, or with `current=False` of the store's own: the copy kept before an
        upgrade)."""
        with self._mutex:
            state = self._refresh()
            table = self._whole(state)
            where = (state.journal_id, state.pos, state.legacy)
            others = dict(state.others)
            if current and state.format < FORMAT:
                table = dict(table)
                _upgrade_documents(table)
        history = {
            str(record["id"]): {key: value for key, value in record.items() if key != "id"}
            for record in self._committed_records(*where, None)
        }
        payload = {
            # A folder name that is not UTF-8 must not stop a backup (orjson takes only UTF-8).
            META_TABLE: {"1": {"snapshot_of": os.fsencode(self._path).decode("utf-8", "replace")}},
            ITEMS: table,
            LEGACY_MOVEMENTS: history,
            **({FORMAT_MARK: FORMAT} if current else {}),
            **({LOCATIONS: others[LOCATIONS]} if LOCATIONS in others else {}),
        }
        try:
            atomic_write(target, orjson.dumps(payload))
        except OSError as exc:
            raise StorageError(
                f"cannot write backup {target}: {exc.strerror or exc}; nothing was changed"
            ) from None

    # Housekeeping -----------------------------------------------------------------------------

    def version(self) -> Hashable:
        """Two stats (data file, journal), no lock: never waits for another thread."""
        data = file_stamp(self._path)
        hint = self._version_hint
        if hint is None or hint[0] != data:
            journal_id = journal_id_of(self._path)
            hint = (data, None if journal_id is None else self._journal.path(journal_id))
            self._version_hint = hint
        journal: tuple[int, int, int] | None = None
        if hint[1] is not None:
            with contextlib.suppress(OSError):
                info = os.lstat(hint[1])
                journal = (info.st_ino, info.st_size, info.st_mtime_ns)
        return (data, journal)

    def watch_lock(self, watcher: LockWatcher | None) -> None:
        """Have `watcher` told when a write starts waiting for another's lock, and ends."""
        self._lock.on_wait = watcher

    def close(self) -> None:
        """Release the files; a process that wrote brings the data file up to date first."""
        if self._wrote:
            with contextlib.suppress(AtlasError):
                self.checkpoint()
        with self._mutex:
            self._forget()


def _row(doc: dict[str, Any]) -> tuple[Any, ...]:
    get = doc.get
    location = get("location", "")
    lines = get("lines")
    if lines and (len(lines) > 1 or _line_location(lines[0]) != location):
        others = _elsewhere(lines, location)
        if others:
            location = f"{location} +{others}"
    return (get("sku", ""), get("name", ""), get("category", ""), get("quantity", 0),
            location, get("min_stock", 0), get("max_stock", 0),
            _earliest_expiry(lines) if lines else "")  # fmt: skip


def _earliest_expiry(lines: list[Any]) -> str:
    """The earliest expiry of the lines holding stock, or ""."""
    found = [
        line["expiry"] for line in lines
        if isinstance(line, dict) and line.get("quantity") and isinstance(line.get("expiry"), str)
        and line["expiry"]
    ]  # fmt: skip
    return min(found) if found else ""


def _line_location(line: object) -> object:
    return line.get("location") if isinstance(line, dict) else None


def _elsewhere(lines: list[Any], home: object) -> int:
    """Locations other than the home holding some, from stored lines."""
    home_key = location_key(home) if isinstance(home, str) else ""
    found = set()
    for line in lines:
        if isinstance(line, dict) and isinstance(line.get("location"), str):
            quantity = line.get("quantity")
            if isinstance(quantity, int) and quantity > 0:
                found.add(location_key(line["location"]))
    found.discard(home_key)
    return len(found)


def _doc_holds(doc: dict[str, Any], wanted: str) -> bool:
    lines = doc.get("lines")
    if lines is None:  # stored before stock lines: one line at its location
        location = doc.get("location")
        return isinstance(location, str) and location_key(location) == wanted
    return isinstance(lines, list) and any(
        isinstance(line, dict)
        and isinstance(line.get("location"), str)
        and location_key(line["location"]) == wanted
        for line in lines
    )


def _upgrade_documents(table: dict[str, dict[str, Any]]) -> None:
    """Item documents written before stock lines, rewritten with theirs (one line at the
    item's location). A document that breaks a rule is kept as it is, for verify to tell."""
    for doc_id, doc in table.items():
        if "lines" in doc:
            continue
        with contextlib.suppress(ValidationError, TypeError):
            table[doc_id] = InventoryItem.from_dict(doc).to_dict()


def _location_table(
    committed: dict[str, Location], pending: dict[str, Location | None]
) -> dict[str, Any]:
    """The locations table as stored: numbered documents, by code."""
    merged = dict(committed)
    for key, location in pending.items():
        if location is None:
            merged.pop(key, None)
        else:
            merged[key] = location
    return {str(n): merged[key].to_dict() for n, key in enumerate(sorted(merged), start=1)}


def _row_key(row: tuple[Any, ...]) -> str:
    return sku_key(str(row[0]))


def _item_key(item: InventoryItem) -> str:
    return item.key


def _by_id(entry: tuple[str, Any]) -> int:
    return int(entry[0])
