"""Scan mode: a barcode scanner (or the keyboard) drives receive, pick, count, move and
transfer, at the current location (set by scanning a location's code).

The entry box keeps the focus the whole time, so a scanner's burst of keys always lands
in it, and a plain letter can never be a key. The actions are on keys a scanner never
sends: F2 to F6, and for keyboards without F-keys (laptops, Macs, SSH) ctrl+r, ctrl+o,
ctrl+y, ctrl+g and ctrl+t, which terminals deliver and neither Textual's Input nor the
app use; tab cycles, ctrl+z undoes. A command barcode (`*PICK*`) does what its key does.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from atlas_tui.domain.errors import AtlasError
from atlas_tui.domain.models import InventoryItem
from atlas_tui.services.inventory import InventoryService
from atlas_tui.services.scanning import (
    ACTIONS,
    Command,
    Outcome,
    ScanAction,
    ScanCodes,
    ScanSession,
)
from atlas_tui.text import safe_text
from screens.dialogs import NewItemDialog, literal
from screens.scan_count import NEW_COUNT, CountPicker
from screens.widgets.entry import EntryInput, command_keys
from screens.widgets.status_line import status_and_footer

KEYS = {"receive": "F2", "pick": "F3", "count": "F4", "move": "F5", "transfer": "F6"}
# The same actions without F-keys: ctrl keys every terminal delivers (not i/m/h/j/[,
# which are tab/enter/backspace/newline/escape), free of Textual's Input line editing
# (a e d w u k x c v), the app (p z n q c) and tmux's/screen's prefixes (b, a).
CTRL_KEYS = {"receive": "^R", "pick": "^O", "count": "^Y", "move": "^G", "transfer": "^T"}
# Digits only, 8 to 14 long: the shape of EAN/UPC/GTIN codes.
GTIN_LENGTHS = range(8, 15)


class ScanInput(EntryInput):
    """The entry box; `u` alone in it for a moment means undo.

    A scanner's code may begin with u, and its other keys follow within milliseconds,
    so a u is taken as undo only when nothing follows it for UNDO_AFTER seconds.
    """

    UNDO_AFTER = 0.3

    class UndoRequested(Message):
        """The operator asked to take back the last scan."""

    async def _on_key(self, event: events.Key) -> None:
        lone = event.character == "u" and not self.value
        await super()._on_key(event)
        if lone:
            self.set_timer(self.UNDO_AFTER, self._undo_if_alone)

    def _undo_if_alone(self) -> None:
        if self.value == "u":
            self.value = ""
            self.post_message(self.UndoRequested())


class ScanScreen(Screen[str]):
    """Scan after scan without a dialog; escape leaves and says what was done."""

    CSS_PATH = "scan.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2,ctrl+r", "choose('receive')", "Receive", show=False, id="scan-receive"),
        Binding("f3,ctrl+o", "choose('pick')", "Pick", show=False, id="scan-pick"),
        Binding("f4,ctrl+y", "choose('count')", "Count", show=False, id="scan-count"),
        Binding("f5,ctrl+g", "choose('move')", "Move", show=False, id="scan-move"),
        Binding("f6,ctrl+t", "choose('transfer')", "Transfer", show=False, id="scan-transfer"),
        Binding("tab", "next_action", "Next action", show=False),
        Binding("ctrl+z", "undo", "Undo (or u)", id="scan-undo"),
        Binding("ctrl+n", "create", "Create unknown", id="scan-create"),
        Binding("escape", "leave", "Leave", id="scan-leave"),
    ]

    def __init__(
        self,
        service: InventoryService,
        action: ScanAction = "receive",
        count_session: int | None = None,
        codes: ScanCodes | None = None,
    ) -> None:
        """`count_session`: the session count scans go into (else count asks for one);
        `codes`: how command barcodes look and what the scanner adds (default `*WORD*`)."""
        super().__init__()
        self.service = service
        self.session = ScanSession(service, action, count_session, codes=codes or ScanCodes())
        self.unknown: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="scan-action")
        yield Static(id="scan-where")
        yield Static(id="scan-count")
        yield ScanInput(
            placeholder="scan or type a code, then enter · 12* before a code = 12 of it",
            id="scan-input",
            # The input takes the screen's keys itself, so they keep their place in a burst.
            commands=command_keys(self.BINDINGS),
        )
        yield Static(id="scan-message")
        yield DataTable(id="scan-tally", cursor_type="row", zebra_stripes=True)
        yield from status_and_footer()

    def on_mount(self) -> None:
        table = self.query_one("#scan-tally", DataTable)
        for label in ("SKU", "Name", "In", "Out", "Counted", "Moved to", "Now"):
            table.add_column(label)
        self.query_one("#scan-input", ScanInput).focus()
        self.action_choose(self.session.action)

    def _show_action(self) -> None:
        action = self.session.action
        line = Text()
        for name in ACTIONS:
            style = "bold reverse" if name == action else "dim"
            line.append(f" {KEYS[name]} {CTRL_KEYS[name]} {name} ", style=style)
            line.append(" ")
        self.query_one("#scan-action", Static).update(line)
        self._show_where()
        self._show_count()

    def _show_count(self) -> None:
        """While counting, the session counted into: its scope and how far it has got."""
        shown = self.query_one("#scan-count", Static)
        counting = self.session.action == "count"
        shown.display = counting
        if counting:
            shown.update(
                Text("Counting into ", style="dim").append(
                    safe_text(self.session.count_status()), style="bold"
                )
            )

    def _show_where(self) -> None:
        """The current location, always in view (and a transfer's waiting items)."""
        session = self.session
        line = Text("Location: ", style="dim")
        if session.location:
            line.append(safe_text(session.location), style="bold")
        else:
            line.append("none (scan a location's code)", style="dim")
        if session.action == "transfer":
            if session.source is None:
                line.append(" · transfer: scan the source location")
            elif session.waiting:
                units = sum(wait.units for wait in session.waiting)
                line.append(" · transfer from ").append(safe_text(session.source), style="bold")
                line.append(f": {units} waiting, scan the destination")
            else:
                line.append(" · transfer from ").append(safe_text(session.source), style="bold")
                line.append(": scan the items")
        self.query_one("#scan-where", Static).update(line)

    def _say(self, outcome: Outcome) -> None:
        message = self.query_one("#scan-message", Static)
        text = Text(safe_text(outcome.message))
        if outcome.unknown is not None:
            text.append("\nctrl+n creates it · keep scanning to go on", style="dim")
        message.update(text)
        message.set_class(outcome.ok, "ok")
        message.set_class(not outcome.ok, "refused")
        if not outcome.ok:
            self.app.bell()

    @on(EntryInput.Command)
    async def _command(self, event: EntryInput.Command) -> None:
        await self.run_action(event.action)

    @on(EntryInput.Entered, "#scan-input")
    def _scanned(self, event: EntryInput.Entered) -> None:
        outcome = self.session.enter(event.value)
        if outcome.command is not None:
            self._run_command(outcome.command)
            return
        if not outcome.message:
            return
        self.unknown = outcome.unknown
        self._say(outcome)
        self._show_action()
        self._refresh_tally(outcome.sku)

    def _refresh_tally(self, sku: str | None) -> None:
        table = self.query_one("#scan-tally", DataTable)
        table.clear()
        for key, line in self.session.tally.items():
            table.add_row(
                literal(line.sku),
                literal(line.name),
                str(line.received or ""),
                str(line.picked or ""),
                str(line.counted or ""),
                literal(line.moved_to),
                "—" if line.quantity is None else str(line.quantity),
                key=key,
            )
        if sku is not None and sku.casefold() in self.session.tally:
            table.move_cursor(row=table.get_row_index(sku.casefold()))

    def _run_command(self, command: Command) -> None:
        """A command code (or word) was scanned: what its key does, said on screen."""
        self._command_note = f"command {command.upper()}: "
        if command == "done":
            self.action_leave()
        elif command == "undo":
            self.action_undo()
        else:
            self.action_choose(command)
        self._command_note = ""

    _command_note = ""
    """Put before the message while a command code is carried out, so the scan is confirmed."""

    def action_choose(self, action: ScanAction) -> None:
        """Receive, pick, count, move or transfer from now on."""
        self._tab_at = None
        if action == "count" and self.session.count_session is None:
            self._ask_count_session()
            return
        self._say(Outcome(True, self._command_note + self.session.choose(action)))
        self._show_action()

    def _ask_count_session(self) -> None:
        """Count into which open session, or a new one over the current location: never
        silently over all items."""
        note = self._command_note
        try:
            sessions = self.session.open_counts()
        except AtlasError as error:
            self._say(Outcome(False, f"{note}count: {error}"))
            return
        location = self.session.location
        if not sessions and location is None:
            self._refuse_count(
                f"{note}count: no count session is open; scan a location first to count it,"
                " or start a session in the stocktake (t)"
            )
            return

        def chosen(answer: int | str | None) -> None:
            self.query_one("#scan-input", ScanInput).focus()
            if answer is None:
                self._refuse_count(
                    f"{note}count: no session chosen, nothing to count into", ok=True
                )
                return
            started = ""
            if answer == NEW_COUNT:
                try:
                    started = self.session.start_count_here() + "; "
                except AtlasError as error:
                    self._refuse_count(f"{note}count: {error}")
                    return
            else:
                self.session.count_session = int(answer)
            self._say(Outcome(True, note + started + self.session.choose("count")))
            self._show_action()

        now = self.service.now()
        self.app.push_screen(CountPicker(sessions, location, now), chosen)

    def _refuse_count(self, message: str, *, ok: bool = False) -> None:
        """Count was not chosen: the action stays (receive when scan mode opened on count)."""
        if self.session.action == "count" and self.session.count_session is None:
            self.session.choose("receive")
        self._say(Outcome(ok, message))
        self._show_action()

    def action_next_action(self) -> None:
        """The next of receive, pick, count, move and transfer."""
        actions = list(ACTIONS)
        # From the action tab last landed on: count may have been refused (no session).
        at = self._tab_at or self.session.action
        target = actions[(actions.index(at) + 1) % len(actions)]
        self.action_choose(target)
        self._tab_at = target

    _tab_at: ScanAction | None = None

    @on(ScanInput.UndoRequested)
    def action_undo(self) -> None:
        """Take back the last scan."""
        outcome = self.session.undo()
        if self._command_note:
            outcome.message = self._command_note + outcome.message
        self._say(outcome)
        self._show_where()
        self._show_count()
        self._refresh_tally(outcome.sku)

    def action_create(self) -> None:
        """Create an item for the last unknown code (its barcode too, when it is one)."""
        code = self.unknown
        if code is None:
            self._say(Outcome(False, "no unknown code to create: scan one first"))
            return
        barcode = code.isdigit() and len(code) in GTIN_LENGTHS
        dialog = NewItemDialog(
            self.service, sku=code, attributes={"barcode": code} if barcode else None
        )

        def created(item: InventoryItem | None) -> None:
            self.query_one("#scan-input", ScanInput).focus()
            if item is not None:
                self.unknown = None
                self._say(Outcome(True, f"{item.sku} created with {item.quantity}: scan again"))

        self.app.push_screen(dialog, created)

    def action_leave(self) -> None:
        """Back to the items, with a summary of what was done."""
        self.dismiss(self.session.summary())
