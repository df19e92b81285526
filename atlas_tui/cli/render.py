"""Rich renderables for the CLI's human output; all user text goes in as plain Text."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from atlas_tui.text import safe_text
from atlas_tui.wording import (
    days_left_text,
    delta_words,
    movement_note,
    quantity_words,
    usage_rate,
)

LOW_MARK = "▼ low"
OVER_MARK = "▲ over"


def plain(value: object) -> Text:
    """User data as literal text (never markup, never terminal control)."""
    return Text(safe_text("" if value is None else value))


def status_of(item: Mapping[str, Any]) -> str:
    """low, over or ok, from an item's dict."""
    quantity, low, high = item["quantity"], item["min_stock"], item["max_stock"]
    if low > 0 and quantity <= low:
        return "low"
    if high > 0 and quantity > high:
        return "over"
    return "ok"


def status_mark(status: str) -> Text:
    """A symbol that reads without color, colored where color exists."""
    if status == "low":
        return Text(LOW_MARK, style="bold yellow")
    if status == "over":
        return Text(OVER_MARK, style="bold magenta")
    return Text("")


def _fit(natural: dict[str, int], width: int, flexible: dict[str, int]) -> dict[str, int]:
    """Column widths that fit `width`: flexible columns (name -> floor) give way, widest first."""
    gaps = 3 * (len(natural) - 1)  # padding either side plus the box's divider
    widths = dict(natural)
    excess = sum(widths.values()) + gaps - width
    while excess > 0:
        shrinkable = [name for name, floor in flexible.items() if widths[name] > floor]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda name: widths[name] - flexible[name])
        widths[widest] -= 1
        excess -= 1
    return widths


Column = tuple[str, str, Callable[[Mapping[str, Any]], Text]]


def fitted_table(
    columns: list[Column],
    rows: list[Mapping[str, Any]],
    width: int,
    flexible: dict[str, int],
    fold: tuple[str, ...] = (),
    caps: dict[str, int] | None = None,
) -> Table:
    """A table whose columns are sized to fit `width`; text is cut with an ellipsis, except
    in `fold` columns, which wrap."""
    cells = [[render(row) for _, _, render in columns] for row in rows]
    natural = {
        header: max([len(header), 1, *(line[index].cell_len for line in cells)])
        for index, (header, _, _) in enumerate(columns)
    }
    for header, cap in (caps or {}).items():
        natural[header] = min(natural[header], cap)
    widths = _fit(natural, width, flexible)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for header, justify, _ in columns:
        table.add_column(
            header,
            justify="right" if justify == "right" else "left",
            width=widths[header],
            no_wrap=header not in fold,
            overflow="fold" if header in fold else "ellipsis",
        )
    for line in cells:
        table.add_row(*line)
    return table


def items_table(items: Iterable[Mapping[str, Any]], width: int = 80) -> Table:
    """SKU, name, category, quantity, location, min, max and a status mark.

    Below 72 columns min and max are left out, below 56 category and location too,
    so that SKU, name and quantity always stay readable; long text is cut with an ellipsis,
    SKUs and figures never.
    """
    rows = list(items)
    show_limits, show_labels = width >= 72, width >= 56
    columns: list[tuple[str, str, Callable[[Mapping[str, Any]], Text]]] = [
        ("SKU", "left", lambda item: plain(item["sku"])),
        ("Name", "left", lambda item: plain(item["name"])),
    ]
    if show_labels:
        columns.append(("Category", "left", lambda item: plain(item["category"])))
    columns.append(("Qty", "right", lambda item: Text(str(item["quantity"]))))
    if show_labels:
        columns.append(("Location", "left", lambda item: plain(item["location"])))
    if show_limits:
        columns.append(("Min", "right", lambda item: Text(str(item["min_stock"]))))
        columns.append(("Max", "right", lambda item: Text(str(item["max_stock"] or "-"))))
        columns.append(("", "left", lambda item: status_mark(status_of(item))))
    else:
        columns.append(("", "left", lambda item: status_mark(status_of(item))[:1]))
    return fitted_table(
        columns,
        rows,
        width,
        flexible={"Name": 10, "Category": 5, "Location": 5},
        fold=("SKU",),
        caps={"SKU": 16},  # longer SKUs fold onto a second line
    )


def item_details(item: Mapping[str, Any]) -> Table:
    """Every field of one item, attributes included, as a two-column grid."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    status = status_of(item)
    quantity = Text(str(item["quantity"]))
    if status != "ok":
        quantity.append("  ").append_text(status_mark(status))
    rows: list[tuple[str, Text]] = [
        ("SKU", plain(item["sku"])),
        ("Name", plain(item["name"])),
        ("Category", plain(item["category"] or "-")),
        ("Quantity", quantity),
        ("Location", plain(item["location"] or "-")),
        ("Min stock", Text(str(item["min_stock"]))),
        ("Max stock", Text(str(item["max_stock"]) if item["max_stock"] else "- (no ceiling)")),
        ("Created", Text(item["created_at"])),
        ("Updated", Text(item["updated_at"])),
    ]
    for key, value in sorted(item.get("attributes", {}).items()):
        rows.append((safe_text(key), plain(value)))
    for label, value in rows:
        grid.add_row(label, value)
    return grid


def history_table(movements: Iterable[Mapping[str, Any]], with_sku: bool = False) -> Table:
    """Movements as given (newest first), one line each."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("When (UTC)", no_wrap=True)
    if with_sku:
        table.add_column("SKU", overflow="fold", max_width=16)
    table.add_column("Kind", no_wrap=True)
    table.add_column("Δ", justify="right", no_wrap=True)
    table.add_column("Qty", justify="right", no_wrap=True)
    table.add_column("User", overflow="ellipsis", no_wrap=True, max_width=10)
    table.add_column("What / why", overflow="fold", ratio=1)
    for movement in movements:
        cells = [Text(movement["timestamp"][:19].replace("T", " "))]
        if with_sku:
            cells.append(plain(movement["sku"]))
        table.add_row(
            *cells,
            Text(movement["kind"]),
            Text(delta_words(movement["delta"])),
            Text(quantity_words(movement["quantity_before"], movement["quantity_after"])),
            plain(movement["user"]),
            plain(describe_movement(movement)),
        )
    return table


def describe_movement(movement: Mapping[str, Any]) -> str:
    """Where the stock changed and what a move or an update changed, then the reason (the
    app's history rows say the same)."""
    details = movement.get("details") or {}
    return movement_note(movement["kind"], details, movement.get("reason") or "")


def summary_view(report: Mapping[str, Any]) -> RenderableType:
    """Totals, then items and quantity per category."""
    totals = Table.grid(padding=(0, 2))
    totals.add_column(style="bold")
    totals.add_column(justify="right")
    totals.add_row("Items", str(report["total_items"]))
    totals.add_row("Total quantity", str(report["total_quantity"]))
    totals.add_row("Low stock", Text(str(report["low_stock_count"]), style="yellow"))
    totals.add_row("Over stock", Text(str(report["over_stock_count"]), style="magenta"))
    by_category = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    by_category.add_column("Category", overflow="ellipsis", no_wrap=True, max_width=30)
    by_category.add_column("Items", justify="right")
    by_category.add_column("Quantity", justify="right")
    for name, entry in report["by_category"].items():
        by_category.add_row(plain(name or "(none)"), str(entry["items"]), str(entry["quantity"]))
    return Group(totals, Text(""), by_category)


def media_table(results: Iterable[Mapping[str, Any]], width: int = 80) -> Table:
    """Title, type, year, director or network, seasons/episodes and the source file(s)."""

    def title(result: Mapping[str, Any]) -> Text:
        text = plain(result["title"])
        original = result.get("original_title")
        if original and original != result["title"]:
            text.append(f" ({safe_text(original)})", style="dim")
        return text

    def who(result: Mapping[str, Any]) -> Text:
        directors = ", ".join(result.get("directors") or [])
        if result["kind"] == "series":
            return plain(result.get("network") or directors)
        return plain(directors)

    def counts(result: Mapping[str, Any]) -> Text:
        if result["kind"] != "series":
            return Text("")
        return Text(f"{result.get('seasons') or '?'}/{result.get('episodes') or '?'}")

    def source(result: Mapping[str, Any]) -> Text:
        sources = result.get("sources") or []
        more = f" +{len(sources) - 1}" if len(sources) > 1 else ""
        return Text(_tail(sources[0]) + more if sources else "")

    columns: list[Column] = [
        ("Title", "left", title),
        ("Type", "left", lambda result: Text(result["kind"])),
        ("Year", "right", lambda result: Text(str(result.get("year") or ""))),
        ("Director / network", "left", who),
        ("S/E", "right", counts),
    ]
    if width >= 72:
        columns.append(("File", "left", source))
    return fitted_table(
        columns,
        list(results),
        width,
        flexible={"Title": 12, "Director / network": 8, "File": 8},
        fold=("Title",),
    )


def _tail(path: str) -> str:
    """The last two parts of a path: enough to find the file, short enough to fit."""
    parts = path.replace("\\", "/").split("/")
    return safe_text("/".join(parts[-2:]))


def reorder_table(rows: Iterable[Mapping[str, Any]], width: int = 80) -> Table:
    """The reorder list: what to order, how much, and how soon it runs out.

    SKU, name, on hand, min, max, units to order, usage per day and days left (most urgent
    first, as the report sorts them). Below 64 columns min and max are left out; below 52
    usage per day too, and the headers get shorter, so that what to order stays readable.
    """
    narrow = width < 52
    columns: list[Column] = [
        ("SKU", "left", lambda row: plain(row["sku"])),
        ("Name", "left", lambda row: plain(row["name"])),
        ("Qty" if narrow else "On hand", "right", lambda row: Text(f"{row['quantity']:,}")),
    ]
    if width >= 64:
        columns.append(("Min", "right", lambda row: Text(f"{row['min_stock']:,}")))
        columns.append(
            ("Max", "right", lambda row: Text(f"{row['max_stock']:,}" if row["max_stock"] else "-"))
        )
    columns.append(("Order", "right", lambda row: Text(f"{row['suggested']:,}", style="bold")))
    if not narrow:
        columns.append(("Use/day", "right", lambda row: Text(usage_rate(row["daily_usage"]))))
    columns.append(
        (
            "Days" if narrow else "Days left",
            "right",
            lambda row: Text(days_left_text(row["days_left"])),
        )
    )
    return fitted_table(
        columns,
        list(rows),
        width,
        flexible={"Name": 8, "SKU": 8},
        fold=("SKU",),
        caps={"SKU": 16},  # longer SKUs fold onto a second line
    )
