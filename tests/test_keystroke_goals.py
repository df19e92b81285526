"""Issue 14's keystroke goals, counted in a real terminal (tmux, 80x24).

One operator session in `atlas`: each task is sent the way an operator (or a scanner) sends
it, and the test counts what it sends once the item is selected. Named keys and typed
command characters count as keys; the data (amounts, reasons, location codes, filter
letters, scanned codes with the scanner's Enter) is counted apart. The measured table is
written to the terminal at the end of the test.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support import Terminal, poll

from atlas_tui.factory import make_service

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Data(str):
    """Text that is the task's data (digits, a reason, a code): counted apart from keys."""


class Scan(str):
    """A code as a scanner sends it: the code and its Enter, all data."""


@dataclass
class Task:
    name: str
    goal: str
    limit: int  # most keys allowed, data apart
    keys: int = 0
    data: int = 0
    typed: list[str] = field(default_factory=list)


class Operator:
    """Sends to the terminal and keeps the books: keys and data per task."""

    def __init__(self, terminal: Terminal) -> None:
        self.terminal = terminal
        self.tasks: list[Task] = []

    def task(self, name: str, goal: str, limit: int) -> Task:
        self.tasks.append(Task(name, goal, limit))
        return self.tasks[-1]

    def send(self, *parts: str) -> None:
        """One `send-keys` call: what a typist or a scanner sends in one go."""
        task, sequence = self.tasks[-1], []
        for part in parts:
            if isinstance(part, Scan):
                task.data += len(part) + 1
                task.typed.append(f"{part}⏎")
                sequence += [str(part), "Enter"]
            elif isinstance(part, Data):
                task.data += len(part)
                task.typed.append(repr(str(part)) if " " in part else str(part))
                sequence.append(str(part))
            else:
                task.keys += 1
                task.typed.append(f"`{part}`")
                sequence.append(part)
        # `--`: data such as `-3` is text to type, not an option of send-keys.
        terminal = self.terminal
        subprocess.run([*terminal.tmux, "send-keys", "-t", terminal.session, "--", *sequence],
                       check=True)  # fmt: skip

    def table(self) -> str:
        rows = ["| task | keys as measured | goal | what was typed |", "|---|---|---|---|"]
        for task in self.tasks:
            measured = f"{task.keys}" + (f" (+ {task.data} data)" if task.data else "")
            rows.append(f"| {task.name} | {measured} | {task.goal} | {' '.join(task.typed)} |")
        return "\n".join(rows)


ITEMS = [
    ("A-1", "Anvil", 10),
    ("B-2", "Bolt M6", 20),
    ("C-3", "Crate", 30),
    ("G-1", "Gamma lamp", 5),
    ("G-2", "Gamma lens", 5),
    ("W-1", "Wrench", 9),
    ("X-1", "Xylophone", 3),
]
WRENCH_CODE = "4006381333931"


def select(terminal: Terminal, sku: str, name: str) -> None:
    """Down to the row, until the detail pane shows the item (not counted: selecting)."""
    terminal.keys("Down")
    terminal.wait_for(f"\n {sku}  {name}", f"the detail pane of {sku}")


def test_keystroke_goals_at_80_by_24(
    json_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    service = make_service(json_db)
    for sku, name, quantity in ITEMS:
        barcode = {"barcode": WRENCH_CODE} if sku == "W-1" else None
        service.add(sku, name, "Tools", quantity, "A1", attributes=barcode)
    terminal = Terminal(tmp_path, json_db, size=(80, 24))
    operator = Operator(terminal)
    try:
        terminal.wait_for(" 7 items ·", "the items screen")
        poll(lambda: "history…" not in terminal.screen(), "the detail pane")
        terminal.wait_for("\n A-1  Anvil", "the first item selected")

        operator.task("+1", "1", 1)
        operator.send("+")
        terminal.wait_for("A-1: now 11", "the +1")
        operator.task("-1", "1", 1)
        operator.send("-")
        terminal.wait_for("A-1: now 10", "the -1")

        select(terminal, "B-2", "Bolt M6")
        operator.task("adjust by N with a reason", "digits + reason + ≤ 3", 3)
        operator.send("Enter")
        terminal.wait_for("Adjust B-2", "the adjust dialog")
        operator.send(Data("-3"), "Tab", Data("damaged"), "Enter")  # typed without a look
        terminal.wait_for("B-2 adjusted", "the adjustment")

        select(terminal, "C-3", "Crate")
        # One source (the home): the dialog starts at To; a fast typist types it all ahead.
        operator.task("transfer N from the home location to another", "digits + location + ≤ 4", 4)
        operator.send("x", Data("B7"), "Tab", Data("12"), "Enter")
        terminal.wait_for("C-3 transferred", "the transfer")

        # The cursor is on C-3, which `gam` hides: the act is on the first match, G-1.
        operator.task("find by part of the name, act on the first match", "`/` + letters + 1", 2)
        operator.send("/", Data("gam"))
        terminal.wait_for("2 of 7 items", "the matches")  # looks at the first match
        operator.send("Enter")
        terminal.wait_for("Adjust G-1", "the adjust dialog on the first match")
        # Row 2's ≤ 3 keys, less the one that opened the dialog (the act above).
        operator.task("… then adjust it (the dialog the act opened)", "digits + reason + ≤ 2", 2)
        operator.send(Data("4"), "Tab", Data("restock"), "Enter")
        terminal.wait_for("G-1 adjusted", "the adjustment of the first match")

        # Between tasks: the whole list again (esc in the filter box clears it).
        terminal.keys("/")
        terminal.wait_for("^q Quit", "the filter box's keys in the footer")
        terminal.keys("Escape")
        terminal.wait_for("\n 7 items ·", "the filter cleared")
        terminal.keys("s")
        terminal.wait_for("F2 ^R receive", "scan mode")
        # The keys that switch the action, as the operator reads them (count is on ctrl+y).
        assert "F3 ^O pick" in terminal.screen() and "F4 ^Y count" in terminal.screen()
        operator.task("receive scanned items (scanner), 3 scans", "0 between scans", 0)
        for code in (WRENCH_CODE, "X-1", "X-1"):  # each scan: one burst from the scanner
            operator.send(Scan(code))
        poll(lambda: make_service(json_db).get("X-1").quantity == 5, "the receipts")

        operator.task("switch scan action by key (to pick)", "1", 1)
        operator.send("F3")
        operator.send(Scan("X-1"))  # the next scan picks
        poll(lambda: make_service(json_db).get("X-1").quantity == 4, "the pick")
        terminal.keys("F2")  # back to receive (not counted: setting up the next task)
        operator.task("switch scan action by command scan (`*PICK*`)", "1 command scan, 0 keys", 0)
        operator.send(Scan("*PICK*"), Scan("W-1"))
        poll(lambda: make_service(json_db).get("W-1").quantity == 9, "the pick after *PICK*")

        terminal.keys("Escape")
        terminal.wait_for("\n 7 items ·", "back at the items")
        terminal.keys("q")
        poll(terminal.ended, "the app to quit")
    except BaseException:
        print(terminal.screen())  # what the operator saw, in the failure's report
        raise
    finally:
        terminal.close()
        with capsys.disabled():
            print("\n\nKeys after the item is selected (80x24, tmux):\n" + operator.table())

    for task in operator.tasks:
        assert task.keys <= task.limit, f"{task.name}: {task.keys} keys, goal {task.goal}"
    assert [t.keys for t in operator.tasks] == [1, 1, 3, 3, 2, 2, 0, 1, 0]

    stored = make_service(json_db)
    assert {item.sku: item.quantity for item in stored.list_items()} == {
        "A-1": 10, "B-2": 17, "C-3": 30, "G-1": 9, "G-2": 5, "W-1": 9, "X-1": 4,
    }  # fmt: skip
    assert [(m.kind, m.delta) for m in stored.history("A-1")] == [
        ("adjust", -1), ("adjust", 1), ("add", 10),
    ]  # fmt: skip
    bolt = stored.history("B-2")[0]
    assert (bolt.kind, bolt.delta, bolt.reason) == ("adjust", -3, "damaged")
    assert [(line.location, line.quantity) for line in stored.stock("C-3")] == [
        ("A1", 18), ("B7", 12),
    ]  # fmt: skip
    moved = stored.history("C-3")[0]
    assert (moved.kind, moved.details["from"], moved.details["to"]) == ("transfer", "A1", "B7")
    lamp = stored.history("G-1")[0]
    assert (lamp.kind, lamp.delta, lamp.reason) == ("adjust", 4, "restock")
    assert [m.kind for m in stored.history("G-2")] == ["add"]
    assert [(m.kind, m.delta) for m in stored.history("W-1")] == [
        ("pick", -1), ("receive", 1), ("add", 9),
    ]  # fmt: skip
    assert [(m.kind, m.delta) for m in stored.history("X-1")] == [
        ("pick", -1), ("receive", 1), ("receive", 1), ("add", 3),
    ]  # fmt: skip
