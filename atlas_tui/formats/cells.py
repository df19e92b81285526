"""Keeping exported cells from running as spreadsheet formulas, and undoing that on import."""

from __future__ import annotations

from typing import Final

# Spreadsheets treat a cell starting with = + - @ (and, in some, tab or CR) as a formula.
# A leading ' is included so that a value that really starts with ' survives the round trip.
RISKY_STARTS: Final = frozenset("=+-@\t\r'")


def neutralise(text: str) -> str:
    """`text` with a `'` in front when it starts with `= + - @`, tab, CR or `'`."""
    if text and text[0] in RISKY_STARTS:
        return "'" + text
    return text


def restore(text: str) -> str:
    """Undo `neutralise`: drop one leading `'` when the next character is a risky one."""
    if len(text) > 1 and text[0] == "'" and text[1] in RISKY_STARTS:
        return text[1:]
    return text
