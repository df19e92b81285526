"""Turn the many ways metadata files spell a year into an int."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

_FOUR_DIGITS = re.compile(r"(?<!\d)(\d{4})(?!\d)")

# Two-digit years are resolved by strptime itself so they follow Python's %y rule exactly
# (69-99 -> 19xx, 00-68 -> 20xx) instead of a hand-written pivot that could drift from it.
_TWO_DIGIT_FORMATS = (
    "%y",
    "%d-%b-%y",
    "%d %b %y",
    "%b %d, %y",
    "%b-%y",
    "%b %y",
    "%m/%d/%y",
    "%d/%m/%y",
    "%d.%m.%y",
    "%y-%m-%d",
)

MIN_YEAR = 1000
MAX_YEAR = 9999


def two_digit_year(value: int) -> int:
    """Expand 0-99 the way ``%y`` does: 69-99 -> 19xx, 00-68 -> 20xx."""
    return datetime.strptime(f"{value:02d}", "%y").year


def parse_year(value: Any) -> int | None:
    """The year in ``value`` (int, numeric string, date or timestamp), or None.

    The first four-digit run wins (``"2007-2019"``, any dash, -> 2007, ``"1/1/1963"`` -> 1963); a
    value with only a two-digit year (``"98"``, ``"12-Jun-98"``) follows Python's ``%y``
    rule. An int 0 is the "unknown" placeholder several tools write, so it gives None.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    if isinstance(value, int):
        if MIN_YEAR <= value <= MAX_YEAR:
            return value
        if 1 <= value <= 99:
            return two_digit_year(value)
        return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _FOUR_DIGITS.search(text)
    if match:
        year = int(match.group(1))
        return year if year >= MIN_YEAR else None
    for fmt in _TWO_DIGIT_FORMATS:
        try:
            return datetime.strptime(text, fmt).year
        except ValueError:
            continue
    return None
