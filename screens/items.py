"""The items screen: the inventory as a live table, a filter, and keyboard stock changes."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.notifications import Notification, Notify, SeverityLevel
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from atlas_tui.errors import AtlasError
from atlas_tui.imports import ImportResult
from atlas_tui.models import InventoryItem
from atlas_tui.service import InventoryService
from atlas_tui.text import safe_text
from screens.dialogs import (
    AdjustDialog,
    ConfirmDialog,
    EditItemDialog,
    HistoryDialog,
    MoveDialog,
    NewItemDialog,
    PickDialog,
    literal,
)
from screens.import_dialog import ImportDialog, summary
from screens.scan import ScanScreen
from screens.widgets.item_detail import ItemDetail
from screens.widgets.item_table import SORTABLE, ItemTable, sort_key


def _searchable(item: InventoryItem) -> str:
    """What the filter box matches against: SKU and name, any case."""
    return f"{item.sku}\t{item.name}".casefold()


class FilterInput(Input):
    """The filter box: down or enter go back to the table keeping the filter; escape clears."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,down", "leave", "Back to the table", show=False),
        Binding("escape", "clear_and_leave", "Clear filter", show=False),
    ]
    IDLE_HINT = "/ filter by SKU or name"
    BUSY_HINT = "type to filter · enter or ↓ back to the table · esc clears"

    def on_focus(self) -> None:
        self.placeholder = self.BUSY_HINT

    def on_blur(self) -> None:
        self.placeholder = self.IDLE_HINT

    def action_leave(self) -> None:
        self.screen.set_focus(self.screen.query_one(ItemTable))

    def action_clear_and_leave(self) -> None:
        self.value = ""
        self.action_leave()


class ItemsScreen(Screen[None]):
    """Start screen: every item, narrowed as you type, changed with a keystroke."""

    CSS_PATH = "items.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter", id="filter"),
        Binding("plus", "adjust(1)", "+1", id="adjust-up"),
        Binding("minus", "adjust(-1)", "-1", id="adjust-down"),
        Binding("enter,equals_sign", "adjust_dialog", "Adjust…", id="adjust"),
        Binding("n", "new", "New", id="new"),
        Binding("e", "edit", "Edit", id="edit"),
        Binding("m", "move", "Move", id="move"),
        Binding("delete", "delete", "Delete", id="delete"),
        Binding("h", "history", "History", id="history"),
        Binding("u", "undo", "Undo", id="undo"),
        Binding("s", "scan", "Scan", id="scan"),
        Binding("i", "import", "Import", id="import"),
        Binding("c", "pick_category", "Category", id="category"),
        Binding("l", "pick_location", "Location", id="location"),
        Binding("o", "sort", "Sort", id="sort"),
        Binding("O", "sort_reverse", "Reverse sort", show=False, id="sort-reverse"),
        Binding("ctrl+r", "reload", "Reload", show=False, id="reload"),
        Binding("escape", "dismiss_notice", "Dismiss message", show=False, id="dismiss"),
    ]

    def __init__(self, service: InventoryService) -> None:
        super().__init__()
        self.service = service
        self.all_items: list[InventoryItem] = []
        self._haystack: list[str] = []
        self._position: dict[str, int] = {}
        self._version: Hashable = None
        self.loaded = False
        self.category: str = ""
        self.location: str = ""
        self._low = self._over = 0
        self._in_flight: dict[str, int] = {}
        # The toast last shown per item: a new one replaces it instead of stacking.
        self._toasts: dict[str, Notification] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="body"):
            yield FilterInput(placeholder=FilterInput.IDLE_HINT, id="filter")
            yield Static("loading…", id="status")
            yield Static("", id="notice")
            yield ItemTable(id="items")
            yield ItemDetail(id="detail")
        yield Footer()

    def tell(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        about: str | None = None,
    ) -> None:
        """A notification whose text is shown literally (SKUs and names are user data).

        A toast `about` an item replaces the previous one about it. A refusal also stays in
        the notice line under the status until dismissed (escape) or the next change: a
        toast alone vanishes before a busy operator has read it.
        """
        notification = Notification(
            safe_text(message),
            title,
            severity,
            self.app.NOTIFICATION_TIMEOUT if timeout is None else timeout,
            markup=False,
        )
        if about is not None:
            previous = self._toasts.pop(about, None)
            if previous is not None:
                # Queued behind the previous toast's own Notify, so it is withdrawn even when
                # several saves land at once.
                self.app.call_later(self._withdraw, previous)
            self._toasts[about] = notification
        self.app.post_message(Notify(notification))
        if severity == "error":
            self._show_notice(f"{title}: {message}" if title else message)

    def _withdraw(self, notification: Notification) -> None:
        if notification in self.app._notifications:
            self.app._unnotify(notification)  # Textual has no public way to withdraw one toast

    def _show_notice(self, message: str) -> None:
        notice = self.query_one("#notice", Static)
        notice.update(Text.assemble(safe_text(message), ("  (esc to dismiss)", "dim")))
        notice.add_class("shown")

    def action_dismiss_notice(self) -> None:
        """Clear the message of the last refusal."""
        notice = self.query_one("#notice", Static)
        notice.update("")
        notice.remove_class("shown")

    @property
    def table(self) -> ItemTable:
        return self.query_one("#items", ItemTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.action_reload()
        # Another operator's change shows within a second: a stat is all a check costs.
        self.set_interval(0.5, self._check_for_changes)

    # Loading ------------------------------------------------------------------------------

    class Loaded(Message):
        """A fresh copy of every item, read in a worker."""

        def __init__(
            self, items: list[InventoryItem], version: Hashable, partial: bool = False
        ) -> None:
            super().__init__()
            self.items = items
            self.version = version
            self.partial = partial

    def action_reload(self) -> None:
        """Read every item again (in a worker: big stores never freeze the screen)."""
        with contextlib.suppress(AtlasError):  # the worker reports it
            self._version = self.service.version()
        self._load()

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load(self) -> None:
        try:
            version = self.service.version()
            if not self.loaded:
                # A big store takes a while to read whole: draw the first screenful at once.
                self.post_message(self.Loaded(self.service.first_items(200), version, True))
            items = self.service.list_items()
        except AtlasError as error:
            self.app.call_from_thread(self.tell, str(error), severity="error", timeout=8)
            return
        self.post_message(self.Loaded(items, version))

    @on(Loaded)
    def _apply_loaded(self, message: Loaded) -> None:
        if message.partial:
            if not self.loaded and self.table.sort_column == "sku" and not self.table.sort_reverse:
                self.table.show_items(message.items)
                self.query_one("#status", Static).update("reading all items…")
            return
        self._version = message.version
        items = message.items
        table = self.table
        if table.sort_column != "sku" or table.sort_reverse:
            items.sort(key=sort_key(table.sort_column), reverse=table.sort_reverse)
        self._take(items)
        self.loaded = True

    def _take(self, items: list[InventoryItem]) -> None:
        self.all_items = items
        self._haystack = [_searchable(item) for item in items]
        self._position = {item.key: n for n, item in enumerate(items)}
        self._count_exceptions()
        self._show()

    def _check_for_changes(self) -> None:
        if any(self._in_flight.values()):
            return  # our own saves are landing; look again once they have
        try:
            version = self.service.version()
        except AtlasError:
            return
        if version != self._version:
            self._version = version
            self._load()

    # Filtering and order ------------------------------------------------------------------

    def _show(self) -> None:
        needle = self.query_one("#filter", FilterInput).value.strip().casefold()
        current = self.table.current
        if needle:
            visible = [item for item, hay in zip(self.all_items, self._haystack, strict=True)
                       if needle in hay]  # fmt: skip
        else:
            visible = list(self.all_items)
        if self.category:
            wanted = self.category.casefold()
            visible = [item for item in visible if item.category.casefold() == wanted]
        if self.location:
            wanted = self.location.casefold()
            visible = [item for item in visible if item.location.casefold() == wanted]
        self.table.show_items(visible, keep=current.key if current else None)
        self._update_status()

    def _count_exceptions(self) -> None:
        self._low = sum(1 for item in self.all_items if item.is_low)
        self._over = sum(1 for item in self.all_items if item.is_over)

    def _update_status(self) -> None:
        shown, total = len(self.table.items), len(self.all_items)
        low, over = self._low, self._over
        count = f"{shown} of {total} items" if shown != total else f"{total} items"
        status = Text(f"{count} · ▼ {low} low · ▲ {over} over")
        saving = sum(self._in_flight.values())
        if saving:
            plural = "s" if saving > 1 else ""
            status.append(f" · saving {saving} change{plural}…", style="bold")
        if self.category:
            status.append(" · category ").append(safe_text(self.category), style="bold")
        if self.location:
            status.append(" · location ").append(safe_text(self.location), style="bold")
        self.query_one("#status", Static).update(status)

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        if self.loaded:
            self._show()

    def action_focus_filter(self) -> None:
        self.query_one("#filter", FilterInput).focus()

    def _sort(self, column: str, reverse: bool) -> None:
        table = self.table
        table.sort_column, table.sort_reverse = column, reverse
        items = sorted(self.all_items, key=sort_key(column), reverse=reverse)
        self._take(items)
        table.refresh()

    def action_sort(self) -> None:
        """Order by the next column."""
        columns = SORTABLE
        self._sort(columns[(columns.index(self.table.sort_column) + 1) % len(columns)], False)

    def action_sort_reverse(self) -> None:
        """Reverse the order."""
        self._sort(self.table.sort_column, not self.table.sort_reverse)

    @on(ItemTable.HeaderClicked)
    def _header_clicked(self, message: ItemTable.HeaderClicked) -> None:
        table = self.table
        reverse = not table.sort_reverse if message.column == table.sort_column else False
        self._sort(message.column, reverse)

    @on(ItemTable.Highlighted)
    def _highlighted(self, message: ItemTable.Highlighted) -> None:
        self.query_one("#detail", ItemDetail).show(message.item)

    def select_sku(self, sku: str) -> None:
        """Put the cursor on an item, clearing the filter if it hides it."""
        table = self.table
        key = sku.casefold()
        if not any(item.key == key for item in table.items):
            self.query_one("#filter", FilterInput).value = ""
            self._show()
        row = next((n for n, item in enumerate(table.items) if item.key == key), None)
        if row is not None:
            table.move_cursor(row)
        table.focus()

    # Changes ------------------------------------------------------------------------------

    def replace_item(self, item: InventoryItem) -> None:
        """Show a changed item in place, without reloading the table."""
        position = self._position.get(item.key)
        if position is not None:
            # Keep the low/over counts without recounting 100k items on every keystroke.
            old = self.all_items[position]
            self._low += item.is_low - old.is_low
            self._over += item.is_over - old.is_over
            self.all_items[position] = item
            self._haystack[position] = _searchable(item)
        table = self.table
        row = table.row_of(item.key)
        if row is not None:
            table.replace_row(row, item)
        self._update_status()

    def _saved(self, before: object) -> None:
        """Our own write: note the new version unless someone else wrote in between."""
        if before == self._version:
            self._version = self.service.version()

    def action_adjust(self, delta: int) -> None:
        """Add or take one unit: shown at once, saved at once in a worker.

        A 100k-item TinyDB file takes tens of milliseconds to write; the screen does not
        wait for it. A refusal puts the stored figure back and says why.
        """
        item = self.table.current
        if item is None:
            return
        if item.quantity + delta < 0:
            self._save_adjust(item.sku, delta)  # the service refuses it, in its own words
            return
        self.action_dismiss_notice()
        self._in_flight[item.key] = self._in_flight.get(item.key, 0) + 1
        self.table.set_pending(item.key, True)
        self.replace_item(item.evolve(quantity=item.quantity + delta))
        self._save_adjust(item.sku, delta)

    class Saved(Message):
        """A quick adjustment reached the store (or was refused)."""

        def __init__(self, sku: str, item: InventoryItem | None, error: str, before: object):
            super().__init__()
            self.sku = sku
            self.item = item
            self.error = error
            self.before = before

    @work(thread=True, group="save", exit_on_error=False)
    def _save_adjust(self, sku: str, delta: int) -> None:
        before = self.service.version()
        try:
            item: InventoryItem | None = self.service.adjust(sku, delta)
            error = ""
        except AtlasError as refused:
            error = str(refused)
            try:
                item = self.service.get(sku)
            except AtlasError:
                item = None
        self.post_message(self.Saved(sku, item, error, before))

    @on(Saved)
    def _adjust_saved(self, message: Saved) -> None:
        key = message.sku.casefold()
        waiting = self._in_flight.get(key, 0)
        if message.error and waiting:
            waiting -= 1
        elif not message.error:
            waiting = max(waiting - 1, 0)
        self._in_flight[key] = waiting
        if message.error:
            self.tell(message.error, title="Not saved", severity="error", about=key)
        else:
            self._saved(message.before)
            assert message.item is not None
            self.tell(f"{message.item.sku}: now {message.item.quantity}", timeout=2, about=key)
        # The stored figure wins once no other change of this item is on its way.
        if waiting == 0:
            self.table.set_pending(key, False)
            if message.item is not None:
                self.replace_item(message.item)
        self._update_status()

    def _after_dialog(self, verb: str) -> Callable[[InventoryItem | None], None]:
        before = self.service.version()

        def done(item: InventoryItem | None) -> None:
            if item is None:
                return
            self._saved(before)
            self.tell(f"{item.sku} {verb}", timeout=3)
            if item.key in self._position:
                self.replace_item(item)
            else:
                self._show_change(item.sku)

        return done

    def _show_change(self, sku: str) -> None:
        """Show one item as stored now (added, changed or gone) without waiting for a reload.

        Done at once, not in a worker, so a key typed right after (`delete y +`) acts on
        what the screen will show: the cursor stays on the new or changed item, or on the
        row that took a deleted item's place.
        """
        key = sku.casefold()
        try:
            item: InventoryItem | None = self.service.get(sku)
        except AtlasError:
            item = None
        if item is not None and key in self._position:
            self.replace_item(item)
            self.select_sku(item.sku)
            return
        items = [kept for kept in self.all_items if kept.key != key]
        if item is not None:
            items.append(item)
        table = self.table
        items.sort(key=sort_key(table.sort_column), reverse=table.sort_reverse)
        self._take(items)
        if item is not None:
            self.select_sku(item.sku)

    def action_adjust_dialog(self) -> None:
        """Adjust by a signed amount, with a reason."""
        item = self.table.current
        if item is not None:
            self.app.push_screen(AdjustDialog(self.service, item), self._after_dialog("adjusted"))

    def action_new(self) -> None:
        """Add a new item."""
        self.app.push_screen(NewItemDialog(self.service), self._after_dialog("added"))

    def action_edit(self) -> None:
        """Change name, category, min or max."""
        item = self.table.current
        if item is not None:
            self.app.push_screen(EditItemDialog(self.service, item), self._after_dialog("saved"))

    def action_move(self) -> None:
        """Move to another location."""
        item = self.table.current
        if item is not None:
            self.app.push_screen(MoveDialog(self.service, item), self._after_dialog("moved"))

    def action_delete(self) -> None:
        """Delete, after a confirmation."""
        item = self.table.current
        if item is None:
            return
        question = Text.assemble(
            "Delete ", literal(item.sku), " (", literal(item.name), f", {item.quantity} on hand)?",
            "\nIts history is kept.",
        )  # fmt: skip

        def answered(yes: bool | None) -> None:
            if not yes:
                self.tell("Nothing deleted", timeout=2)
                return
            before = self.service.version()
            try:
                self.service.delete(item.sku)
            except AtlasError as error:
                self.tell(str(error), title="Not deleted", severity="error")
                return
            self._saved(before)
            self.tell(f"{item.sku} deleted", timeout=3)
            self._show_change(item.sku)

        self.app.push_screen(ConfirmDialog(question), answered)

    def action_history(self) -> None:
        """Every change of the selected item."""
        item = self.table.current
        if item is not None:
            self.app.push_screen(HistoryDialog(item.sku, lambda: self.service.history(item.sku)))

    def action_undo(self) -> None:
        """Take back your last change (recorded as a new movement)."""
        before = self.service.version()
        try:
            item = self.service.undo_last()
        except AtlasError as error:
            self.tell(str(error), title="Not undone", severity="error")
            return
        self._saved(before)
        self.tell(f"Undone: {item.sku}", timeout=3)
        self._show_change(item.sku)

    def action_scan(self) -> None:
        """Scan mode: receive, pick, count or move scan after scan, without dialogs."""

        def done(summary: str | None) -> None:
            self.tell(f"Scan mode: {summary or 'nothing was changed'}", timeout=8)
            self.action_reload()

        self.app.push_screen(ScanScreen(self.service), done)

    def action_import(self) -> None:
        """Import a CSV or JSON file, after a preview of what it would do."""

        def done(result: ImportResult | None) -> None:
            if result is None:
                return
            refused = bool(result.counts["refused"])
            self.tell(f"Import of {result.source}: {summary(result)}",
                      severity="warning" if refused else "information", timeout=10)  # fmt: skip
            self.action_reload()

        self.app.push_screen(ImportDialog(self.service), done)

    def action_pick_category(self) -> None:
        """Show one category (or all)."""
        self._pick("Category", self.service.categories(), "category")

    def action_pick_location(self) -> None:
        """Show one location (or all)."""
        self._pick("Location", self.service.locations(), "location")

    def _pick(self, title: str, values: list[str], attribute: str) -> None:
        def chosen(value: str | None) -> None:
            if value is not None:
                setattr(self, attribute, value)
                self._show()

        self.app.push_screen(PickDialog(title, values, getattr(self, attribute)), chosen)
