"""The repository interface every storage backend implements."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from atlas_tui.domain.models import InventoryItem, Movement
from atlas_tui.domain.stock import Location

T = TypeVar("T")


@runtime_checkable
class InventoryRepository(Protocol):
    """Items keyed by case-insensitive SKU, and an append-only movement trail.

    Writes happen only inside `transaction()`, which is exclusive across threads
    and processes and commits all its changes at once or none of them.
    Reads outside a transaction always see the latest committed data.
    """

    backend: str
    """Short name of the backend: "tinydb", "sqlite" or "postgresql"."""

    @property
    def path(self) -> Path:
        """The data file (a server store: the local name its backups are named after)."""
        ...

    @property
    def label(self) -> str:
        """The store as the status line names it: the file's name, or database/schema@host."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Exclusive, all-or-nothing unit of work; re-entrant within one thread."""
        ...

    def get(self, sku: str) -> InventoryItem | None:
        """The item whose SKU matches case-insensitively, or None."""
        ...

    def items(self) -> list[InventoryItem]:
        """Every item, ordered by SKU (case-insensitively)."""
        ...

    def head(self, limit: int) -> list[InventoryItem]:
        """The first `limit` items by SKU: enough to draw a screen before all are read."""
        ...

    def count(self) -> int:
        """How many items are stored."""
        ...

    def scan(self, batch: int) -> Iterator[list[tuple[Any, ...]]]:
        """Every item's table columns (ROW_FIELDS), in SKU order, in lists of `batch`.

        As they were at one moment, read without holding up writers or other reads: what a
        screen lists a million items from (no `InventoryItem` is built).
        """
        ...

    def put(self, item: InventoryItem) -> None:
        """Insert the item or replace the one with the same SKU."""
        ...

    def put_many(self, items: Sequence[InventoryItem]) -> None:
        """`put` every item (an import's thousands, in one call)."""
        ...

    def remove(self, sku: str) -> None:
        """Remove the item with this SKU (no error when absent)."""
        ...

    def holding(self, location: str) -> list[InventoryItem]:
        """Items with a stock line at this location (matched case-insensitively), by SKU."""
        ...

    def locations(self) -> list[Location]:
        """The locations recorded with a name, a parent or as retired, or created empty (a
        location also exists wherever stock is), ordered by code."""
        ...

    def put_location(self, location: Location) -> None:
        """Record a location or replace the one with the same code (any case)."""
        ...

    def remove_location(self, code: str) -> None:
        """Forget a recorded location (no error when absent)."""
        ...

    def upgrade(self) -> Path | None:
        """Bring a store written before stock lines to this format, backing it up first;
        returns the backup, or None when there was nothing to do (or the file is read-only).
        A store is read correctly either way; its first write upgrades it too."""
        ...

    def append_movement(self, movement: Movement) -> Movement:
        """Record a movement; returns it with its storage id."""
        ...

    def append_movements(self, movements: Sequence[Movement]) -> None:
        """`append_movement` every one, in one call (their ids given in order)."""
        ...

    def movements(self, sku: str | None = None) -> list[Movement]:
        """Movements oldest first, all or only one SKU's (matched case-insensitively)."""
        ...

    def latest_movements(self, limit: int) -> list[Movement]:
        """The last `limit` movements of the whole store, newest first, read from the end of
        the history (never all of it)."""
        ...

    def user_movements(self, user: str) -> Iterator[Movement]:
        """The movements `user` recorded, newest first, read a few at a time: the latest
        are found without reading the whole history."""
        ...

    def later_movements(self, sku: str, after: int) -> list[Movement]:
        """One SKU's movements (matched case-insensitively) with ids above `after`, oldest
        first."""
        ...

    def movements_after(self, after: int, limit: int) -> list[Movement]:
        """The committed movements with ids above `after`, oldest first, at most `limit`:
        what a reader tailing the history (webhooks) has not seen yet. Cheap when they are
        near the end of a long history."""
        ...

    def history_mark(self) -> Hashable:
        """Where the history ends now, for `changed_since`."""
        ...

    def changed_since(self, mark: Any) -> set[str] | None:
        """The SKU keys of the movements committed after `mark` (every change of an item
        records one), or None when the history is no longer the one marked (a restore)."""
        ...

    def warm_history(self) -> None:
        """Prepare for many history lookups (a screen that shows each item's): may take a
        while, holds up no reader or writer; a no-op where lookups are indexed anyway."""
        ...

    def movement_count(self) -> int:
        """How many movements the history holds."""
        ...

    def raw_items(self) -> list[tuple[str, dict[str, Any]]]:
        """Every stored item as raw data, unvalidated, with a label saying where it is."""
        ...

    def exclusive(self) -> AbstractContextManager[None]:
        """Keep every other writer out across several whole-store steps (restore).

        Inside, `snapshot`, `replace_all` and `read_all` run under the one lock held and see
        each other's effects. Entering does not read the data, so a damaged file can be
        replaced this way too.
        """
        ...

    def read_all(self) -> tuple[list[InventoryItem], list[Movement]]:
        """Every item (ordered by SKU) and the whole history, as they were at one moment."""
        ...

    def replace_all(
        self,
        items: list[InventoryItem],
        movements: list[Movement],
        locations: Sequence[Location] = (),
    ) -> None:
        """Make the store hold exactly these items, history and locations, in one
        transaction."""
        ...

    def snapshot(self, target: Path) -> Path:
        """Write a consistent, self-contained backup of items and history to `target`."""
        ...

    def version(self) -> Hashable:
        """A token that changes whenever the stored data changes (any process)."""
        ...

    def watch_lock(self, watcher: Callable[[str | None], None] | None) -> None:
        """Have `watcher` told who holds the lock when a write starts waiting for it, and
        None when the wait ends (got it or gave up)."""
        ...

    def watch_changes(
        self,
        on_change: Callable[[frozenset[str] | None], None],
        on_state: Callable[[str | None], None],
    ) -> bool:
        """Have changes pushed: `on_change(sku_keys)` for each committed change (None: reload
        everything), `on_state(problem)` when the store cannot be reached and
        `on_state(None)` once changes are listened for (at first, and after each outage),
        from a thread of the backend's. False where the
        backend cannot push (callers poll `version()`, which costs a stat there)."""
        ...

    def stop_watching(self) -> None:
        """End what `watch_changes` started (nothing where it started nothing)."""
        ...

    def close(self) -> None:
        """Release what the repository holds open."""
        ...


class Polled:
    """What the file backends share of push: none. Their screens poll `version()`, a stat."""

    def watch_changes(
        self,
        on_change: Callable[[frozenset[str] | None], None],
        on_state: Callable[[str | None], None],
    ) -> bool:
        return False

    def stop_watching(self) -> None:
        """Nothing was started."""


class Nestable(Protocol):
    """A backend that counts how deep its open transactions are nested."""

    _depth: int


@contextmanager
def joined(repository: Nestable) -> Iterator[None]:
    """A transaction opened inside another in the same thread joins the outer one."""
    repository._depth += 1
    try:
        yield
    finally:
        repository._depth -= 1


class SessionStore(Protocol):
    """Where count sessions are kept: a document changed atomically under a lock."""

    def read(self) -> dict[str, Any]:
        """The whole document: {"next_id": int, "sessions": {id: session}}."""
        ...

    def version(self) -> Hashable:
        """A token that changes whenever the document changes (any process)."""
        ...

    def change(self, edit: Callable[[dict[str, Any]], T]) -> T:
        """Run `edit` on the freshest document and store the result, all under the lock."""
        ...
