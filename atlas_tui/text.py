"""Showing user text literally: no markup, no terminal control."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


@lru_cache(maxsize=4096)
def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _unsafe(char: str) -> bool:
    # Cc: C0/C1 controls incl. ESC; Cf: bidi overrides and other invisible formatting;
    # Zl/Zp: line and paragraph separators.
    return unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"}


def safe_text(value: object) -> str:
    """`value` as text with every control or invisible formatting character written as an escape.

    The result is still plain text: draw it with rich's `Text(...)` (never as markup) so
    `[red]x[/red]` shows as typed.
    """
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():
        return text
    return "".join(_escape(char) if _unsafe(char) else char for char in text)
