"""The help screen: every key of the screen it was opened from, and of the app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

from atlas_tui.text import safe_text


@dataclass(frozen=True, slots=True)
class KeyHelp:
    """One action and every key bound to it, as the help table lists it."""

    keys: tuple[str, ...]
    description: str
    scope: str
    hidden: bool


def _scope(node: DOMNode, target: Screen[object]) -> str:
    if isinstance(node, App):
        return "app"
    if node is target:
        return "screen"
    return type(node).__name__ + (f" #{node.id}" if node.id else "")


def key_help(target: Screen[object]) -> list[KeyHelp]:
    """The bindings of `target`, of the widgets around its focus and of the app, screen first.

    Keys bound to the same action of the same node are listed together. Hidden bindings
    (show=False) are included: help is where they get found.
    """
    app = target.app
    focused = target.focused
    chain: list[DOMNode] = list(focused.ancestors_with_self) if focused else []
    nodes = [target, *(n for n in chain if n is not target and n is not app), app]
    rows: list[KeyHelp] = []
    for node in nodes:
        grouped: dict[tuple[str, str, bool], list[Binding]] = {}
        # The declared map, not `active_bindings`: that one drops every key a focused
        # Input would swallow, and help must still list those.
        for _key, binding in node._bindings:
            grouped.setdefault((binding.action, binding.description, binding.show), []).append(
                binding
            )
        found = [
            KeyHelp(
                keys=tuple(dict.fromkeys(app.get_key_display(b) for b in bindings)),
                description=description or action.replace("_", " "),
                scope=_scope(node, target),
                hidden=not show,
            )
            for (action, description, show), bindings in grouped.items()
        ]
        # The footer's keys first, as declared; the hidden ones after them.
        rows.extend(sorted(found, key=lambda row: row.hidden))
    return rows


class HelpScreen(ModalScreen[None]):
    """Every binding of the screen it was opened from."""

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
            yield DataTable(id="keys", cursor_type="row", zebra_stripes=True)
            yield Static(
                Text("escape, q or ? closes · hidden keys work but stay off the footer"),
                id="hint",
            )

    def on_mount(self) -> None:
        name = type(self.target).__name__.removesuffix("Screen") or "this"
        self.query_one("#title", Static).update(Text(f"Keys of the {name} screen"))
        table: DataTable[Text] = self.query_one("#keys", DataTable)
        table.add_column("Key", key="key")
        table.add_column("Does", key="description")
        table.add_column("Where", key="scope")
        table.add_column("", key="hidden")
        for row in key_help(self.target):
            table.add_row(
                Text(safe_text(" / ".join(row.keys)), style="bold"),
                Text(safe_text(row.description)),
                Text(safe_text(row.scope)),
                Text("hidden", style="dim italic") if row.hidden else Text(""),
            )
        table.focus()

    def action_close(self) -> None:
        """Back to the screen help was opened from."""
        self.dismiss(None)
