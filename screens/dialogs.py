"""Typed modal dialogs: each validates through the service and stays open on a refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from atlas_tui.domain.errors import AtlasError, ValidationError
from atlas_tui.domain.models import InventoryItem, Movement
from atlas_tui.domain.stock import location_key
from atlas_tui.services.inventory import InventoryService
from atlas_tui.text import safe_text
from screens.widgets.movement_list import MovementList

# Which input shows the service's complaint about which field.
FIELD_INPUTS = {
    "sku": "sku",
    "name": "name",
    "category": "category",
    "quantity": "quantity",
    "delta": "amount",
    "location": "location",
    "min_stock": "min",
    "minimum": "min",
    "max_stock": "max",
    "maximum": "max",
    "reason": "reason",
}


def literal(value: object) -> Text:
    """User text as typed: never markup, never terminal control."""
    return Text(safe_text(value))


ResultT = TypeVar("ResultT")


class FormDialog(ModalScreen[ResultT | None], Generic[ResultT]):
    """A form whose Save asks the service; a refusal is shown beside the field it names."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog-cancel"),
    ]
    TITLE_TEXT = ""
    FIELD_INPUTS: ClassVar[dict[str, str]] = {}
    """This form's own field -> input names, over the shared FIELD_INPUTS."""

    def __init__(self, service: InventoryService, item: InventoryItem | None = None) -> None:
        super().__init__()
        self.service = service
        self.item = item
        self._prefilled: dict[str, tuple[str, str]] = {}

    def fields(self) -> list[tuple[str, str, str, str]]:
        """(input id, label, initial value, placeholder) of each input."""
        raise NotImplementedError

    def save(self, values: dict[str, str]) -> ResultT:
        """Ask the service; raises AtlasError when it refuses."""
        raise NotImplementedError

    def heading(self) -> Text:
        return Text(self.TITLE_TEXT)

    def lead(self) -> ComposeResult:
        """Widgets above the inputs (a choice, a table); none by default."""
        yield from ()

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.heading(), id="heading")
            yield from self.lead()
            for input_id, label, value, placeholder in self.fields():
                # A stored value may hold control characters: the box shows it escaped, and
                # an untouched box gives back the stored value, not its escaped spelling.
                shown = safe_text(value)
                self._prefilled[input_id] = (shown, value)
                yield Label(label, classes="field-label")
                yield Input(value=shown, placeholder=placeholder, id=input_id)
                yield Static("", id=f"{input_id}-error", classes="field-error")
            yield Static("", id="form-error", classes="field-error")
            with Horizontal(id="buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def values(self) -> dict[str, str]:
        """What each input holds, in the user's terms (an untouched input: its stored value)."""
        found = {}
        for field in self.query(Input):
            key = field.id or ""
            shown, stored = self._prefilled.get(key, (None, ""))
            found[key] = stored if field.value == shown else field.value
        return found

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def submit(self) -> None:
        for error in self.query(".field-error").results(Static):
            error.update("")
            error.remove_class("shown")
        try:
            result = self.save(self.values())
        except AtlasError as error:
            self.show_error(error)
            return
        self.dismiss(result)

    def show_error(self, error: AtlasError) -> None:
        """Put the message beside the field it names (else under the form) and focus it."""
        fields = {**FIELD_INPUTS, **self.FIELD_INPUTS}
        input_id = fields.get(error.field) if isinstance(error, ValidationError) else None
        if input_id is None and str(error).startswith("sku:"):
            input_id = "sku"
        target = "form-error"
        if input_id is not None and self.query(f"#{input_id}"):
            target = f"{input_id}-error"
            self.query_one(f"#{input_id}", Input).focus()
        message = self.query_one(f"#{target}", Static)
        message.update(literal(str(error)))
        message.add_class("shown")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class AdjustDialog(FormDialog[InventoryItem]):
    """A signed amount (-12, +5) or a counted figure (=20), at a location (the home unless
    changed) and lot, with an optional reason."""

    FIELD_INPUTS: ClassVar[dict[str, str]] = {"quantity": "amount", "lot": "lot"}

    def heading(self) -> Text:
        assert self.item is not None
        item = self.item
        heading = Text.assemble("Adjust ", literal(item.sku), f" · {item.quantity} on hand")
        if item.elsewhere:
            heading.append_text(Text.assemble(" (", literal(where_held(item)), ")"))
        return heading

    def fields(self) -> list[tuple[str, str, str, str]]:
        assert self.item is not None
        return [
            ("amount", "Amount", "", "+5 in, -12 out, =20 counted here"),
            # After the reason: amount ⇥ reason ⏎ stays what fingers know.
            ("reason", "Reason", "", "optional"),
            ("location", "At location", self.item.location, "the home when empty"),
            ("lot", "Lot", "", "optional"),
        ]

    def on_mount(self) -> None:
        places = self.service.locations()
        self.query_one("#location", Input).suggester = SuggestFromList(places, case_sensitive=False)

    def save(self, values: dict[str, str]) -> InventoryItem:
        assert self.item is not None
        sku, amount = self.item.sku, values["amount"].strip()
        location = values["location"].strip() or None
        lot = values["lot"].strip() or None
        reason = values["reason"] or None
        if amount.startswith("="):
            return self.service.count(sku, amount[1:].strip(), reason, location=location, lot=lot)
        return self.service.adjust(sku, amount, reason, location=location, lot=lot)


def where_held(item: InventoryItem) -> str:
    """Each location and what it holds: `A-1 5 · B-2 3` (lots summed)."""
    held: dict[str, tuple[str, int]] = {}
    for line in item.stock:
        key = location_key(line.location)
        code, quantity = held.get(key, (line.location or "(no location)", 0))
        held[key] = (code, quantity + line.quantity)
    return " · ".join(f"{code} {quantity}" for code, quantity in held.values())


class NewItemDialog(FormDialog[InventoryItem]):
    """Every field of a new item (a SKU and attributes may be given, e.g. from a scan)."""

    TITLE_TEXT = "New item"

    def __init__(
        self, service: InventoryService, sku: str = "", attributes: dict[str, Any] | None = None
    ) -> None:
        super().__init__(service)
        self.sku = sku
        self.attributes = attributes

    def on_mount(self) -> None:
        if self.sku:
            self.query_one("#name", Input).focus()

    def fields(self) -> list[tuple[str, str, str, str]]:
        return [
            ("sku", "SKU", self.sku, "unique, any case"),
            ("name", "Name", "", "required"),
            ("category", "Category", "", ""),
            ("quantity", "Quantity", "0", ""),
            ("location", "Location", "", ""),
            ("min", "Min stock", "0", "0 = none"),
            ("max", "Max stock", "0", "0 = no ceiling"),
        ]

    def save(self, values: dict[str, str]) -> InventoryItem:
        return self.service.add(
            values["sku"],
            values["name"],
            values["category"],
            values["quantity"],
            values["location"],
            values["min"],
            values["max"],
            self.attributes,
        )


class EditItemDialog(FormDialog[InventoryItem]):
    """Name, category and limits of an existing item."""

    def heading(self) -> Text:
        assert self.item is not None
        return Text.assemble("Edit ", literal(self.item.sku))

    def fields(self) -> list[tuple[str, str, str, str]]:
        item = self.item
        assert item is not None
        return [
            ("name", "Name", item.name, "required"),
            ("category", "Category", item.category, ""),
            ("min", "Min stock", str(item.min_stock), "0 = none"),
            ("max", "Max stock", str(item.max_stock), "0 = no ceiling"),
        ]

    def save(self, values: dict[str, str]) -> InventoryItem:
        item = self.item
        assert item is not None
        wanted: dict[str, Any] = {
            "name": values["name"],
            "category": values["category"],
            "min_stock": values["min"],
            "max_stock": values["max"],
        }
        current = {"name": item.name, "category": item.category,
                   "min_stock": str(item.min_stock), "max_stock": str(item.max_stock)}  # fmt: skip
        changed = {key: value for key, value in wanted.items() if value != current[key]}
        if not changed:
            raise ValidationError("fields", "nothing changed")
        if "min_stock" in changed or "max_stock" in changed:
            # The pair is checked together, so a new min is judged against the new max.
            changed.setdefault("min_stock", values["min"])
            changed.setdefault("max_stock", values["max"])
        return self.service.update(item.sku, **changed)


class MoveDialog(FormDialog[InventoryItem]):
    """Another location (existing ones are suggested) and an optional reason."""

    def heading(self) -> Text:
        assert self.item is not None
        return Text.assemble(
            "Move ", literal(self.item.sku), " from ", literal(self.item.location or "-")
        )

    def fields(self) -> list[tuple[str, str, str, str]]:
        return [("location", "To location", "", ""), ("reason", "Reason", "", "optional")]

    def on_mount(self) -> None:
        places = self.service.locations()
        self.query_one("#location", Input).suggester = SuggestFromList(places, case_sensitive=False)

    def save(self, values: dict[str, str]) -> InventoryItem:
        assert self.item is not None
        return self.service.move(self.item.sku, values["location"], values["reason"] or None)


class ConfirmDialog(ModalScreen[bool]):
    """Yes or no."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm-yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm-no"),
    ]

    def __init__(self, question: Text) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question, id="heading")
            with Horizontal(id="buttons"):
                yield Button("Yes (y)", variant="error", id="yes")
                yield Button("No (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


ALL = "\x00all"


class PickDialog(ModalScreen[str | None]):
    """Pick one of the existing values; the first option, "(all)", clears the filter ("")."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, title: str, values: list[str], current: str | None, *, offer_all: bool = True
    ) -> None:
        super().__init__()
        self.offer_all = offer_all
        self.title_text = title
        self.values = values
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, id="heading")
            options = [Option(Text("(all)", style="italic"), id=ALL)] if self.offer_all else []
            options += [Option(literal(value), id=f"v{n}") for n, value in enumerate(self.values)]
            yield OptionList(*options, id="choices")

    def on_mount(self) -> None:
        choices = self.query_one(OptionList)
        if self.current in self.values:
            choices.highlighted = self.values.index(self.current) + self.offer_all
        choices.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id or ALL
        self.dismiss("" if option_id == ALL else self.values[int(option_id[1:])])

    def action_cancel(self) -> None:
        self.dismiss(None)


class HistoryDialog(ModalScreen[None]):
    """Every movement of one item, newest first: from → to, what changed, why, who, when."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,h,q", "close", "Close")]

    def __init__(self, sku: str, load: Callable[[], list[Movement]]) -> None:
        super().__init__()
        self.sku = sku
        self.load = load

    def compose(self) -> ComposeResult:
        with Vertical(id="history"):
            yield Label(Text.assemble("History of ", literal(self.sku)), id="heading")
            yield MovementList(id="movements")

    def on_mount(self) -> None:
        movements = self.query_one(MovementList)
        movements.show(self.load())
        movements.focus()

    def action_close(self) -> None:
        self.dismiss(None)
