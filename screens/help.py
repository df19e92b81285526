"""The help screen: every key of the screen it was opened from, grouped by task."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

from atlas_tui.text import safe_text
from screens.keys import SCREEN_NAMES, KeyHelp, key_help

__all__ = ["HelpScreen", "KeyHelp", "key_help"]


class HelpScreen(ModalScreen[None]):
    """Every key of the screen it was opened from, by task, in operator words."""

    CSS_PATH = "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "close", "Close", id="help-close"),
    ]

    def __init__(self, target: Screen[object]) -> None:
        super().__init__()
        self.target = target

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(id="title")
            yield DataTable(id="keys", cursor_type="row", show_header=False)
            yield Static(
                Text("esc, q or ? closes · dim keys work but are not in the footer"),
                id="hint",
            )

    def on_mount(self) -> None:
        name = SCREEN_NAMES.get(type(self.target).__name__, "this")
        self.query_one("#title", Static).update(Text(f"Keys of the {name} screen, by task"))
        table: DataTable[Text] = self.query_one("#keys", DataTable)
        table.add_column("Key", key="key")
        table.add_column("Does", key="description")
        group = ""
        for row in key_help(self.target):
            if row.group != group:
                if group:
                    table.add_row(Text(""), Text(""))
                group = row.group
                table.add_row(Text(""), Text(group, style="bold underline"))
            key_style = "dim" if row.hidden else "bold"
            table.add_row(
                Text(safe_text(" / ".join(row.keys)), style=key_style),
                Text(safe_text(row.description)),
            )
        table.focus()

    def action_close(self) -> None:
        """Back to the screen help was opened from."""
        self.dismiss(None)
