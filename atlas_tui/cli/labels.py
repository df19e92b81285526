"""`atlas labels commands`: the sheet of scan mode's command codes, as text or barcodes."""

from __future__ import annotations

import argparse
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atlas_tui.cli.output import Output
from atlas_tui.domain.errors import AtlasError, StorageError, ValidationError

if TYPE_CHECKING:  # imported when the command runs: building the parser stays quick
    from atlas_tui.services.scanning import ScanCodes

Command = Callable[[str, str, Callable[[argparse.ArgumentParser], None]], None]
TITLE = "ATLAS scan mode: command codes"


def add_labels_command(command: Command) -> None:
    """Add `labels` through the CLI's command factory."""
    command("labels", "print barcode sheets: `labels commands`, scan mode's command codes", _args)


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("sheet", choices=("commands",), help="which sheet: commands")
    p.add_argument(
        "--format",
        choices=("text", "pdf", "png", "svg"),
        default="text",
        help="text (default) lists the codes; pdf, png and svg draw them as Code 128",
    )
    p.add_argument("--output", metavar="FILE", help="where pdf/png/svg go (written atomically)")
    p.add_argument("--paper", choices=("a4", "letter"), default="a4", help="page size (default a4)")


def run_labels(args: argparse.Namespace, out: Output, codes: ScanCodes | None = None) -> int:
    """Print the command sheet, or write it to --output."""
    from atlas_tui.services.scanning import COMMANDS

    if codes is None:
        from atlas_tui.services.scanning import ScanCodes

        codes = ScanCodes()
    rows = [(codes.code(command), command, meaning) for command, meaning in COMMANDS.items()]
    if args.format == "text":
        if args.output is not None:
            out.parser_error("--output is for --format pdf, png or svg; text goes to stdout")
        return out.finish(
            {
                "success": True,
                "commands": [{"code": c, "command": n, "meaning": m} for c, n, m in rows],
            },
            lambda _: _print_text(out, rows, codes),
        )
    if args.output is None:
        out.parser_error(f"--format {args.format} needs --output FILE")
    try:
        written = _write_sheet(Path(args.output), args.format, args.paper, rows)
    except AtlasError as error:
        return out.finish({"success": False, "error": str(error)}, print)
    return out.finish(
        {"success": True, "labels": written},
        lambda w: out.line(f"wrote {w['pages']} page(s) of {w['codes']} codes to ", w["path"]),
    )


def _print_text(out: Output, rows: list[tuple[str, str, str]], codes: ScanCodes) -> None:
    width = max(len(code) for code, _, _ in rows)
    print(TITLE)
    for code, _, meaning in rows:
        print(f"  {code.ljust(width)}  {meaning}")
    print(
        "Scan one (or type the word alone, then enter) to do what its key does; no stock "
        f"changes. An item whose SKU is a code: scan 1*{codes.code('pick')}."
    )


def _write_sheet(
    target: Path, file_format: Any, paper: Any, rows: list[tuple[str, str, str]]
) -> dict[str, Any]:
    from atlas_tui.formats.command_sheet import SheetRow, render_sheet
    from atlas_tui.storage.files import atomic_write

    path = _checked_output(target)
    sheet: list[SheetRow] = [SheetRow(code, meaning) for code, _, meaning in rows]
    data, pages = render_sheet(sheet, TITLE, file_format, paper)
    try:
        atomic_write(path, data, clean=False)
    except OSError as exc:
        raise StorageError(f"cannot write {target}: {exc.strerror or exc}") from None
    return {"path": str(target), "format": file_format, "pages": pages, "codes": len(rows)}


def _checked_output(target: Path) -> Path:
    """Where to write: `target`, or the regular file a symlink names. A directory, FIFO,
    device, socket or a link to anything but a regular file is refused, as is a folder
    that does not exist."""
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise ValidationError("output", f"cannot use {target}: {exc.strerror or exc}") from None
    if info is None:
        if not target.parent.is_dir():
            raise ValidationError("output", f"folder {target.parent} does not exist")
        return target
    path = target
    if stat.S_ISLNK(info.st_mode):
        path = Path(os.path.realpath(target))
        try:
            info = os.stat(path)
        except OSError:
            raise ValidationError(
                "output", f"{target} is a symbolic link to nothing that exists"
            ) from None
    if stat.S_ISDIR(info.st_mode):
        raise ValidationError("output", f"{target} is a folder: give a file name")
    if not stat.S_ISREG(info.st_mode):
        raise ValidationError("output", f"{target} is not a regular file (a FIFO or a device)")
    return path
