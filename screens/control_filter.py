"""The last guard between the app and the terminal: no drawn text is ever terminal control."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter


@lru_cache(maxsize=1024)
def _is_control(char: str) -> bool:
    # The same classes safe_text escapes: C0/C1 controls (ESC starts every terminal command),
    # bidi overrides and other invisible formatting, line and paragraph separators.
    return unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"}


def _strip(text: str) -> str:
    return "".join(char for char in text if not _is_control(char))


class ControlFilter(LineFilter):
    """Drops control and invisible formatting characters from every line drawn.

    Widgets show user text through `safe_text`, which writes such characters as visible
    escapes; this filter catches whatever a widget draws raw (a text box's value, a toast, a
    title) so that an item named "\\x1b]52;c;…\\x07" can never write the clipboard. The
    characters it drops are zero cells wide, so no line changes its layout.
    """

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        if all(segment.text.isprintable() for segment in segments):
            return segments
        return [
            segment
            if segment.control or segment.text.isprintable()
            else Segment(_strip(segment.text), segment.style)
            for segment in segments
        ]
