"""The items screen: the inventory as a live table, a filter, and keyboard stock changes."""

from __future__ import annotations

import contextlib
import threading
import time
from array import array
from collections.abc import Callable, Hashable, Sequence
from datetime import date, timedelta
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.notifications import Notification, Notify, SeverityLevel
from textual.screen import Screen
from textual.widgets import Header, Input, Static
from textual.worker import get_current_worker

from atlas_tui.domain.errors import AtlasError, NotFoundError
from atlas_tui.domain.models import InventoryItem, ItemRow, sku_key
from atlas_tui.services.imports import ImportResult
from atlas_tui.services.inventory import InventoryService
from atlas_tui.services.scanning import ScanCodes
from atlas_tui.text import safe_text
from atlas_tui.wording import EXPIRY_WARNING_DAYS
from screens.bulk_steps import BulkSteps
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
from screens.session import session_of
from screens.stock_dialogs import TransferDialog
from screens.widgets.item_detail import ItemDetail
from screens.widgets.item_rows import (
    BadRow,
    ItemRows,
    ViewSpec,
    count_within,
    ordering,
    reshaped,
    select,
    shows,
)
from screens.widgets.item_table import SORTABLE, ItemTable
from screens.widgets.status_line import status_and_footer
from screens.widgets.zoom import toggle_maximize, zoom_binding

# Rows drawn before the rest are read or found: more than any terminal shows.
FIRST_ROWS = 200
# Rows read at a time while loading (about a millisecond's work each).
LOAD_BATCH = 1000
# After a key (or click) the load waits this long for the next before reading on: while it
# runs, every turn of the screen's event loop waits for the interpreter (a switch interval),
# and a key takes a hundred turns, so a filter keystroke took half a second at 100k items.
LOAD_YIELDS_TO_INPUT = 0.3
# Items changed by others read one by one; more than this, and every item is read again.
CATCH_UP_MAX = 2000
# Up to this many rows shown, their low and over counts are counted at once; beyond, in a
# worker (a filter keeping half a million rows takes about a tenth of a second to count).
COUNT_INLINE = 50_000
# The views (only some rows), as the counts line names them.
VIEW_WORDS = {"low": "low", "over": "over", "expiring": f"expiring ≤{EXPIRY_WARNING_DAYS} d"}


# What an empty store shows in place of the rows.
EMPTY_STORE_HINT = [
    "No items yet.",
    "",
    "  n           add a new item",
    "  i           import items from a CSV or JSON file",
    "  atlas demo  (in a shell) fill the store with demo data to try things out",
]


class FilterInput(Input):
    """The filter box: enter acts on the first match (the adjust dialog), down or tab go back
    to the table keeping the filter; escape clears."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "act", "Adjust the first match", show=False),
        Binding("down,tab", "leave", "Back to the table", show=False),
        Binding("escape", "clear_and_leave", "Clear filter", show=False),
    ]
    IDLE_HINT = "/ filter by SKU or name"
    BUSY_HINT = "type to filter · enter adjusts the match · ↓ or tab to the table · esc clears"

    def on_focus(self) -> None:
        self.placeholder = self.BUSY_HINT

    def on_blur(self) -> None:
        self.placeholder = self.IDLE_HINT

    def action_leave(self) -> None:
        self.screen.set_focus(self.screen.query_one(ItemTable))

    def action_clear_and_leave(self) -> None:
        self.value = ""
        self.action_leave()

    def action_act(self) -> None:
        """`/bolt⏎`: the adjust dialog on the first match. The table takes the focus first,
        so the keys after the dialog (`/` for the next search) go to the table; a filter
        still being worked out is waited for, so the dialog is for the match shown last."""
        screen = self.screen
        assert isinstance(screen, ItemsScreen)
        screen.act_on_first_match()


class ItemsScreen(Screen[None]):
    """Start screen: every item, narrowed as you type, changed with a keystroke."""

    CSS_PATH = "items.tcss"
    # The table has the focus from the first frame: keys typed before the screen is up
    # (`/cle` at once) must not land in the filter box, the first focusable widget.
    AUTO_FOCUS = "#items"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter", id="filter"),
        Binding("plus", "adjust(1)", "+1", id="adjust-up"),
        Binding("minus", "adjust(-1)", "-1", id="adjust-down"),
        Binding("enter,equals_sign", "adjust_dialog", "Adjust…", id="adjust"),
        Binding("n", "new", "New", id="new"),
        Binding("e", "edit", "Edit", id="edit"),
        Binding("m", "move", "Move", id="move"),
        Binding("x", "transfer", "Transfer", id="transfer"),
        Binding("delete", "delete", "Delete", id="delete"),
        Binding("h", "history", "History", id="history"),
        Binding("u", "undo", "Undo", id="undo"),
        Binding("s", "scan", "Scan", id="scan"),
        Binding("i", "import", "Import", id="import"),
        Binding("c", "pick_category", "Category", id="category"),
        Binding("l", "pick_location", "Location", id="location"),
        Binding("o", "sort", "Sort", id="sort"),
        Binding("O", "sort_reverse", "Reverse sort", show=False, id="sort-reverse"),
        zoom_binding("items"),
        Binding("ctrl+r", "reload", "Reload", show=False, id="reload"),
        Binding("y", "copy_sku", "Copy SKU", show=False, id="copy-sku"),
        Binding("escape", "dismiss_notice", "Dismiss message", show=False, id="dismiss"),
        Binding("b", "view('low')", "Only low stock", show=False, id="view-low"),
        Binding("a", "view('over')", "Only over stock", show=False, id="view-over"),
        Binding("E", "view('expiring')", "Only expiring", show=False, id="view-expiring"),
    ]

    # Up to this many rows a filter or sort is done at once; beyond, in a worker.
    INLINE_ROWS: ClassVar[int] = 20_000

    def __init__(
        self,
        service: InventoryService,
        sort: tuple[str, bool] | None = None,
        codes: ScanCodes | None = None,
    ) -> None:
        super().__init__()
        self.service = service
        self._first_sort = sort  # (column, reverse) from the preferences
        self._codes = codes  # scan mode's command codes, from the preferences
        self._rows = ItemRows()
        self._drawn = threading.Event()  # the first screenful is on screen
        self._version: Hashable = None
        self._mark: Hashable = None  # the history mark the rows shown are up to date with
        self.loaded = False
        self.category: str = ""
        self.location: str = ""
        self._holders: frozenset[str] = frozenset()  # SKUs with stock at `location`
        self.views: set[str] = set()  # "low", "over", "expiring": only those rows shown
        self._in_flight: dict[str, int] = {}
        # The toast last shown per item: a new one replaces it instead of stacking.
        self._toasts: dict[str, Notification] = {}
        self._notice_in_outage = False
        # Changes shown here, numbered: a reload that began earlier may not hold them yet.
        self._changes = 0
        self._recent: dict[str, tuple[int, str, ItemRow | None]] = {}
        # The view being worked out in a worker (None: the one shown is complete).
        self._wanted: ViewSpec | None = None
        # The filter text changed: a cursor whose item no longer matches goes to the first match.
        self._to_first_match = False
        # Sorted row numbers per (column, generation), and the last search's result.
        self._orders: dict[tuple[str, int], Sequence[int]] = {}
        self._searched: tuple[str, int, Sequence[int]] | None = None
        # Low and over counts of the rows shown: (view, changes, low, over).
        self._counted: tuple[Sequence[int], int, int, int] | None = None
        self.bulk = BulkSteps(self)  # what the keys do while items are selected

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="body"):
            yield FilterInput(placeholder=FilterInput.IDLE_HINT, id="filter")
            yield Static("loading…", id="status")
            yield Static("", id="notice")
            table = ItemTable(id="items")
            if self._first_sort is not None:
                table.sort_column, table.sort_reverse = self._first_sort
            yield table
            # The rule above the pane is a widget of its own: redrawing the pane on every
            # cursor move would send it again.
            yield Static(id="detail-rule")
            yield ItemDetail(id="detail")
        yield from status_and_footer()

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
        # A refusal while the store cannot be reached goes once it answers again.
        self._notice_in_outage = session_of(self).outage is not None
        notice = self.query_one("#notice", Static)
        notice.update(Text.assemble(safe_text(message), ("  (esc to dismiss)", "dim")))
        notice.add_class("shown")

    def outage_over(self) -> None:
        """The store answers again: a refusal that said it could not be reached is over."""
        if self._notice_in_outage:
            self.action_dismiss_notice()

    def action_toggle_maximize(self) -> None:
        """Give the focused pane (table or detail) the whole screen, or put it back."""
        toggle_maximize(self)

    def action_dismiss_notice(self) -> None:
        """Clear the message of the last refusal."""
        self._notice_in_outage = False
        notice = self.query_one("#notice", Static)
        notice.update("")
        notice.remove_class("shown")

    @property
    def table(self) -> ItemTable:
        return self.query_one("#items", ItemTable)

    @property
    def rows(self) -> ItemRows:
        """Every item held (the table shows a filtered, ordered view of them)."""
        return self._rows

    def on_mount(self) -> None:
        self.table.focus()
        self.action_reload()
        # Another operator's change shows within a second: a stat is all a check costs.
        self.set_interval(0.5, self.check_store)

    # Loading ------------------------------------------------------------------------------

    class Loaded(Message):
        """Rows read in a worker: the first screenful (partial) or every item."""

        def __init__(
            self,
            rows: ItemRows,
            version: Hashable,
            partial: bool,
            since: int,
            mark: Hashable = None,
        ) -> None:
            super().__init__()
            self.rows = rows
            self.version = version
            self.partial = partial
            self.since = since
            self.mark = mark  # where the history ended before the read began

    def action_reload(self) -> None:
        """Read every item again (in a worker: big stores never freeze the screen)."""
        with contextlib.suppress(AtlasError):  # the worker reports it
            self._version = self.service.version()
        self._load(self._changes)

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load(self, since: int) -> None:
        worker = get_current_worker()
        try:
            version = self.service.version()
            mark = self.service.history_mark()
            if not self.loaded:
                # A big store takes a while to read whole: draw the first screenful at once.
                head = ItemRows(ItemRow.of(item) for item in self.service.first_items(FIRST_ROWS))
                self.post_message(self.Loaded(head, version, True, since))
                # The screen finishes starting up (footer, detail pane) before the long read
                # competes with it for the interpreter.
                self._drawn.wait(1.0)
            rows = ItemRows()
            # Small batches: reading one holds the interpreter, and a key must not wait long.
            for number, batch in enumerate(self.service.item_rows(LOAD_BATCH)):
                if number:  # a store of one batch is read at once, keys or not
                    self._wait_for_a_pause(lambda: worker.is_cancelled)
                if worker.is_cancelled:
                    return
                rows.extend(batch)
                time.sleep(0)  # let the screen have the interpreter between batches
        except (AtlasError, BadRow) as error:
            message = str(error)
            if isinstance(error, BadRow):
                message = f"data file {self.service.repository.path}: {error}; run `atlas verify`"
            self.app.call_from_thread(self.tell, message, severity="error", timeout=8)
            return
        if not worker.is_cancelled:
            self.post_message(self.Loaded(rows, version, False, since, mark))

    def _wait_for_a_pause(self, cancelled: Callable[[], bool]) -> None:
        """While the operator types (or clicks), hold the load: the screen gets the whole
        interpreter, and the read goes on once the keys stop for LOAD_YIELDS_TO_INPUT."""
        while not cancelled():
            last: float = getattr(self.app, "last_input", 0.0)
            wait = last + LOAD_YIELDS_TO_INPUT - time.monotonic()
            if wait <= 0:
                return
            time.sleep(min(wait, 0.05))

    @on(Loaded)
    def _apply_loaded(self, message: Loaded) -> None:
        if message.partial:
            if not self.loaded:
                self._take(message.rows)
            self.call_after_refresh(self.call_after_refresh, self._drawn.set)
            return
        rows = message.rows
        # Changes shown here after the read began may be missing from it: show them again.
        for seq, key, row in self._recent.values():
            if seq > message.since:
                if row is None:
                    rows.remove(key)
                else:
                    rows.put(row)
        self._recent = {k: v for k, v in self._recent.items() if v[0] > message.since}
        if self._changes == message.since:
            self._version = message.version  # else our own saves since have moved it on
        self._mark = message.mark
        self.loaded = True
        self._take(rows)
        self._prepare(rows)

    @work(thread=True, exclusive=True, group="prepare", exit_on_error=False)
    def _prepare(self, rows: ItemRows) -> None:
        """Ahead of the first keystroke: the filter's text (a second at a million rows) and
        the index of each item's history, which the detail pane reads on every cursor move."""
        if len(rows) > self.INLINE_ROWS:
            rows.haystack()
        with contextlib.suppress(AtlasError):  # the detail pane reports a broken history
            self.service.warm_history()

    def _take(self, rows: ItemRows) -> None:
        self._rows = rows
        self._orders.clear()
        self._searched = None
        self._show()

    def check_store(self) -> None:
        """Look for others' changes (polled; pushed at once from a server store)."""
        if any(self._in_flight.values()):
            return  # our own saves are landing; look again once they have
        try:
            version = self.service.version()
        except AtlasError:
            return
        if version != self._version:
            self._version = version
            if self.loaded and self._mark is not None:
                self._catch_up(self._mark)
            else:
                self._load(self._changes)

    class CaughtUp(Message):
        """The items other writers changed since the history mark, as stored now."""

        def __init__(self, items: dict[str, InventoryItem | None], mark: Hashable) -> None:
            super().__init__()
            self.items = items
            self.mark = mark

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _catch_up(self, mark: Hashable) -> None:
        """Read again only what others changed (a million items take seconds to read whole):
        the SKUs of the movements after the mark. After a restore, or very many changes,
        everything is read again."""
        worker = get_current_worker()
        try:
            new_mark = self.service.history_mark()
            changed = self.service.changed_since(mark)
            if changed is None or len(changed) > CATCH_UP_MAX:
                self.app.call_from_thread(self._load, self._changes)
                return
            items: dict[str, InventoryItem | None] = {}
            for key in changed:
                try:
                    items[key] = self.service.get(key)
                except NotFoundError:
                    items[key] = None  # deleted
        except AtlasError:
            self.app.call_from_thread(self._load, self._changes)  # it reports what is wrong
            return
        if not worker.is_cancelled:
            self.post_message(self.CaughtUp(items, new_mark))

    @on(CaughtUp)
    def _apply_caught_up(self, message: CaughtUp) -> None:
        if self.location:  # others may have put stock at, or taken it from, the location
            self._read_holders()
        for key, item in message.items.items():
            if item is not None:
                self.replace_item(item)
            elif self._rows.find(key) is not None:
                self._remove_row(key)
        self._mark = message.mark

    # Filtering and order ------------------------------------------------------------------

    def _spec(self) -> ViewSpec:
        table = self.table
        needle = self.query_one("#filter", FilterInput).value.strip().casefold()
        views = self.views
        by = date.today() + timedelta(days=EXPIRY_WARNING_DAYS) if "expiring" in views else None
        return ViewSpec(needle, self.category, self.location, table.sort_column,
                        table.sort_reverse, self._rows.generation, len(self._rows),
                        self._holders if self.location else frozenset(),
                        "low" in views, "over" in views,
                        by.isoformat() if by else "")  # fmt: skip

    def _show(self) -> None:
        """Show what the filter, picks and order ask for: at once for a few thousand rows or
        for every row in an order known already (a filter just cleared), else from a worker
        (the screen answers keys meanwhile and says it is filtering; cursor keys wait for the
        new view, which they are meant for)."""
        spec = self._spec()
        ordered = spec.column == "sku" or (spec.column, spec.generation) in self._orders
        if len(self._rows) <= self.INLINE_ROWS or (ordered and not spec.filtered):
            self._present(spec, self._select(spec), partial=False)
            return
        self._wanted = spec
        self.table.hold_keys()
        self._update_status()
        self._select_in_worker(spec, self._rows)

    def _order_for(self, spec: ViewSpec) -> Sequence[int] | None:
        if spec.column == "sku":
            return None
        cached = self._orders.get((spec.column, spec.generation))
        if cached is None:
            cached = ordering(self._rows, spec.column)
            self._orders = {(spec.column, spec.generation): cached}
        return cached

    def _within(self, spec: ViewSpec) -> Sequence[int] | None:
        """A previous search's rows, when this needle can only narrow them."""
        last = self._searched
        if last is None or not spec.needle:
            return None
        needle, generation, found = last
        if generation == spec.generation and needle and needle in spec.needle:
            return found
        return None

    def _select(
        self, spec: ViewSpec, first: int | None = None, stop: Callable[[], bool] | None = None
    ) -> Sequence[int]:
        rows = self._rows
        within = self._within(spec)
        if spec.needle and first is None:
            found = array("q", rows.matches(spec.needle, within, stop))
            if stop is not None and stop():
                return found  # incomplete: the caller drops it
            self._searched = (spec.needle, spec.generation, found)
            return select(rows, spec, self._order_for(spec), matched=found, stop=stop)
        return select(rows, spec, self._order_for(spec), within, first, stop=stop)

    @work(thread=True, exclusive=True, group="view", exit_on_error=False)
    def _select_in_worker(self, spec: ViewSpec, rows: ItemRows) -> None:
        worker = get_current_worker()

        def stop() -> bool:
            # A newer keystroke cancels this search: it must stop using the interpreter.
            return worker.is_cancelled

        try:
            if spec.needle and spec.column == "sku" and not spec.reverse:
                # Matches come in SKU order: the first screenful is shown before the rest.
                head = self._select(spec, first=FIRST_ROWS, stop=stop)
                if len(head) == FIRST_ROWS and not stop():
                    self.app.call_from_thread(self._present, spec, head, True)
            view = self._select(spec, stop=stop)
        except (IndexError, ValueError):
            return  # rows changed underneath (a reload or an add): a new view is on its way
        if not stop():
            self.app.call_from_thread(self._present, spec, view, False)

    def _present(self, spec: ViewSpec, view: Sequence[int], partial: bool) -> None:
        if spec != self._spec():
            return  # typed on, re-sorted or reloaded meanwhile
        current = self.table.current
        self.table.show_rows(self._rows, view, keep=current.key if current else None)
        # `/gam⏎` adjusts the first match, not whichever match now sits at the old row.
        if self._to_first_match and (current is None or self.table.row_of(current.key) is None):
            self.table.move_cursor(0)
        self._to_first_match = self._to_first_match and partial
        self._wanted = spec if partial else None
        if not partial:  # held keys wait for all of it: `End` on the first screenful stops short
            self.table.release_keys()
        self._update_status()

    def _counts(self) -> tuple[int, int] | None:
        """Low and over among the rows shown; None while a worker counts them."""
        view, rows = self.table.view, self._rows
        if len(view) == len(rows):
            return rows.low, rows.over
        counted = self._counted
        if counted is not None and counted[0] is view and counted[1] == self._changes:
            return counted[2], counted[3]
        if len(view) > COUNT_INLINE:
            self._count_in_worker(view, self._changes)
            return None
        low, over = count_within(rows, view)
        self._counted = (view, self._changes, low, over)
        return low, over

    def _recount(self, n: int, was: tuple[bool, bool] | None) -> None:
        """Row `n` changed in place: move the counts of the rows shown along, not count
        them all again (a `+` under a filter of half a million rows)."""
        counted, view = self._counted, self.table.view
        if counted is None or counted[0] is not view or counted[1] != self._changes - 1:
            return
        _view, _changes, low, over = counted
        if was is not None and n in view:
            now = self._rows.flags(n)
            low += now[0] - was[0]
            over += now[1] - was[1]
        self._counted = (view, self._changes, low, over)

    @work(thread=True, exclusive=True, group="count", exit_on_error=False)
    def _count_in_worker(self, view: Sequence[int], changes: int) -> None:
        try:
            low, over = count_within(self._rows, view)
        except IndexError:
            return  # rows changed underneath: the next status asks again
        self.app.call_from_thread(self._counted_in_worker, view, changes, low, over)

    def _counted_in_worker(self, view: Sequence[int], changes: int, low: int, over: int) -> None:
        if view is self.table.view and changes == self._changes:
            self._counted = (view, changes, low, over)
            self._update_status()

    def _update_status(self) -> None:
        shown, total = len(self.table.view), len(self._rows)
        if self._wanted is not None:
            status = Text(f"{shown}+ of {total} items (filtering…)")
        elif shown == total:
            items = "item" if total == 1 else "items"
            status = Text(f"{total} {items} · ▼ {self._rows.low} low · ▲ {self._rows.over} over")
        else:
            # Counted among the rows shown: a filter's low count is what it is looked for.
            counts = self._counts()
            among = "counting…" if counts is None else f"▼ {counts[0]} low · ▲ {counts[1]} over"
            status = Text(f"{shown} of {total} items shown · {among} among them")
        if not self.loaded and len(self._rows):
            status.append(" · reading all items…")
        session_of(self).set_saving(sum(self._in_flight.values()))
        if self.category:
            status.append(" · category ").append(safe_text(self.category), style="bold")
        if self.location:
            status.append(" · location ").append(safe_text(self.location), style="bold")
        if self.views:  # low or over, and expiring
            either = " or ".join(VIEW_WORDS[v] for v in ("low", "over") if v in self.views)
            words = [either] if either else []
            words += [VIEW_WORDS["expiring"]] if "expiring" in self.views else []
            status.append(" · only ").append(" and ".join(words), style="bold")
        if self.table.selection_size:
            status.append(f" · {self.table.selection_size} selected", style="bold")
        self.query_one("#status", Static).update(status)
        self.table.set_empty_hint(self._empty_hint() if not shown else ())

    def _empty_hint(self) -> list[str]:
        """What to do when no row is shown: add or import items, or loosen the filter."""
        if not self._rows:
            return [] if not self.loaded else EMPTY_STORE_HINT
        if self._wanted is not None:
            return []  # still filtering
        needle = self.query_one("#filter", FilterInput).value.strip()
        where = [f"matches '{needle}'"] if needle else []
        where += [f"in category '{self.category}'"] if self.category else []
        where += [f"at location '{self.location}'"] if self.location else []
        hints = ["esc in the filter box (/) clears the filter"] if needle else []
        hints += ["c then (all): every category"] if self.category else []
        hints += ["l then (all): every location"] if self.location else []
        return [f"No item {' '.join(where)} — {'; '.join(hints)}"]

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._to_first_match = True
        self._show()

    def act_on_first_match(self) -> None:
        """The adjust dialog on the row the filter put the cursor on; with no match the
        focus stays in the filter box (the table says so)."""
        table = self.table

        def act() -> None:
            if table.current is None:
                return
            table.focus()
            self.action_adjust_dialog()

        table.when_shown(act)

    def action_copy_sku(self) -> None:
        """Copy the selected item's SKU to the clipboard (OSC 52: works over SSH where the
        terminal allows it)."""
        row = self.table.current
        if row is None:
            return
        self.app.copy_to_clipboard(row.sku)
        self.tell(f"copied {row.sku}", timeout=3)

    def action_focus_filter(self) -> None:
        self.query_one("#filter", FilterInput).focus()

    def _sort(self, column: str, reverse: bool) -> None:
        table = self.table
        table.sort_column, table.sort_reverse = column, reverse
        self._show()
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

    @on(ItemTable.SelectionChanged)
    def _selection_changed(self) -> None:
        self._update_status()

    @on(ItemTable.Highlighted)
    def _highlighted(self, message: ItemTable.Highlighted) -> None:
        self.query_one("#detail", ItemDetail).show(message.item)

    def action_view(self, view: str) -> None:
        """Show only low, over or expiring rows, or all again (with the filter and picks)."""
        self.views ^= {view}
        self._show()

    def select_sku(self, sku: str) -> None:
        """Put the cursor on an item (a jump from reports, locations or recent changes).

        A filter, pick or view that hides it is cleared, and the operator told so.
        """
        table = self.table
        key = sku_key(sku)
        n = self._rows.find(key)
        spec = self._spec()
        # Hidden: by the view on screen, or by the one being worked out (a row that stopped
        # matching since it was shown stays in view until the next filter: it is not hidden).
        hidden = table.row_of(key) is None or self._wanted is not None
        if n is not None and spec.filtered and hidden and not shows(self._rows, spec, n):
            self.query_one("#filter", FilterInput).value = ""
            self.category = self.location = ""
            self.views = set()
            spec = self._spec()
            # No filter: the view is every row in an order already known, so this is quick.
            self._present(spec, select(self._rows, spec, self._order_for(spec)), False)
            self.tell(f"filter cleared to show {self._rows.skus[n]}", about=key)
        elif n is not None and table.row_of(key) is None:
            # Shown by the view being worked out, not yet by the one on screen: finish it.
            self._present(spec, self._select(spec), False)
        row = table.row_of(key)
        if row is not None:
            table.move_cursor(row)
        elif self.loaded:
            self.tell(f"{sku} is no longer in the store", severity="warning", about=key)
        table.focus()

    # Changes ------------------------------------------------------------------------------

    def _note(self, key: str, row: ItemRow | None) -> None:
        """Remember a change shown here, for a reload that began before it was stored."""
        self._changes += 1
        self._recent[key] = (self._changes, key, row)

    def replace_item(self, item: InventoryItem | ItemRow) -> None:
        """Show a changed item in place, without reloading the table."""
        row = ItemRow.of(item) if isinstance(item, InventoryItem) else item
        self._note(row.key, row)
        rows = self._rows
        size, generation = len(rows), rows.generation
        old = rows.find(row.key)
        was = None if old is None else rows.flags(old)
        n = rows.put(row)
        if rows.generation == generation:
            self.table.refresh_item(row.key)
            self._recount(n, was)
        elif len(rows) != size:
            self._reshape(row.key, inserted=n)
        else:  # renamed: it may no longer match the filter, or belong elsewhere in the order
            self._reshape(row.key, removed=n, inserted=n)
        self._update_status()

    def _reshape(
        self, keep: str, *, removed: int | None = None, inserted: int | None = None
    ) -> None:
        """Rows were added, removed or renamed: show it at once (no search or sort), the
        cursor on `keep` if it is shown."""
        self._searched = None
        self._orders.clear()
        table = self.table
        spec = self._spec()
        view = reshaped(self._rows, table.view, spec, removed=removed, inserted=inserted)
        table.show_rows(self._rows, view, keep=keep)
        if self._wanted is not None:
            self._show()  # a view was being worked out on the old rows: start it again

    def version_now(self) -> Hashable:
        """The store's version, or a token equal to none when the store cannot be reached
        (a server store's outage: the status line says so, and nothing here may crash)."""
        try:
            return self.service.version()
        except AtlasError:
            return object()

    def _saved(self, before: object) -> None:
        """Our own write: note the new version unless someone else wrote in between."""
        if before == self._version:
            self._version = self.version_now()

    def action_adjust(self, delta: int) -> None:
        """Add or take one unit: shown at once, saved at once in a worker.

        The screen does not wait for the store; a refusal puts the stored figure back and
        says why.
        """
        row = self.table.current
        if row is None:
            return
        if row.quantity + delta < 0:
            self._save_adjust(row.sku, delta)  # the service refuses it, in its own words
            return
        self.action_dismiss_notice()
        self._in_flight[row.key] = self._in_flight.get(row.key, 0) + 1
        self.table.set_pending(row.key, True)
        self.replace_item(row._replace(quantity=row.quantity + delta))
        self._save_adjust(row.sku, delta)

    class Saved(Message):
        """A quick adjustment reached the store (or was refused)."""

        def __init__(
            self, sku: str, item: InventoryItem | None, error: str, before: object, delta: int
        ) -> None:
            super().__init__()
            self.sku = sku
            self.item = item
            self.error = error
            self.before = before
            self.delta = delta

    @work(thread=True, group="save", exit_on_error=False)
    def _save_adjust(self, sku: str, delta: int) -> None:
        before = self.version_now()
        try:
            item: InventoryItem | None = self.service.adjust(sku, delta)
            error = ""
        except AtlasError as refused:
            error = str(refused)
            try:
                item = self.service.get(sku)
            except AtlasError:
                item = None
        self.post_message(self.Saved(sku, item, error, before, delta))

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
        if message.error and message.item is None:
            # The store could not even be read back (unreachable): take back what was shown.
            n = self._rows.find(key)
            row = None if n is None else self._rows.row(n)
            if row is not None and message.delta and row.quantity - message.delta >= 0:
                self.replace_item(row._replace(quantity=row.quantity - message.delta))
        # The stored figure wins once no other change of this item is on its way.
        if waiting == 0:
            self.table.set_pending(key, False)
            if message.item is not None:
                self.replace_item(message.item)
        self._update_status()

    def _after_dialog(self, verb: str) -> Callable[[InventoryItem | None], None]:
        before = self.version_now()

        def done(item: InventoryItem | None) -> None:
            if item is None:
                return
            self._saved(before)
            self.tell(f"{item.sku} {verb}", timeout=3)
            self._show_change(item.sku)

        return done

    def _show_change(self, sku: str) -> None:
        """Show one item as stored now (added, changed or gone) without waiting for a reload.

        Done at once, not in a worker, so a key typed right after (`delete y +`) acts on
        what the screen will show: the cursor stays on the new or changed item, or on the
        row that took a deleted item's place.
        """
        key = sku.casefold()
        if self.location:
            self._read_holders()
        try:
            item: InventoryItem | None = self.service.get(sku)
        except AtlasError:
            item = None
        if item is not None:
            self.replace_item(item)
            self.select_sku(item.sku)
            return
        self._remove_row(key)

    def _remove_row(self, key: str) -> None:
        """Take a deleted item's row out; the cursor stays on the row that takes its place."""
        table = self.table
        place = table.row_of(key)
        self._note(key, None)
        table.forget([key])
        n = self._rows.remove(key)
        if n is None:
            return
        self._reshape(key, removed=n)
        if place is not None:
            table.move_cursor(min(place, max(len(table.view) - 1, 0)))
        self._update_status()

    def _stored(self) -> InventoryItem | None:
        """The item under the cursor as stored now (a dialog starts from the truth)."""
        row = self.table.current
        if row is None:
            return None
        try:
            return self.service.get(row.sku)
        except AtlasError as error:
            self.tell(str(error), title="Not found", severity="error")
            return None

    def action_adjust_dialog(self) -> None:
        """Adjust by a signed amount, with a reason (count the selected items, if any)."""
        if self.bulk.count():
            return
        item = self._stored()
        if item is not None:
            self.app.push_screen(AdjustDialog(self.service, item), self._after_dialog("adjusted"))

    def action_new(self) -> None:
        """Add a new item."""
        self.app.push_screen(NewItemDialog(self.service), self._after_dialog("added"))

    def action_edit(self) -> None:
        """Change name, category, min or max (category, min or max of the selection)."""
        if self.bulk.edit():
            return
        item = self._stored()
        if item is not None:
            self.app.push_screen(EditItemDialog(self.service, item), self._after_dialog("saved"))

    def action_move(self) -> None:
        """Move to another location (the selected items, if any)."""
        if self.bulk.move():
            return
        item = self._stored()
        if item is not None:
            self.app.push_screen(MoveDialog(self.service, item), self._after_dialog("moved"))

    def action_transfer(self) -> None:
        """Transfer part of the stock from one of its locations to another (of each
        selected item, if any)."""
        if self.bulk.transfer():
            return
        item = self._stored()
        if item is not None:
            dialog = TransferDialog(self.service, item)
            self.app.push_screen(dialog, self._after_dialog("transferred"))

    def action_delete(self) -> None:
        """Delete, after a confirmation (the selected items, if any)."""
        if self.bulk.delete():
            return
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
            before = self.version_now()
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
        """Take back your latest change (also one made before a restart), after saying what
        it is; recorded as new movements."""
        try:
            plan = self.service.undo_plan()
        except AtlasError as error:
            self.tell(str(error), title="Not undone", severity="error")
            return
        question = literal(plan.question)

        def answered(yes: bool | None) -> None:
            if not yes:
                self.tell("Nothing undone", timeout=2)
                return
            before = self.version_now()
            try:
                item = self.service.undo(plan)
            except AtlasError as error:
                self.tell(str(error), title="Not undone", severity="error")
                return
            if len({m.sku.casefold() for m in plan.movements}) == 1:
                self._saved(before)
            # else the screen catches up with a bulk step's other items as with any writer's
            self.tell(f"Undone: your {plan.summary}", timeout=3)
            self._show_change(item.sku)

        self.app.push_screen(ConfirmDialog(question), answered)

    def action_scan(self) -> None:
        """Scan mode: receive, pick, count or move scan after scan, without dialogs."""

        def done(summary: str | None) -> None:
            self.tell(f"Scan mode: {summary or 'nothing was changed'}", timeout=8)
            self.action_reload()

        self.app.push_screen(ScanScreen(self.service, codes=self._codes), done)

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
        """Show one location (or all): items kept there, or with stock there."""

        def chosen(value: str | None) -> None:
            if value is not None:
                self.location, self._holders = value, frozenset()
                self._show()
                if value:
                    self._read_holders()

        self.app.push_screen(
            PickDialog("Location", self.service.locations(), self.location), chosen
        )

    @work(thread=True, exclusive=True, group="holders", exit_on_error=False)
    def _read_holders(self) -> None:
        """The SKUs with stock at the location filtered on, as stored now."""
        location = self.location
        if not location:
            return
        try:
            lines = self.service.places.show(location)["lines"]
        except AtlasError:
            lines = []
        held = frozenset(line["sku"].casefold() for line in lines)
        self.app.call_from_thread(self._holders_read, location, held)

    def _holders_read(self, location: str, held: frozenset[str]) -> None:
        if location == self.location and held != self._holders:
            self._holders = held
            self._show()

    def _pick(self, title: str, values: list[str], attribute: str) -> None:
        def chosen(value: str | None) -> None:
            if value is not None:
                setattr(self, attribute, value)
                self._show()

        self.app.push_screen(PickDialog(title, values, getattr(self, attribute)), chosen)
