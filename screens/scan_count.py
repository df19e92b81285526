"""Which count session scan mode counts into: an open one, or a new one over the
current location (never, silently, one over all items)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from atlas_tui.services.scanning import age
from atlas_tui.text import safe_text

NEW_COUNT = "new"


class CountPicker(ModalScreen[int | str | None]):
    """A pick list of the open count sessions (scope, age, progress) and "start one here";
    dismissed with the session's number, NEW_COUNT, or None (escape)."""

    CSS_PATH = "scan_count.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="count-pick-cancel"),
    ]

    def __init__(self, sessions: list[dict[str, Any]], location: str | None, now: datetime) -> None:
        super().__init__()
        self.sessions = sessions
        self.location = location
        self.now = now
        self.typed = False
        """Text was typed here (a scanner's code): its enter must not choose a session."""

    def compose(self) -> ComposeResult:
        options: list[Option] = []
        for session in self.sessions:
            line = Text(f"#{session['id']} ", style="bold")
            line.append(safe_text(session["scope"]), style="bold")
            line.append(
                f" · started {age(session.get('created_at'), self.now)}"
                f" by {safe_text(str(session.get('created_by') or '?'))}"
                f" · {session['counted_items']} of {session['expected_items']} lines counted"
            )
            options.append(Option(line, id=str(session["id"])))
        if self.location is not None:
            start = Text("Start a new count at ").append(safe_text(self.location), style="bold")
            options.append(Option(start, id=NEW_COUNT))
        else:
            options.append(
                Option(
                    Text("Start a new count: scan a location first", style="dim"),
                    id=NEW_COUNT,
                    disabled=True,
                )
            )
        with Vertical(id="count-pick"):
            yield Static("Count into which session?", id="count-pick-title")
            yield OptionList(*options, id="count-pick-list")
            yield Static("enter chooses · escape cancels", id="count-pick-help")
        yield Footer()

    def on_key(self, event: events.Key) -> None:
        if event.is_printable:
            self.typed = True
            self.query_one("#count-pick-help", Static).update(
                Text("scanned codes are not counted here: ↑↓ then enter chooses, escape cancels")
            )
        elif event.key in ("up", "down", "home", "end", "pageup", "pagedown"):
            self.typed = False

    @on(OptionList.OptionSelected, "#count-pick-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if self.typed:  # the enter that ended a scan, not a choice
            return
        option = event.option_id
        if option == NEW_COUNT:
            self.dismiss(NEW_COUNT)
        elif option is not None:
            self.dismiss(int(option))

    def action_cancel(self) -> None:
        """Count into nothing: back to scanning with the action as it was."""
        self.dismiss(None)
