"""The Textual app shell: receives its service, opens the start screen, routes to the others."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.filter import LineFilter
from textual.message import Message
from textual.notifications import Notify
from textual.theme import BUILTIN_THEMES, Theme

from atlas_tui.config import Settings
from atlas_tui.domain.errors import ConfigError
from atlas_tui.factory import make_service
from atlas_tui.preferences import PreferencesError, save_setting
from atlas_tui.services.inventory import InventoryService
from atlas_tui.services.scanning import ScanCodes, codes_from
from atlas_tui.text import safe_text
from screens.commands import ActionCommands
from screens.control_filter import ControlFilter
from screens.help import HelpScreen
from screens.items import ItemsScreen
from screens.keymap import binding_ids, keymap_problem
from screens.locations import LocationScreen, LocationsScreen
from screens.media import MediaScreen
from screens.message_log import MessageLogScreen
from screens.recent import RecentScreen
from screens.reports import ReportsScreen
from screens.session import BACKENDS, SessionStatus, WatchesStore
from screens.stocktake import StocktakeScreen
from screens.typeahead import TypeAheadApp


class AtlasApp(TypeAheadApp[None]):
    """ATLAS in the terminal."""

    TITLE = "ATLAS"
    SUB_TITLE = "inventory"
    # The status line stays in view when a pane is maximised (`z`): it tells what was saved.
    ALLOW_IN_MAXIMIZED_VIEW = "Footer, StatusLine"
    COMMANDS = TypeAheadApp.COMMANDS | {ActionCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("r", "reports", "Reports", id="reports"),
        Binding("f", "media", "Media", id="media"),
        Binding("t", "stocktake", "Stocktake", id="stocktake"),
        Binding("L", "locations", "Locations", id="locations"),
        Binding("H", "recent", "Recent changes", id="recent"),
        Binding("question_mark,f1", "help", "Help", id="help"),
        Binding("ctrl+l", "messages", "Messages", id="messages"),
    ]

    class LockWait(Message):
        """A save started (holder) or stopped (None) waiting for another's lock."""

        def __init__(self, holder: str | None) -> None:
            super().__init__()
            self.holder = holder

    class StoreChanged(Message):
        """Another writer's change was pushed: the SKU keys it touched (None: unknown)."""

        def __init__(self, skus: frozenset[str] | None) -> None:
            super().__init__()
            self.skus = skus

    class StoreReachable(Message):
        """The store became unreachable (the problem) or answers again (None)."""

        def __init__(self, problem: str | None) -> None:
            super().__init__()
            self.problem = problem

    def __init__(
        self,
        service: InventoryService,
        media_dir: Path | None = None,
        *,
        settings: Settings | None = None,
    ) -> None:
        """`settings` brings the preferences: theme, keymap and first sort order.

        A theme or keymap the app cannot use raises PreferencesError naming the file's line.
        """
        super().__init__()
        self.service = service
        self.media_dir = media_dir
        self.settings = settings
        self._control_filter = ControlFilter()
        repository = service.repository
        backend = BACKENDS.get(repository.backend, repository.backend)
        # A role below admin is shown beside the name: why some keys are refused.
        role = "" if service.role == "admin" else f" ({service.role.value})"
        self.session = SessionStatus(f"{repository.label} · {backend}", service.user + role)
        # Called in whichever thread saves: a message carries it to the app's thread.
        repository.watch_lock(lambda holder: self.post_message(self.LockWait(holder)))
        self._told_unsaved = False
        if settings is not None:
            self._apply_preferences(settings)

    def _apply_preferences(self, settings: Settings) -> None:
        check_preferences(settings, set(self.available_themes))
        if settings.theme is not None:
            self.theme = settings.theme
        if settings.keymap:
            self.set_keymap(dict(settings.keymap))

    def on_mount(self) -> None:
        # Workers read and search a million rows while keys arrive: a key waiting for the
        # interpreter waits at most 1 ms for a busy worker to hand it over, not 5 ms each time.
        sys.setswitchinterval(0.001)
        sort = None if self.settings is None else self.settings.default_sort
        self.push_screen(ItemsScreen(self.service, sort, self.scan_codes))
        self.theme_changed_signal.subscribe(self, self._theme_chosen)
        # A server store pushes each commit (the screens' polls stay, to catch up); these
        # are called on the backend's thread: a message carries them to the app's.
        self.service.watch_changes(
            lambda skus: self.post_message(self.StoreChanged(skus)),
            lambda problem: self.post_message(self.StoreReachable(problem)),
        )

    @property
    def scan_codes(self) -> ScanCodes:
        """Command barcodes and scanner affixes, as the preferences' [scanner] says."""
        return ScanCodes() if self.settings is None else ScanCodes.of(self.settings.scanner)

    def on_unmount(self) -> None:
        self.service.stop_watching()

    def _theme_chosen(self, theme: Theme) -> None:
        """Keep the theme picked (command palette) for the next start, in the preferences."""
        settings = self.settings
        prefs = None if settings is None else settings.preferences
        if settings is None or prefs is None:
            return
        try:
            save_setting(prefs.path, "theme", theme.name, settings.profile)
        except (OSError, ConfigError) as error:
            if self._told_unsaved:
                return
            self._told_unsaved = True
            reason = error.strerror or str(error) if isinstance(error, OSError) else str(error)
            self.notify(
                safe_text(f"The theme is not kept for the next start: {prefs.path}: {reason}"),
                severity="warning",
                markup=False,
            )

    def on_atlas_app_lock_wait(self, message: LockWait) -> None:
        self.session.set_waiting(message.holder)

    def on_atlas_app_store_changed(self, message: StoreChanged) -> None:
        """Every open screen that shows stored data looks again at once."""
        for screen in self.screen_stack:
            if isinstance(screen, WatchesStore):
                screen.check_store()

    def on_atlas_app_store_reachable(self, message: StoreReachable) -> None:
        was_out = self.session.outage is not None
        self.session.set_outage(message.problem)
        if message.problem is None and not was_out:
            return  # connected, as at every start: nothing to tell
        if message.problem is not None:
            self.notify(
                safe_text(f"{message.problem}; reconnecting by itself"),
                title="Offline",
                severity="error",
                timeout=8,
                markup=False,
            )
        else:
            for screen in self.screen_stack:
                if isinstance(screen, ItemsScreen):
                    screen.outage_over()
            self.notify("The database answers again; the screen is up to date.", title="Online")

    def on_notify(self, event: Notify) -> None:
        """Every message shown also goes to the status line and the message log."""
        note = event.notification
        self.session.add_message(note.message, note.severity, note.title)

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
        self.push_screen(
            StocktakeScreen(self.service, self.scan_codes),
            lambda _: self.items_screen.action_reload(),
        )

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

    def action_messages(self) -> None:
        """Every message of the session, with its time."""
        if not isinstance(self.screen, MessageLogScreen):
            self.push_screen(MessageLogScreen())

    def action_help(self) -> None:
        """Every binding of the current screen."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))


def check_preferences(settings: Settings, themes: set[str] | None = None) -> None:
    """Refuse a theme or keymap the app cannot use, naming the preferences file's line.

    Called before the store is opened, so a typo in the file changes nothing."""
    prefs = settings.preferences

    def where(key: str) -> str:
        return prefs.where(*prefs.key_path(settings.profile, key)) if prefs else key

    themes = set(BUILTIN_THEMES) if themes is None else themes
    if settings.theme is not None and settings.theme not in themes:
        known = ", ".join(sorted(themes))
        raise PreferencesError(f"{where('theme')}: no theme {settings.theme!r}; themes: {known}")
    codes_from(settings)
    problem = keymap_problem(settings.keymap, binding_ids())
    if problem is not None:
        raise PreferencesError(f"{where('keys.' + problem[0])}: {problem[1]}")


def make_app(
    storage_path: str | os.PathLike[str] | None = None, settings: Settings | None = None
) -> AtlasApp:
    """The app on the given file (else ATLAS_STORAGE_PATH, else the preferences' store, else
    the per-user default), with the preferences' theme, keymap and sort order."""
    settings = settings or Settings.from_env(storage_path=storage_path)
    return AtlasApp(make_service(settings=settings), settings.media_dir, settings=settings)
