"""A keyboard session in a real terminal (tmux): start, filter, adjust, quit."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from atlas_tui.factory import make_service

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def poll(condition: Callable[[], bool], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)  # polling a real terminal: there is no event to wait on


@pytest.mark.parametrize("term", ["xterm-256color", "xterm"])
def test_keyboard_session_in_tmux(json_db: Path, tmp_path: Path, term: str) -> None:
    service = make_service(json_db)
    service.add("A-1", "Anvil", "Tools", 10, "A1", 2, 50)
    service.add("B-2", "Bolt M6", "Fasteners", 4, "B1", 5, 0)
    service.add("C-3", "Crate", "Packaging", 80, "C1", 0, 60)
    session = f"atlas-test-{os.getpid()}-{term}"
    socket = str(tmp_path / "tmux.sock")
    tmux = ["tmux", "-S", socket]
    command = " ".join(
        shlex.quote(part)
        for part in ["env", f"TERM={term}", f"HOME={os.environ['HOME']}", sys.executable,
                     "-m", "atlas_tui", "--db", str(json_db)]
    )  # fmt: skip
    subprocess.run(
        [*tmux, "new-session", "-d", "-s", session, "-x", "80", "-y", "24", command], check=True
    )

    def screen(*options: str) -> str:
        done = subprocess.run(
            [*tmux, "capture-pane", "-p", *options, "-t", session], capture_output=True, text=True
        )
        return done.stdout

    def keys(*sequence: str) -> None:
        subprocess.run([*tmux, "send-keys", "-t", session, *sequence], check=True)

    try:
        # Settled: all items read and the detail pane's history filled in.
        poll(lambda: "3 items" in screen() and "history…" not in screen(), "the items screen")
        assert "Anvil" in screen() and "▼ low" in screen()
        keys("/")
        # Type only once the filter box has the focus (its hint says so), or the letters
        # would reach the table as commands.
        poll(lambda: "esc clears" in screen(), "the filter box to take the focus")
        keys("-l", "bolt")
        poll(lambda: "1 of 3 items" in screen(), "the filter")
        keys("Enter")
        poll(lambda: "esc clears" not in screen(), "the table to take the focus back")
        keys("+")
        poll(lambda: make_service(json_db).get("B-2").quantity == 5, "the saved adjustment")
        poll(lambda: "B-2: now 5" in screen(), "the confirmation")
        keys("q")
        poll(lambda: _ended(tmux, session), "the app to quit")
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    assert [m.kind for m in make_service(json_db).history("B-2")] == ["adjust", "add"]


def test_a_scanner_burst_keeps_its_order_in_tmux(json_db: Path, tmp_path: Path) -> None:
    """Codes, enters and action keys sent in one burst apply in the order they were typed."""
    service = make_service(json_db)
    service.add("A-1", "Anvil", "Tools", 10, "A1", attributes={"barcode": "4006381333931"})
    service.add("B-2", "Bolt M6", "Fasteners", 4, "B1")
    session = f"atlas-scan-{os.getpid()}"
    socket = str(tmp_path / "tmux.sock")
    tmux = ["tmux", "-S", socket]
    command = shlex.join(["env", "TERM=xterm-256color", f"HOME={os.environ['HOME']}",
                          sys.executable, "-m", "atlas_tui", "--db", str(json_db)])  # fmt: skip
    subprocess.run(
        [*tmux, "new-session", "-d", "-s", session, "-x", "80", "-y", "24", command], check=True
    )

    def screen() -> str:
        done = subprocess.run([*tmux, "capture-pane", "-p", "-t", session],
                              capture_output=True, text=True)  # fmt: skip
        return done.stdout

    try:
        poll(lambda: "2 items" in screen(), "the items screen")
        subprocess.run([*tmux, "send-keys", "-t", session, "s"], check=True)
        poll(lambda: "F2 ^R receive" in screen(), "scan mode")
        burst = ["F5", "Z-9", "Enter", "a-1", "Enter", "F2", "4006381333931", "Enter",
                 "b-2", "Enter", "3*b-2", "Enter"]  # fmt: skip
        subprocess.run([*tmux, "send-keys", "-t", session, *burst], check=True)
        poll(lambda: make_service(json_db).get("B-2").quantity == 8, "the last scan")
        stored = make_service(json_db)
        assert (stored.get("A-1").location, stored.get("A-1").quantity) == ("Z-9", 11)
        assert stored.get("B-2").location == "B1"
        # Z-9, scanned for the move, stays the current location: receipts land there.
        assert [(x.location, x.quantity) for x in stored.stock("B-2")] == [("B1", 4), ("Z-9", 4)]
        kinds = [m.kind for m in stored.history_since(stored.now().replace(year=2000))]
        assert kinds[:4] == ["receive", "receive", "receive", "move"]
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


def _ended(tmux: list[str], session: str) -> bool:
    return (
        subprocess.run([*tmux, "has-session", "-t", session], capture_output=True).returncode != 0
    )
