"""Import files into the store and export it, for the CLI, the API and the app."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

from atlas_tui.domain.errors import StorageError, ValidationError
from atlas_tui.domain.models import format_timestamp
from atlas_tui.formats import (
    LINE_COLUMNS,
    ImportTable,
    export_csv,
    export_json,
    export_lines_json,
    line_rows,
    parse_mapping,
    read_import,
)
from atlas_tui.services.imports import ImportResult
from atlas_tui.services.inventory import InventoryService
from atlas_tui.storage.files import atomic_write

FORMATS: Final = ("csv", "json")
# Far above any real stock list, low enough that a wrong file (a disk image) is refused
# before it is read into memory.
MAX_IMPORT_BYTES: Final = 512 * 1024 * 1024


def _check_format(file_format: str | None) -> None:
    if file_format is not None and file_format not in FORMATS:
        raise ValidationError("format", f"must be one of {', '.join(FORMATS)}, got {file_format!r}")


def read_file(
    path: str | Path,
    *,
    mapping: Sequence[str] = (),
    encoding: str | None = None,
    file_format: str | None = None,
) -> ImportTable:
    """Read an import file into rows; ValidationError names the file and the problem."""
    source = Path(path)
    columns = parse_mapping(mapping)
    _check_format(file_format)
    try:
        if source.stat().st_size > MAX_IMPORT_BYTES:
            raise ValidationError("file", f"{source} is larger than 512 MB; split it")
        data = source.read_bytes()
    except IsADirectoryError:
        raise ValidationError("file", f"{source} is a folder, not a file") from None
    except OSError as exc:
        raise ValidationError("file", f"cannot read {source}: {exc.strerror or exc}") from None
    return read_import(
        data, name=source.name, mapping=columns, file_format=file_format, encoding=encoding
    )


def import_file(
    service: InventoryService,
    path: str | Path,
    *,
    dry_run: bool = False,
    strict: bool = False,
    mapping: Sequence[str] = (),
    encoding: str | None = None,
    file_format: str | None = None,
    reason: str | None = None,
) -> ImportResult:
    """Read the file and import it (or only plan it, with `dry_run`)."""
    table = read_file(path, mapping=mapping, encoding=encoding, file_format=file_format)
    # The name goes into the history, which holds UTF-8 text: a byte of a file name in
    # another encoding becomes U+FFFD there (the file itself was read by its real name).
    source = os.fsencode(Path(path).name).decode("utf-8", "replace")
    result = service.import_table(
        table, source=source, dry_run=dry_run, strict=strict, reason=reason
    )
    return replace(result, read_as=table.read_as)


def export_text(service: InventoryService, file_format: str = "csv", *, lines: bool = False) -> str:
    """Every item, attributes included, as CSV (spreadsheet-safe) or JSON; with `lines`, one
    row per stock line instead (importing it gives the same items and lines back)."""
    return _render(service, [item.to_dict() for item in service.list_items()], file_format, lines)


def _render(
    service: InventoryService, items: list[dict[str, Any]], file_format: str, lines: bool
) -> str:
    _check_format(file_format)
    if lines:
        rows = line_rows(items)
        if file_format == "json":
            return export_lines_json(rows, exported_at=format_timestamp(service.now()))
        return export_csv(rows, LINE_COLUMNS)
    if file_format == "json":
        return export_json(items, exported_at=format_timestamp(service.now()))
    return export_csv(items)


def export_file(
    service: InventoryService,
    out: str | Path,
    file_format: str | None = None,
    *,
    lines: bool = False,
) -> dict[str, Any]:
    """Write the export to `out` atomically; the format follows the suffix unless given."""
    target = Path(out)
    chosen = file_format or ("json" if target.suffix.lower() == ".json" else "csv")
    items = [item.to_dict() for item in service.list_items()]
    text = _render(service, items, chosen, lines)
    try:
        atomic_write(target, text.encode("utf-8"))
    except OSError as exc:
        raise StorageError(f"cannot write {target}: {exc.strerror or exc}") from None
    result = {"path": str(target), "format": chosen, "items": len(items)}
    if lines:
        result["lines"] = sum(len(item["lines"]) or 1 for item in items)
    return result
