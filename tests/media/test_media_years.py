"""Years are read from ints, strings, ranges and dates; two-digit years follow %y."""

from __future__ import annotations

from typing import Any

import pytest

from atlas_tui.media import parse_year


@pytest.mark.parametrize(
    ("value", "year"),
    [
        (1999, 1999),
        ("2015", 2015),
        ("2017\u2013", 2017),  # OMDb writes an en dash
        ("2007\u20132019", 2007),
        ("2008-01-20", 2008),
        ("2010-07-16T00:00:00.0000000Z", 2010),
        ("1/1/1963", 1963),
        ("16 Jul 2010", 2010),
        ("12-Jun-98", 1998),
        ("12-Jun-68", 2068),
        ("12-Jun-69", 1969),
        ("1/1/63", 2063),
        ("98", 1998),
        ("00", 2000),
        (99, 1999),
        (5, 2005),
        (2019.0, 2019),
    ],
)
def test_years_are_found(value: Any, year: int) -> None:
    assert parse_year(value) == year


@pytest.mark.parametrize(
    "value", [None, "", "N/A", "unknown", 0, True, 12345, "12345", "0000-00-00", [], 1.5]
)
def test_no_year_where_there_is_none(value: Any) -> None:
    assert parse_year(value) is None
