"""The Textual app shell: receives its service, opens the start screen, routes to the others."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.filter import LineFilter

from atlas_tui.config import Settings
from atlas_tui.factory import make_service
from atlas_tui.services.inventory import InventoryService
from screens.commands import ActionCommands
from screens.control_filter import ControlFilter
from screens.help import HelpScreen
from screens.items import ItemsScreen
from screens.locations import LocationScreen, LocationsScreen
from screens.media import MediaScreen
from screens.recent import RecentScreen
from screens.reports import ReportsScreen
from screens.stocktake import StocktakeScreen
from screens.typeahead import TypeAheadApp


class AtlasApp(TypeAheadApp[None]):
    """ATLAS in the terminal."""

    TITLE = "ATLAS"
    SUB_TITLE = "inventory"
    COMMANDS = TypeAheadApp.COMMANDS | {ActionCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("r", "reports", "Reports", id="reports"),
        Binding("f", "media", "Media", id="media"),
        Binding("t", "stocktake", "Stocktake", id="stocktake"),
        Binding("L", "locations", "Locations", id="locations"),
        Binding("H", "recent", "Recent changes", id="recent"),
        Binding("question_mark,f1", "help", "Help", id="help"),
    ]

    def __init__(self, service: InventoryService, media_dir: Path | None = None) -> None:
        super().__init__()
        self.service = service
        self.media_dir = media_dir
        self._control_filter = ControlFilter()

    def on_mount(self) -> None:
        # Workers read and search a million rows while keys arrive: a key waiting for the
        # interpreter waits at most 1 ms for a busy worker to hand it over, not 5 ms each time.
        sys.setswitchinterval(0.001)
        self.push_screen(ItemsScreen(self.service))

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, then the guard that keeps terminal control out of every line."""
        return [*super().get_line_filters(), self._control_filter]

    @property
    def items_screen(self) -> ItemsScreen:
        """The start screen (always at the bottom of the stack)."""
        screen = self.screen_stack[1] if len(self.screen_stack) > 1 else self.screen
        assert isinstance(screen, ItemsScreen)
        return screen

    def action_reports(self) -> None:
        """Summary, low-stock and over-stock reports; picking an item jumps to it."""
        if isinstance(self.screen, ReportsScreen):
            return

        def jump(sku: str | None) -> None:
            if sku:
                self.items_screen.select_sku(sku)

        self.push_screen(ReportsScreen(self.service), jump)

    def action_media(self) -> None:
        """Search movies and series in the media folder."""
        if not isinstance(self.screen, MediaScreen):
            self.push_screen(MediaScreen(self.media_dir))

    def action_stocktake(self) -> None:
        """Count sessions: count by keyboard or scanner, review the variance, apply."""
        if isinstance(self.screen, StocktakeScreen):
            return
        self.push_screen(StocktakeScreen(self.service), lambda _: self.items_screen.action_reload())

    def action_locations(self) -> None:
        """Every location and what it holds; a line chosen there jumps to its item."""
        if isinstance(self.screen, (LocationsScreen, LocationScreen)):
            return

        def jump(sku: str | None) -> None:
            if sku:
                self.items_screen.select_sku(sku)

        self.push_screen(LocationsScreen(self.service), jump)

    def action_recent(self) -> None:
        """Everyone's latest changes, live; enter on one jumps to its item."""
        if isinstance(self.screen, RecentScreen):
            return

        def jump(sku: str | None) -> None:
            if sku:
                self.items_screen.select_sku(sku)

        self.push_screen(RecentScreen(self.service), jump)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keep a screen's own key out of the footer while it is shown."""
        showing = {
            "reports": ReportsScreen,
            "media": MediaScreen,
            "stocktake": StocktakeScreen,
            "locations": (LocationsScreen, LocationScreen),
            "recent": RecentScreen,
        }.get(action)
        return showing is None or not isinstance(self.screen, showing)

    def action_help(self) -> None:
        """Every binding of the current screen."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))


def make_app(
    storage_path: str | os.PathLike[str] | None = None, settings: Settings | None = None
) -> AtlasApp:
    """The app on the given file (else ATLAS_STORAGE_PATH, else the per-user default),
    searching media in ATLAS_MEDIA_DIR."""
    settings = settings or Settings.from_env(storage_path=storage_path)
    return AtlasApp(make_service(settings=settings), settings.media_dir)
