"""The reports screen: totals, stock by category, the low and over lists and what to reorder,
kept live."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, ClassVar

from rich.console import JustifyMethod
from rich.style import Style
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import DataTable, Header, Static
from textual.widgets.data_table import RowDoesNotExist
from textual.worker import Worker, get_current_worker

from atlas_tui.domain.errors import AtlasError
from atlas_tui.services.inventory import InventoryService
from atlas_tui.text import safe_text
from atlas_tui.wording import days_left_text, usage_rate
from screens.widgets.fit_table import Fit, FitTable
from screens.widgets.status_line import status_and_footer
from screens.widgets.zoom import toggle_maximize, zoom_binding

BAR_WIDTH = 30
_EIGHTHS = " ▏▎▍▌▋▊▉"
NO_CATEGORY = "(no category)"


def quantity_bar(quantity: int, largest: int, width: int = BAR_WIDTH) -> str:
    """`quantity / largest` of `width` cells in block characters, to an eighth of a cell.

    Any quantity above zero gets at least a sliver, so a small category never looks empty.
    """
    if largest <= 0 or quantity <= 0:
        return ""
    eighths = max(1, round(min(quantity, largest) / largest * width * 8))
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest] if rest else "")


def _cell(value: object, style: Style | str = "", justify: JustifyMethod = "left") -> Text:
    """User or file text as a literal table cell (never read as markup)."""
    return Text(safe_text(value), style=style, justify=justify)


class ItemRows(FitTable[Text]):
    """A list of items keyed by SKU; enter picks the item under the cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Go to item", id="reports-jump"),
    ]


class StockTable(ItemRows):
    """Items as SKU, name, quantity, min/max and location rows; enter picks the item."""

    def on_mount(self) -> None:
        # On a narrow pane the figures stay; location, then limits, then the name give way.
        self.fit_columns(
            Fit("sku", "SKU", floor=6, cap=16),
            Fit("name", "Name", drop=3, floor=8, cap=40),
            Fit("quantity", Text("Qty", justify="right")),
            Fit("limits", Text("Min/Max", justify="right"), drop=2),
            Fit("location", "Location", drop=4, floor=6, cap=14),
        )


class ReorderTable(ItemRows):
    """The reorder list: on hand, min/max, units to order, usage per day and days left."""

    def on_mount(self) -> None:
        # What to order and how soon stay; the rest gives way on a narrow pane.
        self.fit_columns(
            Fit("sku", "SKU", floor=6, cap=16),
            Fit("name", "Name", drop=5, floor=8, cap=40),
            Fit("quantity", Text("Qty", justify="right"), drop=2),
            Fit("limits", Text("Min/Max", justify="right"), drop=4),
            Fit("suggested", Text("Order", justify="right")),
            Fit("daily_usage", Text("Use/day", justify="right"), drop=3),
            Fit("days_left", Text("Days left", justify="right"), drop=1),
        )


class ReportsScreen(Screen[str | None]):
    """Summary, low and over stock, the reorder list; dismisses with a SKU to jump to, or
    None."""

    CSS_PATH = "reports.tcss"
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "reports--bar",
        "reports--low",
        "reports--over",
        "reports--muted",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back", id="reports-back"),
        Binding("tab", "next_pane", "Next pane", id="reports-next-pane"),
        Binding("shift+tab", "previous_pane", "Previous pane", show=False, id="reports-prev-pane"),
        Binding("ctrl+r", "reload", "Reload", show=False, id="reports-reload"),
        zoom_binding("reports"),
    ]
    POLL_SECONDS = 1.0
    PANES = ("#categories", "#low", "#over", "#reorder")
    # Below these sizes the panes go two by two, then one at a time.
    STACK_HEIGHT, GRID_WIDTH, GRID_HEIGHT = 34, 70, 22

    class Loaded(Message, bubble=False):
        """The three reports, read together in a worker, and the data version they show."""

        def __init__(
            self,
            version: Hashable,
            summary: Mapping[str, Any],
            low: Sequence[Mapping[str, Any]],
            over: Sequence[Mapping[str, Any]],
        ) -> None:
            super().__init__()
            self.version = version
            self.summary = summary
            self.low = low
            self.over = over

    class Reordered(Message, bubble=False):
        """The reorder list, read after the others: it reads the whole history."""

        def __init__(self, report: Mapping[str, Any]) -> None:
            super().__init__()
            self.report = report

    class Failed(Message, bubble=False):
        """Reading the reports failed; `error` is a one-line message for the user."""

        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(self, service: InventoryService) -> None:
        super().__init__()
        self.service = service
        self._version: Hashable = None
        self._shown: ReportsScreen.Loaded | None = None
        self._reorder: Mapping[str, Any] | None = None
        self._loader: Worker[None] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("reading reports…", id="totals")
        categories: FitTable[Text] = FitTable(id="categories", cursor_type="row")
        categories.border_title = "By category"
        yield categories
        low = StockTable(id="low", cursor_type="row", zebra_stripes=True)
        low.border_title = "Low stock"
        yield low
        over = StockTable(id="over", cursor_type="row", zebra_stripes=True)
        over.border_title = "Over stock"
        yield over
        reorder = ReorderTable(id="reorder", cursor_type="row", zebra_stripes=True)
        reorder.border_title = "Reorder"
        reorder.border_subtitle = "reading history…"
        yield reorder
        yield from status_and_footer()

    def on_mount(self) -> None:
        self.query_one("#categories", FitTable).fit_columns(
            Fit("category", "Category", floor=8, cap=24),
            Fit("items", Text("Items", justify="right"), drop=2),
            Fit("quantity", Text("Quantity", justify="right")),
            Fit("bar", "", drop=3, cap=BAR_WIDTH),
        )
        # Low stock is what someone opening reports usually came for.
        low = self.query_one("#low", StockTable)
        low.add_class("-current")
        low.focus()
        self._arrange(self.app.size)
        self._loader = self._load(force=True)
        self.set_interval(self.POLL_SECONDS, self.check_store)
        # Bars and counts carry theme colours baked into their cells: redraw on a new theme.
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    # Layout -------------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._arrange(event.size)

    def _arrange(self, size: Size) -> None:
        """Stack the panes on a tall terminal, two by two on a smaller one, one at a time
        on the smallest."""
        single = size.width < self.GRID_WIDTH or size.height < self.GRID_HEIGHT
        self.set_class(single, "-single")
        self.set_class(not single and size.height < self.STACK_HEIGHT, "-grid")

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if isinstance(event.widget, DataTable) and not event.widget.has_class("-current"):
            for pane in self.query(DataTable):
                pane.set_class(pane is event.widget, "-current")

    # Loading ------------------------------------------------------------------------------

    def check_store(self) -> None:
        """Look for others' changes (polled; pushed at once from a server store)."""
        # A load still running on a big store must finish, not be restarted every second.
        if self._loader is None or self._loader.is_finished:
            self._loader = self._load()

    @work(thread=True, exclusive=True, group="reports", exit_on_error=False)
    def _load(self, force: bool = False) -> None:
        """Read the reports if the data changed since the last read (or always, if forced).

        The reorder list reads the whole history, which takes longest on a big store: it
        follows once the others are shown.
        """
        worker = get_current_worker()
        try:
            version = self.service.version()
            if not force and version == self._version:
                return
            summary = self.service.report("summary")
            low = self.service.report("low")["low_stock"]
            over = self.service.report("over")["over_stock"]
        except AtlasError as error:
            message: Message = self.Failed(str(error))
        else:
            # A change landing between the reads moves the version on: the next poll rereads.
            message = self.Loaded(version, summary, low, over)
        if worker.is_cancelled:
            return
        self.post_message(message)
        if isinstance(message, self.Failed):
            return
        try:
            message = self.Reordered(self.service.report("reorder"))
        except AtlasError as error:
            message = self.Failed(str(error))
        if not worker.is_cancelled:
            self.post_message(message)

    def action_reload(self) -> None:
        """Read the reports again now."""
        self._loader = self._load(force=True)

    @on(Loaded)
    def _apply(self, message: Loaded) -> None:
        self._version = message.version
        self._shown = message
        self._draw(message)

    @on(Reordered)
    def _apply_reorder(self, message: Reordered) -> None:
        self._reorder = message.report
        self._draw_reorder(message.report)

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        totals = self.query_one("#totals", Static)
        totals.update(Text(f"cannot read the reports: {safe_text(message.error)}"))
        totals.add_class("-error")

    def _theme_changed(self, theme: Theme) -> None:
        if self._shown is not None:
            self._draw(self._shown)
        if self._reorder is not None:
            self._draw_reorder(self._reorder)

    # Drawing ------------------------------------------------------------------------------

    def _draw(self, reports: Loaded) -> None:
        summary = reports.summary
        totals = self.query_one("#totals", Static)
        totals.remove_class("-error")
        totals.update(self._totals_text(summary))
        self._draw_categories(summary.get("by_category", {}))
        self._draw_items("#low", "Low stock", reports.low, self._ink("reports--low"))
        self._draw_items("#over", "Over stock", reports.over, self._ink("reports--over"))

    def _totals_text(self, summary: Mapping[str, Any]) -> Text:
        items, quantity = summary.get("total_items", 0), summary.get("total_quantity", 0)
        if not items:
            return Text("No items yet: add some on the items screen.", style="italic")
        low, over = summary.get("low_stock_count", 0), summary.get("over_stock_count", 0)
        text = Text.assemble(
            (f"{items:,}", "bold"), f" item{'s' if items != 1 else ''} · ",
            (f"{quantity:,}", "bold"), f" unit{'s' if quantity != 1 else ''} · ",
        )  # fmt: skip
        text.append(f"▼ {low} low", self._ink("reports--low") if low else "")
        text.append(" · ")
        text.append(f"▲ {over} over", self._ink("reports--over") if over else "")
        return text

    def _draw_categories(self, by_category: Mapping[str, Mapping[str, int]]) -> None:
        table = self.query_one("#categories", DataTable)
        keep = _cursor_spot(table)
        table.clear()
        largest = max((entry["quantity"] for entry in by_category.values()), default=0)
        bar_style = self._ink("reports--bar")
        muted = self._ink("reports--muted")
        for category, entry in by_category.items():
            name = _cell(category) if category else Text(NO_CATEGORY, style=muted)
            table.add_row(
                name,
                Text(f"{entry['items']:,}", justify="right"),
                Text(f"{entry['quantity']:,}", justify="right"),
                Text(quantity_bar(entry["quantity"], largest), style=bar_style),
                key=category,
            )
        table.border_subtitle = (
            f"{len(by_category)} categor{'y' if len(by_category) == 1 else 'ies'}"
        )
        _restore_cursor(table, keep)

    def _draw_items(
        self, selector: str, title: str, items: Sequence[Mapping[str, Any]], flag: Style
    ) -> None:
        table = self.query_one(selector, StockTable)
        keep = _cursor_spot(table)
        table.clear()
        for item in items:
            limits = f"{item['min_stock']}/{item['max_stock'] or '-'}"
            table.add_row(
                _cell(item["sku"]),
                _cell(item["name"]),
                _cell(item["quantity"], flag, "right"),
                Text(limits, justify="right"),
                _cell(item["location"] or "-"),
                key=item["sku"],
            )
        table.border_title = f"{title} ({len(items)})"
        table.border_subtitle = "" if items else "none"
        _restore_cursor(table, keep)

    def _draw_reorder(self, report: Mapping[str, Any]) -> None:
        table = self.query_one("#reorder", ReorderTable)
        keep = _cursor_spot(table)
        table.clear()
        rows: Sequence[Mapping[str, Any]] = report.get("reorder", [])
        flag, out = self._ink("reports--low"), self._ink("reports--over")
        for row in rows:
            limits = f"{row['min_stock']}/{row['max_stock'] or '-'}"
            days_left = row["days_left"]
            table.add_row(
                _cell(row["sku"]),
                _cell(row["name"]),
                _cell(row["quantity"], flag, "right"),
                Text(limits, justify="right"),
                Text(f"{row['suggested']:,}", style="bold", justify="right"),
                Text(usage_rate(row["daily_usage"]), justify="right"),
                Text(days_left_text(days_left), style=out if days_left == 0 else "",
                     justify="right"),
                key=row["sku"],
            )  # fmt: skip
        table.border_title = f"Reorder ({len(rows)})"
        days = report.get("usage_days", 30)
        table.border_subtitle = f"usage over {days} d" if rows else "none"
        _restore_cursor(table, keep)

    def _ink(self, component: str) -> Style:
        """A component's colour and weight from the theme, without its background, which
        would hide the table's cursor and stripes under the cell."""
        style = self.get_component_rich_style(component)
        return Style(color=style.color, bold=style.bold, italic=style.italic)

    # Actions ------------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#low, #over, #reorder")
    def _jump(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.dismiss(str(event.row_key.value))

    def action_close(self) -> None:
        """Back to the items screen, staying where it was."""
        self.dismiss(None)

    def action_next_pane(self) -> None:
        """Focus the next table."""
        self._step_pane(1)

    def action_previous_pane(self) -> None:
        """Focus the previous table."""
        self._step_pane(-1)

    def _step_pane(self, step: int) -> None:
        # Panes hidden one-at-a-time cannot take focus from focus_next: go by the list.
        panes = [self.query_one(selector, DataTable) for selector in self.PANES]
        current = next((n for n, pane in enumerate(panes) if pane.has_class("-current")), 0)
        target = panes[(current + step) % len(panes)]
        for pane in panes:
            pane.set_class(pane is target, "-current")
        if self.maximized is not None:
            self.maximize(target, container=False)
        self.call_after_refresh(target.focus)

    def action_toggle_maximize(self) -> None:
        """Give the focused pane the whole screen, or put it back."""
        toggle_maximize(self)


def _cursor_spot(table: DataTable[Text]) -> tuple[str | None, int]:
    """The key and index of the row under the cursor, so a refresh can put it back there."""
    if not table.row_count:
        return None, 0
    row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
    return row_key.value, table.cursor_row


def _restore_cursor(table: DataTable[Text], spot: tuple[str | None, int]) -> None:
    key, row = spot
    if key is None or not table.row_count:
        return
    try:
        row = table.get_row_index(key)
    except RowDoesNotExist:  # that row left the list: stay at the same height instead
        row = min(row, table.row_count - 1)
    table.move_cursor(row=row, animate=False)
