"""The media screen: the folder is indexed once in a worker, then searched on every keystroke."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar, Literal

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, ProgressBar, Static
from textual.worker import Worker, WorkerState, get_current_worker

from atlas_tui.media import DEMO_DIR, MOVIE, SERIES, MediaError, MediaIndex, MediaItem, load_index
from atlas_tui.text import safe_text
from screens.widgets.status_line import status_and_footer

RESULT_LIMIT = 200
"""Rows shown at most: enough to browse, few enough to redraw on every keystroke."""

# Widest the title and director columns grow, so the file column stays in view.
TITLE_WIDTH, WHO_WIDTH = 40, 28

MediaState = Literal["indexing", "ready", "unavailable"]
KIND_CYCLE: tuple[str | None, ...] = (None, MOVIE, SERIES)
KIND_LABELS: dict[str | None, str] = {None: "all", MOVIE: "movies", SERIES: "series"}


class _Stopped(Exception):
    """Raised from the progress hook to end a scan nobody is waiting for any more."""


def _plain(value: object, width: int | None = None) -> Text:
    """File text as a literal cell (never read as markup), cut to `width` cells with an
    ellipsis."""
    text = Text(safe_text(value))
    if width is not None:
        text.truncate(width, overflow="ellipsis")
    return text


def result_row(item: MediaItem, folder: str) -> tuple[Text, ...]:
    """Title, type, year, director or network, seasons/episodes and file of one item."""
    title = _plain(item.title)
    if item.original_title and item.original_title != item.title:
        title.append(f" ({safe_text(item.original_title)})", style="dim")
    title.truncate(TITLE_WIDTH, overflow="ellipsis")
    directors = ", ".join(item.directors)
    who = (item.network or directors) if item.kind == SERIES else directors
    counts = f"{item.seasons or '?'}/{item.episodes or '?'}" if item.kind == SERIES else ""
    source = ""
    if item.sources:
        try:
            source = os.path.relpath(item.sources[0], folder)
        except ValueError:  # another drive on Windows: the full path is the only way to show it
            source = item.sources[0]
        if len(item.sources) > 1:
            source += f" +{len(item.sources) - 1}"
    return (
        title,
        Text(item.kind),
        Text(str(item.year or ""), justify="right"),
        _plain(who, WHO_WIDTH),
        Text(counts, justify="right"),
        _plain(source),
    )


class MediaScreen(Screen[None]):
    """Search movies and series by title in a folder of metadata files."""

    CSS_PATH = "media.tcss"
    AUTO_FOCUS = "#query"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back", id="media-back"),
        Binding("ctrl+t", "cycle_kind", "Movies/series", id="media-kind"),
        Binding("slash", "focus_search", "Search", id="media-search"),
        # Only reached from the search box: the table uses down for its own cursor.
        Binding("down", "focus_results", "Results", show=False, id="media-results"),
    ]

    state: reactive[MediaState] = reactive("indexing", init=False)
    kind: reactive[str | None] = reactive(None, init=False)

    class Progress(Message, bubble=False):
        """`done` of `total` files indexed so far."""

        def __init__(self, done: int, total: int) -> None:
            super().__init__()
            self.done = done
            self.total = total

        def can_replace(self, message: Message) -> bool:
            # Only the latest count matters: a slow screen skips the ones it missed.
            return isinstance(message, MediaScreen.Progress)

    class Indexed(Message, bubble=False):
        """The folder is indexed and ready to search."""

        def __init__(self, index: MediaIndex) -> None:
            super().__init__()
            self.index = index

    class Failed(Message, bubble=False):
        """The folder cannot be searched; `error` says why in one line."""

        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(self, media_dir: Path | None) -> None:
        super().__init__()
        self.media_dir = media_dir
        self.index: MediaIndex | None = None
        self.shown: list[MediaItem] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="search movies and series by title", id="query")
        with Horizontal(id="statusbar"):
            yield Static("", id="status")
            yield ProgressBar(id="progress", show_eta=False)
            yield Static("", id="warnings")
        yield Static("", id="message")
        yield DataTable(id="results", cursor_type="row", zebra_stripes=True)
        yield from status_and_footer()

    def on_mount(self) -> None:
        table = self.query_one("#results", DataTable)
        table.add_column("Title", key="title")
        table.add_column("Type", key="kind")
        table.add_column(Text("Year", justify="right"), key="year")
        table.add_column("Director / network", key="who")
        table.add_column(Text("S/E", justify="right"), key="counts")
        table.add_column("File", key="file")
        self.watch_state(self.state)
        if self.media_dir is None:
            self._unavailable(
                "No media folder is set.\n\n"
                "Set ATLAS_MEDIA_DIR to a folder of movie and series metadata files "
                "(.json, .ndjson, .nfo) and start ATLAS again.\n"
                f"To try it out: ATLAS_MEDIA_DIR={DEMO_DIR}"
            )
            return
        self._set_status(f"indexing {self.media_dir}…")
        self._index(self.media_dir)

    # Indexing -----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="media-index", exit_on_error=False)
    def _index(self, folder: Path) -> None:
        worker = get_current_worker()

        def progress(done: int, total: int) -> None:
            if worker.is_cancelled:  # the screen was closed: stop reading files
                raise _Stopped
            self.post_message(self.Progress(done, total))

        try:
            index = load_index(folder, on_progress=progress)
        except _Stopped:
            return
        except (MediaError, OSError) as error:
            self.post_message(self.Failed(str(error)))
            return
        self.post_message(self.Indexed(index))

    @on(Progress)
    def _progress(self, message: Progress) -> None:
        self.query_one("#progress", ProgressBar).update(total=message.total, progress=message.done)
        self._set_status(f"indexing {self.media_dir}… {message.done}/{message.total} files")

    @on(Indexed)
    def _indexed(self, message: Indexed) -> None:
        self.index = message.index
        self.state = "ready"
        warnings = message.index.warnings
        label = self.query_one("#warnings", Static)
        if warnings:
            skipped = message.index.stats.files_skipped
            label.update(
                f"⚠ {len(warnings)} warning{'s' if len(warnings) != 1 else ''}"
                f" ({skipped} file{'s' if skipped != 1 else ''} skipped)"
            )
            label.tooltip = Text("\n".join(safe_text(str(w)) for w in warnings[:30]))
        self._search()

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self._unavailable(
            f"{message.error}\n\n"
            "Point ATLAS_MEDIA_DIR at a folder of movie and series metadata files "
            "and start ATLAS again."
        )

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        # Anything the worker did not expect (a bug, a full disk) still ends the wait.
        if event.worker.group == "media-index" and event.state == WorkerState.ERROR:
            self._unavailable(f"indexing failed: {event.worker.error}")

    def _unavailable(self, message: str) -> None:
        self.state = "unavailable"
        self.query_one("#message", Static).update(Text(safe_text_lines(message)))
        self._set_status("media search is unavailable")

    def watch_state(self, state: MediaState) -> None:
        for name in ("indexing", "ready", "unavailable"):
            self.set_class(state == name, f"-{name}")
        self.query_one("#query", Input).disabled = state == "unavailable"
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Search keys leave the footer when there is nothing to search."""
        if action in ("cycle_kind", "focus_search", "focus_results"):
            return self.state != "unavailable"
        return True

    # Searching ----------------------------------------------------------------------------

    @on(Input.Changed, "#query")
    def _query_changed(self) -> None:
        self._search()

    def watch_kind(self) -> None:
        self._search()

    def _search(self) -> None:
        """Show the titles matching the search box (all titles while it is empty)."""
        index = self.index
        if index is None:
            return
        query = self.query_one("#query", Input).value
        if query.strip():
            matches = index.search(query, kind=self.kind, limit=RESULT_LIMIT + 1).matches
            found = [match.item for match in matches]
        else:
            found = []
            for group in range(len(index)):
                item = index.item(group)
                if self.kind is None or item.kind == self.kind:
                    found.append(item)
                    if len(found) > RESULT_LIMIT:
                        break
        self.shown = found[:RESULT_LIMIT]
        table = self.query_one("#results", DataTable)
        table.clear()
        table.add_rows(result_row(item, index.folder) for item in self.shown)
        self._set_status(self._describe(query, len(found)))

    def _describe(self, query: str, found: int) -> str:
        index = self.index
        assert index is not None
        stats = index.stats
        more = found > RESULT_LIMIT
        if not query.strip():
            text = f"{len(index)} titles from {stats.files_found} files · type to search"
        elif not found:
            text = "no match"
        elif more:
            text = f"first {RESULT_LIMIT} matches: type more to narrow"
        else:
            text = f"{found} match{'es' if found != 1 else ''}"
        if self.kind is not None:
            text += f" · {KIND_LABELS[self.kind]} only"
        return text

    def _set_status(self, text: str) -> None:
        self.query_one("#status", Static).update(Text(safe_text(text)))

    # Actions ------------------------------------------------------------------------------

    def action_close(self) -> None:
        """Back to where media search was opened from."""
        self.dismiss(None)

    def action_cycle_kind(self) -> None:
        """Show all titles, then movies only, then series only."""
        self.kind = KIND_CYCLE[(KIND_CYCLE.index(self.kind) + 1) % len(KIND_CYCLE)]

    def action_focus_search(self) -> None:
        """Type in the search box."""
        self.query_one("#query", Input).focus()

    def action_focus_results(self) -> None:
        """Move to the results."""
        self.query_one("#results", DataTable).focus()

    @on(Input.Submitted, "#query")
    def _submitted(self) -> None:
        self.action_focus_results()


def safe_text_lines(message: str) -> str:
    """`safe_text` per line, so a message keeps its own line breaks but nothing else."""
    return "\n".join(safe_text(line) for line in message.split("\n"))
