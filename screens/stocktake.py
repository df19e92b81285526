"""The stocktake screen: a count session's variance, counted by keyboard or scanner."""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import DataTable, Header, Input, Static

from atlas_tui.domain.errors import AtlasError
from atlas_tui.services.inventory import InventoryService
from atlas_tui.services.scanning import QUANTITY, KnownPlaces, ScanCodes
from atlas_tui.services.stocktake import line_key
from atlas_tui.text import safe_text
from screens.dialogs import ConfirmDialog, FormDialog, PickDialog, literal
from screens.scan import ScanScreen
from screens.widgets.entry import EntryInput, command_keys
from screens.widgets.fit_table import Fit, FitTable
from screens.widgets.status_line import status_and_footer
from screens.widgets.zoom import toggle_maximize, zoom_binding

# "BOLT-1 38": a code, a space, then the counted figure.
SET_COUNT = re.compile(r"^(.+?)\s+(\d{1,9})$")


class StartCountDialog(FormDialog[dict[str, Any]]):
    """Scope and reason of a new count session."""

    TITLE_TEXT = "New count session"

    def fields(self) -> list[tuple[str, str, str, str]]:
        return [
            ("location", "Location", "", "blank = every location"),
            ("category", "Category", "", "blank = every category"),
            ("reason", "Reason", "", "optional, recorded on the count movements"),
        ]

    def on_mount(self) -> None:
        for field, values in (
            ("location", self.service.locations()),
            ("category", self.service.categories()),
        ):
            self.query_one(f"#{field}", Input).suggester = SuggestFromList(
                values, case_sensitive=False
            )

    def save(self, values: dict[str, str]) -> dict[str, Any]:
        return self.service.stocktake.start(
            location=values["location"], category=values["category"], reason=values["reason"]
        )


class StocktakeScreen(Screen[None]):
    """Counts go in through the entry box: a scan adds one, `SKU 38` sets the figure."""

    DEFAULT_CSS = """
    StocktakeScreen #count-status { height: 1; padding: 0 1; background: $primary 30%; }
    StocktakeScreen #count-entry { height: 1; border: none; padding: 0 1; background: $boost; }
    StocktakeScreen #count-entry:focus { background: $primary 20%; }
    StocktakeScreen #count-message { height: 1; padding: 0 1; }
    StocktakeScreen #count-message.refused { color: $error; text-style: bold; }
    StocktakeScreen #variance { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "start", "New count", id="count-start"),
        Binding("f3", "switch", "Switch", id="count-switch"),
        Binding("f4", "apply", "Apply…", id="count-apply"),
        Binding("f6", "scan", "Scan mode", id="count-scan"),
        Binding("f8", "cancel_session", "Cancel count…", id="count-cancel"),
        Binding("escape", "leave", "Back", id="count-leave"),
        zoom_binding("count", "f7"),
    ]
    # A maximised variance keeps the entry box and its answer: counting goes on.
    ALLOW_IN_MAXIMIZED_VIEW = "Footer, StatusLine, #count-entry, #count-message"

    def __init__(self, service: InventoryService, codes: ScanCodes | None = None) -> None:
        super().__init__()
        self.service = service
        self._codes = codes  # scan mode's command codes, from the preferences
        self.session_id: int | None = None
        self._version: Hashable = None
        self.variance: dict[str, Any] | None = None
        self.here: str | None = None
        self.places = KnownPlaces(service)
        """Where counts go in a session over several locations (a location's code sets it)."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="count-status")
        yield EntryInput(
            placeholder="scan to add one · BOLT-1 38 sets the figure · a location: count there",
            id="count-entry",
            # The input takes the screen's keys itself, so they keep their place in a burst.
            commands=command_keys(self.BINDINGS),
        )
        yield Static(id="count-message")
        yield FitTable(id="variance", cursor_type="row", zebra_stripes=True)
        yield from status_and_footer()

    def on_mount(self) -> None:
        # The figures stay on a narrow terminal: lot, location, then the name give way.
        self.query_one("#variance", FitTable).fit_columns(
            Fit("sku", "SKU", floor=6, cap=16),
            Fit("name", "Name", drop=2, floor=8, cap=40),
            Fit("location", "Location", drop=3, floor=6, cap=14),
            Fit("lot", "Lot", drop=4, floor=4, cap=12),
            Fit("expected", Text("Expected", justify="right")),
            Fit("counted", Text("Counted", justify="right")),
            Fit("diff", Text("Diff", justify="right")),
            Fit("now", Text("Now", justify="right")),
        )
        self.query_one("#count-entry", Input).focus()
        self._reload()
        # Colleagues may count into the same session: their counts show within a second.
        self.set_interval(0.5, self.check_store)

    # Loading ----------------------------------------------------------------------------------

    class Loaded(Message):
        """A session's variance (or None when no session is open), read in a worker."""

        def __init__(self, variance: dict[str, Any] | None, version: Hashable) -> None:
            super().__init__()
            self.variance = variance
            self.version = version

    @work(thread=True, exclusive=True, group="variance", exit_on_error=False)
    def _reload(self) -> None:
        take = self.service.stocktake
        try:
            version = take.version()
            number = self.session_id
            if number is None:
                open_sessions = take.sessions()
                number = int(open_sessions[0]["id"]) if open_sessions else None
            variance = None if number is None else take.variance(number)
        except AtlasError as error:
            self.app.call_from_thread(self._say, str(error), False)
            return
        self.post_message(self.Loaded(variance, version))

    def check_store(self) -> None:
        """Look for others' changes (polled; pushed at once from a server store)."""
        try:
            version = self.service.stocktake.version()
        except AtlasError:
            return
        if version != self._version:
            self._version = version
            self._reload()

    @on(Loaded)
    def _show(self, message: Loaded) -> None:
        self._version = message.version
        self.variance = variance = message.variance
        table = self.query_one("#variance", DataTable)
        status = self.query_one("#count-status", Static)
        if variance is None:
            self.session_id = None
            table.clear()
            status.update("No open count session · F2 starts one")
            return
        session, totals = variance["session"], variance["totals"]
        self.session_id = int(session["id"])
        line = Text.assemble(
            (f"count #{session['id']}", "bold"),
            " · ",
            safe_text(session["scope"]),
            f" · {totals['counted']}/{totals['expected_items']} counted"
            f" · {totals['differences']} differ (net {totals['net']:+d})",
        )
        if totals.get("not_expected"):
            line.append(f" · {totals['not_expected']} not expected", style="bold")
        if self.here and not session.get("location"):
            line.append(" · counting at ").append(safe_text(self.here), style="bold")
        if session["status"] != "open":
            line.append(f" · {session['status']}", style="bold")
        status.update(line)
        cursor = table.cursor_row
        table.clear()
        for row in variance["rows"]:
            difference = int(row["difference"])
            style = "red" if difference < 0 else "green" if difference > 0 else ""
            name = literal(row["name"])
            if row.get("note"):
                name = Text.assemble(name, (f" · {row['note']}", "bold"))
            table.add_row(
                literal(row["sku"]),
                name,
                literal(row["location"]),
                literal(row["lot"]),
                _number(row["expected"]),
                _number(row["counted"]),
                Text(f"{difference:+d}" if difference else "0", style=style, justify="right"),
                _now(row["current"]),
                key=line_key(row["sku"], row["location"], row["lot"]),
            )
        for row in variance["uncounted"]:
            table.add_row(
                literal(row["sku"]),
                literal(row["name"]),
                literal(row["location"]),
                literal(row["lot"]),
                _number(row["expected"]),
                Text("—", style="dim", justify="right"),
                Text("uncounted", style="dim", justify="right"),
                _now(row["current"]),
                key=line_key(row["sku"], row["location"], row["lot"]),
            )
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))

    # Counting ---------------------------------------------------------------------------------

    def _say(self, text: str, ok: bool = True) -> None:
        message = self.query_one("#count-message", Static)
        message.update(Text(safe_text(text)))
        message.set_class(not ok, "refused")
        if not ok:
            self.app.bell()

    @on(EntryInput.Command)
    async def _command(self, event: EntryInput.Command) -> None:
        await self.run_action(event.action)

    @on(EntryInput.Entered, "#count-entry")
    def _entered(self, event: EntryInput.Entered) -> None:
        text = event.value.strip()
        if not text:
            return
        if self.session_id is None:
            self._say("no open count session: press F2 to start one", False)
            return
        take = self.service.stocktake
        here = self.here
        try:
            # A location's code wins over an item's, as in scan mode (`1*CODE` is the item).
            if (place := self._location(text)) is not None:
                self.here = place
                self._say(f"counting at {place}: scan or type what is there")
                self._reload()
                return
            if self._is_code(text):
                done = take.record(self.session_id, text, 1, add=True, location=here)
            elif (setting := SET_COUNT.match(text)) is not None:
                done = take.record(
                    self.session_id, setting.group(1), int(setting.group(2)), location=here
                )
            elif (adding := QUANTITY.match(text)) is not None and adding.group(2).strip():
                amount = int(adding.group(1))
                done = take.record(
                    self.session_id, adding.group(2).strip(), amount, add=True, location=here
                )
            else:
                done = take.record(self.session_id, text, 1, add=True, location=here)
        except AtlasError as error:
            self._say(str(error), False)
            return
        self._say(counted_line(done))
        self._reload()
        self._select(line_key(done["sku"], done["location"], done["lot"]))

    def _location(self, text: str) -> str | None:
        """The location a whole entry names (its recorded spelling), or None."""
        return self.places.named(text)

    def _is_code(self, text: str) -> bool:
        """A whole entry that names an item is a scan, even if it looks like `X 12`."""
        try:
            self.service.find_code(text)
        except AtlasError:
            return False
        return True

    def _select(self, key: str) -> None:
        def move() -> None:
            table = self.query_one("#variance", DataTable)
            try:
                table.move_cursor(row=table.get_row_index(key))
            except Exception:  # the row is not there (yet): nothing to point at
                return

        self.call_after_refresh(move)

    # Session actions --------------------------------------------------------------------------

    def action_start(self) -> None:
        """Open a new session over a location and/or category."""

        def started(session: dict[str, Any] | None) -> None:
            self.query_one("#count-entry", Input).focus()
            if session is not None:
                self.session_id = int(session["id"])
                self._say(f"count #{session['id']} started: {session['expected_items']} lines")
                self._reload()

        self.app.push_screen(StartCountDialog(self.service), started)

    def action_switch(self) -> None:
        """Show another open session."""
        try:
            sessions = self.service.stocktake.sessions()
        except AtlasError as error:
            self._say(str(error), False)
            return
        labels = [
            f"#{s['id']} {s['scope']} · {s['counted_items']}/{s['expected_items']} counted"
            for s in sessions
        ]

        def chosen(label: str | None) -> None:
            self.query_one("#count-entry", Input).focus()
            if label:
                self.session_id = int(sessions[labels.index(label)]["id"])
                self._reload()

        current = next((label for label, s in zip(labels, sessions, strict=True)
                        if s["id"] == self.session_id), None)  # fmt: skip
        dialog = PickDialog("Count session", labels, current, offer_all=False)
        self.app.push_screen(dialog, chosen)

    def action_apply(self) -> None:
        """Turn the differences into count movements, after a confirmation."""
        variance, number = self.variance, self.session_id
        if variance is None or number is None:
            self._say("no open count session to apply", False)
            return
        totals = variance["totals"]
        question = Text(
            f"Apply count #{number}? {totals['differences']} lines change "
            f"(net {totals['net']:+d}); {totals['uncounted']} uncounted lines are left alone."
        )

        def answered(yes: bool | None) -> None:
            self.query_one("#count-entry", Input).focus()
            if not yes:
                return
            try:
                result = self.service.stocktake.apply(number)
            except AtlasError as error:
                self._say(str(error), False)
                return
            changed = len(result["changes"])
            self._say(f"count #{number} applied: {changed} {_noun(changed)} changed")
            self.session_id = None
            self._reload()

        self.app.push_screen(ConfirmDialog(question), answered)

    def action_cancel_session(self) -> None:
        """Close the session without changing stock, after a confirmation."""
        number = self.session_id
        if number is None:
            return

        def answered(yes: bool | None) -> None:
            self.query_one("#count-entry", Input).focus()
            if not yes:
                return
            try:
                self.service.stocktake.cancel(number)
            except AtlasError as error:
                self._say(str(error), False)
                return
            self._say(f"count #{number} cancelled; no stock was changed")
            self.session_id = None
            self._reload()

        question = Text(f"Cancel count #{number}? Its counts are dropped; stock is unchanged.")
        self.app.push_screen(ConfirmDialog(question), answered)

    def action_scan(self) -> None:
        """Scan mode counting into this session."""
        if self.session_id is None:
            self._say("no open count session: press F2 to start one", False)
            return

        def back(summary: str | None) -> None:
            self.query_one("#count-entry", Input).focus()
            self._say(f"scan mode: {summary or 'nothing was counted'}")
            self._reload()

        self.app.push_screen(
            ScanScreen(self.service, "count", self.session_id, codes=self._codes), back
        )

    def action_toggle_maximize(self) -> None:
        """Give the variance table the whole screen, or put it back."""
        toggle_maximize(self, self.query_one("#variance"))

    def action_leave(self) -> None:
        """Back to the items."""
        self.dismiss(None)


def _number(value: int) -> Text:
    return Text(str(value), justify="right")


def _now(current: int | None) -> Text:
    if current is None:
        return Text("gone", style="bold red", justify="right")
    return _number(current)


def _noun(count: int) -> str:
    return "line" if count == 1 else "lines"


def counted_line(done: dict[str, Any]) -> str:
    """`BOLT-1 at A1 counted 2 (system holds 40)`, with `, not expected here` when the
    session listed no such line."""
    where = done["location"] or "(no location)"
    if done.get("lot"):
        where += f" lot {done['lot']}"
    note = f", {done['note']}" if done.get("note") else ""
    return (
        f"{done['sku']} at {where} counted {done['counted']} "
        f"(system holds {done['expected']}{note})"
    )
