"""One media result in full: what the metadata says and which files said it."""

from __future__ import annotations

import os
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from atlas_tui.media import SERIES, MediaItem
from atlas_tui.text import safe_text
from screens.dialogs import fit_body


def years_of(item: MediaItem) -> str:
    """`2008-2013` for a series whose episodes aired over those years, else the year."""
    aired = sorted(
        int(episode.air_date[:4])
        for episode in item.episode_list
        if episode.air_date and episode.air_date[:4].isdigit()
    )
    first = item.year or (aired[0] if aired else None)
    if first is None:
        return ""
    last = aired[-1] if aired else first
    return f"{first}-{last}" if last > first else str(first)


def detail_lines(item: MediaItem, folder: str) -> list[tuple[str, str]]:
    """(label, value) of every field the metadata holds, in reading order."""
    lines: list[tuple[str, str]] = [("Type", item.kind)]
    if item.original_title and item.original_title != item.title:
        lines.append(("Original title", item.original_title))
    if item.aliases:
        lines.append(("Also known as", ", ".join(item.aliases)))
    if years := years_of(item):
        lines.append(("Years" if item.kind == SERIES else "Year", years))
    if item.kind == SERIES:
        seasons = "?" if item.seasons is None else str(item.seasons)
        episodes = "?" if item.episodes is None else str(item.episodes)
        lines.append(("Seasons / episodes", f"{seasons} / {episodes}"))
        if item.network:
            lines.append(("Network", item.network))
    if item.directors:
        lines.append(("Director" + ("s" if len(item.directors) > 1 else ""),
                      ", ".join(item.directors)))  # fmt: skip
    if item.genres:
        lines.append(("Genres", ", ".join(item.genres)))
    if item.runtime:
        lines.append(("Runtime", f"{item.runtime} min"))
    if item.ids:
        lines.append(("Ids", " · ".join(f"{source} {value}" for source, value in item.ids)))
    for n, source in enumerate(item.sources):
        # Relative to the media folder, as the operator knows it: the same wherever it is.
        label = "Metadata file" + ("s" if len(item.sources) > 1 else "") if n == 0 else ""
        lines.append((label, os.path.relpath(source, folder) if os.path.isabs(source) else source))
    return lines


class MediaDetail(ModalScreen[None]):
    """A movie or series in full; escape goes back to the results."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="media-detail-back"),
    ]

    def __init__(self, item: MediaItem, folder: str) -> None:
        super().__init__()
        self.item = item
        self.folder = folder

    def compose(self) -> ComposeResult:
        item = self.item
        heading = Text(safe_text(item.title), style="bold")
        if item.year:
            heading.append(f" ({item.year})")
        with Vertical(id="dialog"):
            yield Label(heading, id="heading")
            with VerticalScroll(id="dialog-body"):
                yield Static(self._body(), id="media-detail")

    def _body(self) -> Text:
        text = Text()
        for label, value in detail_lines(self.item, self.folder):
            if text:
                text.append("\n")
            text.append(f"{label:<20}" if label else " " * 20, style="dim")
            text.append(safe_text(value))
        return text

    def on_mount(self) -> None:
        self.query_one("#dialog-body").focus()

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._fit)

    def _fit(self) -> None:
        fit_body(self.query_one("#dialog"), self.query_one("#dialog-body"), self.size.height)

    def action_close(self) -> None:
        self.dismiss(None)
