"""Command palette (ctrl+p): every action of the current screen and of the app, by name."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode


class ActionCommands(Provider):
    """Offers each binding of the screen and the app as a command, with its key as help."""

    def _commands(self) -> Iterator[tuple[str, str, DOMNode, str]]:
        seen: set[str] = set()
        for node in (self.screen, self.app):
            for binding in node._bindings.key_to_bindings.values():
                for entry in binding:
                    label = _label(entry)
                    if label and label not in seen:
                        seen.add(label)
                        key = self.app.get_key_display(entry)
                        yield (
                            label,
                            f"{entry.description or entry.action} ({key})",
                            node,
                            entry.action,
                        )

    async def _run(self, node: DOMNode, action: str) -> None:
        await node.run_action(action)

    async def discover(self) -> Hits:
        for label, help_text, node, action in self._commands():
            yield DiscoveryHit(label, partial(self._run, node, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, help_text, node, action in self._commands():
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), partial(self._run, node, action),
                          text=label, help=help_text)  # fmt: skip


NAMES = {
    "adjust(1)": "Add one unit",
    "adjust(-1)": "Remove one unit",
    "adjust_dialog": "Adjust or count, at a location…",
    "new": "New item…",
    "edit": "Edit item…",
    "move": "Move item…",
    "transfer": "Transfer stock between locations…",
    "locations": "Locations: where stock is",
    "delete": "Delete item…",
    "history": "Item history",
    "undo": "Undo my last change",
    "pick_category": "Filter by category…",
    "pick_location": "Filter by location…",
    "focus_filter": "Filter by text",
    "sort": "Sort by the next column",
    "sort_reverse": "Reverse the sort order",
    "reload": "Reload from the data file",
    "reports": "Reports",
    "stocktake": "Stocktake: count sessions",
    "scan": "Scan mode",
    "import": "Import items from a file…",
    "media": "Media search",
    "help": "Help: every key",
    "quit": "Quit",
}


def _label(binding: Binding) -> str:
    return NAMES.get(binding.action, "")
