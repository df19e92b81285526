"""One key to give the focused pane the whole screen, and back (escape also restores)."""

from __future__ import annotations

from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

ZOOM_KEY = "z"


def zoom_binding(screen_id: str, key: str = ZOOM_KEY) -> Binding:
    """The maximise binding of one screen (`<screen_id>-maximize`, remappable)."""
    return Binding(key, "toggle_maximize", "Maximise", id=f"{screen_id}-maximize")


def toggle_maximize(screen: Screen[object], pane: Widget | None = None) -> None:
    """Maximise `pane` (by default the focused widget), or restore if one is maximised."""
    if screen.maximized is not None:
        screen.minimize()
        return
    target = pane if pane is not None else screen.focused
    if target is not None:
        screen.maximize(target, container=False)
