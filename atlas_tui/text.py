"""Showing user text literally: no markup, no terminal control.

One rule decides what a terminal must never receive raw: C0/C1 controls (ESC, BEL, CSI...),
invisible formatting (bidi overrides, zero-width characters), line and paragraph separators
and lone surrogates (bytes that were not UTF-8). `safe_text` writes them as escapes for
people, `safe_json` as JSON's own `\\uXXXX` escapes, so JSON output stays valid and reads
back to the same strings.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from typing import Any, Final

_NAMED: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Cc: C0/C1 controls incl. ESC; Cf: bidi overrides, zero-width and other invisible
# formatting; Zl/Zp: line and paragraph separators; Cs: lone surrogates (undecodable bytes).
_UNSAFE_CATEGORIES: Final = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
# What JSON text may hold that is not printable ASCII: the rest is escaped by `json` itself.
_JSON_CANDIDATES: Final = re.compile("[^\\x00-\\x7e]|\\x7f")


@lru_cache(maxsize=4096)
def _unsafe(char: str) -> bool:
    return unicodedata.category(char) in _UNSAFE_CATEGORIES


@lru_cache(maxsize=4096)
def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def strip_unsafe(text: str) -> str:
    """`text` without the characters `safe_text` would escape (all of them zero cells wide)."""
    if text.isprintable():
        return text
    return "".join(char for char in text if not _unsafe(char))


def _escape_line(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(_escape(char) if _unsafe(char) else char for char in text)


def safe_text(value: object, *, keep_lines: bool = False) -> str:
    """`value` as text with every control or invisible formatting character written as an escape.

    The result is still plain text: draw it with rich's `Text(...)` (never as markup) so
    `[red]x[/red]` shows as typed. With `keep_lines`, line ends (`\\n`, `\\r\\n`) stay line
    ends, for showing a whole file.
    """
    text = value if isinstance(value, str) else str(value)
    if not keep_lines:
        return _escape_line(text)
    lines = text.split("\n")
    return "\n".join(_escape_line(line[:-1] if line.endswith("\r") else line) for line in lines)


def _json_escape(match: re.Match[str]) -> str:
    char = match.group()
    if not _unsafe(char):
        return char
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # outside the BMP: a UTF-16 surrogate pair, as JSON writes it
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def safe_json_text(text: str) -> str:
    """JSON text with every character `safe_text` would escape written as `\\uXXXX`.

    Outside string literals JSON holds only ASCII, so the result is the same JSON value.
    """
    return _JSON_CANDIDATES.sub(_json_escape, text)


def safe_json(value: Any, *, indent: int | None = 2) -> str:
    """`value` as JSON that is safe on a terminal and reads back to the same value."""
    return safe_json_text(json.dumps(value, ensure_ascii=False, indent=indent))
