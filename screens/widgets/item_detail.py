"""The detail pane: the selected item's fields, quantity trend, attributes and recent history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.theme import Theme
from textual.timer import Timer
from textual.worker import get_current_worker

from atlas_tui.domain.errors import AtlasError
from atlas_tui.domain.models import InventoryItem, ItemRow, Movement
from atlas_tui.domain.stock import location_key
from atlas_tui.services.trends import quantity_trend
from atlas_tui.text import safe_text
from atlas_tui.wording import expiry_words, movement_note, movement_summary, when_words

SPARK_CELLS = 30
# How long a newly highlighted item's history may take before "history…" is drawn.
PLACEHOLDER_DELAY = 0.05
TREND_DAYS = (30, 90)
ZERO = "·"
_LEVELS = ZERO + "▁▂▃▄▅▆▇█"


def _plain(value: object) -> Text:
    return Text(safe_text(value))


def sparkline(levels: Sequence[int], cells: int = SPARK_CELLS) -> str:
    """Quantities as block characters on a scale from 0 to the highest of them.

    More levels than `cells` are grouped into `cells` periods, each drawn at the quantity
    it ended with (90 days in 30 cells: one cell per 3 days). A quantity of 0 (none on
    hand, or the item not there yet) is a dot, anything above it at least the lowest block.
    """
    count = len(levels)
    if count > cells:
        levels = [levels[(n + 1) * count // cells - 1] for n in range(cells)]
    peak = max(levels, default=0)
    if peak <= 0:
        return ZERO * len(levels)
    return "".join(_LEVELS[0 if q <= 0 else max(1, round(q / peak * 8))] for q in levels)


def usage_text(trend: Mapping[str, Any]) -> str:
    """ "uses ~1.2/day", or that nothing was used, over the trend's days."""
    daily, days = trend["daily_usage"], trend["days"]
    if trend["used"] <= 0:
        return f"no use in {days} d"
    rate = "<0.1" if daily < 0.05 else f"~{daily:.1f}" if daily < 10 else f"~{daily:,.0f}"
    return f"uses {rate}/day · {trend['used']:,} in {days} d"


def _cells(strip: Strip) -> list[tuple[str, Style | None]]:
    """A line as its cells: (character, style), a wide character followed by an empty cell."""
    cells: list[tuple[str, Style | None]] = []
    for text, style, _ in strip:
        for char in text:
            cells.append((char, style))
            if not char.isascii() and cell_len(char) == 2:
                cells.append(("", style))
    return cells


def _changed_end(old: Strip, new: Strip) -> int:
    """One past the last cell that differs between two lines of the same width."""
    before, after = _cells(old), _cells(new)
    end_old, end_new = len(before), len(after)
    while end_old and end_new and before[end_old - 1] == after[end_new - 1]:
        end_old -= 1
        end_new -= 1
    end = max(end_old, end_new, 1)
    while end < len(after) and after[end][0] == "":  # a wide character's second cell
        end += 1
    return end


def _history_words(movement: Movement, home: str | None) -> str:
    """What a history row adds to kind and figures: from → to, the lines touched (unless
    the only one is the plain one at the home, the usual single place), fields, reason."""
    lines = movement.details.get("lines")
    plain = (
        home is not None
        and isinstance(lines, list)
        and all(
            len(change) == 5 and location_key(str(change[0])) == home and not change[1]
            and not change[2]
            for change in lines
        )
    )  # fmt: skip
    details = (
        {k: v for k, v in movement.details.items() if k != "lines"} if plain else movement.details
    )
    return movement_note(movement.kind, details, movement.reason)


class ItemDetail(ScrollView, can_focus=True):
    """What the cursor rests on: the row's figures at once; attributes, history and trend are
    read in a worker, so moving stays instant. `d` (while the pane has focus) or `set_days`
    switches the trend's 30/90 days."""

    DEFAULT_CSS = """
    ItemDetail {
        height: 6;
        padding: 0 1;
        overflow-y: auto;
    }
    ItemDetail:focus {
        background: $boost;
    }
    ItemDetail > .item-detail--spark {
        color: $accent;
    }
    ItemDetail > .item-detail--expiring {
        color: $warning;
        text-style: bold;
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"item-detail--spark", "item-detail--expiring"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "toggle_days", "30/90 days", id="detail-days"),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.days = TREND_DAYS[0]
        self._row: ItemRow | None = None
        self._placeholder: Timer | None = None
        # The two columns as drawn: facts (and attributes) left, recent history right.
        self._left: list[Text] = []
        self._right: list[Text] = []
        self._strips: list[Strip] = []
        self._item: InventoryItem | None = None
        self._history: list[Movement] | None = None
        self._trend: Mapping[str, Any] | None = None
        self._today: date | None = None

    @property
    def trend(self) -> Mapping[str, Any] | None:
        """The trend shown (`InventoryService.trend`'s), or None while it is read."""
        return self._trend

    def on_mount(self) -> None:
        # The sparkline's colour is baked into the text: draw again on a new theme.
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def show(self, row: ItemRow | InventoryItem | None) -> None:
        """Describe the item of `row` (or nothing)."""
        previous = self._row
        self._row = row = ItemRow.of(row) if isinstance(row, InventoryItem) else row
        if row is None:
            self._item = self._history = self._trend = None
            self._set_lines([], [])
            return
        self._load(row, self.days)
        if previous is not None and previous.key == row.key:
            self._draw()  # new figures of the same item
            return
        # Another item: nothing of the last one's may show with it. Its history usually
        # arrives within milliseconds; drawing "history…" first would send every line of
        # the pane twice, so the placeholders wait a moment for it.
        self._item = self._history = self._trend = None
        if self._placeholder is not None:
            self._placeholder.stop()
        self._placeholder = self.set_timer(PLACEHOLDER_DELAY, self._draw)

    def set_days(self, days: int) -> None:
        """Show the trend over the last `days` days (30 or 90 are the usual)."""
        if days < 1:
            raise ValueError(f"days must be at least 1, got {days}")
        if days == self.days:
            return
        self.days = days
        self._trend = None
        self._draw()
        if self._row is not None:
            self._load(self._row, days)

    def action_toggle_days(self) -> None:
        """Switch the trend between the last 30 and 90 days."""
        short, long = TREND_DAYS
        self.set_days(long if self.days == short else short)

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def _load(self, row: ItemRow, days: int) -> None:
        service = getattr(self.screen, "service", None)
        if service is None:
            return
        # One read of the history serves both the recent lines and the trend.
        item: InventoryItem | None = None
        today = service.now().date()
        try:
            item = service.get(row.sku)
            movements = service.history(row.sku)
        except AtlasError:  # unreadable: no history or trend rather than a stale one
            history: list[Movement] | None = None
            trend: Mapping[str, Any] | None = None
        else:
            history = movements[:5]
            movements.reverse()
            trend = quantity_trend(movements, item.quantity, days, service.now())
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._loaded, row, item, days, history, trend, today)

    def _loaded(
        self,
        row: ItemRow,
        item: InventoryItem | None,
        days: int,
        history: list[Movement] | None,
        trend: Mapping[str, Any] | None,
        today: date,
    ) -> None:
        if self._row is None or self._row.key != row.key or days != self.days:
            return  # the cursor or the period moved on while this was read
        self._item, self._history, self._trend = item, history, trend
        self._today = today
        if self._placeholder is not None:
            self._placeholder.stop()
            self._placeholder = None
        self._draw()

    def _theme_changed(self, theme: Theme) -> None:
        self._draw()

    @property
    def text(self) -> str:
        """The pane's text as drawn, without styles (one line per line)."""
        return "\n".join(strip.text.rstrip() for strip in self._render_all())

    def _draw(self) -> None:
        item = self._row
        if item is None:
            return
        history, trend = self._history, self._trend
        facts = Text.assemble(
            (safe_text(item.sku), "bold"), "  ", _plain(item.name), "\n",
            f"{item.quantity} on hand · min {item.min_stock} · max {item.max_stock or '-'}",
            "  ", ("▼ low" if item.is_low else "▲ over" if item.is_over else "", "bold"), "\n",
            "at ", _plain(item.location or "-"), " · ", _plain(item.category or "no category"),
            "\n",
        )  # fmt: skip
        facts.append_text(self._trend_text(trend))
        attributes = self._item.attributes if self._item is not None else {}
        for key, value in sorted(attributes.items()):
            facts.append("\n")
            facts.append_text(_plain(f"{key}: {value}"))
        recent = self._lines_text()
        home = location_key(self._item.location) if self._item is not None else None
        if history is None:
            recent.append("history…", style="dim")
        for movement in history or []:
            # Who and from → to first: the column is cut at its end.
            summary = movement_summary(
                movement.kind, movement.quantity_before, movement.quantity_after, movement.delta
            )
            recent.append(f"{when_words(movement.timestamp)} {summary} · ")
            recent.append_text(_plain(movement.user or "?"))
            words = _history_words(movement, home)
            if words:
                recent.append("  ")
                recent.append_text(_plain(words))
            recent.append("\n")
        recent.rstrip()
        self._set_lines(list(facts.split()), list(recent.split()))

    def _lines_text(self) -> Text:
        """The item's stock lines, one a line (`B-2  lot L7  exp 2027-01-31  12 pcs`), expiry
        within 30 days marked; nothing while they are read, or when all the stock is one
        plain line at the home (the facts say so already)."""
        item, row = self._item, self._row
        if item is None or row is None or item.key != row.key:
            return Text()
        lines = item.stock
        home = location_key(item.location)
        if not lines or (
            len(lines) == 1
            and location_key(lines[0].location) == home
            and not lines[0].lot
            and not lines[0].expiry
        ):
            return Text()
        warning = self.get_component_rich_style("item-detail--expiring")
        today = self._today or date.today()
        text = Text()
        for line in lines:
            # Where and how much first, then the warning: the column is cut at its end.
            text.append_text(_plain(line.location or "(no location)"))
            text.append_text(Text.assemble(f"  {line.quantity} ", _plain(item.unit)))
            note = expiry_words(line.expiry, today)
            if note:
                text.append(f"  {note}", style=warning)
            if line.lot:
                text.append_text(Text.assemble("  lot ", _plain(line.lot)))
            if line.expiry:
                text.append(f"  exp {line.expiry}")
            text.append("\n")
        return text

    def _set_lines(self, left: list[Text], right: list[Text]) -> None:
        """Show these lines, sending the terminal only the lines that changed."""
        self._left, self._right = left, right
        self.virtual_size = Size(self.scrollable_content_region.width, max(len(left), len(right)))
        old, new = self._strips, self._render_all()
        self._strips = new
        top, width = int(self.scroll_y), self.size.width
        for y in range(max(len(old), len(new))):
            if y >= len(old) or y >= len(new):
                self.refresh(Region(0, y - top, width, 1))
            elif old[y] != new[y]:
                # Textual sends a line from its start to the end of the region: up to the
                # last changed cell, and the unchanged cells after it stay on screen.
                self.refresh(Region(0, y - top, _changed_end(old[y], new[y]), 1))

    def _render_all(self) -> list[Strip]:
        return [self._line(y) for y in range(max(len(self._left), len(self._right)))]

    def _line(self, y: int) -> Strip:
        """Line `y` of the content: the two columns, two cells apart, cut to fit."""
        width = max(self.scrollable_content_region.width, 2)
        left_width = (width - 2) // 2
        base = self.rich_style
        cells = []
        for column, size in ((self._left, left_width), (self._right, width - 2 - left_width)):
            text = column[y].copy() if y < len(column) else Text()
            text.truncate(size, overflow="ellipsis", pad=True)
            cells.append(text)
        line = Text.assemble(cells[0], "  ", cells[1])
        segments = Segment.apply_style(line.render(self.app.console), base)
        return Strip(segments, width).simplify()

    def render_line(self, y: int) -> Strip:
        n = y + int(self.scroll_y)
        strips = self._strips
        strip = strips[n] if n < len(strips) else Strip.blank(self.size.width, self.rich_style)
        return strip.extend_cell_length(self.scrollable_content_region.width, self.rich_style)

    def on_focus(self) -> None:
        self._restyle()

    def on_blur(self) -> None:
        self._restyle()

    def _restyle(self) -> None:
        self._strips = []  # the background changes with the focus: every line is new
        self._set_lines(self._left, self._right)

    def on_resize(self) -> None:
        self._strips = []
        self._set_lines(self._left, self._right)
        self.refresh()

    def _trend_text(self, trend: Mapping[str, Any] | None) -> Text:
        """Two lines: the period and its sparkline, then the usage."""
        label = f"{self.days} d "
        if trend is None:
            return Text.assemble(label, " " * SPARK_CELLS, "\n", ("usage…", "dim"))
        ink = self.get_component_rich_style("item-detail--spark")
        bars = Style(color=ink.color, bold=ink.bold)
        text = Text(label)
        for cell in sparkline(trend["levels"]):
            text.append(cell, "dim" if cell == ZERO else bars)
        text.append("\n")
        text.append(usage_text(trend))
        return text
