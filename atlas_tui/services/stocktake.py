"""Count sessions (stocktakes): expected figures, counts in any order, variance, apply.

A session snapshots the items in its scope when it starts. Counts are kept in the
session, not in the stock, until `apply` turns each difference into a `count` movement.
A count is compared with what the system held when it was recorded, and stock that
moves after that is respected: apply adds the difference found to the quantity the item
holds when the apply commits, so a pick made between counting and applying (or while the
apply waits for the lock) is not undone.
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
from atlas_tui.storage.base import SessionStore


class Ledger(Protocol):
    """What a stocktake needs of the inventory: reads, the clock, the user, and counts."""

    user: str

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
        details: dict[str, Any] | None = None,
    ) -> InventoryItem: ...


def _session_id(value: object) -> str:
    text = str(value).strip().lstrip("#")
    if not (text.isascii() and text.isdigit()):
        raise ValidationError("session", f"must be a session number such as 3, got {shown(value)}")
    return str(int(text))


def scope_of(session: dict[str, Any]) -> str:
    """How a session's scope reads: "at A1, Tools", or "all items"."""
    parts = []
    if session.get("location"):
        parts.append(f"at {session['location']}")
    if session.get("category"):
        parts.append(f"in {session['category']}")
    return ", ".join(parts) or "all items"


def summary_of(session: dict[str, Any]) -> dict[str, Any]:
    """A session without its per-item tables."""
    summary = {key: value for key, value in session.items() if key not in ("expected", "counts")}
    summary["expected_items"] = len(session["expected"])
    summary["counted_items"] = len(session["counts"])
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
            summary_of(session)
            for session in self._store.read()["sessions"].values()
            if include_closed or session["status"] == "open"
        ]
        found.sort(key=lambda s: int(s["id"]), reverse=True)
        return found

    def get(self, session_id: object) -> dict[str, Any]:
        """The whole session: summary fields, `expected` and `counts` by SKU key."""
        return _find(self._store.read(), _session_id(session_id))

    def variance(self, session_id: object) -> dict[str, Any]:
        """Expected, counted and difference per counted SKU, and what is still uncounted."""
        session = self.get(session_id)
        current = {item.key: item.quantity for item in self._service.list_items()}
        rows, uncounted = [], []
        for key, expected in session["expected"].items():
            count = session["counts"].get(key)
            base = {
                "sku": expected["sku"],
                "name": expected["name"],
                "expected": expected["quantity"],
                "current": current.get(key),
            }
            if count is None:
                uncounted.append(base)
            else:
                counted, held = count["counted"], count["on_hand"]
                rows.append(
                    {**base, "expected": held, "counted": counted, "difference": counted - held}
                )
        rows.sort(key=lambda row: sku_key(row["sku"]))
        uncounted.sort(key=lambda row: sku_key(row["sku"]))
        differences = [row for row in rows if row["difference"]]
        return {
            "session": summary_of(session),
            "rows": rows,
            "uncounted": uncounted,
            "totals": {
                "expected_items": len(session["expected"]),
                "counted": len(rows),
                "uncounted": len(uncounted),
                "differences": len(differences),
                "net": sum(row["difference"] for row in rows),
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
        """Open a session over the items at `location` and/or in `category` (else all)."""
        where = clean_text("location", location, LABEL_MAX_LEN) or None
        group = clean_text("category", category, LABEL_MAX_LEN) or None
        why = clean_text("reason", reason, REASON_MAX_LEN) or None
        items = self._service.list_items(location=where, category=group)
        if not items:
            scope = scope_of({"location": where, "category": group})
            raise ValidationError(
                "location" if where else "category" if group else "session",
                f"no items {scope} to count" if where or group else "the store has no items",
            )
        expected = {
            item.key: {
                "sku": item.sku,
                "name": item.name,
                "location": item.location,
                "quantity": item.quantity,
            }
            for item in items
        }
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
                "expected": expected,
                "counts": {},
            }
            data["sessions"][str(number)] = session
            return session

        return summary_of(self._store.change(create))

    def record(
        self, session_id: object, code: object, quantity: object = 1, *, add: bool = False
    ) -> dict[str, Any]:
        """Set (or with `add`, add to) the counted figure of the item a SKU or barcode names.

        Returns {"sku", "name", "counted", "expected", "session"}.
        """
        number = _session_id(session_id)
        amount = clean_int("quantity", quantity, minimum=None if add else 0)
        item = self._service.find_code(code)
        now = format_timestamp(self._service.now())
        user = self._service.user

        def count(data: dict[str, Any]) -> dict[str, Any]:
            session = _open(data, number)
            expected = session["expected"].get(item.key)
            if expected is None:
                raise ValidationError(
                    "sku", f"{item.sku} is not in count #{number} ({scope_of(session)})"
                )
            entry = session["counts"].get(item.key)
            before = entry["counted"] if entry else 0
            counted = before + amount if add else amount
            if counted < 0:
                raise ValidationError(
                    "quantity", f"{item.sku} would be counted {counted}, below zero"
                )
            if add and counted == 0 and entry is None:
                raise ValidationError("quantity", f"{item.sku} has not been counted yet")
            session["counts"][item.key] = {
                "sku": item.sku,
                "counted": counted,
                "on_hand": item.quantity,
                "at": now,
                "by": user,
            }
            return {
                "session": int(number),
                "sku": item.sku,
                "name": item.name,
                "counted": counted,
                "expected": item.quantity,
            }

        return self._store.change(count)

    def forget(self, session_id: object, code: object) -> dict[str, Any]:
        """Drop an item's count, making it uncounted again."""
        number = _session_id(session_id)
        item = self._service.find_code(code)

        def drop(data: dict[str, Any]) -> dict[str, Any]:
            session = _open(data, number)
            if session["counts"].pop(item.key, None) is None:
                raise ValidationError("sku", f"{item.sku} has no count in #{number}")
            return {"session": int(number), "sku": item.sku}

        return self._store.change(drop)

    def cancel(self, session_id: object) -> dict[str, Any]:
        """Close the session without changing any stock."""
        number = _session_id(session_id)
        now = format_timestamp(self._service.now())

        def close(data: dict[str, Any]) -> dict[str, Any]:
            session = _open(data, number)
            session.update(status="cancelled", closed_at=now, closed_by=self._service.user)
            return summary_of(session)

        return self._store.change(close)

    def apply(self, session_id: object) -> dict[str, Any]:
        """Turn every counted difference into a `count` movement, all or nothing.

        Returns the session summary and the changes made: [{"sku", "before", "after",
        "difference"}]. Items whose count matched are left alone.
        """
        number = _session_id(session_id)
        now = format_timestamp(self._service.now())

        # The session lock is held from plan to close, so two operators cannot both apply.
        # The plan is made and written in one data transaction: each difference lands on the
        # stock as it is at commit, so a change another process made meanwhile is kept.
        # Should the process die after the stock commit but before the session is closed,
        # the next apply finds the movements it left and only closes the session.
        committed = False

        def run(data: dict[str, Any]) -> dict[str, Any]:
            nonlocal committed
            session = _open(data, number)
            with self._service.batch():
                plan = self._applied_before(session)
                if plan is None:
                    plan, problems = self._plan(session)
                    if problems:
                        raise ConflictError(
                            f"count #{number} was not applied, nothing changed: "
                            + "; ".join(problems)
                        )
                    for change in plan:
                        self._service.count(
                            change["sku"],
                            change["after"],
                            session["reason"],
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

    def _plan(self, session: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
        plan: list[dict[str, Any]] = []
        problems: list[str] = []
        for _key, count in sorted(session["counts"].items()):
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
            after = item.quantity + difference
            if after < 0:
                problems.append(
                    f"{item.sku}: {item.quantity} on hand now, a difference of {difference} "
                    "would go below zero"
                )
                continue
            plan.append(
                {
                    "sku": item.sku,
                    "expected": expected,
                    "counted": count["counted"],
                    "before": item.quantity,
                    "after": after,
                    "difference": difference,
                }
            )
        return plan, problems

    def _applied_before(self, session: dict[str, Any]) -> list[dict[str, Any]] | None:
        """The changes an earlier apply of this session committed, or None if it made none.

        One apply commits all its movements at once, and each names the session: if any
        counted item's history holds one, the session was applied, whatever was recounted
        since (a later count on another item must not apply the session twice). History
        outlives a deletion.
        """
        number = session["id"]
        applied = [
            m
            for count in session["counts"].values()
            for m in self._service.history(count["sku"])
            if m.details.get("session") == number
        ]
        if not applied:
            return None
        applied.sort(key=lambda m: m.id or 0)  # the order the apply wrote them
        return [
            {key: value for key, value in m.details.items() if key not in ("session", "lines")}
            for m in applied
        ]


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
