"""Writing an inventory out as CSV (spreadsheet-safe) or JSON; `read_import` reads both back
to the same items."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson

from atlas_tui.formats.cells import neutralise
from atlas_tui.formats.headers import ATTR, FIELDS, JSON

EXPORT_COLUMNS: Final = FIELDS
# One row per stock line: the line (location, lot, expiry, quantity) and its item's fields,
# repeated on each of its rows, the item's home among them; importing it gives the same
# items and lines back.
LINE_COLUMNS: Final = (
    "sku", "name", "category", "unit", "location", "lot", "expiry", "quantity", "home",
    "min_stock", "max_stock", "created_at", "updated_at",
)  # fmt: skip
EXPORT_FORMAT: Final = "atlas-export"
LINES_FORMAT: Final = "atlas-lines"
EXPORT_VERSION: Final = 1
# Written by the stock-lines export instead (one row per line).
_NOT_EXPORTED: Final = frozenset({"lines", "barcodes"})


def _plain_text(value: object) -> bool:
    """Whether an attribute value survives a trip through a text cell unchanged: a
    non-empty string without surrounding whitespace (the reader strips cells) or NUL
    (a file full of NULs reads as UTF-16)."""
    return isinstance(value, str) and bool(value) and value == value.strip() and "\0" not in value


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def attribute_columns(items: Sequence[Mapping[str, Any]]) -> list[str]:
    """`attr:KEY` or `json:KEY` per attribute key of any item, sorted case-insensitively.

    `attr:` when every present value is plain text, else `json:` with every value encoded,
    so numbers, booleans, null, "" and nested data come back with their types.
    """
    text: dict[str, bool] = {}
    for item in items:
        for key, value in (item.get("attributes") or {}).items():
            text[key] = text.get(key, True) and _plain_text(value)
    ordered = sorted(text, key=lambda key: (key.casefold(), key))
    return [(ATTR if text[key] else JSON) + key for key in ordered]


def _cell(value: object) -> str:
    if value is None:
        return ""
    return neutralise(value if isinstance(value, str) else str(value))


def export_csv(items: Sequence[Mapping[str, Any]], columns: Sequence[str] = EXPORT_COLUMNS) -> str:
    """CSV text of `items` (`InventoryItem.to_dict()` data): the item fields, then one column
    per attribute key; `,` and CRLF, quoted only where needed. Every cell that a spreadsheet
    would run as a formula gets a leading `'` (see `neutralise`). `columns` (LINE_COLUMNS)
    writes the rows of `line_rows` instead."""
    extra = attribute_columns(items)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(column) for column in (*columns, *extra)])
    keyed = [(column[len(ATTR) :], column.startswith(JSON)) for column in extra]
    for item in items:
        attributes = item.get("attributes") or {}
        row = [_cell(item.get(column)) for column in columns]
        for key, as_json in keyed:
            if key not in attributes:
                row.append("")
            elif as_json:
                row.append(neutralise(_json_text(attributes[key])))
            else:
                row.append(neutralise(attributes[key]))
        writer.writerow(row)
    return buffer.getvalue()


def export_json(items: Sequence[Mapping[str, Any]], *, exported_at: str) -> str:
    """`{"format": "atlas-export", "version": 1, "exported_at": ..., "items": [...]}`,
    indented by 2, non-ASCII text as is (encode it as UTF-8)."""
    document = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": exported_at,
        "items": [
            {key: value for key, value in item.items() if key not in _NOT_EXPORTED}
            for item in items
        ],
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()


def line_rows(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per stock line of `items` (`InventoryItem.to_dict()` data), in LINE_COLUMNS
    order with the item's attributes; an item with no line gets one row at its home
    holding 0, so that it is exported too."""
    rows: list[dict[str, Any]] = []
    for item in items:
        lines = item.get("lines") or [{"location": item.get("location", ""), "quantity": 0}]
        for line in lines:
            row = {column: item.get(column) for column in LINE_COLUMNS}
            row["location"] = line.get("location", "")
            row["lot"] = line.get("lot", "")
            row["expiry"] = line.get("expiry", "")
            row["quantity"] = line.get("quantity", 0)
            row["home"] = item.get("location", "")
            row["attributes"] = item.get("attributes") or {}
            rows.append(row)
    return rows


def export_lines_json(rows: Sequence[Mapping[str, Any]], *, exported_at: str) -> str:
    """`{"format": "atlas-lines", "version": 1, "exported_at": ..., "items": [...]}`: the rows
    of `line_rows`, one object per stock line (read back by `read_import` as a CSV would be)."""
    document = {
        "format": LINES_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": exported_at,
        "items": list(rows),
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()
