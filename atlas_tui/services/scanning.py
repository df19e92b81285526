"""Scan mode's rules: what one scanned (or typed) entry does, a running tally, undo.

Barcode scanners type like a keyboard and end with Enter, so an entry is one line of
text. A known location's code (a recorded location, a home, or a place holding stock)
sets the current location: receive puts stock there, pick and count take it from there,
move sends items there, and transfer takes it as the source, then the destination.
Any other code is looked up as a SKU (any case), else as a barcode: a pack's barcode
stands for its pack size. A code that is both a location and an item's SKU is the
location; `1*CODE` (or the item's barcode) scans the item. A quantity may come first:
`12*CODE` (or `12x`), or `12` on its own line when no item has that code, applies the
next scan twelve times.

A command code (`*PICK*`, by default the word between asterisks, any case) switches the
action, undoes or ends scanning instead, and changes no stock; so does the word alone
(`pick`) when no location or item has that code. `1**PICK*` scans an item whose SKU
really is `*PICK*`. How command codes look, and what a scanner adds around every code,
is a `ScanCodes`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal, get_args

from atlas_tui.config import ScannerSettings, Settings
from atlas_tui.domain.errors import AtlasError, NotFoundError, ValidationError
from atlas_tui.domain.models import InventoryItem, parse_timestamp
from atlas_tui.domain.stock import location_key, where_stock_is
from atlas_tui.preferences import PreferencesError
from atlas_tui.services.inventory import InventoryService
from atlas_tui.services.stocktake import scope_of, summary_of

ScanAction = Literal["receive", "pick", "count", "move", "transfer"]
ACTIONS: Final[tuple[ScanAction, ...]] = ("receive", "pick", "count", "move", "transfer")
# Six digits at most: a longer number is a barcode, never a quantity someone typed.
QUANTITY = re.compile(r"^(\d{1,6})\s*[*xX\u00d7]\s*(.*)$")  # * x X or the times sign
BARE_QUANTITY = re.compile(r"^\d{1,6}$")

Command = Literal["receive", "pick", "count", "move", "transfer", "undo", "done"]
COMMANDS: Final[dict[Command, str]] = {
    "receive": "receive: each scan adds one at the current location",
    "pick": "pick: each scan takes one from the current location",
    "count": "count: each scan adds one to a count session's tally",
    "move": "move: the items scanned go to the current location",
    "transfer": "transfer: scan the source, the items, then the destination",
    "undo": "undo: take back the last scan",
    "done": "done: leave scan mode",
}
assert set(COMMANDS) == set(get_args(Command))
_AFFIX_MAX = 8


@dataclass(frozen=True)
class ScanCodes:
    """How command barcodes look, and what a scanner adds around every code.

    A command code is `command_prefix + WORD + command_suffix` (WORD any case: `*PICK*`
    by default); at least one of the two must be set, so a plain word is never a command
    code. `scanner_prefix`/`scanner_suffix` are characters some scanners send before and
    after every code: they are stripped from each entry that has them. Each is printable
    ASCII without spaces (Code 128 prints it), at most 8 characters.
    """

    command_prefix: str = "*"
    command_suffix: str = "*"
    scanner_prefix: str = ""
    scanner_suffix: str = ""

    def __post_init__(self) -> None:
        for name in ("command_prefix", "command_suffix", "scanner_prefix", "scanner_suffix"):
            value = getattr(self, name)
            if not isinstance(value, str) or len(value) > _AFFIX_MAX:
                raise ValidationError(name, f"must be text of at most {_AFFIX_MAX} characters")
            if any(not ("!" <= ch <= "~") for ch in value):
                raise ValidationError(
                    name, f"must be printable ASCII without spaces, got {value!r}"
                )
        if not (self.command_prefix or self.command_suffix):
            raise ValidationError(
                "command_prefix", "a command prefix or suffix is needed, or every word is a command"
            )

    @classmethod
    def of(cls, scanner: ScannerSettings) -> ScanCodes:
        """The codes the preferences' [scanner] table describes."""
        return cls(scanner.command_prefix, scanner.command_suffix, scanner.prefix, scanner.suffix)

    def strip(self, entry: str) -> str:
        """The entry without the scanner's prefix and suffix (when it has them)."""
        text = entry.strip()
        if self.scanner_prefix and text.startswith(self.scanner_prefix):
            text = text[len(self.scanner_prefix) :]
        if self.scanner_suffix and text.endswith(self.scanner_suffix):
            text = text[: -len(self.scanner_suffix)]
        return text.strip()

    def command(self, text: str) -> Command | None:
        """The command a (stripped) entry is the code of, or None."""
        before, after = self.command_prefix, self.command_suffix
        if len(text) <= len(before) + len(after):
            return None
        if not (text.startswith(before) and text.endswith(after)):
            return None
        return _command_word(text[len(before) : len(text) - len(after)])

    def code(self, command: Command) -> str:
        """The code to print for `command` (what a scanner reads, without its own affixes)."""
        return f"{self.command_prefix}{command.upper()}{self.command_suffix}"


def codes_from(settings: Settings) -> ScanCodes:
    """The codes the preferences' [scanner] table describes; a value scan mode cannot use is
    a PreferencesError naming the file's line and key."""
    try:
        return ScanCodes.of(settings.scanner)
    except ValidationError as error:
        key = "scanner." + error.field.removeprefix("scanner_")
        prefs = settings.preferences
        where = prefs.where(*prefs.key_path(settings.profile, key)) if prefs else key
        raise PreferencesError(f"{where}: {error.problem}") from None


def _command_word(word: str) -> Command | None:
    folded = word.strip().casefold()
    for command in COMMANDS:
        if command == folded:
            return command
    return None


@dataclass
class Outcome:
    """What an entry did, for the screen to show (and ring the bell when not `ok`)."""

    ok: bool
    message: str
    sku: str | None = None
    unknown: str | None = None
    """A code no item has: the screen offers to create it."""
    command: Command | None = None
    """A command code (or word) was entered: the screen carries it out, like its key."""


@dataclass
class Tally:
    """What scan mode did to one item."""

    sku: str
    name: str
    received: int = 0
    picked: int = 0
    counted: int = 0
    moved_to: str = ""
    transferred: int = 0
    quantity: int | None = None


@dataclass
class _Step:
    key: str
    undo: Callable[[], str]
    tally: Callable[[Tally], None]
    waiting: bool = False
    """An item scanned for a transfer not yet made: no stock changed."""


@dataclass
class _Done:
    """The movements one scan made, so its undo takes back exactly those: the id of the
    last, and (SKU key, kind) of each in the order they were made."""

    last_id: int | None
    made: list[tuple[str, str]]


@dataclass
class Waiting:
    """An item scanned for a transfer, moved when the destination is scanned."""

    sku: str
    name: str
    units: int


class KnownPlaces:
    """Which codes are locations: recorded ones (not retired), and any place holding stock
    or an item's home. Read once, then kept up to date from the items changed since (a
    scan must not read a big store again each time)."""

    def __init__(self, service: InventoryService) -> None:
        self.service = service
        self._places: tuple[Hashable, dict[str, str]] | None = None

    def named(self, code: str) -> str | None:
        """The location `code` names (its recorded spelling), or None."""
        key = location_key(code)
        if not key:
            return None
        for place in self.service.repository.locations():
            if place.key == key and not place.retired:
                return place.code
        return self._held().get(key)

    def _held(self) -> dict[str, str]:
        mark = self.service.history_mark()
        if self._places is not None:
            changed = self.service.changed_since(self._places[0])
            if changed is not None:
                kept = self._places[1]
                for sku in changed:
                    try:
                        _add_places(kept, self.service.get(sku))
                    except NotFoundError:
                        continue  # deleted: its places may stay known, which is harmless
                self._places = (mark, kept)
                return kept
        places: dict[str, str] = {}
        for item in self.service.list_items():
            _add_places(places, item)
        self._places = (mark, places)
        return places


@dataclass
class ScanSession:
    """One operator's scanning: the action, the current location, a pending quantity,
    the items waiting for a transfer's destination, and the tally."""

    service: InventoryService
    action: ScanAction = "receive"
    count_session: int | None = None
    """The count session counts go into; None until the operator chooses or starts one."""
    codes: ScanCodes = field(default_factory=ScanCodes)
    location: str | None = None
    pending: int | None = None
    source: str | None = None
    """Where a transfer takes from (set by the first location scanned in transfer)."""
    waiting: list[Waiting] = field(default_factory=list)
    tally: dict[str, Tally] = field(default_factory=dict)
    _steps: list[_Step] = field(default_factory=list)
    _places: KnownPlaces | None = None

    @property
    def target(self) -> str | None:
        """Where move sends the items scanned (the current location)."""
        return self.location

    def choose(self, action: ScanAction) -> str:
        """Switch the action; the current location stays. A transfer whose items are
        waiting is dropped (nothing was moved yet)."""
        dropped = ""
        if self.waiting and action != "transfer":
            dropped = f" (the transfer of {_items(len(self.waiting))} was dropped)"
            self.waiting.clear()
        if action != "transfer":
            self.source = None
        self.action = action
        here = self.location
        if action == "move":
            text = (
                f"move: items scanned go to {here} (scan another location to switch)"
                if here
                else "move: scan the location first, then the items to put there"
            )
        elif action == "transfer":
            if self.source is None and here:
                self.source = here
            text = (
                f"transfer from {self.source}: scan the items, then the destination"
                if self.source
                else "transfer: scan the source location, the items, then the destination"
            )
        elif action == "count":
            at = f" at {here}" if here else ""
            text = f"count: each scan adds to the tally of {self._count_label()}{at}"
        else:
            verb = "adds" if action == "receive" else "takes"
            at = f" {'at' if action == 'receive' else 'from'} {here}" if here else ""
            text = f"{action}: each scan {verb} one{at}"
        return text + dropped

    def _count_label(self) -> str:
        return f"count #{self.count_session}" if self.count_session else "no count session yet"

    # Count sessions ---------------------------------------------------------------------------

    def open_counts(self) -> list[dict[str, Any]]:
        """The open count sessions to count into, newest first, each with its `scope`."""
        return self.service.stocktake.sessions()

    def start_count_here(self) -> str:
        """Open a count session over the current location and count into it."""
        if self.location is None:
            raise ValidationError(
                "location", "scan a location first: a new count covers the current location"
            )
        started = self.service.stocktake.start(
            location=self.location, reason=f"scan count at {self.location}"
        )
        self.count_session = int(started["id"])
        return f"started count #{self.count_session} {started['scope']}"

    def count_status(self) -> str:
        """The count session in use: its number, scope and how far counting has got."""
        if self.count_session is None:
            return "no count session chosen"
        try:
            found = summary_of(self.service.stocktake.get(self.count_session))
        except AtlasError as error:
            return f"count #{self.count_session}: {error}"
        status = "" if found["status"] == "open" else f" ({found['status']})"
        extra = f", {found['not_expected']} not expected" if found["not_expected"] else ""
        return (
            f"count #{found['id']} {scope_of(found)}{status}: "
            f"{found['counted_items']} of {found['expected_items']} lines counted{extra}"
        )

    # Entries ----------------------------------------------------------------------------------

    def enter(self, entry: str) -> Outcome:
        """Apply one scanned or typed line (a command code only says which command)."""
        text = self.codes.strip(entry)
        if not text:
            return Outcome(True, "")
        command = self.codes.command(text)
        if command is not None:
            return Outcome(True, "", command=command)
        place = self.known_location(text)
        if place is not None:
            return self._at(place)
        found = self._lookup(text)
        if isinstance(found, Outcome):
            return found
        if found is None:
            command = _command_word(text)
            if command is not None:  # the word alone, when no item has that code
                return Outcome(True, "", command=command)
            quantity = self._quantity_prefix(text)
            if quantity is not None:
                return quantity
            if self.action == "move" and self.location is None:
                self.location = text  # a new location: move may create it
                return Outcome(True, f"moving to {text}: scan the items")
            return Outcome(False, f"unknown code {text!r}: nothing changed", unknown=text)
        return self._apply(*found)

    def known_location(self, code: str) -> str | None:
        """The location a code names (its recorded spelling), or None."""
        if self._places is None:
            self._places = KnownPlaces(self.service)
        return self._places.named(code)

    def _lookup(self, code: str) -> tuple[InventoryItem, int] | Outcome | None:
        try:
            return self.service.scan_code(code)
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
        found = self._lookup(code)
        if isinstance(found, Outcome):
            self.pending = None
            return found
        if found is None:
            self.pending = None
            return Outcome(False, f"unknown code {code!r}: nothing changed", unknown=code)
        return self._apply(*found)

    def _at(self, place: str) -> Outcome:
        """A location was scanned: the current location, or a transfer's destination."""
        if self.action == "transfer":
            if self.waiting and self.source is not None:
                return self._transfer_to(place)
            self.source = self.location = place
            return Outcome(True, f"transfer from {place}: scan the items, then the destination")
        self.location = place
        if self.action == "move":
            return Outcome(True, f"moving to {place}: scan the items")
        if self.action == "count":
            return Outcome(True, f"counting at {place}: scan the items")
        if self.action == "pick":
            return Outcome(True, f"picking from {place}: scan the items")
        return Outcome(True, f"receiving into {place}: scan the items")

    def _apply(self, item: InventoryItem, pack: int) -> Outcome:
        units, self.pending = (self.pending or 1) * pack, None
        note = f" (a pack of {pack})" if pack != 1 else ""
        try:
            if self.action == "receive":
                return self._stock(item, units, note)
            if self.action == "pick":
                return self._stock(item, -units, note)
            if self.action == "count":
                return self._count(item, units)
            if self.action == "transfer":
                return self._wait(item, units, note)
            return self._move(item, units)
        except AtlasError as error:
            return Outcome(False, str(error), sku=item.sku)

    # Actions ----------------------------------------------------------------------------------

    def _stock(self, item: InventoryItem, delta: int, note: str) -> Outcome:
        verb = "receive" if delta > 0 else "pick"
        if delta > 0:
            changed = self.service.receive(item.sku, delta, "scan: receive", location=self.location)
        else:
            changed = self.service.pick(item.sku, -delta, "scan: pick", location=self.location)
        done = self._done([(changed.key, verb)])

        def undo() -> str:
            back = self._undo(done)
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
        at = f" at {self.location}" if self.location else ""
        return Outcome(
            True, f"{changed.sku} {sign}{abs(delta)}{at} → {changed.quantity}{note}", changed.sku
        )

    def _count(self, item: InventoryItem, quantity: int) -> Outcome:
        take = self.service.stocktake
        session = self.count_session
        if session is None:
            return Outcome(False, "choose a count session first: nothing counted", sku=item.sku)
        counted = take.record(session, item.sku, quantity, add=True, location=self.location)
        place, lot = counted["location"], counted["lot"]

        def undo() -> str:
            after = take.record(session, item.sku, -quantity, add=True, location=place, lot=lot)
            return f"undone: count of {quantity} {item.sku}, tally {after['counted']}"

        def uncount(line: Tally) -> None:
            line.counted -= quantity

        self._line(item).counted += quantity
        self._steps.append(_Step(item.key, undo, uncount))
        at = f" at {self.location}" if self.location else ""
        flag = f", {counted['note']}" if counted.get("note") else ""
        return Outcome(
            True,
            f"{item.sku} counted {counted['counted']}{at} (system holds {counted['expected']}"
            f"{flag})",
            item.sku,
        )

    def _move(self, item: InventoryItem, quantity: int) -> Outcome:
        target = self.location
        if target is None:
            return Outcome(False, "scan the location to move to first", sku=item.sku)
        note = " (a quantity does not apply to moves)" if quantity != 1 else ""
        origin = item.location
        moved = self.service.move(item.sku, target, "scan: move")
        done = self._done([(moved.key, "move")])

        def undo() -> str:
            back = self._undo(done)
            return f"undone: {item.sku} back at {back.location}"

        def unmove(line: Tally) -> None:
            line.moved_to = ""

        self._line(moved).moved_to = moved.location
        self._steps.append(_Step(moved.key, undo, unmove))
        return Outcome(
            True, f"{moved.sku} moved {origin or '—'} → {moved.location}{note}", moved.sku
        )

    def _wait(self, item: InventoryItem, units: int, note: str) -> Outcome:
        """An item scanned for a transfer: checked against the source, then it waits."""
        source = self.source
        if source is None:
            return Outcome(False, "scan the location to take from first", sku=item.sku)
        key = location_key(source)
        held = sum(line.quantity for line in item.stock if location_key(line.location) == key)
        asked = units + sum(w.units for w in self.waiting if w.sku.casefold() == item.key)
        if asked > held:
            raise ValidationError(
                "from",
                f"{item.sku} has {held} at {source}, cannot take {asked}; "
                f"stock is at {where_stock_is(item.stock)}",
            )
        self.waiting.append(Waiting(item.sku, item.name, units))

        def undo() -> str:
            self.waiting.pop()
            return f"undone: {units} {item.sku} no longer waiting to be transferred"

        self._line(item)
        self._steps.append(_Step(item.key, undo, lambda line: None, waiting=True))
        total = sum(w.units for w in self.waiting)
        return Outcome(
            True,
            f"{item.sku} {units} from {source}{note}: {total} waiting, scan the destination",
            item.sku,
        )

    def _transfer_to(self, destination: str) -> Outcome:
        """Move every waiting item from the source to `destination`, all or nothing."""
        source = self.source
        assert source is not None
        if location_key(destination) == location_key(source):
            return Outcome(False, f"{source} is where the items come from: scan the destination")
        waiting = list(self.waiting)
        moved: list[InventoryItem] = []
        try:
            with self.service.batch():
                for wait in waiting:
                    moved.append(
                        self.service.transfer(
                            wait.sku, wait.units, source, destination, "scan: transfer"
                        )
                    )
        except AtlasError as error:
            return Outcome(False, f"nothing was transferred: {error}")
        done = self._done([(w.sku.casefold(), "transfer") for w in waiting])
        units: dict[str, int] = {}
        for wait in waiting:
            units[wait.sku.casefold()] = units.get(wait.sku.casefold(), 0) + wait.units
        for item in moved:
            line = self._line(item)
            line.transferred += units[item.key]
            line.moved_to = f"{line.transferred} → {destination}"
        self.waiting.clear()
        self.source, self.location = None, destination
        # Earlier scans of the waiting items are now part of this transfer's undo.
        self._steps = [step for step in self._steps if not step.waiting]

        def undo() -> str:
            self._undo(done)
            return f"undone: transfer of {_items(len(units))} from {source} to {destination}"

        def untransfer(line: Tally) -> None:
            for key, count in units.items():
                found = self.tally.get(key)
                if found is not None:
                    found.transferred -= count
                    found.moved_to = (
                        f"{found.transferred} → {destination}" if found.transferred else ""
                    )

        self._steps.append(_Step(moved[-1].key, undo, untransfer))
        total = sum(units.values())
        return Outcome(
            True,
            f"transferred {total} of {_items(len(units))} from {source} to {destination}",
            moved[-1].sku,
        )

    # Undo -------------------------------------------------------------------------------------

    def _done(self, made: list[tuple[str, str]]) -> _Done:
        last = self.service.last_change()
        return _Done(None if last is None else last.id, made)

    def _undo(self, done: _Done) -> InventoryItem:
        """Take back the movements of one scan (the service's latest), newest first.

        Each is its own undo (the service keeps `last_change` straight only that way): if
        one is refused, those already undone are dropped from `done`, so trying again
        goes on from there.
        """
        last = self.service.last_change()
        if last is None or last.id != done.last_id:
            raise ValidationError("undo", "a later change came after this scan")
        result: InventoryItem | None = None
        while done.made:
            sku, kind = done.made[-1]
            latest = self.service.last_change()
            if latest is None or (latest.sku.casefold(), latest.kind) != (sku, kind):
                raise ValidationError("undo", "a later change came after this scan")
            result = self.service.take_back(latest)
            done.made.pop()
            after = self.service.last_change()
            done.last_id = None if after is None else after.id
        assert result is not None
        return result

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
        waiting = {w.sku.casefold() for w in self.waiting}
        for key, found in list(self.tally.items()):
            busy = found.received or found.picked or found.counted or found.moved_to
            if not busy and key not in waiting:
                del self.tally[key]
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
        transferred = [line.transferred for line in lines if line.transferred]
        if transferred:
            parts.append(f"transferred {sum(transferred)} of {_items(len(transferred))}")
        moved = [line for line in lines if line.moved_to and not line.transferred]
        if moved:
            parts.append(f"moved {_items(len(moved))}")
        if self.waiting:
            parts.append(f"{_items(len(self.waiting))} left waiting, not transferred")
        return "; ".join(parts)


def age(timestamp: object, now: datetime) -> str:
    """How long before `now` a timestamp was: "just now", "5 min ago", "3 h ago", "2 days ago"."""
    try:
        then = parse_timestamp("created_at", timestamp)
    except AtlasError:
        return "at an unknown time"
    seconds = (now - then).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    return "1 day ago" if days == 1 else f"{days} days ago"


def _add_places(places: dict[str, str], item: InventoryItem) -> None:
    for line in item.stock:
        if line.quantity > 0 and line.location:
            places.setdefault(location_key(line.location), line.location)
    if item.location:
        places.setdefault(location_key(item.location), item.location)


def _items(count: int) -> str:
    return f"{count} item" if count == 1 else f"{count} items"
