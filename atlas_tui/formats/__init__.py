"""Import and export files: reading CSV/JSON into rows, writing an inventory back out.

Pure functions over bytes and text: no storage, no UI. The service checks the rows
against the item rules and applies them.
"""

from __future__ import annotations

from atlas_tui.formats.cells import neutralise, restore
from atlas_tui.formats.export import (
    EXPORT_COLUMNS,
    LINE_COLUMNS,
    export_csv,
    export_json,
    export_lines_json,
    line_rows,
)
from atlas_tui.formats.headers import ALIASES, FIELDS, parse_mapping
from atlas_tui.formats.numbers import parse_whole
from atlas_tui.formats.reader import detect_delimiter, read_import
from atlas_tui.formats.table import ImportTable, SourceRow

__all__ = [
    "ALIASES",
    "EXPORT_COLUMNS",
    "FIELDS",
    "LINE_COLUMNS",
    "ImportTable",
    "SourceRow",
    "detect_delimiter",
    "export_csv",
    "export_json",
    "export_lines_json",
    "line_rows",
    "neutralise",
    "parse_mapping",
    "parse_whole",
    "read_import",
    "restore",
]
