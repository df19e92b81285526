"""Reading an import file (CSV or JSON) into rows of item fields and attributes.

Nothing here is checked against the item rules beyond what reading needs (whole numbers,
a SKU present, valid JSON cells); that is the service's job.
"""

from __future__ import annotations

import csv
import gc
import io
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from itertools import islice
from typing import Any, Final

import orjson

from atlas_tui.domain.errors import ValidationError
from atlas_tui.domain.models import ATTRIBUTES_MAX, QUANTITY_MAX
from atlas_tui.formats.cells import restore
from atlas_tui.formats.dates import parse_expiry
from atlas_tui.formats.decode import choose_format, decode_file, text_position
from atlas_tui.formats.headers import (
    ATTR,
    DATE_FIELDS,
    IGNORE,
    JSON,
    TEXT_FIELDS,
    WHOLE_FIELDS,
    check_mapping,
    header_text,
    listing,
    resolve_columns,
)
from atlas_tui.formats.numbers import parse_whole, shown, whole_value
from atlas_tui.formats.shapes import erpnext_items, implied_mapping, read_as_exported
from atlas_tui.formats.table import ImportTable, SourceRow

DELIMITERS: Final = (",", ";", "\t")  # in order of preference when they fit a file equally
SNIFF_RECORDS: Final = 20
# Limits of a file (README, "Limits"): far above any real export, low enough that a wrong or
# hostile file is refused before it costs much memory.
COLUMNS_MAX: Final = 256  # CSV columns; distinct keys of a JSON file's objects
CELL_MAX: Final = 64 * 1024  # characters in one CSV cell
_BLANK_CHARS: Final = "".join(DELIMITERS) + " \r\n\x0b\x0c"
# A JSON object's 1-based index + 1: the first object is row 2, as under a spreadsheet header.
JSON_FIRST_ROW: Final = 2
_JSON_ATTRIBUTES: Final = "attributes"
_NUMBERS_TEXT: Final = ("sku", "name", "category", "location")  # an int here reads as text

# What a column does with a non-empty cell.
_TEXT: Final = 0  # item text field
_WHOLE: Final = 1  # item whole-number field
_ATTR: Final = 2  # attribute, as text (CSV) or as given (JSON)
_JSON_ATTR: Final = 3  # attribute, the cell parsed as JSON
_DATE: Final = 4  # expiry date (the plan names the column, for messages)
_SKIP: Final = -1  # ignored
_FAST_DIGITS: Final = len(str(QUANTITY_MAX))  # shorter runs of digits are always in range

Plan = list[tuple[int, int, str]]  # (column index, kind, field or attribute name)
_DATE_FIELD: Final = "expiry"


def read_import(
    data: bytes,
    *,
    name: str = "",
    mapping: Mapping[str, str] | None = None,
    file_format: str | None = None,
    encoding: str | None = None,
) -> ImportTable:
    """Read an import file's bytes into rows; `name` (the file name) only helps pick the format.

    File-wide refusals are `ValidationError` for "file" (not decodable, empty, no header, no
    column for sku, JSON of the wrong shape), "mapping", "encoding" or "format". A problem
    confined to one row goes into that row's `problems` instead.
    """
    explicit = check_mapping(mapping.items()) if mapping else {}
    decoded = decode_file(data, encoding)
    text = decoded.text
    if not text or text.isspace():
        raise ValidationError("file", "is empty")
    if choose_format(text, name, file_format) == "json":
        return replace(_read_json(text, explicit), read_as=decoded.read_as)
    return replace(_read_csv(text, explicit), read_as=decoded.read_as)


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: the rows built are acyclic, and without the pause
    it rescans every row built so far many times over (a third of a 100k-row read)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _lines(text: str, ended: list[bool]) -> Iterator[str]:
    """The lines of `text` with their line ends (which quoted multi-line cells keep);
    `ended` gets True once the last one has been handed out."""
    yield from io.StringIO(text, newline="")
    ended.append(True)


def _records(text: str, delimiter: str, ended: list[bool] | None = None) -> Iterator[list[str]]:
    """csv records of `text`. A record handed out after the last line (`ended` is set by
    then) is one whose quoted cell was still open at the end of the file: csv, forgiving,
    takes everything after the quote as that cell."""
    csv.field_size_limit(CELL_MAX)  # per process; ATLAS reads no other CSV
    return csv.reader(_lines(text, [] if ended is None else ended), delimiter=delimiter)


def _unclosed_quote(row: int) -> ValidationError:
    return ValidationError(
        "file",
        f'row {row} opens a quote (") that is never closed, so the rest of the file would be '
        "one cell; close it and import again",
    )


def _unreadable(row: int, error: csv.Error) -> ValidationError:
    if "field limit" in str(error):
        return ValidationError(
            "file",
            f"row {row} has a cell longer than {CELL_MAX} characters, the most a cell may hold; "
            'is a quote (") left open?',
        )
    return ValidationError("file", f"row {row} cannot be read as CSV: {error}")


def _blank(cells: Sequence[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def _blank_line(cells: Sequence[str]) -> bool:
    """Blank whichever delimiter split it: a spreadsheet saves an empty row as `,,,`."""
    return not "".join(cells).strip(_BLANK_CHARS)


def _fit(text: str, delimiter: str) -> tuple[bool, int, int]:
    """How well `delimiter` splits the first records: (header has >1 field, records with
    the header's field count, header field count); bigger is better."""
    width, fitting = -1, 0
    # One record at a time: a line of a million cells is never held more than once.
    records = (r for r in _records(text, delimiter) if not _blank_line(r))
    try:
        for record in islice(records, SNIFF_RECORDS + 1):
            size = len(record)
            if width < 0:
                width = size
            # Trailing empty cells (a spreadsheet's stray delimiters) still fit.
            elif size == width or (size > width and not any(record[width:])):
                fitting += 1
    except csv.Error:
        pass  # judged by the records before the unreadable one
    if width < 0:
        return (False, -1, -1)
    return (width > 1, fitting, width)


def detect_delimiter(text: str) -> str:
    """`,`, `;` or tab: the one whose header has more than one field and whose first records
    most consistently have the header's field count (ties go to `,`, then `;`)."""
    best, best_fit = DELIMITERS[0], _fit(text, DELIMITERS[0])
    for delimiter in DELIMITERS[1:]:
        fit = _fit(text, delimiter)
        if fit > best_fit:
            best, best_fit = delimiter, fit
    return best


def _step(target: str) -> tuple[int, str]:
    """(kind, field or attribute name) of a column target."""
    if target == IGNORE:
        return (_SKIP, "")
    if target in TEXT_FIELDS:
        return (_TEXT, target)
    if target in WHOLE_FIELDS:
        return (_WHOLE, target)
    if target in DATE_FIELDS:
        return (_DATE, target)
    if target.startswith(JSON):
        return (_JSON_ATTR, target[len(JSON) :])
    return (_ATTR, target[len(ATTR) :])


def _plan(headers: Sequence[str], targets: Sequence[str]) -> Plan:
    """The columns that are read, in file order (a date column by its header)."""
    plan: Plan = []
    for index, target in enumerate(targets):
        if target != IGNORE:
            kind, name = _step(target)
            plan.append((index, kind, headers[index] if kind == _DATE else name))
    return plan


def _columns(headers: Sequence[str], targets: Sequence[str]) -> dict[str, str]:
    """header -> target in file order; a repeated header shows as `NAME (2)`, ... and empty
    headers are left out."""
    columns: dict[str, str] = {}
    for header, target in zip(headers, targets, strict=True):
        if not header:
            continue
        unique, count = header, 1
        while unique in columns:
            count += 1
            unique = f"{header} ({count})"
        columns[unique] = target
    return columns


def _require_sku(headers: Sequence[str], targets: Sequence[str]) -> None:
    if "sku" not in targets:
        names = listing([header for header in headers if header])
        raise ValidationError(
            "file",
            f"no column maps to sku (columns: {names}); name it with --mapping COLUMN=sku",
        )


def _read_csv(text: str, explicit: Mapping[str, str]) -> ImportTable:
    delimiter = detect_delimiter(text)
    ended: list[bool] = []
    reader = _records(text, delimiter, ended)
    row = 0
    header: list[str] | None = None
    try:
        for record in reader:
            row += 1
            if ended:
                raise _unclosed_quote(row)
            if not _blank(record):
                header = record
                break
    except csv.Error as error:
        raise _unreadable(row + 1, error) from None
    if header is None:
        raise ValidationError("file", "has no header row (every cell is empty)")
    if len(header) > COLUMNS_MAX:
        raise ValidationError(
            "file", f"row {row} has {len(header)} columns; a file may have at most {COLUMNS_MAX}"
        )
    headers = [header_text(restore(cell)) for cell in header]
    targets = resolve_columns(headers, implied_mapping(headers, explicit))
    _require_sku(headers, targets)
    with no_cyclic_gc():
        rows = _csv_rows(reader, row, _plan(headers, targets), len(headers), ended)
    columns = _columns(headers, targets)
    return ImportTable(read_as_exported(headers, rows, columns), columns, "csv", delimiter)


def _csv_rows(
    records: Iterator[list[str]], row: int, plan: Plan, width: int, ended: list[bool]
) -> list[SourceRow]:
    """SourceRows of the records after the header (row `row`); blank records are counted
    but left out. This loop is the hot path of a 100k-row import, hence its plainness."""
    rows: list[SourceRow] = []
    append = rows.append
    try:
        for record in records:
            row += 1
            if ended:
                raise _unclosed_quote(row)
            fields: dict[str, Any] = {}
            attributes: dict[str, Any] = {}
            problems: list[str] = []
            size = len(record)
            for index, kind, key in plan:
                if index >= size:
                    break
                cell = record[index]
                if not cell:
                    continue
                if cell[0] == "'":
                    cell = restore(cell)
                cell = cell.strip()
                if not cell:
                    continue
                if kind == _TEXT:
                    fields[key] = cell
                elif kind == _WHOLE:
                    if cell.isdecimal() and len(cell) < _FAST_DIGITS:
                        fields[key] = int(cell)
                    else:
                        try:
                            fields[key] = parse_whole(key, cell)
                        except ValidationError as error:
                            problems.append(error.message)
                elif kind == _ATTR:
                    attributes[key] = cell
                elif kind == _DATE:
                    try:
                        fields[_DATE_FIELD] = parse_expiry(cell, key)
                    except ValidationError as error:
                        problems.append(error.message)
                else:
                    try:
                        attributes[key] = orjson.loads(cell)
                    except orjson.JSONDecodeError:
                        problems.append(f"attributes.{key}: {shown(cell)} is not valid JSON")
            if size > width and not _blank(record[width:]):
                problems.append(
                    f"row: has {size} cells but the header has {width} columns "
                    "(a missing quote or delimiter?)"
                )
            if not fields and not attributes and not problems:
                continue
            if "sku" not in fields:
                problems.insert(0, "sku: is empty")
            append(SourceRow(row, fields, attributes, problems))
    except csv.Error as error:
        raise _unreadable(row + 1, error) from None
    return rows


def _read_json(text: str, explicit: Mapping[str, str]) -> ImportTable:
    try:
        with no_cyclic_gc():
            document = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        line, column = text_position(text, error.pos)  # orjson counts only LF line ends
        raise ValidationError(
            "file", f"is not valid JSON: {error.msg}: line {line} column {column}"
        ) from None
    records = document.get("items") if isinstance(document, dict) else document
    if not isinstance(records, list):
        raise ValidationError(
            "file", 'must be a JSON list of items or an object with an "items" list'
        )
    keys = _json_keys(records)
    named = [key for key in keys if key != _JSON_ATTRIBUTES]
    headers = [header_text(key) for key in named]
    targets = resolve_columns(headers, implied_mapping(headers, explicit))
    if keys:
        _require_sku(headers, targets)
    kinds = {key: _step(target) for key, target in zip(named, targets, strict=True)}
    kinds = {key: (kind, key if kind == _DATE else name) for key, (kind, name) in kinds.items()}
    with no_cyclic_gc():
        rows = erpnext_items(keys, _json_rows(records, kinds))
    columns = _columns(headers, targets)
    if _JSON_ATTRIBUTES in keys:
        position = keys.index(_JSON_ATTRIBUTES)
        items = list(columns.items())
        items.insert(position, (_JSON_ATTRIBUTES, _JSON_ATTRIBUTES))
        columns = dict(items)
    return ImportTable(rows, columns, "json", None)


def _json_keys(records: list[Any]) -> list[str]:
    """The distinct keys of the objects, in order; more than COLUMNS_MAX is refused at the
    object that brings one too many."""
    seen: dict[str, None] = {}
    for position, record in enumerate(records):
        if isinstance(record, dict):
            seen.update(dict.fromkeys(record))
            if len(seen) > COLUMNS_MAX:
                raise ValidationError(
                    "file",
                    f"row {position + JSON_FIRST_ROW} brings the objects to {len(seen)} "
                    f"different keys; a file may have at most {COLUMNS_MAX} (one per column)",
                )
    return list(seen)


def _json_rows(records: list[Any], kinds: Mapping[str, tuple[int, str]]) -> list[SourceRow]:
    rows: list[SourceRow] = []
    for position, record in enumerate(records):
        row = position + JSON_FIRST_ROW
        if record is None:
            continue  # like a blank spreadsheet row
        if not isinstance(record, dict):
            rows.append(SourceRow(row, {}, {}, [f"item: must be an object, got {shown(record)}"]))
            continue
        fields: dict[str, Any] = {}
        attributes: dict[str, Any] = {}
        problems: list[str] = []
        nested: dict[str, Any] = {}
        for key, value in record.items():
            if value is None or value == "":
                continue
            if key == _JSON_ATTRIBUTES and isinstance(value, dict):
                if len(value) > ATTRIBUTES_MAX:
                    problems.append(
                        f"attributes: an item has at most {ATTRIBUTES_MAX}; this one has "
                        f"{len(value)}"
                    )
                else:
                    nested = value
                continue
            kind, name = kinds.get(key, (_ATTR, key))
            if kind == _TEXT:
                if isinstance(value, str):
                    value = value.strip()
                    if value:
                        fields[name] = value
                elif name in _NUMBERS_TEXT and type(value) is int:
                    fields[name] = str(value)
                else:
                    problems.append(f"{name}: must be text, got {shown(value)}")
            elif kind == _WHOLE:
                if type(value) is int and 0 <= value <= QUANTITY_MAX:
                    fields[name] = value
                else:
                    try:
                        fields[name] = whole_value(name, value)
                    except ValidationError as error:
                        problems.append(error.message)
            elif kind == _DATE:
                if isinstance(value, str):
                    try:
                        fields[_DATE_FIELD] = parse_expiry(value, name)
                    except ValidationError as error:
                        problems.append(error.message)
                else:
                    problems.append(f"expiry: column {name!r} must hold a date, got {shown(value)}")
            elif kind == _JSON_ATTR and isinstance(value, str):
                try:
                    attributes[name] = orjson.loads(value)
                except orjson.JSONDecodeError:
                    problems.append(f"attributes.{name}: {shown(value)} is not valid JSON")
            elif kind != _SKIP:
                attributes[name] = value
        # The item's own attributes object is exact; it wins over same-named loose keys.
        attributes.update(nested)
        if not fields and not attributes and not problems:
            continue
        if "sku" not in fields:
            problems.insert(0, "sku: is empty")
        rows.append(SourceRow(row, fields, attributes, problems))
    return rows
