"""The message log: every message of the session, with its time and severity, newest last."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from atlas_tui.text import safe_text
from screens.session import session_of

SEVERITY_WORDS = {"information": "info", "warning": "warning", "error": "error"}


def word(severity: str) -> str:
    return SEVERITY_WORDS.get(severity, severity)


class MessageLogScreen(ModalScreen[None]):
    """Every message shown so far (toasts vanish; this keeps them), scrollable."""

    CSS_PATH = "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,ctrl+l", "close", "Close", id="messages-close"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text("Messages of this session, newest last"), id="title")
            yield DataTable(id="messages", cursor_type="row", zebra_stripes=True)
            yield Static(Text("escape, q or ctrl+l closes"), id="hint")

    def on_mount(self) -> None:
        table: DataTable[Text] = self.query_one("#messages", DataTable)
        table.add_column("Time", key="time")
        table.add_column("", key="severity")
        table.add_column("Message", key="text")
        styles = {"error": "bold red", "warning": "yellow"}
        entries = session_of(self).messages
        for entry in entries:
            table.add_row(
                Text(entry.at.strftime("%H:%M:%S"), style="dim"),
                Text(word(entry.severity), style=styles.get(entry.severity, "")),
                Text(safe_text(entry.text)),
            )
        if not entries:
            table.add_row(Text(""), Text(""), Text("No messages yet", style="dim italic"))
        table.move_cursor(row=table.row_count - 1)
        table.focus()

    def action_close(self) -> None:
        """Back to the screen the log was opened from."""
        self.dismiss(None)
