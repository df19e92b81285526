"""Phrasings shared by the CLI and the app: plain strings, made safe by whoever prints them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any


def usage_rate(daily_usage: float) -> str:
    """Units per day, short: 0, <0.1, one decimal below 10, whole numbers above."""
    if daily_usage <= 0:
        return "0"
    if daily_usage < 0.05:
        return "<0.1"
    if daily_usage < 10:
        return f"{daily_usage:.1f}"
    return f"{daily_usage:,.0f}"


def days_left_text(days_left: float | None) -> str:
    """Days until stock-out: "—" when nothing is being used, one decimal below 10 days."""
    if days_left is None:
        return "—"
    if days_left < 10:
        return f"{days_left:.1f}"
    return f"{days_left:,.0f}"


def _shown(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_shown(v)}" for k, v in value.items()) + "}"
    return str(value)


def change_words(changes: Mapping[str, Any]) -> str:
    """One line: "quantity 5 → 7, name 'a' → 'b'" (quantity first)."""
    order = sorted(changes, key=lambda name: (name != "quantity", name))
    return ", ".join(
        f"{name} {_shown(changes[name][0])} → {_shown(changes[name][1])}" for name in order
    )


def line_words(change: Sequence[Any]) -> str:
    """One line change as a movement records it: `B-2 lot L7 24→19`."""
    location, lot, _expiry, before, after = change
    where = str(location) or "(no location)"
    if lot:
        where += f" lot {lot}"
    return f"{where} {before}→{after}"


def movement_words(kind: str, details: Mapping[str, Any]) -> str:
    """What a movement changed beyond its quantity: where (lines), from → to, fields."""
    parts: list[str] = []
    if kind in ("move", "transfer"):
        parts.append(f"{details.get('from') or '-'} → {details.get('to') or '-'}")
    lines = details.get("lines")
    if isinstance(lines, list) and lines and kind != "move":
        shown = [line_words(change) for change in lines[:4] if len(change) == 5]
        if len(lines) > 4:
            shown.append(f"… {len(lines) - 4} more")
        parts.append(", ".join(shown))
    if kind == "update":
        for field, (old, new) in (details.get("changes") or {}).items():
            if field == "lines":
                parts.append("stock lines relabelled")
            else:
                parts.append(f"{field}: {old!r} → {new!r}")
    return "; ".join(part for part in parts if part)


def when_words(moment: datetime) -> str:
    """A movement's time as history rows show it: `2026-12-04 10:22` (UTC)."""
    return moment.strftime("%Y-%m-%d %H:%M")


def delta_words(delta: int) -> str:
    """A change of quantity with its sign: `+5`, `-3`, `0`."""
    return f"{delta:+d}" if delta else "0"


def quantity_words(before: int, after: int) -> str:
    """The quantity from → to: `5→7`."""
    return f"{before}→{after}"


def movement_summary(kind: str, before: int, after: int, delta: int) -> str:
    """Kind and quantity from → to, with the change: `adjust 5→7 (+2)`, `move 7→7`."""
    change = f" ({delta_words(delta)})" if delta else ""
    return f"{kind} {quantity_words(before, after)}{change}"


def movement_note(kind: str, details: Mapping[str, Any], reason: str = "") -> str:
    """What a movement changed beyond its quantity (where, from → to, fields old → new),
    then why: `B2 → C3; B2 6→2 · reason: restock`."""
    words = movement_words(kind, details)
    if not reason:
        return words
    return f"{words} · reason: {reason}" if words else f"reason: {reason}"


# Stock expiring within this many days is marked.
EXPIRY_WARNING_DAYS = 30


def expiry_words(expiry: str, today: date) -> str:
    """ "expired", "expires today", "expires in 6 d" for an expiry within the warning
    window, else "" (no expiry, a later one, or text that is not a date)."""
    if not expiry:
        return ""
    try:
        days = (date.fromisoformat(expiry) - today).days
    except ValueError:
        return ""
    if days < 0:
        return "expired"
    if days == 0:
        return "expires today"
    if days <= EXPIRY_WARNING_DAYS:
        return f"expires in {days} d"
    return ""
