"""The TinyDB backend: items in a TinyDB file, movements in an append-only journal beside it."""

from __future__ import annotations

import heapq
import os
import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
from tinydb import TinyDB
from tinydb.table import Table

from atlas_tui.errors import StorageError, ValidationError
from atlas_tui.models import InventoryItem, Movement, sku_key
from atlas_tui.repository.backups import BackupPolicy, backup_name, rotate
from atlas_tui.repository.base import joined
from atlas_tui.repository.files import FileLock, atomic_write, remove_stale_temps
from atlas_tui.repository.journal import Journal, new_journal_id
from atlas_tui.repository.tinydb_storage import META_TABLE, AtomicJSONStorage

ITEMS = "items"
# Older files (and backups, which are self-contained) keep movements in this table; the
# first write moves them into the journal.
LEGACY_MOVEMENTS = "movements"


def _record(movement: Movement) -> dict[str, Any]:
    return movement.to_dict()


def _next_id(table: dict[str, Any]) -> int:
    return max(map(int, table), default=0) + 1


class TinyDBRepository:
    """Inventory data in one TinyDB file, safe to share between threads and processes.

    A transaction takes the cross-process lock, works on the freshest data and keeps its
    changes aside; at commit it appends the new movements to the journal (fsynced), then
    writes the items with three TinyDB table operations and one atomic file replace.
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
        self._storage = AtomicJSONStorage(self._path)
        self._journal = Journal(self._path)
        self._lock = FileLock(self._path.with_name(self._path.name + ".lock"), lock_timeout)
        self._backups = backups
        self._backed_up = False
        self._cleaned = False
        self._mutex = threading.RLock()
        self._depth = 0
        # How many open sections (exclusive(), transaction(), replace_all()) hold the lock.
        self._lock_depth = 0
        self._db: TinyDB | None = None
        self._index: dict[str, int] = {}
        self._cache: dict[int, InventoryItem] = {}
        # Changes of the open transaction: sku key -> item (None = removed), new movements.
        self._pending: dict[str, InventoryItem | None] = {}
        self._new_movements: list[Movement] = []
        self._next_item_id = 1

    @property
    def path(self) -> Path:
        return self._path

    # Freshness --------------------------------------------------------------------------------

    def _rebind(self) -> None:
        """Start from scratch on newly read data: fresh tables, ID counters and index."""
        storage = self._storage
        # A new TinyDB per file version drops its per-table ID counters and query caches,
        # which would otherwise go stale when another process writes.
        self._db = TinyDB(storage=lambda: storage)
        self._cache = {}
        items = storage.current().get(ITEMS, {})
        self._index = {sku_key(str(doc.get("sku", ""))): int(key) for key, doc in items.items()}
        self._next_item_id = _next_id(items)

    def _fresh(self) -> TinyDB:
        """The database, re-read first if another writer changed the file."""
        changed = self._storage.refresh() if self._depth == 0 else False
        if changed or self._db is None:
            self._rebind()
        assert self._db is not None
        return self._db

    def _table(self, name: str) -> Table:
        return self._fresh().table(name)

    def _meta(self) -> dict[str, Any]:
        self._fresh()
        return self._storage.meta()

    def _legacy(self) -> dict[str, Any]:
        table = self._storage.current().get(LEGACY_MOVEMENTS, {})
        return table if isinstance(table, dict) else {}

    # Transactions -----------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._mutex:
            if self._depth:
                with joined(self):
                    yield
                return
            self._take_lock()
            try:
                if self._storage.begin() or self._db is None:
                    self._rebind()
                meta = self._storage.meta()
                if not self._cleaned:
                    remove_stale_temps(self._path, legacy=True)
                    for orphan in self._journal.others(meta.get("journal")):
                        orphan.unlink(missing_ok=True)
                    self._cleaned = True
                if meta.get("journal"):
                    self._journal.prepare(meta["journal"], int(meta.get("journal_bytes", 0)))
                self._depth = 1
                try:
                    yield
                    self._commit(meta)
                except BaseException:
                    self._storage.rollback()
                    self._db = None
                    raise
                finally:
                    self._depth = 0
                    self._pending = {}
                    self._new_movements = []
            finally:
                self._drop_lock()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the lock across several whole-store steps; the file is not read to enter."""
        with self._mutex:
            if self._depth:
                raise RuntimeError("exclusive() cannot start inside a transaction")
            self._take_lock()
            try:
                yield
            finally:
                self._drop_lock()

    def _take_lock(self) -> None:
        """The cross-process lock, unless this thread holds it already (under `_mutex`)."""
        if not self._lock_depth:
            self._lock.acquire()
        self._lock_depth += 1

    def _drop_lock(self) -> None:
        self._lock_depth -= 1
        if not self._lock_depth:
            self._lock.release()

    def _commit(self, meta: dict[str, Any]) -> None:
        legacy = self._legacy()
        if not self._pending and not self._new_movements and not legacy:
            self._storage.commit()
            return
        self._backup_once()
        self._flush_items()
        journal_id = meta.get("journal") or new_journal_id()
        records = [{**doc, "id": int(doc_id)} for doc_id, doc in sorted(legacy.items(), key=_by_id)]
        records += [_record(movement) for movement in self._new_movements]
        committed = self._journal.append(journal_id, int(meta.get("journal_bytes", 0)), records)
        total = self._movement_total(meta)
        if legacy:
            assert self._db is not None
            self._db.drop_table(LEGACY_MOVEMENTS)
        self._storage.mark_dirty()
        self._storage.commit(
            {
                "journal": journal_id,
                "journal_bytes": committed,
                "movements": total,
                "txn": int(meta.get("txn", 0)) + 1,
            }
        )

    def _movement_total(self, meta: dict[str, Any]) -> int:
        return int(meta.get("movements", 0)) + len(self._legacy()) + len(self._new_movements)

    def _flush_items(self) -> None:
        """Apply the transaction's item changes to the buffered tables.

        TinyDB's own table writes re-key the whole table twice per call (O(n)), which at 100k
        items costs more than the write itself; the buffered data is ours (our Storage), so
        changed documents are set in place and the file stays plain TinyDB JSON.
        """
        if not self._pending:
            return
        tables = self._storage.current()
        table = tables.setdefault(ITEMS, {})
        for key, item in self._pending.items():
            old_id = self._index.pop(key, None)
            if old_id is not None:
                self._cache.pop(old_id, None)
                if item is None:
                    del table[str(old_id)]
                    continue
            if item is None:
                continue
            doc_id = old_id if old_id is not None else self._take_item_id()
            table[str(doc_id)] = item.to_dict()
            self._index[key] = doc_id
            self._cache[doc_id] = item
        self._storage.mark_dirty()

    def _take_item_id(self) -> int:
        doc_id = self._next_item_id
        self._next_item_id += 1
        return doc_id

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
        if self._depth == 0:
            raise RuntimeError("changes to the inventory must happen inside a transaction")

    # Items ------------------------------------------------------------------------------------

    def _to_item(self, doc_id: int, doc: dict[str, Any]) -> InventoryItem:
        cached = self._cache.get(doc_id)
        if cached is not None:
            return cached
        try:
            item = InventoryItem.from_stored(doc)
        except ValidationError as exc:
            raise StorageError(
                f"data file {self._path}: stored item #{doc_id} is invalid ({exc}); "
                "run `atlas verify` or restore a backup"
            ) from None
        self._cache[doc_id] = item
        return item

    def get(self, sku: str) -> InventoryItem | None:
        key = sku_key(sku)
        with self._mutex:
            if key in self._pending:
                return self._pending[key]
            table = self._table(ITEMS)
            doc_id = self._index.get(key)
            if doc_id is None:
                return None
            doc = table.get(doc_id=doc_id)
            return None if doc is None else self._to_item(doc_id, dict(doc))

    def items(self) -> list[InventoryItem]:
        with self._mutex:
            self._fresh()
            # Straight from the parsed table (our Storage's data): TinyDB's iteration would
            # wrap each of 100k documents in a Document first.
            table = self._storage.current().get(ITEMS, {})
            to_item = self._to_item
            found = [to_item(int(doc_id), doc) for doc_id, doc in table.items()]
            if self._pending:
                kept = [item for item in found if item.key not in self._pending]
                found = kept + [item for item in self._pending.values() if item is not None]
        found.sort(key=_item_key)
        return found

    def head(self, limit: int) -> list[InventoryItem]:
        with self._mutex:
            self._fresh()
            table = self._storage.current().get(ITEMS, {})
            first = heapq.nsmallest(
                limit, table.items(), key=lambda entry: sku_key(str(entry[1].get("sku", "")))
            )
            return [self._to_item(int(doc_id), doc) for doc_id, doc in first]

    def scan(self, batch: int = 10_000) -> Iterator[list[tuple[Any, ...]]]:
        """Rows in SKU order; the lock is held only to take the parsed documents (commits
        replace documents, never change one in place)."""
        with self._mutex:
            self._fresh()
            docs = list(self._storage.current().get(ITEMS, {}).values())
        get = dict.get
        rows = [
            (get(d, "sku", ""), get(d, "name", ""), get(d, "category", ""), get(d, "quantity", 0),
             get(d, "location", ""), get(d, "min_stock", 0), get(d, "max_stock", 0))
            for d in docs
        ]  # fmt: skip
        del docs
        rows.sort(key=_row_key)
        for start in range(0, len(rows), batch):
            yield rows[start : start + batch]

    def raw_items(self) -> list[tuple[str, dict[str, Any]]]:
        with self._mutex:
            return [(f"item #{doc.doc_id}", dict(doc)) for doc in self._table(ITEMS)]

    def count(self) -> int:
        with self._mutex:
            self._fresh()
            total = len(self._index)
            for key, item in self._pending.items():
                total += (item is not None) - (key in self._index)
            return total

    def put(self, item: InventoryItem) -> None:
        with self._mutex:
            self._require_transaction()
            self._pending[item.key] = item

    def remove(self, sku: str) -> None:
        with self._mutex:
            self._require_transaction()
            self._pending[sku_key(sku)] = None

    # Movements --------------------------------------------------------------------------------

    def append_movement(self, movement: Movement) -> Movement:
        with self._mutex:
            self._require_transaction()
            recorded = replace(movement, id=self.movement_count() + 1)
            self._new_movements.append(recorded)
            return recorded

    def movement_count(self) -> int:
        with self._mutex:
            meta = self._meta()
            return self._movement_total(meta)

    def _committed_records(
        self, meta: dict[str, Any], wanted: str | None = None
    ) -> list[dict[str, Any]]:
        """Stored movement records (legacy table, then journal), oldest first."""
        journal_id, committed = meta.get("journal"), int(meta.get("journal_bytes", 0))
        records = [
            {**doc, "id": int(doc_id)} for doc_id, doc in sorted(self._legacy().items(), key=_by_id)
        ]
        if wanted is None:
            records += self._journal.records(journal_id, committed)
        else:
            records = [r for r in records if sku_key(str(r.get("sku", ""))) == wanted]
            records += self._journal.records_for(journal_id, committed, wanted)
        return records

    def movements(self, sku: str | None = None) -> list[Movement]:
        with self._mutex:
            wanted = None if sku is None else sku_key(sku)
            found = [self._to_movement(r) for r in self._committed_records(self._meta(), wanted)]
            found += [m for m in self._new_movements if wanted in (None, sku_key(m.sku))]
        return found

    def _to_movement(self, record: dict[str, Any]) -> Movement:
        try:
            return Movement.from_dict(record)
        except ValidationError as exc:
            raise StorageError(
                f"history of {self._path}: movement #{record.get('id')} is invalid ({exc}); "
                "run `atlas verify`"
            ) from None

    # Whole-store operations -------------------------------------------------------------------

    def replace_all(self, items: list[InventoryItem], movements: list[Movement]) -> None:
        """Make the store hold exactly these items and this history (restore, migration).

        The current file is not read, so this also replaces a file that no longer parses.
        Inside `exclusive()` it joins the lock already held.
        """
        with self._mutex:
            if self._depth:
                raise RuntimeError("replace_all cannot run inside a transaction")
            self._take_lock()
            try:
                journal_id = new_journal_id()
                records = [_record(replace(m, id=n)) for n, m in enumerate(movements, start=1)]
                committed = self._journal.write_new(journal_id, records)
                tables = {ITEMS: {str(n): item.to_dict() for n, item in enumerate(items, start=1)}}
                self._storage.overwrite(
                    tables,
                    {
                        "journal": journal_id,
                        "journal_bytes": committed,
                        "movements": len(records),
                        "txn": 1,
                    },
                )
                for orphan in self._journal.others(journal_id):
                    orphan.unlink(missing_ok=True)
            finally:
                self._storage.close()
                self._db = None
                self._drop_lock()

    def read_all(self) -> tuple[list[InventoryItem], list[Movement]]:
        """Every item and the whole history as one version of the data file committed them.

        A version names its journal and how many bytes of it are committed, and a journal
        only grows, so no lock is needed (a backup on read-only media can be read). Only a
        restore replaces the journal; a read that loses that race starts again.
        """
        with self._mutex:
            if self._depth:
                return self.items(), self.movements()
            while True:
                self._fresh()
                data = self._storage.current()
                try:
                    records = self._committed_records(self._storage.meta())
                except StorageError:
                    if not self._storage.refresh():
                        raise
                    self._db = None  # another version is in: read that one
                    continue
                table = data.get(ITEMS, {})
                items = [self._to_item(int(doc_id), doc) for doc_id, doc in table.items()]
                items.sort(key=_item_key)
                return items, [self._to_movement(record) for record in records]

    def snapshot(self, target: Path) -> Path:
        """A self-contained copy (items and full history) taken under the lock."""
        with self.transaction():
            self._write_snapshot(target)
        return target

    def _write_snapshot(self, target: Path) -> None:
        """Items as committed and the committed history, in one plain TinyDB file."""
        data = self._storage.current()
        meta = data.get(META_TABLE, {}).get("1", {})
        history = {
            str(record["id"]): {key: value for key, value in record.items() if key != "id"}
            for record in self._committed_records(meta)
        }
        payload = {
            # A folder name that is not UTF-8 must not stop a backup (orjson takes only UTF-8).
            META_TABLE: {"1": {"snapshot_of": os.fsencode(self._path).decode("utf-8", "replace")}},
            ITEMS: data.get(ITEMS, {}),
            LEGACY_MOVEMENTS: history,
        }
        try:
            atomic_write(target, orjson.dumps(payload))
        except OSError as exc:
            raise StorageError(
                f"cannot write backup {target}: {exc.strerror or exc}; nothing was changed"
            ) from None

    # Housekeeping -----------------------------------------------------------------------------

    def version(self) -> Hashable:
        with self._mutex:
            return self._storage.stamp()

    def close(self) -> None:
        with self._mutex:
            self._storage.close()
            self._db = None


def _row_key(row: tuple[Any, ...]) -> str:
    return sku_key(str(row[0]))


def _item_key(item: InventoryItem) -> str:
    return item.key


def _by_id(entry: tuple[str, Any]) -> int:
    return int(entry[0])
