"""The footer every screen shows: help and quit first, then as many of its keys as fit."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# Always shown first, in this order, with whichever of their keys works where the focus is
# (`?` and `q` type into a search box; `f1` and `ctrl+q` never do).
FIRST = ("help", "quit")
# Kept for the palette key, docked right (its border, key, space and word).
PALETTE_CELLS = 12


@dataclass(frozen=True, slots=True)
class _Key:
    binding: Binding
    enabled: bool
    tooltip: str


def footer_cells(key_display: str, description: str) -> int:
    """Cells a compact footer key takes: key, space, description, then a space of margin."""
    return cell_len(key_display) + 1 + cell_len(description) + 1


class AtlasFooter(Footer):
    """Textual's Footer, compact, ordered for operators and never cut mid-key.

    Textual lists the focused widget's keys, then the screen's, then the app's, and lets
    the last ones fall off the right edge; so on a busy screen `?` and `q` were never seen.
    Here help and quit come first, then the screen's keys in their declared order (most
    used first), then the app's; a key that does not fit whole is left out (help and the
    palette list every key).
    """

    def __init__(self) -> None:
        super().__init__(compact=True)
        self._laid_out_for = 0  # the width the keys were chosen for

    def _keys(self) -> list[_Key]:
        by_action: dict[str, _Key] = {}
        first: dict[str, _Key] = {}
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.action in FIRST:
                # Its shown key (`q`), else any that works here (`ctrl+q` in a search box).
                held = first.get(binding.action)
                if held is None or (binding.show and not held.binding.show):
                    first[binding.action] = _Key(binding, enabled, tooltip)
            elif binding.show and binding.key != self.app.COMMAND_PALETTE_BINDING:
                by_action.setdefault(binding.action, _Key(binding, enabled, tooltip))
        return [first[action] for action in FIRST if action in first] + list(by_action.values())

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        room = self._laid_out_for = self.size.width or self.app.size.width
        palette = self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE
        if palette:
            room -= PALETTE_CELLS
        for key in self._keys():
            binding = key.binding
            display = self.app.get_key_display(binding)
            description = "Help" if binding.action == "help" else binding.description
            if binding.action == "quit":
                description = "Quit"
            cells = footer_cells(display, description)
            if cells > room:
                continue  # a shorter key further on may still fit
            room -= cells
            yield FooterKey(
                binding.key,
                display,
                description,
                binding.action,
                disabled=not key.enabled,
                tooltip=key.tooltip,
            ).data_bind(compact=Footer.compact)
        if palette:
            active = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
            if active is not None:
                _node, binding, enabled, _tooltip = active
                yield FooterKey(
                    binding.key,
                    self.app.get_key_display(binding),
                    binding.description,
                    binding.action,
                    classes="-command-palette",
                    disabled=not enabled,
                    tooltip=binding.tooltip or binding.description,
                )

    def on_resize(self, event: events.Resize) -> None:
        if self._bindings_ready and event.size.width != self._laid_out_for:
            self.call_after_refresh(self.recompose)
