"""The transfer dialog: part of an item's stock from one of its locations to another."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from atlas_tui.domain.errors import AtlasError, ValidationError
from atlas_tui.domain.models import InventoryItem
from atlas_tui.domain.stock import StockLine, location_key
from atlas_tui.services.inventory import InventoryService
from screens.dialogs import FormDialog, literal


def held_at(item: InventoryItem) -> list[tuple[str, int, list[StockLine]]]:
    """Each location holding stock of the item: (code, quantity, its lines), home first."""
    found: dict[str, tuple[str, int, list[StockLine]]] = {}
    for line in item.stock:
        if line.quantity <= 0:
            continue
        key = location_key(line.location)
        code, quantity, lines = found.get(key, (line.location, 0, []))
        found[key] = (code, quantity + line.quantity, [*lines, line])
    home = location_key(item.location)
    return sorted(found.values(), key=lambda held: location_key(held[0]) != home)


def _choice(item: InventoryItem, code: str, quantity: int, lines: list[StockLine]) -> Text:
    """`B-2  7 pcs  (lot L1 5, lot L2 2 exp 2027-01-31)` for the from list."""
    text = Text.assemble(literal(code or "(no location)"), f"  {quantity} ", literal(item.unit))
    detail = [
        f"{'lot ' + line.lot if line.lot else 'no lot'} {line.quantity}"
        + (f" exp {line.expiry}" if line.expiry else "")
        for line in lines
        if line.lot or line.expiry
    ]
    if detail:
        text.append_text(Text.assemble("  (", literal(", ".join(detail)), ")", style="dim"))
    if location_key(code) == location_key(item.location):
        text.append("  home", style="dim")
    return text


class TransferDialog(FormDialog[InventoryItem]):
    """From one of the item's locations (a choice showing what each holds), to a location
    code typed or scanned, a quantity (all of the from location's when empty) and a reason."""

    FIELD_INPUTS: ClassVar[dict[str, str]] = {"to": "to", "quantity": "quantity"}

    def __init__(self, service: InventoryService, item: InventoryItem) -> None:
        super().__init__(service, item)
        self.sources = held_at(item)

    def heading(self) -> Text:
        assert self.item is not None
        return Text.assemble(
            "Transfer ", literal(self.item.sku), f" · {self.item.quantity} on hand"
        )

    def lead(self) -> ComposeResult:
        assert self.item is not None
        item = self.item
        yield Label("From", classes="field-label")
        options = [
            Option(_choice(item, code, quantity, lines), id=f"from-{n}")
            for n, (code, quantity, lines) in enumerate(self.sources)
        ]
        yield OptionList(*options, id="from")
        yield Static("", id="from-error", classes="field-error")

    def fields(self) -> list[tuple[str, str, str, str]]:
        return [
            ("to", "To location", "", "a location code"),
            ("quantity", "Quantity", "", "all held there when empty"),
            ("reason", "Reason", "", "optional"),
        ]

    def on_mount(self) -> None:
        choices = self.query_one("#from", OptionList)
        if self.sources:
            choices.highlighted = 0
        places = self.service.locations()
        self.query_one("#to", Input).suggester = SuggestFromList(places, case_sensitive=False)
        # With one place to take from there is nothing to choose: start at the destination.
        (choices if len(self.sources) > 1 else self.query_one("#to", Input)).focus()

    @on(OptionList.OptionSelected, "#from")
    def _source_chosen(self) -> None:
        self.query_one("#to", Input).focus()

    def show_error(self, error: AtlasError) -> None:
        if isinstance(error, ValidationError) and error.field == "from":
            message = self.query_one("#from-error", Static)
            message.update(literal(str(error)))
            message.add_class("shown")
            self.query_one("#from", OptionList).focus()
            return
        super().show_error(error)

    def save(self, values: dict[str, str]) -> InventoryItem:
        assert self.item is not None
        n = self.query_one("#from", OptionList).highlighted
        if n is None or not self.sources:
            raise ValidationError("from", f"{self.item.sku} has no stock to transfer")
        code, held, _ = self.sources[n]
        quantity = values["quantity"].strip() or held
        return self.service.transfer(
            self.item.sku, quantity, code, values["to"], values["reason"] or None
        )
