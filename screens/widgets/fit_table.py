"""A DataTable whose columns give way on a narrow terminal, least important first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self

from rich.text import Text
from textual import events
from textual.widgets import DataTable
from textual.widgets.data_table import CellType, RowKey


@dataclass(frozen=True, slots=True)
class Fit:
    """How one column gives way: `drop` 0 is never dropped, higher numbers go first;
    a column with a `floor` shrinks (its text cut with …) down to that many cells before
    any column is dropped; `cap` is the widest it grows."""

    key: str
    label: str | Text
    drop: int = 0
    floor: int | None = None
    cap: int | None = None


Plan = tuple[tuple[str, int | None], ...]


def plan_columns(fits: Sequence[Fit], natural: dict[str, int], width: int, pad: int) -> Plan:
    """Which columns to show and how wide, so that they fit in `width` cells if they can.

    Long text shrinks first, then the least important columns are dropped one by one; the
    columns that are never dropped stay even if they overflow.
    """
    dropped: set[str] = set()
    while True:
        shown = [fit for fit in fits if fit.key not in dropped]
        widths = {fit.key: min(natural[fit.key], fit.cap or natural[fit.key]) for fit in shown}
        over = sum(widths.values()) + pad * len(shown) - width
        for fit in sorted(shown, key=lambda fit: -fit.drop):
            if over <= 0:
                break
            if fit.floor is not None:
                give = min(over, widths[fit.key] - fit.floor)
                if give > 0:
                    widths[fit.key] -= give
                    over -= give
        droppable = [fit for fit in shown if fit.drop > 0]
        if over <= 0 or not droppable:
            return tuple((fit.key, widths[fit.key]) for fit in shown)
        dropped.add(max(droppable, key=lambda fit: fit.drop).key)


def _cells(label: str | Text) -> int:
    return label.cell_len if isinstance(label, Text) else Text(label).cell_len


def _one_line(cell: Any) -> Any:
    """Cut long text with … instead of wrapping it out of a one-line row."""
    if isinstance(cell, Text):
        cell.no_wrap = True
        cell.overflow = "ellipsis"
    return cell


class FitTable(DataTable[CellType]):
    """A DataTable over columns declared with `fit_columns`: it keeps every row's cells and
    shows the columns that fit its width (see `plan_columns`), redrawn when it is resized.

    Rows go in and out with the usual `add_row` and `clear`; keys and the cursor survive a
    change of columns.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fits: list[Fit] = []
        self._kept: list[tuple[RowKey, tuple[Any, ...]]] = []
        self._natural: dict[str, int] = {}
        self._plan: Plan = ()
        self._picks: tuple[int, ...] = ()  # where each shown column's cell is in a full row
        self._planning = False

    @property
    def shown_columns(self) -> list[str]:
        """Keys of the columns on screen, in order."""
        return [key for key, _ in self._plan]

    def fit_columns(self, *fits: Fit) -> None:
        """Declare the columns, most important or not, in the order they are shown."""
        self._fits = list(fits)
        self._reset_natural()
        self._show(tuple((fit.key, None) for fit in fits))

    def _reset_natural(self) -> None:
        self._natural = {fit.key: _cells(fit.label) for fit in self._fits}

    def add_row(
        self,
        *cells: CellType,
        height: int | None = 1,
        key: str | None = None,
        label: Any = None,
    ) -> RowKey:
        if not self._fits:
            return super().add_row(*cells, height=height, key=key, label=label)
        full = tuple(_one_line(cell) for cell in cells)
        for fit, cell in zip(self._fits, full, strict=False):
            size = cell.cell_len if isinstance(cell, Text) else len(str(cell))
            if size > self._natural[fit.key]:
                self._natural[fit.key] = size
        row_key = super().add_row(*self._project(full), height=height, key=key, label=label)
        self._kept.append((row_key, full))
        self._replan_soon()
        return row_key

    def clear(self, columns: bool = False) -> Self:
        super().clear(columns)
        if self._fits:
            self._kept.clear()
            self._reset_natural()
        return self

    def _project(self, cells: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(cells[n] if n < len(cells) else "" for n in self._picks)

    def on_resize(self, event: events.Resize) -> None:
        self._replan()

    def _replan_soon(self) -> None:
        if not self._planning:
            self._planning = True
            self.call_after_refresh(self._replan)

    def _replan(self) -> None:
        self._planning = False
        width = self.size.width - self.styles.scrollbar_size_vertical
        if not self._fits or width <= 0:
            return
        plan = plan_columns(self._fits, self._natural, width, 2 * self.cell_padding)
        if plan != self._plan:
            self._show(plan)

    def _show(self, plan: Plan) -> None:
        cursor, scroll_y = self.cursor_coordinate, self.scroll_y
        super().clear(columns=True)
        self._plan = plan
        at = {fit.key: n for n, fit in enumerate(self._fits)}
        self._picks = tuple(at[key] for key, _ in plan)
        labels = {fit.key: fit.label for fit in self._fits}
        for key, width in plan:
            super().add_column(labels[key], width=width, key=key)
        kept, self._kept = self._kept, []
        for row_key, cells in kept:
            new_key = super().add_row(*self._project(cells), key=row_key.value)
            self._kept.append((new_key, cells))
        if self.row_count:
            self.move_cursor(row=min(cursor.row, self.row_count - 1), animate=False)
            self.scroll_to(y=scroll_y, animate=False)
