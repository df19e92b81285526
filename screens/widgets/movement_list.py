"""History rows: one movement per entry, worded as the CLI's history words it, wrapped to
the width (never a horizontal scroll), the cursor kept on its movement when rows arrive."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from atlas_tui.domain.models import Movement
from atlas_tui.text import safe_text
from atlas_tui.wording import movement_note, movement_summary, when_words


def movement_prompt(movement: Movement, with_sku: bool = False) -> Text:
    """`2026-12-04 10:22  [SKU]  adjust 5→7 (+2) · alice`, and under it what changed
    (where, from → to, fields old → new) and the reason."""
    text = Text(when_words(movement.timestamp), style="dim")
    if with_sku:
        text.append("  ")
        text.append(safe_text(movement.sku), style="bold")
    text.append("  ")
    summary = movement_summary(
        movement.kind, movement.quantity_before, movement.quantity_after, movement.delta
    )
    text.append(summary)
    text.append(" · ")
    text.append(safe_text(movement.user or "?"), style="italic")
    note = movement_note(movement.kind, movement.details, movement.reason)
    if note:
        text.append("\n  ")
        text.append(safe_text(note))
    return text


def movement_id(movement: Movement, index: int) -> str:
    """The option's id: the movement's storage id (it stays the same as rows arrive)."""
    return f"m{movement.id}" if movement.id is not None else f"n{index}"


class MovementList(OptionList):
    """Movements newest first; `show` replaces them, keeping the cursor on its movement."""

    def __init__(self, *, with_sku: bool = False, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.with_sku = with_sku
        self.movements: list[Movement] = []

    def show(self, movements: Sequence[Movement]) -> None:
        """Show these movements; the highlighted one stays highlighted if still listed."""
        kept: str | None = None
        if self.highlighted is not None and self.option_count:
            kept = self.get_option_at_index(self.highlighted).id
        self.movements = list(movements)
        options, seen = [], set()
        for n, movement in enumerate(self.movements):
            ident = movement_id(movement, n)
            ident = f"n{n}" if ident in seen else ident  # a damaged history repeats an id
            seen.add(ident)
            options.append(Option(movement_prompt(movement, self.with_sku), id=ident))
        self.clear_options()
        self.add_options(options)
        if not options:
            return
        index = 0
        if kept is not None:
            try:
                index = self.get_option_index(kept)
            except OptionDoesNotExist:
                index = 0
        self.highlighted = index

    @property
    def current(self) -> Movement | None:
        """The highlighted movement."""
        n = self.highlighted
        return self.movements[n] if n is not None and n < len(self.movements) else None
