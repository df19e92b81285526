"""What reading an import file gives: its rows, ready for the service to check and apply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One record of an import file, read but not yet validated as an item.

    `row` is the row number a spreadsheet shows (header = 1, first record = 2; a quoted
    multi-line cell is one row, blank rows count). For JSON it is the object's 1-based index
    plus 1, so the first object is row 2 as well. `fields` holds the item fields found (text
    stripped; quantity, min_stock and max_stock as ints), `attributes` every other non-empty
    value, and `problems` the refusals found while reading, each "field: problem".
    """

    row: int
    fields: dict[str, Any]
    attributes: dict[str, Any]
    problems: list[str]

    @property
    def sku(self) -> str:
        """The row's SKU, or "" when it has none."""
        sku: str = self.fields.get("sku", "")
        return sku


@dataclass(frozen=True, slots=True)
class ImportTable:
    """A whole import file: its non-blank rows and how its columns were understood.

    `columns` maps each source header (JSON: each key) to its target, in file order:
    an item field, `attr:KEY`, `json:KEY`, `ignore`, or for JSON's own `attributes` object,
    `attributes`. `delimiter` is `,`, `;` or a tab for CSV and None for JSON. `read_as` is
    the encoding the text was read as, e.g. "utf-8" or "mac_roman (detected)".
    """

    rows: list[SourceRow]
    columns: dict[str, str]
    format: str
    delimiter: str | None
    read_as: str = "utf-8"
