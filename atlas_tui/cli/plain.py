"""The CLI's fast output, without Rich: item details, item tables streamed row by row, and
CSV/TSV for scripts.

Importing Rich costs more than a whole `atlas show`, and a Rich table measures every row
before it prints the first, so the commands people run most write plain text here. User text
is escaped with `safe_text` on every human path; CSV and TSV keep the exact data when they
go to a file or a pipe, and are escaped only on a terminal.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, Final

from atlas_tui.domain.models import ItemRow, stock_status
from atlas_tui.text import safe_text

if TYPE_CHECKING:
    from atlas_tui.domain.models import InventoryItem

LOW_MARK: Final = "▼ low"
OVER_MARK: Final = "▲ over"
# Column widths come from the first rows only (a table starts printing before the rest are
# read); these caps keep one long value in that sample from widening every line.
SAMPLE_ROWS: Final = 200
CAPS: Final = {"SKU": 24, "Name": 48, "Category": 24, "Location": 20}
# On a terminal, the floors flexible columns give way to (widest first) to fit its width.
FLOORS: Final = {"Name": 10, "Category": 5, "Location": 5}
# SKUs never get cut: on a terminal a longer one folds onto more lines at this width.
SKU_FOLD: Final = 16
SEP: Final = 2
CSV_COLUMNS: Final = (
    "sku", "name", "category", "quantity", "location", "min_stock", "max_stock", "status",
)  # fmt: skip
_SGR: Final = {"bold": "1", "low": "1;33", "over": "1;35", "dim": "2"}
_TSV_ESCAPES: Final = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})

Row = tuple[str, str, str, int, str, int, int]


def use_color(stream: IO[str]) -> bool:
    """Colour as Rich decides it: NO_COLOR wins, FORCE_COLOR forces, else a real terminal."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return stream.isatty() and os.environ.get("TERM", "") not in ("dumb", "unknown")


def terminal_width(stream: IO[str]) -> int | None:
    """The terminal's width ($COLUMNS first); None for a file or a pipe, which get every
    character of every value."""
    if not stream.isatty():
        return None
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (OSError, ValueError):
        return 80


class Styler:
    """SGR styling where colour is wanted, plain text elsewhere."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, style: str) -> str:
        if not self.enabled or not text:
            return text
        return f"\x1b[{_SGR[style]}m{text}\x1b[0m"


def cell_len(text: str) -> int:
    """Terminal cells `text` takes (wide characters count two)."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len as rich_cell_len  # only for non-ASCII text

    return rich_cell_len(text)


def cut(text: str, width: int) -> str:
    """`text` in at most `width` cells, ending in … when cut."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    if text.isascii():
        return text[: width - 1] + "…"
    from rich.cells import set_cell_size

    return set_cell_size(text, width - 1).rstrip() + "…"


def fold(text: str, width: int) -> list[str]:
    """`text` split into pieces of at most `width` cells (nothing lost)."""
    if cell_len(text) <= width:
        return [text]
    if text.isascii():
        return [text[start : start + width] for start in range(0, len(text), width)]
    from rich.cells import chop_cells

    return list(chop_cells(text, width))


def status_of(quantity: int, low: int, high: int) -> str:
    """low, over or ok."""
    return stock_status(quantity, low, high)


def item_row(item: InventoryItem) -> Row:
    """The table's fields of an InventoryItem (the earliest expiry is the screen's)."""
    row = ItemRow.of(item)
    return (row.sku, row.name, row.category, row.quantity, row.location, row.min_stock,
            row.max_stock)  # fmt: skip


def dict_row(item: Mapping[str, Any]) -> Row:
    """The table's fields of an item's dict (as the API returns it)."""
    return (
        item["sku"],
        item["name"],
        item["category"],
        item["quantity"],
        item["location"],
        item["min_stock"],
        item["max_stock"],
    )


def write_details(item: Mapping[str, Any], out: IO[str], style: Styler) -> None:
    """Every field of one item, attributes included: a label column and the value."""
    status = status_of(item["quantity"], item["min_stock"], item["max_stock"])
    quantity = str(item["quantity"])
    if status != "ok":
        quantity += "  " + style(LOW_MARK if status == "low" else OVER_MARK, status)
    high = item["max_stock"]
    rows: list[tuple[str, str]] = [
        ("SKU", safe_text(item["sku"])),
        ("Name", safe_text(item["name"])),
        ("Category", safe_text(item["category"] or "-")),
        ("Quantity", quantity),
        ("Location", safe_text(item["location"] or "-")),
        ("Min stock", str(item["min_stock"])),
        ("Max stock", str(high) if high else "- (no ceiling)"),
        ("Created", safe_text(item["created_at"])),
        ("Updated", safe_text(item["updated_at"])),
    ]
    for key, value in sorted(item.get("attributes", {}).items()):
        rows.append((safe_text(key), safe_text("" if value is None else value)))
    width = max(cell_len(label) for label, _ in rows)
    for label, value in rows:
        pad = " " * (width - cell_len(label) + 2)
        out.write(f"{style(label, 'bold')}{pad}{value}\n")


class _Column:
    __slots__ = ("name", "right", "width")

    def __init__(self, name: str, right: bool, width: int) -> None:
        self.name, self.right, self.width = name, right, width


def _cells(row: Row) -> list[str]:
    sku, name, category, quantity, location, low, high = row
    return [
        safe_text(sku),
        safe_text(name),
        safe_text(category),
        str(quantity),
        safe_text(location),
        str(low),
        str(high) if high else "-",
    ]


_HEADERS: Final = ("SKU", "Name", "Category", "Qty", "Location", "Min", "Max")
_RIGHT: Final = frozenset({"Qty", "Min", "Max"})


def _layout(sample: Sequence[list[str]], width: int | None) -> list[_Column]:
    """Column widths from the sample, capped; on a terminal, fitted to its width:
    below 72 columns min and max are left out, below 56 category and location too."""
    shown = list(_HEADERS)
    if width is not None and width < 72:
        shown = [name for name in shown if name not in ("Min", "Max")]
    if width is not None and width < 56:
        shown = [name for name in shown if name not in ("Category", "Location")]
    widths: dict[str, int] = {}
    for name in shown:
        index = _HEADERS.index(name)
        natural = max([len(name), *(cell_len(cells[index]) for cells in sample)])
        cap = SKU_FOLD if name == "SKU" and width is not None else CAPS.get(name)
        widths[name] = min(natural, cap) if cap else natural
    status = max(len(LOW_MARK), len(OVER_MARK)) if width is None or width >= 72 else 1
    if width is not None:
        excess = sum(widths.values()) + SEP * len(shown) + status - width
        while excess > 0:
            shrinkable = [n for n, floor in FLOORS.items() if widths.get(n, 0) > floor]
            if not shrinkable:
                break
            widest = max(shrinkable, key=lambda n: widths[n] - FLOORS[n])
            widths[widest] -= 1
            excess -= 1
    return [_Column(name, name in _RIGHT, widths[name]) for name in shown]


def _line(columns: Sequence[_Column], texts: Sequence[str], tail: str = "") -> str:
    """One line: each text in its column; a text wider than its column pushes the rest of
    the line right, and the columns after it catch up where they have room."""
    parts: list[str] = []
    position = target = 0
    for number, (column, text) in enumerate(zip(columns, texts, strict=True)):
        if number:
            target += SEP
        size = cell_len(text)
        start = target + column.width - size if column.right else target
        gap = start - position
        gap = max(gap, 1 if number else 0)
        parts.append(" " * gap + text)
        position += gap + size
        target += column.width
    line = "".join(parts)
    if tail:
        line += " " * max(1, target + SEP - position) + tail
    return line.rstrip()


def write_table(
    rows: Iterable[Row],
    out: IO[str],
    *,
    width: int | None,
    style: Styler,
    flush_first: bool = True,
) -> int:
    """Write an items table as it goes, returning how many items it had.

    Widths come from the first SAMPLE_ROWS rows. On a terminal (`width` given) long text
    is cut with an ellipsis and SKUs fold; elsewhere nothing is cut and a longer value
    pushes the rest of its line right.
    """
    iterator: Iterator[Row] = iter(rows)
    sample: list[tuple[Row, list[str]]] = []
    for row in iterator:
        sample.append((row, _cells(row)))
        if len(sample) >= SAMPLE_ROWS:
            break
    if not sample:
        return 0
    columns = _layout([cells for _, cells in sample], width)
    indices = [_HEADERS.index(column.name) for column in columns]
    narrow_status = width is not None and width < 72
    header = _line(columns, [column.name for column in columns])
    rule = "─" * (sum(column.width for column in columns) + SEP * (len(columns) - 1))
    write = out.write
    write(style(header, "bold") + "\n" + rule + "\n")

    def emit(row: Row, cells: list[str]) -> None:
        status = status_of(row[3], row[5], row[6])
        mark = "" if status == "ok" else LOW_MARK if status == "low" else OVER_MARK
        if narrow_status:
            mark = mark[:1]
        texts = [cells[index] for index in indices]
        extra: list[str] = []
        if width is not None:
            for place, column in enumerate(columns):
                if column.right:
                    continue
                if column.name == "SKU":
                    pieces = fold(texts[place], column.width)
                    texts[place], extra = pieces[0], pieces[1:]
                else:
                    texts[place] = cut(texts[place], column.width)
        write(_line(columns, texts, style(mark, status) if mark else "") + "\n")
        for piece in extra:  # the rest of a long SKU, under its start
            write(piece + "\n")

    count = 0
    for row, cells in sample:
        emit(row, cells)
        count += 1
        if count == 1 and flush_first:
            out.flush()  # the first row is out before the rest is read
    for row in iterator:
        emit(row, _cells(row))
        count += 1
    return count


def status_text(row: Row) -> str:
    """low, over or ok: the status column of CSV and TSV."""
    return status_of(row[3], row[5], row[6])


def write_csv(rows: Iterable[Row], out: IO[str], *, escape: bool) -> int:
    """CSV with a header row; `escape` for a terminal.

    Text is always quoted and figures never: the csv module leaves a lone CR unquoted
    when lines end in LF, and a reader would take it for a line end."""
    import csv

    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(CSV_COLUMNS)
    count = 0
    clean: Callable[[str], str] = safe_text if escape else str
    for row in rows:
        sku, name, category, quantity, location, low, high = row
        writer.writerow(
            (clean(sku), clean(name), clean(category), quantity, clean(location), low, high,
             status_text(row))
        )  # fmt: skip
        count += 1
        if count == 1:
            out.flush()
    return count


def tsv_field(value: str) -> str:
    r"""A TSV field: backslash, tab, CR and newline written as \\ \t \r \n (one line per row)."""
    return value.translate(_TSV_ESCAPES)


def write_tsv(rows: Iterable[Row], out: IO[str], *, escape: bool) -> int:
    """Tab-separated values with a header line, one line per item; `escape` for a terminal."""
    out.write("\t".join(CSV_COLUMNS) + "\n")

    def clean(value: str) -> str:
        text = tsv_field(value)
        return safe_text(text) if escape else text

    count = 0
    for row in rows:
        sku, name, category, quantity, location, low, high = row
        fields = (clean(sku), clean(name), clean(category), str(quantity), clean(location),
                  str(low), str(high), status_text(row))  # fmt: skip
        out.write("\t".join(fields) + "\n")
        count += 1
        if count == 1:
            out.flush()
    return count
