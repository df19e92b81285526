"""The items screen's keys when items are selected: each acts on all of them as one step."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text

from atlas_tui.domain.errors import AtlasError
from atlas_tui.services import bulk
from atlas_tui.services.bulk import StepResult
from screens.bulk_dialogs import (
    COUNT_MAX,
    BulkCountDialog,
    BulkDialog,
    BulkEditDialog,
    BulkMoveDialog,
    BulkTransferDialog,
)
from screens.dialogs import ConfirmDialog

if TYPE_CHECKING:
    from screens.items import ItemsScreen

# Items shown changed one by one after a step; more, and every item is read again.
SHOW_ONE_BY_ONE = 500
# Most items one step changes from the screen: it waits for the store meanwhile (about
# 0.15 ms an item, so 1.5 s at most).
STEP_MAX = 10_000


class BulkSteps:
    """Move, transfer, edit, count or delete the selected items of the items screen.

    Each method returns False when nothing is selected (the key then acts on the item
    under the cursor, as without a selection). The selection is kept after a step, so the
    operator can follow up on the same items; deleted items leave it.
    """

    def __init__(self, screen: ItemsScreen) -> None:
        self.screen = screen

    @property
    def skus(self) -> list[str]:
        return sorted(self.screen.table.selected)  # a SKU order: the step's movements follow it

    def _too_many(self, count: int, verb: str) -> bool:
        if count <= STEP_MAX:
            return False
        self.screen.tell(f"one step changes at most {STEP_MAX} items: {count} are selected; "
                         "narrow the selection", title=f"Not {verb}", severity="error")  # fmt: skip
        return True

    def move(self) -> bool:
        return self._open(BulkMoveDialog)

    def transfer(self) -> bool:
        return self._open(BulkTransferDialog)

    def edit(self) -> bool:
        return self._open(BulkEditDialog)

    def count(self) -> bool:
        screen = self.screen
        size = screen.table.selection_size
        if not size:
            return False
        if size > COUNT_MAX:
            screen.tell(f"count at most {COUNT_MAX} items at a time: {size} are selected",
                        title="Not counted", severity="error")  # fmt: skip
            return True
        skus = self.skus
        try:
            items = [screen.service.get(sku) for sku in skus]
        except AtlasError as error:
            screen.tell(str(error), title="Not counted", severity="error")
            return True
        screen.app.push_screen(BulkCountDialog(screen.service, items), self._done())
        return True

    def delete(self) -> bool:
        screen = self.screen
        size = screen.table.selection_size
        if not size:
            return False
        if self._too_many(size, "deleted"):
            return True
        skus = self.skus
        question = Text(f"Delete the {bulk.items(len(skus))} selected?\nTheir history is kept.")

        def answered(yes: bool | None) -> None:
            if not yes:
                screen.tell("Nothing deleted", timeout=2)
                return
            done = self._done(deleted=True)
            try:
                result = bulk.delete(screen.service, skus)
            except AtlasError as error:
                screen.tell(str(error), title="Not deleted", severity="error")
                return
            done(result)

        screen.app.push_screen(ConfirmDialog(question), answered)
        return True

    def _open(self, dialog: type[BulkDialog]) -> bool:
        screen = self.screen
        size = screen.table.selection_size
        if not size:
            return False
        if self._too_many(size, "changed"):
            return True
        skus = self.skus
        screen.app.push_screen(dialog(screen.service, skus), self._done())
        return True

    def _done(self, deleted: bool = False) -> Callable[[StepResult | None], None]:
        """What to do once a step is stored: show its items as they are now, say so."""
        screen = self.screen
        before = screen.version_now()

        def done(result: StepResult | None) -> None:
            if result is None:
                return
            screen._saved(before)
            screen.action_dismiss_notice()
            if screen.location:
                screen._read_holders()
            if len(result.changed) > SHOW_ONE_BY_ONE:
                screen.action_reload()
            else:
                for item in result.changed:
                    if deleted:
                        screen._remove_row(item.key)
                    else:
                        screen.replace_item(item)
            if deleted:
                screen.table.forget(item.key for item in result.changed)
            screen.tell(f"{result.summary} — u undoes", timeout=5)

        return done
