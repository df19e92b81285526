"""What `u` takes back: the user's latest change in the store, and whether it still may be.

The rules:

- Undoable are the movements of this user (any process, also before a restart) that are
  not an undo themselves and not undone already. An undo is recorded as compensating
  movements marked details["undoes"] = [ids] (older stores: a reason "undo of #N (...)"),
  so repeated undos walk back through earlier changes; an undo is never undone.
- A bulk step (`batch(step=True)`: one details["batch"] id) is one change: all of its
  movements are taken back in one transaction, or none.
- An import, or the renaming of a location, is not taken back: undo stops there.
- A change another user made later to the same item and touching what the undo would
  put back contradicts it, and the undo is refused: the same stock line (location, lot,
  expiry), the home (a move), the same field or attribute (an update); anything at all
  for an add or a delete (the whole item comes or goes). Another user's change that was
  itself undone does not count. A later change of the same user is undone first anyway.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from atlas_tui.domain.errors import ValidationError
from atlas_tui.domain.models import Movement, sku_key
from atlas_tui.domain.stock import location_key
from atlas_tui.storage.base import InventoryRepository

# The whole item (an add or a delete), or all of its stock (older movements without lines).
_ALL: Final = ("*",)
_STOCK: Final = ("stock",)
_HOME: Final = ("home",)
_LEGACY_UNDO = re.compile(r"undo of #(\d+) \(")
NOTHING: Final = "nothing of yours to undo"


@dataclass(frozen=True)
class UndoPlan:
    """What an undo would take back: this user's movements of one change, newest first."""

    movements: tuple[Movement, ...]
    summary: str
    """e.g. "pick of 5 BOLT-1 at 14:05" or "bulk change of 12 items: move to B-2"."""

    @property
    def ids(self) -> tuple[int | None, ...]:
        """The movements' ids: what `undo` checks it still is."""
        return tuple(m.id for m in self.movements)

    @property
    def question(self) -> str:
        """What the app and the command line ask before undoing."""
        return f"Undo your {self.summary}?"

    def to_dict(self) -> dict[str, Any]:
        """The summary and the movements, oldest first, as JSON-ready data."""
        return {
            "summary": self.summary,
            "movements": [m.to_dict() for m in reversed(self.movements)],
        }


def undone_ids(movement: Movement) -> list[int]:
    """The ids of the movements this one takes back ([] if it is no undo)."""
    marked = movement.details.get("undoes")
    if isinstance(marked, list):
        return [n for n in marked if isinstance(n, int)]
    found = _LEGACY_UNDO.match(movement.reason)
    return [int(found[1])] if found else []


def plan_undo(repository: InventoryRepository, user: str, now: datetime) -> UndoPlan:
    """The plan to take back `user`'s latest change; ValidationError when there is none
    or another user's later change contradicts it."""
    step = latest_step(repository, user)
    for movement in step:
        _check_later(repository, movement, user, now)
    return UndoPlan(tuple(step), _summary(step, now))


def latest_step(repository: InventoryRepository, user: str) -> list[Movement]:
    """The movements of `user`'s latest undoable change, newest first (reads only as far
    back as it has to)."""
    undone: set[int] = set()
    step: list[Movement] = []
    batch: object = None
    for movement in repository.user_movements(user):
        if step:
            if batch is None or movement.details.get("batch") != batch:
                break
            if movement.id not in undone:
                step.append(movement)
            continue
        targets = undone_ids(movement)
        if targets:
            undone.update(targets)
            continue
        if movement.id in undone:
            continue
        _refuse_barrier(movement)
        step.append(movement)
        batch = movement.details.get("batch")
        if batch is None:
            break
    if not step:
        raise ValidationError("undo", NOTHING)
    return step


def _refuse_barrier(movement: Movement) -> None:
    if "import" in movement.details:
        raise ValidationError(
            "undo",
            f"your last change was an import ({movement.details['import']}): "
            "imports are not undone",
        )
    changes = movement.details.get("changes")
    if movement.kind == "update" and isinstance(changes, dict) and "lines" in changes:
        raise ValidationError("undo", "your last change renamed a location: rename it back instead")


def _check_later(
    repository: InventoryRepository, movement: Movement, user: str, now: datetime
) -> None:
    """Refuse when another user's later change of the item touches what the undo puts back."""
    assert movement.id is not None
    later = [m for m in repository.later_movements(movement.sku, movement.id) if m.user != user]
    cancelled = {n for m in later for n in undone_ids(m)}
    mine = touches(movement)
    for other in later:
        targets = undone_ids(other)
        if other.id in cancelled or (targets and min(targets) > movement.id):
            continue  # undone, or an undo of a change also made after ours: nets out
        if _overlap(mine, touches(other)):
            raise ValidationError(
                "undo",
                f"{other.sku} was changed by {other.user} at {_at(other.timestamp, now)} "
                "after your change: undo refused",
            )


def touches(movement: Movement) -> set[tuple[str, ...]]:
    """What of its item a movement changed: stock lines, the home, fields, or all of it."""
    details = movement.details
    if movement.kind in ("add", "delete"):
        return {_ALL}
    found: set[tuple[str, ...]] = set()
    changes = details.get("changes")
    if movement.kind == "update" and isinstance(changes, dict):
        for name, value in changes.items():
            if name in ("lines", "location"):  # a location renamed
                found |= {_STOCK, _HOME}
            elif name == "attributes" and isinstance(value, list) and len(value) == 2:
                old, new = (v if isinstance(v, dict) else {} for v in value)
                changed = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
                found |= {("attr", key) for key in changed}
            else:
                found.add(("field", name))
        return found
    lines = details.get("lines")
    if isinstance(lines, list):
        for line in lines:
            if isinstance(line, list) and len(line) == 5:
                found.add(("line", location_key(str(line[0])), str(line[1]), str(line[2])))
    else:
        found.add(_STOCK)
    if movement.kind == "move":
        found.add(_HOME)
    return found


def _overlap(mine: set[tuple[str, ...]], theirs: set[tuple[str, ...]]) -> bool:
    if _ALL in mine or _ALL in theirs or mine & theirs:
        return True
    stock_mine = any(t[0] in ("line", "stock") for t in mine)
    stock_theirs = any(t[0] in ("line", "stock") for t in theirs)
    return (_STOCK in mine and stock_theirs) or (_STOCK in theirs and stock_mine)


def _at(moment: datetime, now: datetime) -> str:
    """14:05 today, else 2026-12-03 14:05 (UTC, as the history shows it)."""
    same_day = moment.date() == now.date()
    return moment.strftime("%H:%M") if same_day else moment.strftime("%Y-%m-%d %H:%M")


def describe(movement: Movement) -> str:
    """One movement in the operator's words: "pick of 5 BOLT-1"."""
    sku, details = movement.sku, movement.details
    amount = abs(movement.delta)
    if movement.kind in ("receive", "pick"):
        return f"{movement.kind} of {amount} {sku}"
    if movement.kind == "adjust":
        return f"adjustment of {sku} by {movement.delta:+d}"
    if movement.kind == "count":
        return f"count of {sku} ({movement.quantity_before} to {movement.quantity_after})"
    if movement.kind == "transfer":
        lines = details.get("lines")
        moved = sum(max(0, int(c[4]) - int(c[3])) for c in lines) if isinstance(lines, list) else 0
        return f"transfer of {moved} {sku} from {details.get('from')} to {details.get('to')}"
    if movement.kind == "move":
        return f"move of {sku} from {details.get('from') or '(none)'} to {details.get('to')}"
    if movement.kind == "update":
        changes = details.get("changes")
        fields = ", ".join(changes) if isinstance(changes, dict) else ""
        return f"change of {sku} ({fields})"
    if movement.kind == "add":
        return f"adding of {sku}"
    return f"deletion of {sku}"


def _summary(step: Sequence[Movement], now: datetime) -> str:
    when = _at(step[0].timestamp, now)
    if len(step) == 1 and "batch" not in step[0].details:
        return f"{describe(step[0])} at {when}"
    items = len({sku_key(m.sku) for m in step})
    noun = "item" if items == 1 else "items"
    return f"bulk change of {items} {noun}: {_what(step)} at {when}"


def _what(step: Iterable[Movement]) -> str:
    """What a bulk step did, in a few words: "move to B-2", "pick", "change of name"."""
    kinds: dict[str, set[str]] = {}
    for movement in step:
        aims = kinds.setdefault(movement.kind, set())
        if movement.kind in ("move", "transfer"):
            aims.add(str(movement.details.get("to", "")))
        elif movement.kind == "update" and isinstance(movement.details.get("changes"), dict):
            aims.update(movement.details["changes"])
    words = []
    for kind in sorted(kinds):
        aims = kinds[kind]
        if kind in ("move", "transfer") and len(aims) == 1:
            words.append(f"{kind} to {next(iter(aims))}")
        elif kind == "update" and aims:
            words.append(f"change of {', '.join(sorted(aims))}")
        else:
            words.append(kind)
    return ", ".join(words)
