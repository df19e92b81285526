"""An entry box for scanners: lines and command keys are handed over in key order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input


class EntryInput(Input):
    """An Input whose enter and command keys are handled with the keys, not as bindings.

    Input's enter is a binding, and bindings run only after the key has bubbled up to the
    screen, while priority bindings run before the keys queued ahead of them: in a burst
    (a scanner, a laggy SSH link) the next code would be glued to this one, or an action
    switch would overtake the codes typed before it. Handled here, everything keeps the
    order it was typed in. `commands` maps keys to actions of the screen.
    """

    class Command(Message):
        """A command key, in its place among the entered lines."""

        def __init__(self, action: str) -> None:
            super().__init__()
            self.action = action

    class Entered(Message):
        """One line was entered (the box is already empty again)."""

        def __init__(self, entry: EntryInput, value: str) -> None:
            super().__init__()
            self.entry = entry
            self.value = value

        @property
        def control(self) -> EntryInput:
            return self.entry

    def __init__(
        self, *args: Any, commands: Mapping[str, str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.commands = dict(commands or {})

    async def _on_key(self, event: events.Key) -> None:
        action = self.commands.get(event.key)
        if action is not None:
            event.stop()
            event.prevent_default()
            self.post_message(self.Command(action))
            return
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            value, self.value = self.value, ""
            self.post_message(self.Entered(self, value))
            return
        await super()._on_key(event)


def command_keys(bindings: Iterable[BindingType]) -> dict[str, str]:
    """Key -> action of a screen's bindings, for an EntryInput to take in key order."""
    return {
        key.strip(): binding.action
        for binding in bindings
        if isinstance(binding, Binding)
        for key in binding.key.split(",")
    }
