"""Expiry dates as exports write them: `2027-01-31`, or a date and time of which the date is
kept (`2027-01-31 00:00:00`, `2027-01-31T23:59:59+02:00`)."""

from __future__ import annotations

import re
from datetime import date
from typing import Final

from atlas_tui.domain.errors import ValidationError
from atlas_tui.formats.numbers import shown

_ISO: Final = re.compile(
    r"(\d{4}-\d{2}-\d{2})"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
)


def parse_expiry(cell: str, column: str) -> str:
    """The date of an ISO date or date-time cell as YYYY-MM-DD; anything else (`31/01/2027`,
    `Jan 31 2027`) is refused naming `column`, as a day-month order cannot be guessed."""
    text = cell.strip()
    found = _ISO.fullmatch(text)
    if found is None:
        raise ValidationError(
            "expiry",
            f"{shown(text)} in column {column!r} is not a date; write it as YYYY-MM-DD "
            "(2027-01-31; a date and time such as 2027-01-31 00:00:00 is read as its date)",
        )
    day = found.group(1)
    try:
        date.fromisoformat(day)
    except ValueError:
        raise ValidationError(
            "expiry", f"{shown(text)} in column {column!r} is not a date of the calendar"
        ) from None
    return day
