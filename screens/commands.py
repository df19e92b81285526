"""Command palette (ctrl+p): every action of the current screen and of the app, by name."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode

from screens.keys import KeyHelp, commands


def command_help(row: KeyHelp) -> str:
    """The palette's second line for a command: its key(s) and its task."""
    return f"{' / '.join(row.keys)} · {row.group}"


class ActionCommands(Provider):
    """Offers each key of the screen, the widgets around its focus and the app (a dialog's
    own keys while it is open) as a command in operator words, with its key as help."""

    def _commands(self) -> Iterator[tuple[str, str, DOMNode, str]]:
        for row in commands(self.screen):
            yield row.description, command_help(row), row.node, row.action

    async def _run(self, node: DOMNode, action: str) -> None:
        await node.run_action(action)

    async def discover(self) -> Hits:
        for label, help_text, node, action in self._commands():
            yield DiscoveryHit(label, partial(self._run, node, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, help_text, node, action in self._commands():
            score = max(matcher.match(label), matcher.match(help_text))
            if score > 0:
                yield Hit(score, matcher.highlight(label), partial(self._run, node, action),
                          text=label, help=help_text)  # fmt: skip
