"""The TinyDB backend: items and movements as two tables of one JSON file."""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.table import Document, Table

from atlas_tui.errors import StorageError, ValidationError
from atlas_tui.models import InventoryItem, Movement, sku_key
from atlas_tui.repository.backups import BackupPolicy, rotate_backup
from atlas_tui.repository.files import FileLock, remove_stale_temps
from atlas_tui.repository.tinydb_storage import AtomicJSONStorage

ITEMS = "items"
MOVEMENTS = "movements"


def _stored(movement: Movement) -> dict[str, Any]:
    """A movement as stored: its id is the document id, not a field."""
    data = movement.to_dict()
    data.pop("id", None)
    return data


def _next_id(table: dict[str, Any]) -> int:
    return max(map(int, table), default=0) + 1


class TinyDBRepository:
    """Inventory data in one TinyDB file, safe to share between threads and processes.

    A transaction takes the cross-process lock, works on the freshest data, keeps its
    changes aside, and writes them with three TinyDB table operations and one atomic
    file replace at commit, however many items it touched.
    """

    def __init__(
        self,
        path: Path,
        *,
        lock_timeout: float = 10.0,
        backups: BackupPolicy | None = None,
    ) -> None:
        self._path = Path(path)
        self._storage = AtomicJSONStorage(self._path)
        self._lock = FileLock(self._path.with_name(self._path.name + ".lock"), lock_timeout)
        self._backups = backups
        self._backed_up = False
        self._cleaned = False
        self._mutex = threading.RLock()
        self._depth = 0
        self._db: TinyDB | None = None
        self._index: dict[str, int] = {}
        self._cache: dict[int, InventoryItem] = {}
        # Changes of the open transaction: sku key -> item (None = removed), new movements.
        self._pending: dict[str, InventoryItem | None] = {}
        self._new_movements: list[Movement] = []
        self._next_item_id = 1
        self._next_movement_id = 1

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
        tables = storage.current()
        items = tables.get(ITEMS, {})
        self._index = {sku_key(str(doc.get("sku", ""))): int(key) for key, doc in items.items()}
        self._next_item_id = _next_id(items)
        self._next_movement_id = _next_id(tables.get(MOVEMENTS, {}))

    def _fresh(self) -> TinyDB:
        """The database, re-read first if another writer changed the file."""
        changed = self._storage.refresh() if self._depth == 0 else False
        if changed or self._db is None:
            self._rebind()
        assert self._db is not None
        return self._db

    def _table(self, name: str) -> Table:
        return self._fresh().table(name)

    # Transactions -----------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._mutex:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._lock.acquire()
            try:
                if not self._cleaned:
                    remove_stale_temps(self._path)
                    self._cleaned = True
                if self._storage.begin() or self._db is None:
                    self._rebind()
                self._depth = 1
                try:
                    yield
                    self._flush()
                    if self._storage.dirty:
                        self._backup_once()
                    self._storage.commit()
                except BaseException:
                    self._storage.rollback()
                    self._db = None
                    raise
                finally:
                    self._depth = 0
                    self._pending = {}
                    self._new_movements = []
            finally:
                self._lock.release()

    def _flush(self) -> None:
        """Hand the transaction's changes to TinyDB: one operation per kind of change."""
        assert self._db is not None
        if self._pending:
            items = self._db.table(ITEMS)
            stale = [self._index[key] for key in self._pending if key in self._index]
            if stale:
                items.remove(doc_ids=stale)
            fresh: list[Document] = []
            for key, item in self._pending.items():
                old_id = self._index.pop(key, None)
                if old_id is not None:
                    self._cache.pop(old_id, None)
                if item is None:
                    continue
                doc_id = old_id if old_id is not None else self._take_item_id()
                fresh.append(Document(item.to_dict(), doc_id=doc_id))
                self._index[key] = doc_id
                self._cache[doc_id] = item
            if fresh:
                items.insert_multiple(fresh)
        if self._new_movements:
            docs = [Document(_stored(m), doc_id=m.id or 0) for m in self._new_movements]
            self._db.table(MOVEMENTS).insert_multiple(docs)

    def _take_item_id(self) -> int:
        doc_id = self._next_item_id
        self._next_item_id += 1
        return doc_id

    def _backup_once(self) -> None:
        """Before this process's first write, keep a copy of the file as it was."""
        if self._backups is None or self._backed_up:
            return
        if self._path.exists():
            rotate_backup(self._path, self._backups)
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
            item = InventoryItem.from_dict(doc)
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
            table = self._table(ITEMS)
            found = {
                key: self._to_item(doc.doc_id, dict(doc))
                for doc in table
                if (key := sku_key(str(doc.get("sku", "")))) not in self._pending
            }
            found.update((key, item) for key, item in self._pending.items() if item is not None)
        return sorted(found.values(), key=lambda item: item.key)

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
            recorded = replace(movement, id=self._next_movement_id)
            self._next_movement_id += 1
            self._new_movements.append(recorded)
            return recorded

    def movements(self, sku: str | None = None) -> list[Movement]:
        with self._mutex:
            table = self._table(MOVEMENTS)
            wanted = None if sku is None else sku_key(sku)
            found = []
            for doc in table:
                if wanted is not None and sku_key(str(doc.get("sku", ""))) != wanted:
                    continue
                try:
                    found.append(Movement.from_dict(doc, id=doc.doc_id))
                except ValidationError as exc:
                    raise StorageError(
                        f"data file {self._path}: stored movement #{doc.doc_id} is invalid "
                        f"({exc}); run `atlas verify` or restore a backup"
                    ) from None
            found.extend(m for m in self._new_movements if wanted in (None, sku_key(m.sku)))
        found.sort(key=lambda movement: movement.id or 0)
        return found

    # Housekeeping -----------------------------------------------------------------------------

    def version(self) -> Hashable:
        with self._mutex:
            return self._storage.stamp()

    def close(self) -> None:
        with self._mutex:
            self._storage.close()
            self._db = None
