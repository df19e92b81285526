"""Whole numbers as people write them in spreadsheets: `1,500`, `1.500`, `1 500`, `10,00`."""

from __future__ import annotations

import math
from typing import Final

from atlas_tui.domain.errors import ValidationError
from atlas_tui.domain.models import QUANTITY_MAX

NOT_STOCKED: Final = frozenset({"not stocked", "not tracked", "untracked", "n/a"})
_MINUS: Final = frozenset("-\u2212")  # ASCII hyphen-minus and the typographic minus sign
# Space, no-break space, narrow no-break space and thin space all group thousands.
_SPACES: Final = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})
_MAX_DIGITS: Final = len(str(QUANTITY_MAX))
_FRACTION: Final = "is a fraction; quantities are whole numbers"


def shown(value: object) -> str:
    """A short quoted rendering of a bad value for a message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _grouped(text: str, sep: str) -> str | None:
    """The digits of `text` when `sep` groups them in threes (`12,345,678`), else None."""
    groups = text.split(sep)
    head = groups[0]
    # A leading 0 means the separator is a decimal mark (`0,500`), never a grouping.
    if not (head.isdecimal() and len(head) <= 3) or (len(groups) > 1 and head[0] == "0"):
        return None
    for group in groups[1:]:
        if len(group) != 3 or not group.isdecimal():
            return None
    return "".join(groups)


def _split_mark(body: str) -> tuple[str, str, str | None] | None:
    """(integer part, decimal part, grouping separator) of an unsigned number, or None.

    When both `,` and `.` occur the last one is the decimal mark. A single `,` or `.` groups
    thousands only when exactly three digits follow it (and no spaces already group them);
    otherwise it is the decimal mark.
    """
    comma, dot = body.rfind(","), body.rfind(".")
    if comma >= 0 and dot >= 0:
        mark, group = (",", ".") if comma > dot else (".", ",")
        whole, _, fraction = body.rpartition(mark)
        return (whole, fraction, group) if mark not in whole else None
    if comma < 0 and dot < 0:
        return body, "", None
    sep = "," if comma >= 0 else "."
    if body.count(sep) > 1 or (" " not in body and _grouped(body, sep) is not None):
        return body, "", sep
    whole, _, fraction = body.partition(sep)
    return whole, fraction, None


def _digits(body: str) -> tuple[str, str] | None:
    """(integer digits, decimal digits) of an unsigned number, or None when it is not one."""
    parts = _split_mark(body.translate(_SPACES))
    if parts is None:
        return None
    whole, fraction, group = parts
    if fraction and not fraction.isdecimal():
        return None
    if group is not None and " " in whole:
        return None  # two kinds of grouping in one number is a typo, not a number
    if group is None and " " in whole:
        group = " "
    if group is not None:
        digits = _grouped(whole, group)
        if digits is None:
            return None
        return digits, fraction
    if whole.isdecimal() or (not whole and fraction):
        return whole, fraction
    return None


def parse_whole(field: str, text: str) -> int:
    """A whole number >= 0 from spreadsheet text; refusals are `ValidationError(field, ...)`."""
    if text.isdecimal() and len(text) < _MAX_DIGITS:
        return int(text)  # the common case, without any parsing below
    value = text.strip()
    if not value:
        raise ValidationError(field, "is empty")
    if value.casefold() in NOT_STOCKED:
        raise ValidationError(field, f"not stocked ({shown(value)})")
    negative = value[0] in _MINUS
    body = value[1:] if negative or value[0] == "+" else value
    parts = _digits(body) if body else None
    if parts is None:
        raise ValidationError(field, f"{shown(value)} is not a number")
    whole, fraction = parts
    if fraction.strip("0"):
        raise ValidationError(field, f"{shown(value)} {_FRACTION}")
    whole = whole.lstrip("0") or "0"
    if len(whole) > _MAX_DIGITS:
        raise ValidationError(field, f"{shown(value)} is too large (at most {QUANTITY_MAX})")
    number = int(whole)
    if negative and number:
        raise ValidationError(field, f"-{number} is negative")
    if number > QUANTITY_MAX:
        raise ValidationError(field, f"{number} is too large (at most {QUANTITY_MAX})")
    return number


def whole_value(field: str, value: object) -> int:
    """A whole number >= 0 from a JSON value: an int, an integral float or text."""
    if isinstance(value, str):
        return parse_whole(field, value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(field, f"{shown(value)} is not a number")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(field, f"{shown(value)} is not a number")
        if not value.is_integer():
            raise ValidationError(field, f"{value!r} {_FRACTION}")
        value = int(value)
    if value < 0:
        raise ValidationError(field, f"{value} is negative")
    if value > QUANTITY_MAX:
        raise ValidationError(field, f"{value} is too large (at most {QUANTITY_MAX})")
    return value
