"""Trends from the movement history: quantity over time, usage and the reorder list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from atlas_tui.models import InventoryItem, Movement


def quantity_trend(
    movements: Sequence[Movement], current: int, days: int, now: datetime
) -> dict[str, Any]:
    """The item's quantity at the end of each of the last `days` days, and its usage.

    `movements` are one item's, oldest first. Returns {"days", "levels", "daily_usage"}.
    """
    raise NotImplementedError


def reorder_report(
    items: Sequence[InventoryItem], movements: Sequence[Movement], now: datetime
) -> dict[str, Any]:
    """Items at or below their minimum with a suggested order and days until stock-out."""
    raise NotImplementedError
