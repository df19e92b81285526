"""The status line above every screen's footer: store, user, save state, last message."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.widget import Widget

from atlas_tui.text import safe_text
from screens.session import SessionStatus, session_of
from screens.widgets.footer import AtlasFooter

SEPARATOR = " │ "


class StatusLine(Widget):
    """One row: `atlas.json · TinyDB │ alice │ saved │ A-1: now 11`.

    Narrow terminals drop the user, then the store; the message is cut last.
    """

    DEFAULT_CSS = """
    StatusLine {
        dock: bottom;
        height: 1;
        /* Docked at the bottom like the footer: the margin puts it on the row above. */
        margin-bottom: 1;
        padding: 0 1;
        background: $panel;
        color: $text-muted;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def on_mount(self) -> None:
        session_of(self).watch(self.refresh)

    def on_unmount(self) -> None:
        session_of(self).unwatch(self.refresh)

    @property
    def session(self) -> SessionStatus:
        return session_of(self)

    def render(self) -> Text:
        colors = self.app.theme_variables
        return status_text(
            self.session,
            self.content_size.width or 80,
            error=colors.get("error", "red"),
            warning=colors.get("warning", "yellow"),
        )


def status_text(
    session: SessionStatus, width: int, *, error: str = "red", warning: str = "yellow"
) -> Text:
    """The status line's text in `width` cells: the least important parts go first."""
    state = session.save_state
    state_style = "bold"
    if state.startswith("refused"):
        state_style = f"bold {error}"
    elif state.startswith(("saving", "waiting")):
        state_style = f"bold {warning}"
    last = session.last_message
    message = Text(safe_text(last.text)) if last else Text("")
    if last is not None and last.severity in ("error", "warning"):
        message.stylize(error if last.severity == "error" else warning)
    # Most important first: the save state, the last message, the store, the user.
    parts: list[tuple[str, Text]] = [
        ("store", Text(safe_text(session.store))),
        ("user", Text(safe_text(session.user))),
        ("state", Text(state, style=state_style)),
    ]
    if not state.startswith("refused"):  # else the message is the refusal, said already
        parts.append(("message", message))
    for dropped in ("user", "store"):
        if _cells(parts) <= width:
            break
        parts = [part for part in parts if part[0] != dropped]
    text = Text(SEPARATOR, style="dim").join(part for _name, part in parts if part.plain)
    text.truncate(width, overflow="ellipsis")
    return text


def _cells(parts: list[tuple[str, Text]]) -> int:
    shown = [part for _name, part in parts if part.plain]
    return sum(cell_len(part.plain) for part in shown) + len(SEPARATOR) * (len(shown) - 1)


def status_and_footer() -> ComposeResult:
    """What every screen yields last: its status line and its footer."""
    yield StatusLine()
    yield AtlasFooter()
