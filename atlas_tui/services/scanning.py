"""Scan mode's rules: what one scanned (or typed) entry does, a running tally, undo.

Barcode scanners type like a keyboard and end with Enter, so an entry is one line of
text. It is looked up as a SKU (any case), else as an item's `barcode` attribute. A
quantity may come first: `12*CODE` (or `12x`), or `12` on its own line when no
item has that code, applies the next scan twelve times.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Literal

from atlas_tui.domain.errors import AtlasError, NotFoundError
from atlas_tui.domain.models import InventoryItem
from atlas_tui.services.inventory import InventoryService

ScanAction = Literal["receive", "pick", "count", "move"]
ACTIONS: Final[tuple[ScanAction, ...]] = ("receive", "pick", "count", "move")
# Six digits at most: a longer number is a barcode, never a quantity someone typed.
QUANTITY = re.compile(r"^(\d{1,6})\s*[*xX\u00d7]\s*(.*)$")  # * x X or the times sign
BARE_QUANTITY = re.compile(r"^\d{1,6}$")


@dataclass
class Outcome:
    """What an entry did, for the screen to show (and ring the bell when not `ok`)."""

    ok: bool
    message: str
    sku: str | None = None
    unknown: str | None = None
    """A code no item has: the screen offers to create it."""


@dataclass
class Tally:
    """What scan mode did to one item."""

    sku: str
    name: str
    received: int = 0
    picked: int = 0
    counted: int = 0
    moved_to: str = ""
    quantity: int | None = None


@dataclass
class _Step:
    key: str
    undo: Callable[[], str]
    tally: Callable[[Tally], None]


@dataclass
class ScanSession:
    """One operator's scanning: the current action, a pending quantity, the tally."""

    service: InventoryService
    action: ScanAction = "receive"
    count_session: int | None = None
    target: str | None = None
    pending: int | None = None
    tally: dict[str, Tally] = field(default_factory=dict)
    _steps: list[_Step] = field(default_factory=list)

    def choose(self, action: ScanAction) -> str:
        """Switch the action; choosing move again forgets the location scanned for it."""
        self.action = action
        if action == "move":
            self.target = None
            return "move: scan the location first, then the items to put there"
        if action == "count":
            return f"count: each scan adds to the tally of {self._count_label()}"
        return f"{action}: each scan {'adds' if action == 'receive' else 'takes'} one"

    def _count_label(self) -> str:
        return f"count #{self.count_session}" if self.count_session else "a new count session"

    def enter(self, entry: str) -> Outcome:
        """Apply one scanned or typed line."""
        text = entry.strip()
        if not text:
            return Outcome(True, "")
        item = self._lookup(text)
        if isinstance(item, Outcome):
            return item
        if item is None:
            quantity = self._quantity_prefix(text)
            if quantity is not None:
                return quantity
            if self.action == "move":
                return self._location(text)
            return Outcome(False, f"unknown code {text!r}: nothing changed", unknown=text)
        return self._apply(item)

    def _lookup(self, code: str) -> InventoryItem | Outcome | None:
        try:
            return self.service.find_code(code)
        except NotFoundError:
            return None
        except AtlasError as error:
            return Outcome(False, str(error))

    def _quantity_prefix(self, text: str) -> Outcome | None:
        if BARE_QUANTITY.match(text):
            self.pending = int(text)
            return Outcome(True, f"x{self.pending} for the next scan")
        match = QUANTITY.match(text)
        if match is None:
            return None
        self.pending = int(match.group(1))
        code = match.group(2).strip()
        if not code:
            return Outcome(True, f"x{self.pending} for the next scan")
        item = self._lookup(code)
        if isinstance(item, Outcome):
            self.pending = None
            return item
        if item is None:
            self.pending = None
            return Outcome(False, f"unknown code {code!r}: nothing changed", unknown=code)
        return self._apply(item)

    def _location(self, text: str) -> Outcome:
        known = {place.casefold(): place for place in self.service.locations()}
        if self.target is None or text.casefold() in known:
            self.target = known.get(text.casefold(), text)
            return Outcome(True, f"moving to {self.target}: scan the items")
        return Outcome(
            False,
            f"unknown code {text!r}: no item or location has it (press F5 to choose a new "
            "location)",
            unknown=text,
        )

    def _apply(self, item: InventoryItem) -> Outcome:
        quantity, self.pending = self.pending or 1, None
        try:
            if self.action == "receive":
                return self._adjust(item, quantity)
            if self.action == "pick":
                return self._adjust(item, -quantity)
            if self.action == "count":
                return self._count(item, quantity)
            return self._move(item, quantity)
        except AtlasError as error:
            return Outcome(False, str(error), sku=item.sku)

    def _adjust(self, item: InventoryItem, delta: int) -> Outcome:
        verb = "receive" if delta > 0 else "pick"
        changed = self.service.adjust(item.sku, delta, f"scan: {verb}")
        reason = _undo_reason(self.service, "adjust")

        def undo() -> str:
            back = self.service.adjust(item.sku, -delta, reason)
            return f"undone: {verb} of {abs(delta)} {item.sku}, now {back.quantity}"

        def count(line: Tally) -> None:
            if delta > 0:
                line.received -= delta
            else:
                line.picked += delta

        line = self._line(changed)
        if delta > 0:
            line.received += delta
        else:
            line.picked -= delta
        self._steps.append(_Step(changed.key, undo, count))
        sign = "+" if delta > 0 else "-"
        return Outcome(True, f"{changed.sku} {sign}{abs(delta)} → {changed.quantity}", changed.sku)

    def _count(self, item: InventoryItem, quantity: int) -> Outcome:
        take = self.service.stocktake
        started = ""
        if self.count_session is None:
            newest = take.sessions()
            if newest:
                self.count_session = int(newest[0]["id"])
            else:
                self.count_session = int(take.start(reason="scan count")["id"])
                started = f" (started count #{self.count_session} over all items)"
        session = self.count_session
        counted = take.record(session, item.sku, quantity, add=True)

        def undo() -> str:
            after = take.record(session, item.sku, -quantity, add=True)
            return f"undone: count of {quantity} {item.sku}, tally {after['counted']}"

        def uncount(line: Tally) -> None:
            line.counted -= quantity

        self._line(item).counted += quantity
        self._steps.append(_Step(item.key, undo, uncount))
        return Outcome(
            True,
            f"{item.sku} counted {counted['counted']} (system holds {counted['expected']})"
            + started,
            item.sku,
        )

    def _move(self, item: InventoryItem, quantity: int) -> Outcome:
        if self.target is None:
            return Outcome(False, "scan the location to move to first", sku=item.sku)
        note = " (a quantity does not apply to moves)" if quantity != 1 else ""
        origin = item.location
        moved = self.service.move(item.sku, self.target, "scan: move")
        reason = _undo_reason(self.service, "move")

        def undo() -> str:
            back = self.service.move(item.sku, origin, reason)
            return f"undone: {item.sku} back at {back.location}"

        def unmove(line: Tally) -> None:
            line.moved_to = ""

        self._line(moved).moved_to = moved.location
        self._steps.append(_Step(moved.key, undo, unmove))
        return Outcome(
            True, f"{moved.sku} moved {origin or '—'} → {moved.location}{note}", moved.sku
        )

    def _line(self, item: InventoryItem) -> Tally:
        line = self.tally.setdefault(item.key, Tally(item.sku, item.name))
        line.quantity = item.quantity
        return line

    def can_undo(self) -> bool:
        """Whether a scan of this session is left to take back."""
        return bool(self._steps)

    def undo(self) -> Outcome:
        """Take back the last scan (recorded as a new movement, or a lower tally)."""
        if not self._steps:
            return Outcome(False, "nothing to undo in this scan session")
        step = self._steps[-1]
        try:
            message = step.undo()
        except AtlasError as error:
            return Outcome(False, f"not undone: {error}")
        self._steps.pop()
        line = self.tally[step.key]
        step.tally(line)
        try:
            line.quantity = self.service.get(line.sku).quantity
        except AtlasError:
            line.quantity = None
        if not (line.received or line.picked or line.counted or line.moved_to):
            del self.tally[step.key]
        return Outcome(True, message, line.sku)

    def summary(self) -> str:
        """What the session did, in one line ("" when nothing)."""
        lines = self.tally.values()
        parts = []
        received = [line.received for line in lines if line.received]
        if received:
            parts.append(f"received {sum(received)} of {_items(len(received))}")
        picked = [line.picked for line in lines if line.picked]
        if picked:
            parts.append(f"picked {sum(picked)} of {_items(len(picked))}")
        counted = [line.counted for line in lines if line.counted]
        if counted:
            parts.append(f"counted {_items(len(counted))} into count #{self.count_session}")
        moved = [line for line in lines if line.moved_to]
        if moved:
            parts.append(f"moved {_items(len(moved))}")
        return "; ".join(parts)


def _undo_reason(service: InventoryService, kind: str) -> str:
    """The reason `undo_last` would give, so reports see the undo for what it is."""
    last = service.last_change()
    return f"undo of #{last.id} ({kind})" if last is not None else f"undo of scan ({kind})"


def _items(count: int) -> str:
    return f"{count} item" if count == 1 else f"{count} items"
