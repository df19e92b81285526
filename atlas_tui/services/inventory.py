"""Business rules of the inventory; knows nothing of TinyDB or Textual."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from atlas_tui.domain import access
from atlas_tui.domain.access import Role
from atlas_tui.domain.errors import (
    AtlasError,
    BulkError,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from atlas_tui.domain.models import (
    ITEM_FIELDS,
    LABEL_MAX_LEN,
    REASON_MAX_LEN,
    InventoryItem,
    Movement,
    MovementKind,
    check_attribute_limits,
    check_stock_limits,
    clean_attributes,
    clean_flag,
    clean_int,
    clean_sku,
    clean_text,
    merge_attributes,
    shown,
    utc_now,
)
from atlas_tui.domain.picking import (
    one_line,
    receiving_line,
    take_anywhere,
    take_at,
)
from atlas_tui.domain.stock import (
    StockLine,
    change_lines,
    clean_barcodes,
    clean_expiry,
    clean_location,
    clean_lot,
    clean_unit,
    location_key,
    undo_changes,
)
from atlas_tui.services.locations import LocationBook
from atlas_tui.services.replay import (
    build_report,
    expiring_report,
    items_at,
    locations_report,
    parse_moment,
    verify_store,
)
from atlas_tui.services.stocktake import Stocktake
from atlas_tui.services.trends import quantity_trend, reorder_report
from atlas_tui.services.undo import UndoPlan, latest_step, plan_undo, undone_ids
from atlas_tui.storage import files
from atlas_tui.storage.base import InventoryRepository, SessionStore

if TYPE_CHECKING:
    from atlas_tui.formats import ImportTable
    from atlas_tui.services.access import AccessBook
    from atlas_tui.services.imports import ImportResult

REPORT_TYPES: Final = ("summary", "low", "over", "reorder", "locations", "expiring")
UPDATABLE: Final = ("name", "category", "min_stock", "max_stock", "attributes", "unit", "barcodes")
# How far ahead the expiring report looks unless told.
EXPIRING_DAYS: Final = 30
# The longest trend a caller may ask for: ten years of days.
TREND_MAX_DAYS: Final = 3660
# What a caller may give when adding; the timestamps are the service's to set.
ADD_FIELDS: Final = tuple(name for name in ITEM_FIELDS if not name.endswith("_at"))


def login_name() -> str:
    """The OS login name recorded on every movement."""
    return files.login_name()


def _filter_text(field: str, value: object) -> str | None:
    """A list filter: None (no filter) or text."""
    if value is None or isinstance(value, str):
        return value
    raise ValidationError(field, f"must be text, got {shown(value)}")


def _distinct(values: Iterable[str]) -> list[str]:
    first: dict[str, str] = {}
    for value in values:
        if value:
            first.setdefault(value.casefold(), value)
    return sorted(first.values(), key=str.casefold)


class InventoryService:
    """Every inventory operation, each one atomic and recorded in the audit trail."""

    def __init__(
        self,
        repository: InventoryRepository,
        *,
        max_items: int | None = None,
        user: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        sessions: SessionStore | None = None,
        role: Role = Role.ADMIN,
        access_store: SessionStore | None = None,
    ) -> None:
        self.repository = repository
        self.sessions = sessions
        self.access_store = access_store
        self.max_items = max_items
        self.user = user or login_name()
        # What this user may do (access.ACTIONS); admin where no access rules apply.
        self.role = role
        self._clock = clock
        # Movements this service committed, newest last (`last_change`; scan mode's undo).
        self._done: list[Movement] = []
        self._uncommitted: list[Movement] = []
        self._depth = 0
        self._lock = threading.RLock()
        self._barcodes: tuple[Hashable, dict[str, list[tuple[str, int]]]] | None = None
        # The id marking the movements of the step being recorded (see `batch(step=True)`).
        self._step: str | None = None
        # The movement whose compensating movement is being recorded (see `undo`).
        self._undoing: int | None = None

    # Plumbing ---------------------------------------------------------------------------------

    @contextmanager
    def batch(self, *, step: bool = False) -> Iterator[None]:
        """Run several operations as one all-or-nothing transaction.

        With `step`, every movement recorded in it carries the same details["batch"] id: a
        bulk change is one step, and undo takes it back whole. A step inside a step is part
        of the outer one.
        """
        with self._transaction():
            if not step or self._step is not None:
                yield
                return
            self._step = uuid.uuid4().hex
            try:
                yield
            finally:
                self._step = None

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """The repository's transaction, noting which movements actually got committed.

        Held under a lock of this service, so that threads sharing it (an app's workers)
        keep the undo bookkeeping straight; the repository serialises them anyway.
        """
        with self._lock:
            self._depth += 1
            try:
                with self.repository.transaction():
                    yield
            except BaseException:
                if self._depth == 1:
                    self._uncommitted.clear()
                raise
            finally:
                self._depth -= 1
            if self._depth == 0:
                self._done.extend(self._uncommitted)
                self._uncommitted.clear()

    def now(self) -> datetime:
        """The service's clock (UTC)."""
        return self._clock()

    def allow(self, action: str) -> None:
        """Raise ForbiddenError unless this user's role may take `action` (access.ACTIONS)."""
        access.check(self.user, self.role, action)

    def acting_as(self, user: str, role: Role) -> InventoryService:
        """A service on the same store for another user (a server's caller): its changes
        are recorded under `user` and checked against `role`."""
        return InventoryService(
            self.repository,
            max_items=self.max_items,
            user=user,
            clock=self._clock,
            sessions=self.sessions,
            role=role,
            access_store=self.access_store,
        )

    @property
    def access(self) -> AccessBook:
        """Users and their tokens (changes need the admin role)."""
        from atlas_tui.services.access import AccessBook  # hashing: only when used

        if self.access_store is None:
            raise ValidationError("user", "users are not available for this store")
        return AccessBook(self, self.access_store)

    @property
    def stocktake(self) -> Stocktake:
        """Count sessions of this store."""
        if self.sessions is None:
            raise ValidationError("session", "count sessions are not available for this store")
        return Stocktake(self, self.sessions)

    def version(self) -> Hashable:
        """Changes whenever the data changes, in this process or another."""
        return self.repository.version()

    def watch_changes(
        self,
        on_change: Callable[[frozenset[str] | None], None],
        on_state: Callable[[str | None], None],
    ) -> bool:
        """Have other writers' changes pushed as they commit (a server store): see the
        repository's `watch_changes`. False where the store cannot push (poll `version()`)."""
        return self.repository.watch_changes(on_change, on_state)

    def stop_watching(self) -> None:
        """End the push `watch_changes` started."""
        self.repository.stop_watching()

    @property
    def places(self) -> LocationBook:
        """Locations: listed, shown, created, renamed and retired."""
        return LocationBook(self)

    def record(
        self,
        item: InventoryItem,
        kind: MovementKind,
        before: int,
        after: int,
        reason: str | None,
        now: datetime,
        details: dict[str, Any] | None = None,
    ) -> Movement:
        self.allow(access.KIND_ACTIONS[kind])
        movement = Movement(
            sku=item.sku,
            kind=kind,
            delta=after - before,
            quantity_before=before,
            quantity_after=after,
            reason=clean_text("reason", reason, REASON_MAX_LEN),
            user=self.user,
            timestamp=now,
            details=details or {},
        )
        if self._step is not None:
            # A copy: the caller's details may be shared with another movement.
            movement = replace(movement, details={**movement.details, "batch": self._step})
        if self._undoing is not None:
            movement = replace(movement, details={**movement.details, "undoes": [self._undoing]})
        recorded = self.repository.append_movement(movement)
        self._uncommitted.append(recorded)
        return recorded

    def _require(self, sku: str) -> InventoryItem:
        item = self.repository.get(clean_sku(sku))
        if item is None:
            raise NotFoundError(f"sku: no item {sku.strip()!r}")
        return item

    # Reads ------------------------------------------------------------------------------------

    def get(self, sku: object) -> InventoryItem:
        """The item with this SKU (matched case-insensitively); NotFoundError if none."""
        return self._require(clean_sku(sku))

    def list_items(
        self,
        *,
        category: str | None = None,
        location: str | None = None,
        search: str | None = None,
        low: bool = False,
        over: bool = False,
    ) -> list[InventoryItem]:
        """Items ordered by SKU, narrowed by every filter given."""
        category = _filter_text("category", category)
        location = _filter_text("location", location)
        search = _filter_text("search", search)
        low, over = clean_flag("low", low), clean_flag("over", over)
        items = self.repository.items()
        if category is not None:
            wanted = category.strip().casefold()
            items = [item for item in items if item.category.casefold() == wanted]
        if location is not None:
            wanted = location.strip().casefold()
            items = [item for item in items if item.location.casefold() == wanted]
        if search:
            needle = search.strip().casefold()
            items = [
                item
                for item in items
                if needle in item.sku.casefold() or needle in item.name.casefold()
            ]
        if low:
            items = [item for item in items if item.is_low]
        if over:
            items = [item for item in items if item.is_over]
        return items

    def find_code(self, code: object) -> InventoryItem:
        """The item a scanned code names: its SKU (any case), else one of its barcodes."""
        return self.scan_code(code)[0]

    def scan_code(self, code: object) -> tuple[InventoryItem, int]:
        """The item a scanned code names and how many units one scan of it stands for: 1
        for its SKU or a unit barcode, the pack size for a pack's barcode."""
        text = clean_text("code", code, 200, required=True)
        item = self.repository.get(text)
        if item is not None:
            return item, 1
        owners = self._barcode_index().get(text, [])
        if len(owners) > 1:
            skus = ", ".join(sku for sku, _ in owners)
            raise ConflictError(f"code: {text!r} is the barcode of {len(owners)} items: {skus}")
        if owners:
            sku, pack = owners[0]
            found = self.repository.get(sku)
            if found is not None:
                return found, pack
        raise NotFoundError(f"code: no item has SKU or barcode {text!r}")

    def _barcode_index(self) -> dict[str, list[tuple[str, int]]]:
        """Barcode -> (SKU, units per scan), rebuilt only when the data changed."""
        version = self.repository.version()
        if self._barcodes is None or self._barcodes[0] != version:
            index: dict[str, list[tuple[str, int]]] = {}
            for item in self.repository.items():
                barcode = item.attributes.get("barcode")
                if isinstance(barcode, str | int) and not isinstance(barcode, bool):
                    index.setdefault(str(barcode).strip(), []).append((item.sku, 1))
                for code, pack in item.barcodes.items():
                    owners = index.setdefault(code, [])
                    if (item.sku, pack) not in owners:
                        owners.append((item.sku, pack))
            self._barcodes = (version, index)
        return self._barcodes[1]

    def first_items(self, limit: int) -> list[InventoryItem]:
        """The first items by SKU, cheaply: a screen can draw them before all are read."""
        return self.repository.head(limit)

    def item_rows(self, batch: int = 10_000) -> Iterator[list[tuple[Any, ...]]]:
        """Every item as (sku, name, category, quantity, location, min_stock, max_stock), in
        SKU order, a batch at a time, without building items: a million rows for a screen."""
        return self.repository.scan(batch)

    def history_mark(self) -> Hashable:
        """Where the history ends now: `changed_since` tells what changed after it."""
        return self.repository.history_mark()

    def changed_since(self, mark: Hashable) -> set[str] | None:
        """The SKU keys of every item changed (by anyone) since `mark`, or None when that
        cannot be told (the store was restored or migrated): then read everything again."""
        return self.repository.changed_since(mark)

    def warm_history(self) -> None:
        """Make later `history` lookups quick (run it in the background before browsing)."""
        self.repository.warm_history()

    def categories(self) -> list[str]:
        """Distinct non-empty categories (one spelling per case-insensitive value), sorted."""
        return _distinct(item.category for item in self.repository.items())

    def locations(self) -> list[str]:
        """Distinct non-empty locations (one spelling per case-insensitive value), sorted:
        homes, places holding stock, and recorded locations."""
        codes = [line.location for item in self.repository.items() for line in item.stock]
        codes += [item.location for item in self.repository.items()]
        codes += [place.code for place in self.repository.locations() if not place.retired]
        return _distinct(codes)

    def stock(self, sku: object) -> list[StockLine]:
        """The item's stock lines: location, lot, expiry, quantity."""
        return list(self.get(sku).stock)

    def history(self, sku: object) -> list[Movement]:
        """Every movement of this SKU, newest first (also after deletion; [] if never seen)."""
        movements = self.repository.movements(clean_sku(sku))
        movements.reverse()
        return movements

    def history_since(self, since: object, sku: object = None) -> list[Movement]:
        """Movements at or after `since` (of one SKU, or all), newest first."""
        moment = parse_moment("since", since)
        movements = self.repository.movements(None if sku is None else clean_sku(sku))
        found = [m for m in movements if m.timestamp >= moment]
        found.reverse()
        return found

    def latest_movements(self, limit: int = 200) -> list[Movement]:
        """Everyone's last `limit` movements, newest first, read from the end of the history
        (quick whatever its length)."""
        return self.repository.latest_movements(limit)

    # Changes ----------------------------------------------------------------------------------

    def add(
        self,
        sku: object,
        name: object,
        category: object = "",
        quantity: object = 0,
        location: object = "",
        min_stock: object = 0,
        max_stock: object = 0,
        attributes: object = None,
        *,
        reason: str | None = None,
        unit: object = None,
        barcodes: object = None,
    ) -> InventoryItem:
        """Create an item with its first stock line at `location` (its home); a SKU already
        present (any case) is refused."""
        return self.add_many(
            [
                {
                    "sku": sku,
                    "name": name,
                    "category": category,
                    "quantity": quantity,
                    "location": location,
                    "min_stock": min_stock,
                    "max_stock": max_stock,
                    "attributes": attributes,
                    "unit": unit,
                    "barcodes": barcodes,
                }
            ],
            reason=reason,
            single=True,
        )[0]

    def add_many(
        self,
        rows: Sequence[Mapping[str, Any]],
        *,
        reason: str | None = None,
        single: bool = False,
    ) -> list[InventoryItem]:
        """Create several items in one transaction: all of them, or none and every problem."""
        self.allow("items")
        if isinstance(rows, Mapping | str | bytes) or not isinstance(rows, Sequence):
            raise ValidationError("items", "must be a list of item records")
        now = self._clock()
        with self._transaction():
            items: list[InventoryItem] = []
            problems: list[tuple[int, AtlasError]] = []
            seen: dict[str, int] = {}
            for number, row in enumerate(rows, start=1):
                try:
                    item = self._new_item(row, now)
                    if item.key in seen:
                        raise ValidationError(
                            "sku", f"{item.sku!r} repeats row {seen[item.key]} of this batch"
                        )
                    self._refuse_duplicate(item)
                except AtlasError as exc:
                    problems.append((number, exc))
                    continue
                seen[item.key] = number
                items.append(item)
            if problems and single:
                raise problems[0][1]
            if problems:
                raise BulkError(len(rows), [f"row {number}: {exc}" for number, exc in problems])
            self._check_capacity(len(items), items[0].sku if single else None)
            for item in items:
                self.repository.put(item)
                snapshot = {"item": item.to_dict()}
                self.record(item, "add", 0, item.quantity, reason, now, snapshot)
        return items

    def import_table(
        self,
        table: ImportTable,
        *,
        source: str,
        dry_run: bool = False,
        strict: bool = False,
        reason: str | None = None,
    ) -> ImportResult:
        """Add new SKUs and update stored ones from a read file, in one transaction.

        Every valid row is applied with one movement (`add`; a `count` when the quantity
        changes, else `update`), or none when `strict` and a row is refused, or when
        `dry_run`. An import ends what `undo_last` can take back.
        """
        self.allow("import")
        from atlas_tui.formats.reader import no_cyclic_gc

        why = clean_text("reason", reason, REASON_MAX_LEN) or f"import of {source}"

        # Planned outside the writers' lock: reading, checking and building every row takes
        # seconds at 100k rows, and every other writer would wait for all of it. The lock is
        # held only to re-check what changed meanwhile and commit, in one transaction.
        # Both marks are taken before anything is read for the plan, so a change committed
        # while it is made is always found again by the re-check.
        seen = self.repository.version()
        mark = self.repository.history_mark()
        now = self._clock()
        with no_cyclic_gc():  # 100k rows become items: no cycles to look for
            return self._import_planned(table, (seen, mark), now, source, why, dry_run, strict)

    def _import_planned(
        self,
        table: ImportTable,
        seen: tuple[Hashable, Hashable | None],
        now: datetime,
        source: str,
        why: str,
        dry_run: bool,
        strict: bool,
    ) -> ImportResult:
        """import_table's plan, re-check and commit."""
        from atlas_tui.services import imports

        version, mark = seen
        rows = len(table.rows)
        outcomes = imports.plan_rows(table, imports.lookup_for(self.repository, rows), now)
        if dry_run or (strict and imports.refused(outcomes)):
            if dry_run:
                self._check_capacity(imports.added(outcomes), None)
            return imports.ImportResult(
                source, outcomes, applied=False, dry_run=dry_run, strict=strict
            )
        items, movements = imports.changes_of(
            outcomes, reason=why, user=self.user, now=now, source=source
        )
        writes = imports.Writes(self.repository, items, movements)
        adding = imports.added(outcomes)
        with self._transaction():
            if self.repository.version() != version:
                # Another writer committed meanwhile: its changes are never overwritten. Only
                # the items it changed are read again, when the store can tell which.
                changed = self.repository.changed_since(mark)
                lookup = (
                    self.repository
                    if changed is not None
                    else imports.lookup_for(self.repository, rows)
                )
                checked = imports.recheck(outcomes, lookup, changed)
                if checked is not outcomes:
                    if strict:
                        return imports.ImportResult(
                            source, checked, applied=False, dry_run=False, strict=True
                        )
                    writes.keep(imports.kept(outcomes, checked))
                    outcomes, adding = checked, imports.added(checked)
            self._check_capacity(adding, None)
            writes.write(self.repository)
        # Undo after an import would take back one row of it, or a change made before it.
        self._done.clear()
        return imports.ImportResult(source, outcomes, applied=True, dry_run=False, strict=strict)

    def _refuse_duplicate(self, item: InventoryItem) -> None:
        existing = self.repository.get(item.sku)
        if existing is not None:
            also = f" (as {existing.sku!r})" if existing.sku != item.sku else ""
            raise ConflictError(f"sku: {item.sku!r} already exists{also}")

    def _new_item(self, row: object, now: datetime) -> InventoryItem:
        if not isinstance(row, Mapping):
            raise ValidationError("item", "must be a record of fields")
        unknown = sorted(set(row) - set(ADD_FIELDS))
        if unknown:
            raise ValidationError(unknown[0], "is not a field of an item")
        if row.get("sku") is None:
            raise ValidationError("sku", "is required")
        if row.get("name") is None:
            raise ValidationError("name", "is required")
        fields = {key: value for key, value in row.items() if value is not None}
        item = InventoryItem(**fields, created_at=now, updated_at=now)
        check_attribute_limits(item.attributes)
        return item

    def _check_capacity(self, adding: int, sku: str | None) -> None:
        if self.max_items is None:
            return
        present = self.repository.count()
        if present + adding > self.max_items:
            what = f"{sku!r} was" if sku else f"the {adding} items were"
            raise ConflictError(
                f"ATLAS_MAX_ITEMS: the store holds {present} of at most {self.max_items} items; "
                f"{what} not added"
            )

    def adjust(
        self,
        sku: object,
        delta: object,
        reason: str | None = None,
        *,
        location: object = None,
        lot: object = None,
    ) -> InventoryItem:
        """Add or remove stock at a location (the home unless given); a result below zero
        is refused, never clamped, and a removal the home cannot cover names where the
        stock is rather than taking it from elsewhere."""
        self.allow("stock")
        change = clean_int("delta", delta, minimum=None)
        if change == 0:
            raise ValidationError("delta", "a change of 0 changes nothing; give e.g. 5 or -5")
        where = None if location is None else clean_location(location)
        batch = None if lot is None else clean_lot(lot) or None
        with self._transaction():
            item = self._require(clean_sku(sku))
            if item.quantity + change < 0:
                raise ValidationError(
                    "delta",
                    f"cannot remove {-change} from {item.sku}: only {item.quantity} on hand",
                )
            place = item.location if where is None else where
            if change > 0:
                self._check_open(place)
                line = receiving_line(item.stock, place, batch or "", "")
                changes = [(line, change)]
            else:
                field = "delta" if where is None else "location"
                changes = take_at(item.sku, item.stock, -change, place, batch, field=field)
            return self._change_lines(item, changes, "adjust", reason)

    def receive(
        self,
        sku: object,
        quantity: object,
        reason: str | None = None,
        *,
        location: object = None,
        lot: object = None,
        expiry: object = None,
    ) -> InventoryItem:
        """Stock arriving: into the location given (the home unless given), of a lot with an
        expiry date when given."""
        self.allow("stock")
        count = clean_int("quantity", quantity, minimum=1)
        where = None if location is None else clean_location(location)
        batch, until = clean_lot(lot), clean_expiry(expiry)
        with self._transaction():
            item = self._require(clean_sku(sku))
            place = item.location if where is None else where
            self._check_open(place)
            line = receiving_line(item.stock, place, batch, until)
            return self._change_lines(item, [(line, count)], "receive", reason)

    def pick(
        self,
        sku: object,
        quantity: object,
        reason: str | None = None,
        *,
        location: object = None,
        lot: object = None,
    ) -> InventoryItem:
        """Stock leaving for use: from the location given or else earliest expiry first,
        then the home, then the fullest line. The movement lists the lines taken from."""
        self.allow("stock")
        count = clean_int("quantity", quantity, minimum=1)
        where = None if location is None else clean_location(location)
        batch = None if lot is None else clean_lot(lot) or None
        with self._transaction():
            item = self._require(clean_sku(sku))
            if where is None and batch is None:
                changes = take_anywhere(item.sku, item.stock, count, item.location)
            else:
                place = item.location if where is None else where
                changes = take_at(item.sku, item.stock, count, place, batch)
            return self._change_lines(item, changes, "pick", reason)

    def transfer(
        self,
        sku: object,
        quantity: object,
        source: object,
        target: object,
        reason: str | None = None,
        *,
        lot: object = None,
    ) -> InventoryItem:
        """Move part of an item's stock from one location to another (lots and expiry dates
        travel with it); the total on hand does not change."""
        self.allow("stock")
        count = clean_int("quantity", quantity, minimum=1)
        origin = clean_location(source, "from")
        destination = clean_location(target, "to")
        if location_key(origin) == location_key(destination):
            raise ValidationError("to", f"is the location the stock is taken from ({origin})")
        batch = None if lot is None else clean_lot(lot) or None
        with self._transaction():
            item = self._require(clean_sku(sku))
            self._check_open(destination, "to")
            taken = take_at(item.sku, item.stock, count, origin, batch, field="from")
            changes = [*taken]
            for line, delta in taken:
                changes.append((StockLine(destination, 0, line.lot, line.expiry), -delta))
            details = {"from": origin, "to": destination}
            return self._change_lines(item, changes, "transfer", reason, details)

    def count(
        self,
        sku: object,
        quantity: object,
        reason: str | None = None,
        *,
        location: object = None,
        lot: object = None,
        details: dict[str, Any] | None = None,
    ) -> InventoryItem:
        """Set a line's quantity to a counted figure: the line at `location` (and `lot`),
        or the item's only line (`details` are kept on the movement)."""
        self.allow("stock")
        counted = clean_int("quantity", quantity)
        where = None if location is None else clean_location(location)
        # A count names one line: lot "" is the line without a lot (None: any, if only one).
        batch = None if lot is None else clean_lot(lot)
        with self._transaction():
            item = self._require(clean_sku(sku))
            line = one_line(item.sku, item.stock, where, batch, item.location)
            if counted > line.quantity:
                self._check_open(line.location)
            changes = [(line, counted - line.quantity)]
            return self._change_lines(item, changes, "count", reason, details)

    def _change_lines(
        self,
        item: InventoryItem,
        changes: Sequence[tuple[StockLine, int]],
        kind: MovementKind,
        reason: str | None,
        details: dict[str, Any] | None = None,
        home: str | None = None,
    ) -> InventoryItem:
        """Apply line changes to the item and record them, with the lines they touched."""
        now = self._clock()
        lines, touched = change_lines(item.stock, changes)
        fields: dict[str, Any] = {"lines": lines, "updated_at": now}
        if home is not None:
            fields["location"] = home
        changed = item.evolve(**fields)
        self.repository.put(changed)
        info = {**(details or {}), "lines": touched}
        self.record(changed, kind, item.quantity, changed.quantity, reason, now, info)
        return changed

    def _check_open(self, location: str, field: str = "location") -> None:
        """Refuse to put stock at a retired location."""
        if not location:
            return
        key = location_key(location)
        for place in self.repository.locations():
            if place.key == key and place.retired:
                raise ValidationError(field, f"{place.code} is retired: it takes no stock")

    def move(self, sku: object, location: object, reason: str | None = None) -> InventoryItem:
        """Put all of the item's stock, and its home, at another location."""
        self.allow("stock")
        target = clean_text("location", location, LABEL_MAX_LEN, required=True)
        target = clean_location(target)
        return self._relocate(sku, target, reason)

    def _relocate(self, sku: object, target: str, reason: str | None) -> InventoryItem:
        with self._transaction():
            item = self._require(clean_sku(sku))
            key = location_key(target)
            if item.location == target and all(
                location_key(line.location) == key for line in item.stock
            ):
                raise ValidationError("location", f"{item.sku} is already at {target!r}")
            self._check_open(target)
            changes: list[tuple[StockLine, int]] = []
            for line in item.stock:
                if location_key(line.location) != key and line.quantity:
                    changes.append((line, -line.quantity))
                    changes.append((StockLine(target, 0, line.lot, line.expiry), line.quantity))
            details = {"from": item.location, "to": target}
            return self._change_lines(item, changes, "move", reason, details, home=target)

    def update(self, sku: object, reason: str | None = None, **fields: Any) -> InventoryItem:
        """Change name, category, min/max stock or attributes (a merge patch)."""
        self.allow("items")
        unknown = sorted(set(fields) - set(UPDATABLE))
        if unknown:
            raise ValidationError(
                unknown[0], f"cannot be updated here (updatable: {', '.join(UPDATABLE)})"
            )
        given = {key: value for key, value in fields.items() if value is not None}
        if not given:
            raise ValidationError(
                "fields",
                "nothing to update: give a new name, category, minimum, maximum or attributes",
            )
        with self._transaction():
            item = self._require(clean_sku(sku))
            changes: dict[str, Any] = {}
            for key, value in given.items():
                if key == "attributes":
                    value = merge_attributes(item.attributes, clean_attributes(value))
                    check_attribute_limits(value, before=item.attributes)
                elif key == "unit":
                    value = clean_unit(value)
                elif key == "barcodes":
                    value = clean_barcodes(value)
                changes[key] = value
            candidate = item.evolve(**changes)
            check_stock_limits(candidate.min_stock, candidate.max_stock)
            diff = {
                key: [getattr(item, key), getattr(candidate, key)]
                for key in changes
                if getattr(item, key) != getattr(candidate, key)
            }
            if not diff:
                raise ValidationError(
                    "fields", f"nothing to update: {item.sku} already has those values"
                )
            now = self._clock()
            updated = candidate.evolve(updated_at=now)
            self.repository.put(updated)
            self.record(
                updated, "update", item.quantity, item.quantity, reason, now, {"changes": diff}
            )
            return updated

    def delete(self, sku: object, reason: str | None = None) -> InventoryItem:
        """Remove the item; its history stays."""
        self.allow("items")
        with self._transaction():
            item = self._require(clean_sku(sku))
            now = self._clock()
            self.repository.remove(item.sku)
            self.record(item, "delete", item.quantity, 0, reason, now, {"item": item.to_dict()})
            return item

    def last_change(self) -> Movement | None:
        """The movement this service committed last (None if none yet)."""
        return self._done[-1] if self._done else None

    def can_undo(self) -> bool:
        """Whether this user has a change left that undo could take back."""
        try:
            latest_step(self.repository, self.user)
        except ValidationError:
            return False
        return True

    def undo_plan(self) -> UndoPlan:
        """What `undo` would take back: this user's latest change in the store (made in
        any process, also before a restart; a bulk step whole), with its wording.

        ValidationError "nothing of yours to undo", or why it may not be (another user's
        later change of the same stock line, field or home; see services/undo.py).
        """
        self.allow("stock")
        return plan_undo(self.repository, self.user, self._clock())

    def undo(self, plan: UndoPlan) -> InventoryItem:
        """Take back what `plan` names with compensating movements, all in one transaction.

        History is never erased: each compensating movement is recorded like any change,
        with a reason naming the movement it reverses and details["undoes"] = [its id].
        The plan is checked again inside the transaction: if it is no longer this user's
        latest change, or someone changed the item meanwhile, nothing is done. Returns the
        item (a bulk step's first) as it is afterwards (for an undone add, as removed).
        """
        self.allow("stock")
        with self._transaction():
            fresh = self.undo_plan()
            if fresh.ids != plan.ids:
                raise ValidationError(
                    "undo", f"your latest change is now the {fresh.summary}: nothing undone"
                )
            result: InventoryItem | None = None
            for movement in plan.movements:
                result = self._take_back(movement)
        assert result is not None
        taken = {m.id for m in plan.movements}
        self._done = [m for m in self._done if m.id not in taken and not undone_ids(m)]
        return result

    def undo_last(self) -> InventoryItem:
        """Take back this user's latest change (see `undo_plan`, `undo`)."""
        return self.undo(self.undo_plan())

    def take_back(self, last: Movement) -> InventoryItem:
        """Take back one movement this service committed, unchecked (scan mode's per-scan
        undo checks that it is its own latest); it then leaves `last_change`."""
        self.allow("stock")
        with self._transaction():
            result = self._take_back(last)
        ids = [m.id for m in self._done]
        if last.id in ids:
            del self._done[ids.index(last.id) :]
        return result

    def _take_back(self, last: Movement) -> InventoryItem:
        """Record the compensating movement of `last`, marked as its undo."""
        reason = f"undo of #{last.id} ({last.kind})"
        details = last.details
        assert last.id is not None
        self._undoing = last.id
        try:
            if last.kind == "add":
                return self.delete(last.sku, reason)
            if "lines" in details:
                return self._undo_lines(last, reason)
            if last.kind == "adjust":
                return self.adjust(last.sku, -last.delta, reason)
            if last.kind == "count":
                return self.count(last.sku, last.quantity_before, reason)
            if last.kind == "move":
                return self._relocate(last.sku, str(details.get("from", "")), reason)
            if last.kind == "update":
                return self.update(last.sku, reason, **_reverse_changes(details["changes"]))
            if "item" not in details:
                raise ValidationError("undo", f"#{last.id} ({last.kind}) cannot be taken back")
            snapshot = dict(details["item"])
            snapshot["quantity"] = last.quantity_before
            for stamp in ("created_at", "updated_at"):
                snapshot.pop(stamp, None)
            return self.add_many([snapshot], reason=reason, single=True)[0]
        finally:
            self._undoing = None

    def _undo_lines(self, last: Movement, reason: str) -> InventoryItem:
        """Put back the lines a movement changed (and the home a move changed)."""
        item = self._require(last.sku)
        details = last.details
        home = str(details["from"]) if last.kind == "move" and "from" in details else None
        kind: MovementKind = "adjust" if last.kind in ("receive", "pick") else last.kind
        back = {"from": details["to"], "to": details["from"]} if "to" in details else None
        changes = undo_changes(details["lines"])
        after = item.quantity + sum(delta for _, delta in changes)
        if after < 0:
            raise ValidationError(
                "delta",
                f"cannot remove {item.quantity - after} from {item.sku}: "
                f"only {item.quantity} on hand",
            )
        return self._change_lines(item, changes, kind, reason, back, home=home)

    # Reports ----------------------------------------------------------------------------------

    def report(
        self, report_type: object = "summary", at: object = None, days: object = None
    ) -> dict[str, Any]:
        """summary, low ({"low_stock": [...]}), over ({"over_stock": [...]}), reorder,
        locations (what each holds) or expiring (lines whose expiry is within `days`).

        With `at`, the items are rebuilt as they were at that moment from the history.
        """
        if report_type not in REPORT_TYPES:
            raise ValidationError(
                "type", f"must be one of {', '.join(REPORT_TYPES)}, got {report_type!r}"
            )
        if days is not None and report_type != "expiring":
            raise ValidationError("days", "is for the expiring report only")
        if report_type == "expiring":
            horizon = EXPIRING_DAYS if days is None else clean_int("days", days, maximum=36600)
            items = self._items_at(at)
            moment = self._clock() if at is None else parse_moment("at", at)
            return expiring_report(items, moment.date(), horizon)
        if report_type == "locations":
            return locations_report(self._items_at(at), self.repository.locations())
        if report_type == "reorder":
            if at is not None:
                raise ValidationError("at", "the reorder list is only made for now")
            now = self._clock()
            return reorder_report(self.repository.items(), self.repository.movements(), now)
        return build_report(str(report_type), self._items_at(at))

    def _items_at(self, at: object) -> list[InventoryItem]:
        """Every item now, or as the history says it was at `at`."""
        if at is None:
            return self.repository.items()
        moment = parse_moment("at", at)
        return items_at(self.repository.movements(), moment, self.repository.items())

    def trend(self, sku: object, days: object = 30) -> dict[str, Any]:
        """The item's end-of-day quantities over the last `days` days and its daily usage."""
        days = clean_int("days", days, minimum=1, maximum=TREND_MAX_DAYS)
        item = self._require(clean_sku(sku))
        movements = self.repository.movements(item.sku)
        return quantity_trend(movements, item.quantity, days, self._clock())

    def summary(self) -> dict[str, Any]:
        """Totals, low/over counts and per-category items and quantity."""
        return build_report("summary", self.repository.items())

    def verify(self) -> dict[str, Any]:
        """Check every stored item against the rules and replay the history against them."""
        return verify_store(self.repository)


def _reverse_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Update fields that put back what an update changed (attributes as a merge patch)."""
    fields: dict[str, Any] = {}
    for name, (old, new) in changes.items():
        if name == "attributes":
            patch = {key: None for key in new if key not in old}
            patch.update(old)
            fields[name] = patch
        else:
            fields[name] = old
    return fields
