"""A checkbox whose state reads in its glyphs: `[x]` on, `[ ]` off, in every theme."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox


class MarkedCheckbox(Checkbox):
    """Textual's Checkbox draws an X in both states and tells them apart by colour alone,
    which some themes (and 16-colour terminals) make hard to see: this one draws `[x]` or
    `[ ]`, and colours the on state as well."""

    DEFAULT_CSS = """
    MarkedCheckbox > .toggle--button {
        color: $text-muted;
        background: transparent;
    }
    MarkedCheckbox.-on > .toggle--button {
        color: $text-success;
        background: transparent;
        text-style: bold;
    }
    MarkedCheckbox:ansi > .toggle--button {
        color: ansi_default;
        background: ansi_default;
        text-style: not dim;
    }
    MarkedCheckbox:ansi.-on > .toggle--button {
        color: ansi_bright_green;
        background: ansi_default;
        text-style: bold;
    }
    """

    @property
    def _button(self) -> Content:
        style = self.get_visual_style("toggle--button")
        return Content.styled("[x]" if self.value else "[ ]", style)
