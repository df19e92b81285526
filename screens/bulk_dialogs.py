"""Dialogs for the selected items: move, transfer, edit or count them as one step."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.markup import escape
from rich.text import Text
from textual.suggester import SuggestFromList
from textual.widgets import Input, Static

from atlas_tui.domain.errors import AtlasError
from atlas_tui.domain.models import InventoryItem, sku_key
from atlas_tui.domain.stock import location_key
from atlas_tui.services import bulk
from atlas_tui.services.bulk import StepRefused, StepResult
from atlas_tui.services.inventory import InventoryService
from atlas_tui.text import safe_text
from screens.dialogs import FormDialog, literal

# Most items a count dialog lists (one field each).
COUNT_MAX = 100


def _items(count: int) -> str:
    return f"{count} item{'s' if count != 1 else ''}"


class BulkDialog(FormDialog[StepResult]):
    """A form over the selected items (SKU keys); Save runs one bulk step."""

    VERB = ""

    def __init__(self, service: InventoryService, skus: Sequence[str]) -> None:
        super().__init__(service)
        self.skus = list(skus)

    def heading(self) -> Text:
        return Text(f"{self.VERB} {_items(len(self.skus))} selected")

    def suggest_places(self, *inputs: str) -> None:
        places = self.service.locations()
        for input_id in inputs:
            self.query_one(f"#{input_id}", Input).suggester = SuggestFromList(
                places, case_sensitive=False
            )


class BulkMoveDialog(BulkDialog):
    """All stock and the home of every selected item to one location."""

    VERB = "Move"

    def fields(self) -> list[tuple[str, str, str, str]]:
        return [("location", "To location", "", ""), ("reason", "Reason", "", "optional")]

    def on_mount(self) -> None:
        self.suggest_places("location")

    def save(self, values: dict[str, str]) -> StepResult:
        return bulk.move(self.service, self.skus, values["location"], values["reason"] or None)


class BulkTransferDialog(BulkDialog):
    """A quantity (or all) of each selected item from one location to another."""

    VERB = "Transfer"
    FIELD_INPUTS: ClassVar[dict[str, str]] = {"from": "from", "to": "to", "quantity": "quantity"}

    def fields(self) -> list[tuple[str, str, str, str]]:
        return [
            ("from", "From location", "", "items holding none there are left as they are"),
            ("to", "To location", "", "a location code"),
            ("quantity", "Quantity of each", "", "all held there when empty"),
            ("reason", "Reason", "", "optional"),
        ]

    def on_mount(self) -> None:
        self.suggest_places("from", "to")

    def save(self, values: dict[str, str]) -> StepResult:
        quantity = values["quantity"].strip() or None
        return bulk.transfer(self.service, self.skus, quantity, values["from"], values["to"],
                             values["reason"] or None)  # fmt: skip


class BulkEditDialog(BulkDialog):
    """Category, minimum and maximum of every selected item; a blank field is unchanged."""

    VERB = "Edit"

    def fields(self) -> list[tuple[str, str, str, str]]:
        return [
            ("category", "Category", "", "unchanged when empty"),
            ("min", "Min stock", "", "unchanged when empty · 0 = none"),
            ("max", "Max stock", "", "unchanged when empty · 0 = no ceiling"),
        ]

    def save(self, values: dict[str, str]) -> StepResult:
        given = {key: values[key].strip() or None for key in ("category", "min", "max")}
        return bulk.update(self.service, self.skus, category=given["category"],
                           min_stock=given["min"], max_stock=given["max"])  # fmt: skip


class BulkCountDialog(BulkDialog):
    """The counted quantity of each selected item at its home; a blank field is not
    counted."""

    VERB = "Count"

    def __init__(self, service: InventoryService, items: Sequence[InventoryItem]) -> None:
        super().__init__(service, [item.key for item in items])
        self.items = list(items)

    def heading(self) -> Text:
        return Text(f"Count {_items(len(self.items))} at their homes · empty = not counted")

    def fields(self) -> list[tuple[str, str, str, str]]:
        fields = []
        for n, item in enumerate(self.items):
            at = location_key(item.location)
            home = sum(line.quantity for line in item.stock if location_key(line.location) == at)
            label = f"{item.sku} · {item.name} · at {item.location or '(no location)'}: {home}"
            # The form's labels take markup: SKUs and names are user data.
            label = escape(safe_text(label))
            fields.append((f"count-{n}", label, "", f"counted, now {home}"))
        return fields

    def save(self, values: dict[str, str]) -> StepResult:
        counts = {
            item.key: values[f"count-{n}"].strip()
            for n, item in enumerate(self.items)
            if values[f"count-{n}"].strip()
        }
        return bulk.count(self.service, counts)

    def show_error(self, error: AtlasError) -> None:
        if isinstance(error, StepRefused):
            keys = [item.key for item in self.items]
            if sku_key(error.sku) in keys:
                input_id = f"count-{keys.index(sku_key(error.sku))}"
                message = self.query_one(f"#{input_id}-error", Static)
                message.update(literal(str(error)))
                message.add_class("shown")
                self.query_one(f"#{input_id}", Input).focus()
                return
        super().show_error(error)
