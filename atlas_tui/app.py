"""The Textual app shell: receives its service, opens the start screen."""

from __future__ import annotations

import os
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from atlas_tui.config import Settings
from atlas_tui.factory import make_service
from atlas_tui.service import InventoryService
from screens.items import ItemsScreen


class AtlasApp(App[None]):
    """ATLAS in the terminal."""

    TITLE = "ATLAS"
    SUB_TITLE = "inventory"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "quit", "Quit", id="quit")]

    def __init__(self, service: InventoryService) -> None:
        super().__init__()
        self.service = service

    def on_mount(self) -> None:
        self.push_screen(ItemsScreen(self.service))


def make_app(
    storage_path: str | os.PathLike[str] | None = None, settings: Settings | None = None
) -> AtlasApp:
    """The app on the given file, else ATLAS_STORAGE_PATH, else the per-user default."""
    return AtlasApp(make_service(storage_path, settings))
