"""The locations screens: every location with what it holds, and one location's stock lines."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from atlas_tui.domain.errors import AtlasError
from atlas_tui.services.inventory import InventoryService
from atlas_tui.text import safe_text
from atlas_tui.wording import expiry_words
from screens.widgets.status_line import status_and_footer


def _cell(value: object, style: str = "") -> Text:
    """User text as a literal cell (never markup, never terminal control)."""
    return Text(safe_text(value), style=style)


def _number(value: int, style: str = "") -> Text:
    return Text(f"{value:,}", style=style, justify="right")


class LocationTable(DataTable[Text]):
    """The list of locations; enter opens the one under the cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open location", id="locations-open"),
    ]


class LineTable(DataTable[Text]):
    """The lines at one location; enter goes to the item of the one under the cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Go to item", id="location-item"),
    ]


class LocationsScreen(Screen[str | None]):
    """Every location: its path, name, how many items and units it holds, and whether it is
    retired. `enter` opens one; a SKU chosen there is handed back to the items screen."""

    CSS_PATH = "locations.tcss"
    AUTO_FOCUS = "#locations"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="locations-back"),
        Binding("ctrl+r", "reload", "Reload", id="locations-reload"),
    ]

    def __init__(self, service: InventoryService) -> None:
        super().__init__()
        self.service = service
        self.codes: list[str] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("reading locations…", id="locations-status")
        yield LocationTable(id="locations", cursor_type="row", zebra_stripes=True)
        yield from status_and_footer()

    def on_mount(self) -> None:
        self.sub_title = "locations"
        table = self.query_one("#locations", DataTable)
        table.add_column("Path", key="path")
        table.add_column("Name", key="name")
        table.add_column(Text("Items", justify="right"), key="items")
        table.add_column(Text("Qty", justify="right"), key="quantity")
        table.add_column("", key="retired")
        self.action_reload()

    def on_screen_resume(self) -> None:
        if self.codes:  # back from a location: what it holds may have changed meanwhile
            self.action_reload()

    def action_reload(self) -> None:
        """Read the locations again."""
        self._load()

    @work(thread=True, exclusive=True, group="locations", exit_on_error=False)
    def _load(self) -> None:
        try:
            rows: list[dict[str, Any]] | str = self.service.places.overview()
        except AtlasError as error:
            rows = str(error)
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list[dict[str, Any]] | str) -> None:
        status = self.query_one("#locations-status", Static)
        if isinstance(rows, str):
            status.update(_cell(rows, "bold"))
            return
        table = self.query_one("#locations", DataTable)
        current = self.codes[table.cursor_row] if 0 <= table.cursor_row < len(self.codes) else None
        table.clear()
        self.codes = []
        for row in rows:
            retired = bool(row["retired"])
            dim = "dim" if retired else ""
            table.add_row(
                _cell(" > ".join(row["path"]) or row["code"], dim),
                _cell(row["name"], dim),
                _number(row["items"], dim),
                _number(row["quantity"], dim),
                Text("retired", style="italic") if retired else Text(""),
            )
            self.codes.append(row["code"])
        units = sum(row["quantity"] for row in rows)
        status.update(f"{len(rows)} locations · {units:,} units · enter opens one")
        if current in self.codes:
            table.move_cursor(row=self.codes.index(current))

    @on(DataTable.RowSelected, "#locations")
    def _open(self, event: DataTable.RowSelected) -> None:
        if 0 <= event.cursor_row < len(self.codes):
            self.open(self.codes[event.cursor_row])

    def open(self, code: str) -> None:
        """Show one location's stock lines."""

        def chosen(sku: str | None) -> None:
            if sku:
                self.dismiss(sku)

        self.app.push_screen(LocationScreen(self.service, code), chosen)

    def action_back(self) -> None:
        """Back to the items."""
        self.dismiss(None)


class LocationScreen(Screen[str | None]):
    """The stock lines held at one location: SKU, name, lot, expiry and quantity, expiry
    within 30 days marked. `enter` goes to the item on the items screen."""

    CSS_PATH = "locations.tcss"
    AUTO_FOCUS = "#lines"
    COMPONENT_CLASSES: ClassVar[set[str]] = {"location--expiring"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="location-back"),
    ]

    def __init__(self, service: InventoryService, code: str) -> None:
        super().__init__()
        self.service = service
        self.code = code
        self.skus: list[str] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="location-title")
        yield LineTable(id="lines", cursor_type="row", zebra_stripes=True)
        yield from status_and_footer()

    def on_mount(self) -> None:
        self.sub_title = "location"
        table = self.query_one("#lines", DataTable)
        table.add_column("SKU", key="sku")
        table.add_column("Name", key="name")
        table.add_column("Lot", key="lot")
        table.add_column("Expiry", key="expiry")
        table.add_column(Text("Qty", justify="right"), key="quantity")
        table.add_column("Unit", key="unit")
        self._load()

    @work(thread=True, exclusive=True, group="location", exit_on_error=False)
    def _load(self) -> None:
        try:
            found: dict[str, Any] | str = self.service.places.show(self.code)
            today = self.service.now().date()
        except AtlasError as error:
            found, today = str(error), date.today()
        self.app.call_from_thread(self._show, found, today)

    def _show(self, found: Mapping[str, Any] | str, today: date) -> None:
        title = self.query_one("#location-title", Static)
        if isinstance(found, str):
            title.update(_cell(found, "bold"))
            return
        heading = Text.assemble(
            (safe_text(" > ".join(found["path"]) or found["code"]), "bold"),
        )
        if found["name"]:
            heading.append_text(Text.assemble("  ", _cell(found["name"])))
        items = found["items"]
        heading.append(f" · {items} item{'' if items == 1 else 's'} · {found['quantity']:,} units")
        if found["retired"]:
            heading.append(" · retired", style="italic")
        title.update(heading)
        table = self.query_one("#lines", DataTable)
        table.clear()
        self.skus = []
        warning = self.get_component_rich_style("location--expiring")
        for line in found["lines"]:
            note = expiry_words(line["expiry"], today)
            expiry = _cell(line["expiry"] or "-")
            if note:
                expiry.append(f" {note}", style=warning)
            table.add_row(
                _cell(line["sku"]),
                _cell(line["name"]),
                _cell(line["lot"] or "-"),
                expiry,
                _number(line["quantity"]),
                _cell(line["unit"]),
            )
            self.skus.append(line["sku"])
        if not found["lines"]:
            title.update(heading.append(" · holds nothing"))

    @on(DataTable.RowSelected, "#lines")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        """Back to the items screen with this line's item under the cursor."""
        if 0 <= event.cursor_row < len(self.skus):
            self.dismiss(self.skus[event.cursor_row])

    def action_back(self) -> None:
        """Back to every location."""
        self.dismiss(None)
