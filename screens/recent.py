"""Recent changes: everyone's latest movements across the store, newest first, kept live;
enter jumps to the item."""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, OptionList, Static
from textual.worker import get_current_worker

from atlas_tui.domain.errors import AtlasError
from atlas_tui.domain.models import Movement
from atlas_tui.services.inventory import InventoryService
from atlas_tui.text import safe_text
from screens.widgets.movement_list import MovementList
from screens.widgets.status_line import status_and_footer


class RecentScreen(Screen[str | None]):
    """The last movements of every item, by anyone; dismisses with the SKU to jump to."""

    CSS_PATH = "recent.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back", id="recent-back"),
        Binding("ctrl+r", "reload", "Reload", show=False, id="recent-reload"),
    ]
    # How many movements are listed: the end of the history, read without the rest of it.
    LIMIT: ClassVar[int] = 200
    POLL_SECONDS: ClassVar[float] = 0.5

    class Loaded(Message, bubble=False):
        """The latest movements, read in a worker, and the data version they show."""

        def __init__(self, version: Hashable, movements: list[Movement]) -> None:
            super().__init__()
            self.version = version
            self.movements = movements

    class Failed(Message, bubble=False):
        """Reading the history failed; `error` is a one-line message for the user."""

        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(self, service: InventoryService) -> None:
        super().__init__()
        self.service = service
        self._version: Hashable = None
        self._reading = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("reading the history…", id="recent-status")
        yield MovementList(with_sku=True, id="recent")
        yield from status_and_footer()

    @property
    def movements(self) -> MovementList:
        return self.query_one("#recent", MovementList)

    def on_mount(self) -> None:
        self.movements.focus()
        self._load()
        # Another operator's change shows within a second: a version check is a stat.
        self.set_interval(self.POLL_SECONDS, self.check_store)

    def check_store(self) -> None:
        """Look for others' changes (polled; pushed at once from a server store)."""
        if self._reading:
            return
        try:
            version = self.service.version()
        except AtlasError:
            return
        if version != self._version:
            self._load()

    def action_reload(self) -> None:
        """Read the latest changes again."""
        self._load()

    @work(thread=True, exclusive=True, group="recent", exit_on_error=False)
    def _load(self) -> None:
        self._reading = True
        worker = get_current_worker()
        try:
            version = self.service.version()
            movements = self.service.latest_movements(self.LIMIT)
        except AtlasError as error:
            message: Message = self.Failed(str(error))
        else:
            message = self.Loaded(version, movements)
        finally:
            self._reading = False
        if not worker.is_cancelled:
            self.post_message(message)

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        # A change landing between the reads moves the version on: the next poll rereads.
        self._version = message.version
        self.movements.show(message.movements)
        count = len(message.movements)
        status = self.query_one("#recent-status", Static)
        status.remove_class("-error")
        if count == 0:
            status.update("no changes yet")
        else:
            more = f"latest {count}" if count == self.LIMIT else f"{count}"
            status.update(f"{more} changes, newest first · enter goes to the item · live")

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        status = self.query_one("#recent-status", Static)
        status.update(Text(safe_text(message.error)))
        status.add_class("-error")

    @on(OptionList.OptionSelected, "#recent")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        movements = self.movements.movements
        if 0 <= event.option_index < len(movements):
            self.dismiss(movements[event.option_index].sku)

    def action_close(self) -> None:
        """Back to the items."""
        self.dismiss(None)
