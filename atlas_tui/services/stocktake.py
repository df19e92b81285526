"""Count sessions (stocktakes): expected figures, counts in any order, variance, apply.

A session snapshots the stock lines in its scope when it starts: one expected figure per
(SKU, location, lot). Counts are kept in the session, not in the stock, until `apply`
turns each difference into a `count` movement on its line. A count is compared with what
the line held when it was recorded, and stock that moves after that is respected: apply
adds the difference found to the line as it is when the apply commits, so a pick made
between counting and applying (or while the apply waits for the lock) is not undone.

A SKU counted at a location where it has no line is recorded too, expected 0 and flagged
"not expected here". Sessions written before stock lines (one count per item, no
location) are read as counts of the item's home line, or its only line.
"""

from __future__ import annotations

from collections.abc import Hashable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from atlas_tui.domain.errors import ConflictError, NotFoundError, StorageError, ValidationError
from atlas_tui.domain.models import (
    LABEL_MAX_LEN,
    REASON_MAX_LEN,
    InventoryItem,
    Movement,
    clean_int,
    clean_text,
    format_timestamp,
    shown,
    sku_key,
)
from atlas_tui.domain.stock import StockLine, clean_location, clean_lot, location_key
from atlas_tui.storage.base import SessionStore

NOT_EXPECTED = "not expected here"


class Ledger(Protocol):
    """What a stocktake needs of the inventory: reads, the clock, the user, and counts."""

    user: str

    def allow(self, action: str) -> None: ...
    def version(self) -> Hashable: ...
    def now(self) -> datetime: ...
    def list_items(
        self, *, category: str | None = None, location: str | None = None
    ) -> list[InventoryItem]: ...
    def find_code(self, code: object) -> InventoryItem: ...
    def get(self, sku: object) -> InventoryItem: ...
    def history(self, sku: object) -> list[Movement]: ...
    def batch(self) -> AbstractContextManager[None]: ...
    def count(
        self,
        sku: object,
        quantity: object,
        reason: str | None = None,
        *,
        location: object = None,
        lot: object = None,
        details: dict[str, Any] | None = None,
    ) -> InventoryItem: ...


def _session_id(value: object) -> str:
    text = str(value).strip().lstrip("#")
    if not (text.isascii() and text.isdigit()):
        raise ValidationError("session", f"must be a session number such as 3, got {shown(value)}")
    return str(int(text))


def line_key(sku: str, location: str, lot: str) -> str:
    """How a session keys a line: SKU, location and lot, each in any case."""
    # The unit separator cannot occur in a SKU, location or lot (controls are refused).
    return "\x1f".join((sku_key(sku), location_key(location), lot.casefold()))


def _held(item: InventoryItem, location: str | None, lot: str | None) -> int:
    """What the item holds on a line now: at the location (None: anywhere), of the lot
    (None: any lot; "" only stock without one)."""
    key = None if location is None else location_key(location)
    return sum(
        line.quantity
        for line in item.stock
        if (key is None or location_key(line.location) == key)
        and (lot is None or line.lot.casefold() == lot.casefold())
    )


def _by_line(session: dict[str, Any]) -> dict[str, Any]:
    """The session keyed by line; one written before stock lines (keyed by SKU, no
    location per count) is read as counts of each item's home line, in place."""
    if session.get("lines"):
        return session
    homes: dict[str, str] = {}
    expected: dict[str, Any] = {}
    for key, entry in session["expected"].items():
        home = str(entry.get("location") or "")
        homes[key] = home
        expected[line_key(entry["sku"], home, "")] = {**entry, "location": home, "lot": ""}
    counts: dict[str, Any] = {}
    for key, entry in session["counts"].items():
        home = homes.get(key, "")
        counts[line_key(entry["sku"], home, "")] = {
            **entry,
            "location": home,
            "lot": "",
            "legacy": True,  # apply: the item's only line, else its home line
        }
    session.update(expected=expected, counts=counts, lines=1)
    return session


def scope_of(session: dict[str, Any]) -> str:
    """How a session's scope reads: "at A1, Tools", or "all items"."""
    parts = []
    if session.get("location"):
        parts.append(f"at {session['location']}")
    if session.get("category"):
        parts.append(f"in {session['category']}")
    return ", ".join(parts) or "all items"


def summary_of(session: dict[str, Any]) -> dict[str, Any]:
    """A session without its per-line tables (`expected_items` and `counted_items` count
    lines: one per SKU, location and lot; `not_expected` the finds it did not list)."""
    summary = {
        key: value for key, value in session.items() if key not in ("expected", "counts", "lines")
    }
    summary["expected_items"] = len(session["expected"])
    listed = sum(1 for key in session["counts"] if key in session["expected"])
    summary["counted_items"] = listed
    summary["not_expected"] = len(session["counts"]) - listed
    summary["scope"] = scope_of(session)
    return summary


class Stocktake:
    """Count sessions of one store, shared by every operator and process using it."""

    def __init__(self, service: Ledger, store: SessionStore) -> None:
        self._service = service
        self._store = store

    # Reads ------------------------------------------------------------------------------------

    def version(self) -> Hashable:
        """Changes whenever a session or the stock changes, in this process or another."""
        return (self._store.version(), self._service.version())

    def sessions(self, *, include_closed: bool = False) -> list[dict[str, Any]]:
        """Session summaries, newest first; only open ones unless asked."""
        found = [
            summary_of(_by_line(session))
            for session in self._store.read()["sessions"].values()
            if include_closed or session["status"] == "open"
        ]
        found.sort(key=lambda s: int(s["id"]), reverse=True)
        return found

    def get(self, session_id: object) -> dict[str, Any]:
        """The whole session: summary fields, `expected` and `counts` by line key."""
        return _by_line(_find(self._store.read(), _session_id(session_id)))

    def variance(self, session_id: object) -> dict[str, Any]:
        """Expected, counted and difference per counted line (SKU, location, lot), and the
        lines still uncounted. A line counted where none was expected has `note`
        "not expected here"."""
        session = self.get(session_id)
        items = {item.key: item for item in self._service.list_items()}

        def now_on(entry: dict[str, Any]) -> int | None:
            item = items.get(sku_key(entry["sku"]))
            if item is None:
                return None
            if entry.get("legacy") and len(item.stock) <= 1:
                return item.quantity
            return _held(item, entry["location"], entry["lot"])

        rows, uncounted = [], []
        for key, expected in session["expected"].items():
            if key in session["counts"]:
                continue
            uncounted.append(
                {
                    "sku": expected["sku"],
                    "name": expected["name"],
                    "location": expected["location"],
                    "lot": expected["lot"],
                    "expected": expected["quantity"],
                    "current": now_on(expected),
                }
            )
        for key, count in session["counts"].items():
            expected = session["expected"].get(key)
            counted, held = count["counted"], count["on_hand"]
            row = {
                "sku": count["sku"],
                "name": expected["name"] if expected else count.get("name", ""),
                "location": count["location"],
                "lot": count["lot"],
                "expected": held,
                "counted": counted,
                "difference": counted - held,
                "current": now_on(count),
            }
            if expected is None:
                row["note"] = NOT_EXPECTED
            rows.append(row)
        order = _row_order
        rows.sort(key=order)
        uncounted.sort(key=order)
        differences = [row for row in rows if row["difference"]]
        found = sum(1 for row in rows if row.get("note"))  # counted, but not expected
        return {
            "session": summary_of(session),
            "rows": rows,
            "uncounted": uncounted,
            "totals": {
                "expected_items": len(session["expected"]),
                "counted": len(rows) - found,
                "uncounted": len(uncounted),
                "differences": len(differences),
                "net": sum(row["difference"] for row in rows),
                "not_expected": found,
            },
        }

    # Changes ----------------------------------------------------------------------------------

    def start(
        self,
        *,
        location: object = None,
        category: object = None,
        reason: object = None,
    ) -> dict[str, Any]:
        """Open a session over the stock lines at `location` (every item's lines there, and
        items whose home it is) and/or of the items in `category` (else every line)."""
        self._service.allow("count")
        where = clean_text("location", location, LABEL_MAX_LEN) or None
        group = clean_text("category", category, LABEL_MAX_LEN) or None
        why = clean_text("reason", reason, REASON_MAX_LEN) or None
        expected: dict[str, Any] = {}
        for item in self._service.list_items(category=group):
            for line in _lines_in_scope(item, where):
                expected[line_key(item.sku, line.location, line.lot)] = {
                    "sku": item.sku,
                    "name": item.name,
                    "location": line.location,
                    "lot": line.lot,
                    "quantity": expected.get(line_key(item.sku, line.location, line.lot), {}).get(
                        "quantity", 0
                    )
                    + line.quantity,
                }
        if not expected:
            scope = scope_of({"location": where, "category": group})
            raise ValidationError(
                "location" if where else "category" if group else "session",
                f"no items {scope} to count" if where or group else "the store has no items",
            )
        now = format_timestamp(self._service.now())
        user = self._service.user

        def create(data: dict[str, Any]) -> dict[str, Any]:
            number = int(data.get("next_id", 1))
            data["next_id"] = number + 1
            session = {
                "id": number,
                "status": "open",
                "created_at": now,
                "created_by": user,
                "location": where,
                "category": group,
                "reason": why or f"stocktake #{number}",
                "lines": 1,
                "expected": expected,
                "counts": {},
            }
            data["sessions"][str(number)] = session
            return session

        return summary_of(self._store.change(create))

    def record(
        self,
        session_id: object,
        code: object,
        quantity: object = 1,
        *,
        add: bool = False,
        location: object = None,
        lot: object = None,
    ) -> dict[str, Any]:
        """Set (or with `add`, add to) the counted figure of a line of the item a SKU or
        barcode names. The line is at `location` (default: the session's location, else
        the item's only line in the session) and of `lot` (default: the only lot expected
        there, else none).

        Returns {"sku", "name", "location", "lot", "counted", "expected", "session"}, with
        "note": "not expected here" for a line the session did not list.
        """
        self._service.allow("count")
        number = _session_id(session_id)
        amount = clean_int("quantity", quantity, minimum=None if add else 0)
        where = None if location is None else clean_location(location)
        batch = None if lot is None else clean_lot(lot)
        item = self._service.find_code(code)
        now = format_timestamp(self._service.now())
        user = self._service.user

        def count(data: dict[str, Any]) -> dict[str, Any]:
            session = _by_line(_open(data, number))
            place, kind = _which_line(session, item, where, batch)
            key = line_key(item.sku, place, kind)
            expected = session["expected"].get(key)
            entry = session["counts"].get(key)
            before = entry["counted"] if entry else 0
            counted = before + amount if add else amount
            what = item.sku if expected else f"{item.sku} at {place or '(no location)'}"
            if counted < 0:
                raise ValidationError("quantity", f"{what} would be counted {counted}, below zero")
            if add and counted == 0 and entry is None:
                raise ValidationError("quantity", f"{what} has not been counted yet")
            if expected is not None:
                place, kind = expected["location"], expected["lot"]  # the listed spelling
            held = _held(item, place, kind)
            if entry and entry.get("legacy") and len(item.stock) <= 1:
                held = item.quantity
            recorded = {
                "sku": item.sku,
                "location": place,
                "lot": kind,
                "counted": counted,
                "on_hand": held,
                "at": now,
                "by": user,
            }
            if expected is None:
                recorded["name"] = item.name
            elif entry and entry.get("legacy"):
                recorded["legacy"] = True
            session["counts"][key] = recorded
            result = {
                "session": int(number),
                "sku": item.sku,
                "name": item.name,
                "location": place,
                "lot": kind,
                "counted": counted,
                "expected": held,
            }
            if expected is None:
                result["note"] = NOT_EXPECTED
            return result

        return self._store.change(count)

    def forget(
        self, session_id: object, code: object, *, location: object = None, lot: object = None
    ) -> dict[str, Any]:
        """Drop a line's count, making it uncounted again (or gone, if not expected)."""
        self._service.allow("count")
        number = _session_id(session_id)
        where = None if location is None else clean_location(location)
        batch = None if lot is None else clean_lot(lot)
        item = self._service.find_code(code)

        def drop(data: dict[str, Any]) -> dict[str, Any]:
            session = _by_line(_open(data, number))
            place, kind = _which_line(session, item, where, batch)
            if session["counts"].pop(line_key(item.sku, place, kind), None) is None:
                raise ValidationError("sku", f"{item.sku} has no count in #{number}")
            return {"session": int(number), "sku": item.sku, "location": place, "lot": kind}

        return self._store.change(drop)

    def cancel(self, session_id: object) -> dict[str, Any]:
        """Close the session without changing any stock."""
        self._service.allow("count")
        number = _session_id(session_id)
        now = format_timestamp(self._service.now())

        def close(data: dict[str, Any]) -> dict[str, Any]:
            session = _by_line(_open(data, number))
            session.update(status="cancelled", closed_at=now, closed_by=self._service.user)
            return summary_of(session)

        return self._store.change(close)

    def apply(self, session_id: object) -> dict[str, Any]:
        """Turn every counted difference into a `count` movement on its line, all or nothing.

        Returns the session summary and the changes made: [{"sku", "location", "lot",
        "expected", "counted", "before", "after", "difference"}], where before and after
        are the line's quantities. Lines whose count matched are left alone.
        """
        self._service.allow("apply")
        number = _session_id(session_id)
        now = format_timestamp(self._service.now())

        # The session lock is held from plan to close, so two operators cannot both apply.
        # The plan is made and written in one data transaction: each difference lands on the
        # line as it is at commit, so a change another process made meanwhile is kept.
        # Should the process die after the stock commit but before the session is closed,
        # the next apply finds the movements it left and only closes the session.
        committed = False

        def run(data: dict[str, Any]) -> dict[str, Any]:
            nonlocal committed
            session = _by_line(_open(data, number))
            with self._service.batch():
                plan = self._applied_before(session)
                if plan is None:
                    plan, targets, problems = self._plan(session)
                    if problems:
                        raise ConflictError(
                            f"count #{number} was not applied, nothing changed: "
                            + "; ".join(problems)
                        )
                    for change, (place, kind) in zip(plan, targets, strict=True):
                        self._service.count(
                            change["sku"],
                            change["after"],
                            session["reason"],
                            location=place,
                            lot=kind,
                            details={"session": session["id"], **change},
                        )
            committed = True
            session.update(
                status="applied", applied=plan, closed_at=now, closed_by=self._service.user
            )
            return {"session": summary_of(session), "changes": plan}

        try:
            return self._store.change(run)
        except StorageError as exc:
            if not committed:
                raise
            # Not "nothing was changed": the stock was, and saying so keeps a retry safe.
            why = str(exc).removesuffix("; nothing was changed")
            raise StorageError(
                f"count #{number}: the stock changes were saved, but the session could not "
                f"be closed ({why}); apply it again to close it"
            ) from None

    # Helpers ----------------------------------------------------------------------------------

    def _plan(
        self, session: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], list[tuple[str | None, str | None]], list[str]]:
        """The changes to make, where `count` should make each (location, lot; None for
        the item's only line), and why the apply cannot go ahead."""
        plan: list[dict[str, Any]] = []
        targets: list[tuple[str | None, str | None]] = []
        problems: list[str] = []
        for count in sorted(session["counts"].values(), key=_row_order):
            expected = count["on_hand"]
            difference = count["counted"] - expected
            if difference == 0:
                continue
            item: InventoryItem | None
            try:
                item = self._service.get(count["sku"])
            except NotFoundError:
                item = None
            if item is None:
                problems.append(f"{count['sku']} was deleted after the count started")
                continue
            place, kind = str(count["location"]), str(count["lot"])
            target: tuple[str | None, str | None] = (place, kind or None)
            if count.get("legacy") and len(item.stock) <= 1:
                before, target = item.quantity, (None, None)
            else:
                before = _held(item, place, kind)
                if not kind and _held(item, place, None) != before:
                    problems.append(
                        f"{item.sku} at {place or '(no location)'}: the stock without a lot "
                        "cannot be told apart from the lots there; count it by lot"
                    )
                    continue
            after = before + difference
            if after < 0:
                problems.append(
                    f"{item.sku}: {before} on hand now at {_where(place, kind)}, "
                    f"a difference of {difference} would go below zero"
                    if len(item.stock) > 1 or count.get("note")
                    else f"{item.sku}: {before} on hand now, a difference of {difference} "
                    "would go below zero"
                )
                continue
            plan.append(
                {
                    "sku": item.sku,
                    "location": place,
                    "lot": kind,
                    "expected": expected,
                    "counted": count["counted"],
                    "before": before,
                    "after": after,
                    "difference": difference,
                }
            )
            targets.append(target)
        return plan, targets, problems

    def _applied_before(self, session: dict[str, Any]) -> list[dict[str, Any]] | None:
        """The changes an earlier apply of this session committed, or None if it made none.

        One apply commits all its movements at once, and each names the session: if any
        counted item's history holds one, the session was applied, whatever was recounted
        since (a later count on another item must not apply the session twice). History
        outlives a deletion.
        """
        number = session["id"]
        skus = {sku_key(count["sku"]): count["sku"] for count in session["counts"].values()}
        applied = [
            m
            for sku in skus.values()
            for m in self._service.history(sku)
            if m.details.get("session") == number
        ]
        if not applied:
            return None
        applied.sort(key=lambda m: m.id or 0)  # the order the apply wrote them
        return [
            {key: value for key, value in m.details.items() if key not in ("session", "lines")}
            for m in applied
        ]


def _lines_in_scope(item: InventoryItem, where: str | None) -> list[StockLine]:
    """The lines of the item a session over `where` (None: everywhere) expects; an item
    with no stock at all is expected at 0 at its home."""
    if not any(line.quantity > 0 for line in item.stock):
        at_home = where is None or location_key(item.location) == location_key(where)
        return [StockLine(item.location, 0)] if at_home else []
    key = None if where is None else location_key(where)
    return [
        line
        for line in item.stock
        if line.quantity > 0 and (key is None or location_key(line.location) == key)
    ]


def _which_line(
    session: dict[str, Any], item: InventoryItem, where: str | None, lot: str | None
) -> tuple[str, str]:
    """The (location, lot) a count of `item` is for: given, else the session's location,
    else the item's only line in the session; refused when that is ambiguous."""
    mine = [e for e in session["expected"].values() if sku_key(e["sku"]) == item.key]
    scope = session.get("location")
    if where is not None and scope and location_key(where) != location_key(scope):
        raise ValidationError(
            "location", f"count #{session['id']} is {scope_of(session)}, not at {where}"
        )
    if (
        session.get("category")
        and str(item.category).casefold() != str(session["category"]).casefold()
    ):
        raise ValidationError(
            "sku", f"{item.sku} is not in count #{session['id']} ({scope_of(session)})"
        )
    if where is None and scope:
        where = str(scope)
    if where is None:
        places = {location_key(e["location"]): e["location"] for e in mine}
        if len(places) > 1:
            raise ValidationError(
                "location",
                f"{item.sku} is expected at {len(places)} places in count #{session['id']} "
                f"({', '.join(sorted(places.values(), key=location_key))}): give the location",
            )
        where = next(iter(places.values()), item.location)
    here = [e for e in mine if location_key(e["location"]) == location_key(where)]
    if lot is None:
        lots = {e["lot"].casefold(): e["lot"] for e in here}
        if len(lots) > 1:
            shown_lots = ", ".join(sorted(v or "(no lot)" for v in lots.values()))
            raise ValidationError(
                "lot",
                f"{item.sku} is expected in {len(lots)} lots at {where} ({shown_lots}): "
                "give the lot",
            )
        lot = next(iter(lots.values()), "")
    for entry in here:  # the spelling the session listed
        if entry["lot"].casefold() == lot.casefold():
            return entry["location"], entry["lot"]
    return where, lot


def _where(location: str, lot: str) -> str:
    return (location or "(no location)") + (f" lot {lot}" if lot else "")


def _row_order(row: dict[str, Any]) -> tuple[str, str, str]:
    return (sku_key(row["sku"]), location_key(row["location"]), row["lot"].casefold())


def _find(data: dict[str, Any], number: str) -> dict[str, Any]:
    session = data["sessions"].get(number)
    if session is None:
        raise NotFoundError(f"session: no count session #{number}")
    found: dict[str, Any] = session
    return found


def _closed(session: dict[str, Any]) -> ValidationError:
    when = str(session.get("closed_at", ""))[:16].replace("T", " ")
    return ValidationError(
        "session", f"count #{session['id']} was {session['status']} {when}; start a new one"
    )


def _open(data: dict[str, Any], number: str) -> dict[str, Any]:
    session = _find(data, number)
    if session["status"] != "open":
        raise _closed(session)
    return session
