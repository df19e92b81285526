"""The last guard between the app and the terminal: no drawn text is ever terminal control."""

from __future__ import annotations

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

from atlas_tui.text import strip_unsafe


class ControlFilter(LineFilter):
    """Drops what `safe_text` would escape (controls, invisible formatting) from every line,
    and merges neighbouring cells of one style.

    Widgets show user text through `safe_text`, which writes such characters as visible
    escapes; this filter catches whatever a widget draws raw (a text box's value, a toast, a
    title) so that an item named "\\x1b]52;c;…\\x07" can never write the clipboard. The
    characters it drops are zero cells wide, so no line changes its layout.
    """

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        # Textual writes every segment with its own style codes and a reset: cells of one
        # style (a sparkline, a padded row) are merged first, or a line costs ten times its text.
        segments = list(Segment.simplify(segments))
        if all(segment.text.isprintable() for segment in segments):
            return segments
        return [
            segment
            if segment.control or segment.text.isprintable()
            else Segment(strip_unsafe(segment.text), segment.style)
            for segment in segments
        ]
