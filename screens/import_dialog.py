"""The import dialog: preview what a file would add, update and refuse, then import it."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, DataTable, Input, Label, Static

from atlas_tui.domain.errors import AtlasError
from atlas_tui.services.exchange import import_file
from atlas_tui.services.imports import ImportResult, RowOutcome
from atlas_tui.services.inventory import InventoryService
from atlas_tui.wording import change_words, line_words
from screens.dialogs import literal
from screens.widgets.checkbox import MarkedCheckbox

# The preview lists refusals first, then the other rows, up to this many: enough to check a
# mapping and read the refusals, few enough to draw at once for a 100,000-row file.
PREVIEW_ROWS = 1000
MARKS = {"add": ("+ add", "green"), "update": ("~ update", "yellow"),
         "unchanged": ("= same", "dim"), "refuse": ("✗ refused", "red")}  # fmt: skip


def summary(result: ImportResult) -> str:
    """One line: what the import did (or would do)."""
    counts = result.counts
    if result.dry_run:
        head = f"would add {counts['added']}, update {counts['updated']}"
    elif result.applied:
        head = f"added {counts['added']}, updated {counts['updated']}"
    else:
        head = "nothing imported (all or nothing)"
    parts = [head]
    if counts["unchanged"]:
        parts.append(f"{counts['unchanged']} unchanged")
    parts.append(f"{counts['refused']} refused")
    if result.lines_kept:
        parts.append(f"{result.lines_kept} stock lines elsewhere kept")
    note = f"; {result.read_note}" if result.read_note else ""
    return ", ".join(parts) + f" (of {len(result.rows)} rows){note}"


def _detail(outcome: RowOutcome) -> Text:
    if outcome.lead and outcome.action != "refuse":
        return Text(f"another stock line of the item on row {outcome.lead}")
    if outcome.action == "refuse":
        return literal(outcome.reason)
    if outcome.action == "update":
        lines = outcome.line_changes() if outcome.by_line else []
        moved = "; ".join(line_words(change) for change in lines)
        words = change_words(outcome.changes)
        return literal("; ".join(part for part in (words, moved) if part))
    if outcome.action == "add" and outcome.item is not None:
        item = outcome.item
        where = f" at {item.location}" if item.location else ""
        return literal(f"{item.name}: {item.quantity}{where}")
    return Text("")


class ImportDialog(ModalScreen[ImportResult | None]):
    """A file, an optional column mapping, a preview (a dry run), then the import."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="import-cancel"),
        Binding("ctrl+s", "run_import", "Import", id="import-run"),
    ]

    def __init__(self, service: InventoryService, path: str = "") -> None:
        super().__init__()
        self.service = service
        self.path = path
        self.preview: ImportResult | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Import items from a CSV or JSON file", id="heading")
            # On a short terminal these scroll; the title, preview and buttons stay.
            with VerticalScroll(id="dialog-body", can_focus=False):
                yield Label("File", classes="field-label")
                yield Input(
                    self.path,
                    placeholder="path to a .csv or .json file",
                    id="file",
                    select_on_focus=False,
                )
                yield Label("Column mapping (optional)", classes="field-label")
                yield Input(
                    placeholder="e.g. Artikel=sku, Bestand=quantity",
                    id="mapping",
                    select_on_focus=False,
                )
                yield MarkedCheckbox("All or nothing: import no row if any is refused", id="strict")
                yield Static("enter previews the file; nothing changes until Import",
                             id="import-summary")  # fmt: skip
            yield DataTable(id="preview", cursor_type="row", zebra_stripes=True)
            with Horizontal(id="buttons"):
                yield Button("Import (ctrl+s)", variant="primary", id="import", disabled=True)
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#preview", DataTable).add_columns("Row", "SKU", "Action", "Details")
        self.query_one("#file", Input).focus()

    def _mapping(self) -> list[str]:
        text = self.query_one("#mapping", Input).value
        return [part.strip() for part in text.split(",") if part.strip()]

    def _file(self) -> str:
        return str(Path(self.query_one("#file", Input).value.strip()).expanduser())

    class Done(Message):
        """A dry run's or an import's result, or the reason there is none."""

        def __init__(self, result: ImportResult | None, error: str) -> None:
            super().__init__()
            self.result = result
            self.error = error

    @on(Input.Submitted)
    def _preview(self) -> None:
        self.preview = None
        self.query_one("#import", Button).disabled = True
        self.query_one("#import-summary", Static).update("reading…")
        self._run(self._file(), self._mapping(), dry_run=True, strict=False)

    @on(Input.Changed)
    def _stale(self) -> None:
        self.preview = None
        self.query_one("#import", Button).disabled = True

    @on(Button.Pressed, "#import")
    def action_run_import(self) -> None:
        """Import the previewed file (in a worker: a big file takes seconds)."""
        button = self.query_one("#import", Button)
        if self.preview is None or button.disabled:
            return
        button.disabled = True
        self.query_one("#import-summary", Static).update("importing…")
        strict = self.query_one("#strict", Checkbox).value
        self._run(self._file(), self._mapping(), dry_run=False, strict=strict)

    @work(thread=True, exclusive=True, group="import", exit_on_error=False)
    def _run(self, path: str, mapping: list[str], *, dry_run: bool, strict: bool) -> None:
        try:
            result = import_file(
                self.service, path, dry_run=dry_run, strict=strict, mapping=mapping
            )
        except AtlasError as error:
            self.post_message(self.Done(None, str(error)))
            return
        self.post_message(self.Done(result, ""))

    @on(Done)
    def _done(self, message: Done) -> None:
        shown = self.query_one("#import-summary", Static)
        if message.result is None:
            shown.update(Text(message.error, style="bold red"))
        elif not message.result.dry_run:
            self.dismiss(message.result)
        else:
            self._show_preview(message.result)

    def _show_preview(self, result: ImportResult) -> None:
        self.preview = result
        shown = summary(result)
        if len(result.rows) > PREVIEW_ROWS:
            shown += f"; the first {PREVIEW_ROWS} are listed, refusals first"
        self.query_one("#import-summary", Static).update(Text(shown))
        table = self.query_one("#preview", DataTable)
        table.clear()
        refused = result.of("refuse")
        ordered = refused + [row for row in result.rows if row.action != "refuse"]
        for outcome in ordered[:PREVIEW_ROWS]:
            label, style = MARKS[outcome.action]
            table.add_row(str(outcome.row), literal(outcome.sku), Text(label, style=style),
                          _detail(outcome))  # fmt: skip
        counts = result.counts
        self.query_one("#import", Button).disabled = not (counts["added"] or counts["updated"])

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
