"""The app on a PostgreSQL server that is stopped hard and started again, as an operator
meets it in a real terminal: the outage is on the status line, nothing typed meanwhile is
saved or left shown as saved, and the app reconnects by itself."""

from __future__ import annotations

import re
from pathlib import Path

from pg_support import PrivateServer
from support import Terminal, poll, run_atlas

from atlas_tui.factory import make_service


def quantity(screen: str, sku: str) -> int | None:
    found = re.search(rf"^{re.escape(sku)} .*? (\d+) A1 ", screen, re.MULTILINE)
    return int(found[1]) if found else None


def test_the_app_rides_out_a_server_stopped_hard(
    private_server: PrivateServer, tmp_path: Path
) -> None:
    url = private_server.url
    service = make_service(url)
    service.add("A-1", "Anvil", "Tools", 10, "A1", 2, 50)
    service.repository.close()
    terminal = Terminal(tmp_path, url)  # type: ignore[arg-type]
    try:
        terminal.wait_for("PostgreSQL │", "the status line naming the server store")
        poll(lambda: quantity(terminal.screen(), "A-1") == 10, "A-1's row")

        private_server.kill()
        terminal.wait_for("offline: database unreachable", "the outage on the status line")
        terminal.keys("+")
        terminal.wait_for("Not saved", "the refused +")
        poll(lambda: quantity(terminal.screen(), "A-1") == 10, "the + taken back")

        private_server.start()
        terminal.wait_for("Online", "the reconnect")
        # The status line and the refusal under the filter no longer say it is away.
        poll(lambda: "(esc to dismiss)" not in terminal.screen(), "the refusal cleared")
        assert "offline" not in terminal.screen()
        terminal.keys("+")
        terminal.wait_for("A-1: now 11", "the + saved after the restart")
        done = run_atlas("--json", "show", "--sku", "A-1", db=url)  # type: ignore[arg-type]
        assert done.code == 0 and '"quantity": 11' in done.out, done.out + done.err
    finally:
        terminal.close()
