"""Webhooks: changes made by the real CLI reach a real HTTP receiver (and a shell command)
through `atlas webhooks run`, signed, once each, retried, logged, and never in the way of a
stock change."""

from __future__ import annotations

import base64
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from support import Result, run_atlas

from atlas_tui.config import Settings
from atlas_tui.domain.errors import ConfigError
from atlas_tui.factory import make_service
from atlas_tui.services.webhooks import Dispatcher
from atlas_tui.services.webhooks.signing import sign, signature_header, verify

ALL_BACKENDS = True
SECRET = "whsec-4f7d0c2b9a1e-never-shown"
URL_PASSWORD = "pw-in-the-url"
URL_TOKEN = "token-in-the-query"


class Receiver:
    """An HTTP server on 127.0.0.1 that records each POST. It answers with the statuses in
    `answers` first, then 200; with `hold` set, it keeps each request waiting until
    `release` is set (and sets `held` when one waits)."""

    def __init__(self, hold: bool = False) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[int] = []
        self.hold = hold
        self.held = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.requests.append((dict(self.headers), body))
                    status = receiver.answers.pop(0) if receiver.answers else 200
                if receiver.hold:
                    receiver.held.set()
                    receiver.release.wait(60)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(body) for _, body in self.requests]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(hold: bool = False) -> Receiver:
        made.append(Receiver(hold))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Poll for `condition` with a deadline (a loaded machine may take its time)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@contextmanager
def dispatching(db: Path, stop: signal.Signals = signal.SIGINT) -> Iterator[list[str]]:
    """`atlas webhooks run` in the background, ready once it says so; stopped with `stop`,
    it must end cleanly. Yields [stdout, stderr] once it has ended."""
    command = [sys.executable, "-m", "atlas_tui", "--db", str(db), "webhooks", "run"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    output: list[str] = []
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        assert ready.startswith("delivering"), ready + (
            process.stderr.read() if process.stderr else ""
        )
        yield output
    finally:
        if process.poll() is None:
            process.send_signal(stop)
        out, err = process.communicate(timeout=60)
        output += [out, err]
    assert process.returncode == 0, err
    assert out.startswith("stopped:"), out


def atlas(db: Path, *args: str) -> Result:
    done = run_atlas(*args, db=db)
    assert done.code == 0, done.err
    return done


def with_credentials(url: str) -> str:
    return url.replace("http://", f"http://hooks:{URL_PASSWORD}@") + f"?token={URL_TOKEN}"


def test_each_change_is_sent_once_signed_low_stock_only_when_crossing_and_a_restart_repeats_none(
    db: Path,
    config_file: Path,
    receivers: Callable[..., Receiver],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    receiver = receivers()
    piped = tmp_path / "low.jsonl"
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    config_file.write_text(
        "[[webhooks]]\n"
        'on = ["movement", "low_stock"]\n'
        f'url = "{with_credentials(receiver.url)}"\n'
        'secret_env = "HOOK_SECRET"\n'
        "[[webhooks]]\n"
        'on = ["low_stock"]\n'
        f"command = \"cat >> '{piped}'; echo >> '{piped}'\"\n"
    )
    atlas(db, "add", "--sku", "W-1", "--name", "Widget", "--qty", "10", "--min", "5")
    with dispatching(db) as first:
        for delta in ("-3", "-4", "-1", "10", "-8"):  # 10 → 7 → 3 (low) → 2 → 12 → 4 (low)
            atlas(db, "adjust", "--sku", "w-1", "--delta", delta)
        wait_until(lambda: len(receiver.events()) == 7, "5 movements and 2 low_stock events")
        wait_until(lambda: piped.exists() and piped.read_text().count("\n") >= 2, "the pipe")
    with dispatching(db, signal.SIGTERM) as second:
        atlas(db, "adjust", "--sku", "W-1", "--delta", "1")  # 4 → 5: still at the minimum
        wait_until(lambda: len(receiver.events()) == 8, "the movement made after a restart")

    events = receiver.events()
    assert len({event["id"] for event in events}) == 8  # none sent twice, before or after
    moved = [e["data"]["delta"] for e in events if e["type"] == "movement"]
    assert moved == [-3, -4, -1, 10, -8, 1]  # the add came before the dispatcher: not sent
    low = [e for e in events if e["type"] == "low_stock"]
    assert [(e["data"]["quantity"], e["data"]["min_stock"]) for e in low] == [(3, 5), (4, 5)]
    for headers, body in receiver.requests:
        event = json.loads(body)
        assert verify(SECRET, headers["X-Atlas-Signature"], body)
        assert not verify("another secret", headers["X-Atlas-Signature"], body)
        assert headers["Content-Type"] == "application/json"
        assert headers["X-Atlas-Event"] == event["type"]
        assert headers["X-Atlas-Delivery"]
        assert (
            headers["Authorization"]
            == "Basic " + base64.b64encode(f"hooks:{URL_PASSWORD}".encode()).decode()
        )
        assert set(event) == {"id", "type", "created_at", "data"}
    # The command rule got the same low_stock events, one JSON document each on stdin.
    piped_events = [json.loads(line) for line in piped.read_text().splitlines() if line]
    assert [e["id"] for e in piped_events] == [e["id"] for e in low]

    shown = atlas(db, "webhooks", "log")
    logged = json.loads(atlas(db, "webhooks", "log", "--json").out)["deliveries"]
    assert len(logged) == 10 and all(row["ok"] for row in logged)
    assert {row["target"] for row in logged} == {receiver.url, "cat"}
    for text in (shown.out, shown.err, json.dumps(logged), *first, *second):
        for secret in (SECRET, URL_PASSWORD, URL_TOKEN):
            assert secret not in text


def test_a_count_applied_is_one_event_however_many_lines_it_changed(
    config_file: Path, receivers: Callable[..., Receiver], tmp_path: Path
) -> None:
    db = tmp_path / "data" / "atlas.sqlite"
    receiver = receivers()
    config_file.write_text(
        "[[webhooks]]\n"
        'on = ["movement", "count_applied"]\n'
        f'url = "{receiver.url}"\n'
        f'secret = "{SECRET}"\n'
    )
    for sku, quantity in (("A-1", "10"), ("B-2", "5"), ("C-3", "4")):
        atlas(db, "add", "--sku", sku, "--name", sku, "--qty", quantity, "--location", "A1")
    with dispatching(db):
        started = json.loads(atlas(db, "count-session", "start", "--location", "A1", "--json").out)
        number = str(started["session"]["id"])
        atlas(db, "count-session", "count", number, "A-1", "8")
        atlas(db, "count-session", "count", number, "B-2", "7")
        atlas(db, "count-session", "count", number, "C-3", "4")  # as expected: no change
        atlas(db, "count-session", "apply", number)
        atlas(db, "count", "--sku", "C-3", "--qty", "3")  # a count of its own: no apply
        wait_until(lambda: len(receiver.events()) == 4, "3 movements and 1 count_applied")
    events = receiver.events()
    assert [e["type"] for e in events] == ["movement", "movement", "count_applied", "movement"]
    applied = events[2]["data"]
    assert applied["session"] == int(number)
    assert [(c["sku"], c["before"], c["after"]) for c in applied["changes"]] == [
        ("A-1", 10, 8),
        ("B-2", 5, 7),
    ]
    assert applied["movements"] == [events[0]["data"]["id"], events[1]["data"]["id"]]


def test_a_failed_delivery_is_retried_and_every_attempt_logged(
    config_file: Path, receivers: Callable[..., Receiver], tmp_path: Path
) -> None:
    db = tmp_path / "data" / "atlas.json"
    receiver = receivers()
    receiver.answers = [500]
    config_file.write_text(
        "[[webhooks]]\n"
        'on = ["movement"]\n'
        f'url = "{receiver.url}"\n'
        f'secret = "{SECRET}"\n'
        "retries = 3\n"
        "backoff = 0.01\n"
    )
    atlas(db, "add", "--sku", "A-1", "--name", "Anvil", "--qty", "3")
    with dispatching(db):
        atlas(db, "adjust", "--sku", "A-1", "--delta", "2")
        wait_until(lambda: len(receiver.requests) == 2, "the attempt after the 500")
        second = run_atlas("webhooks", "run", db=db)  # would send everything twice
        assert second.code == 1 and "another dispatcher already runs" in second.err
    (first, body), (again, body_again) = receiver.requests
    assert body == body_again  # the same event, id and all
    assert first["X-Atlas-Delivery"] == again["X-Atlas-Delivery"]

    logged = json.loads(atlas(db, "webhooks", "log", "--json").out)["deliveries"]
    assert [(r["attempt"], r["ok"], r["status"], r["error"]) for r in logged] == [
        (2, True, 200, ""),
        (1, False, 500, "HTTP 500"),
    ]
    failed = json.loads(atlas(db, "webhooks", "log", "--failed", "--json").out)["deliveries"]
    assert [row["attempt"] for row in failed] == [1]
    assert "HTTP 500" in atlas(db, "webhooks", "log", "--failed").out

    pinged = atlas(db, "webhooks", "test")
    assert "ok" in pinged.out and receiver.events()[-1]["type"] == "ping"


def test_a_receiver_that_never_answers_delays_no_stock_change_nor_other_rules(
    config_file: Path, receivers: Callable[..., Receiver], tmp_path: Path
) -> None:
    db = tmp_path / "data" / "atlas.sqlite"
    stuck, healthy = receivers(hold=True), receivers()
    config_file.write_text(
        f'[[webhooks]]\non = ["movement"]\nurl = "{stuck.url}"\nsecret = "{SECRET}"\n'
        "timeout = 120\n"
        f'[[webhooks]]\non = ["movement"]\nurl = "{healthy.url}"\nsecret = "{SECRET}"\n'
    )
    atlas(db, "add", "--sku", "A-1", "--name", "Anvil", "--qty", "3")
    with dispatching(db):
        atlas(db, "adjust", "--sku", "A-1", "--delta", "1")
        wait_until(stuck.held.is_set, "the stuck receiver to be holding a delivery")
        done = atlas(db, "adjust", "--sku", "A-1", "--delta", "1")
        assert "4 → 5" in done.out
        assert not stuck.release.is_set() and len(stuck.requests) == 1  # still held
        wait_until(lambda: len(healthy.events()) == 2, "the other rule's two events")
        stuck.release.set()
        wait_until(lambda: len(stuck.events()) == 2, "the stuck rule to catch up")


def test_a_restore_sends_no_old_history_and_later_changes_still_arrive(
    config_file: Path, receivers: Callable[..., Receiver], tmp_path: Path
) -> None:
    db = tmp_path / "data" / "atlas.sqlite"
    receiver = receivers()
    config_file.write_text(
        f'[[webhooks]]\non = ["movement"]\nurl = "{receiver.url}"\nsecret = "{SECRET}"\n'
    )
    atlas(db, "add", "--sku", "A-1", "--name", "Anvil", "--qty", "3")
    backup = json.loads(atlas(db, "backup", "--json").out)["backup"]["path"]
    with dispatching(db):
        for _ in range(3):
            atlas(db, "adjust", "--sku", "A-1", "--delta", "1")
        wait_until(lambda: len(receiver.events()) == 3, "three movements")
        atlas(db, "restore", backup, "--yes")  # the history goes back to one movement
        atlas(db, "adjust", "--sku", "A-1", "--delta", "5")  # its id is one sent before
        wait_until(lambda: len(receiver.events()) == 4, "the change after the restore")
    events = receiver.events()
    assert [e["data"]["quantity_after"] for e in events] == [4, 5, 6, 8]
    assert len({e["id"] for e in events}) == 4


def test_bad_rules_are_refused_naming_the_line_and_never_the_secret(
    config_file: Path, tmp_path: Path
) -> None:
    db = tmp_path / "data" / "atlas.json"
    header = 'theme = "nord"\n\n[[webhooks]]\n'  # a rule's keys start on line 4
    on = 'on = ["movement"]\n'
    cases = [
        (
            f'{on}url = "ftp://hooks:{URL_PASSWORD}@example.org/x"\nsecret = "{SECRET}"\n',
            "line 5: webhooks[1].url: must start with http:// or https://, got ftp://",
        ),
        (
            f'{on}url = "https://hooks:{URL_PASSWORD}@example.org/x"\n',
            "line 5: webhooks[1].url: a URL rule needs a signing secret",
        ),
        (f'{on}url = "https://example.org/x"\nsecret = ""\n', "line 6: webhooks[1].secret"),
        (f'{on}command = "cat"\nretries = "many"\n', "line 6: webhooks[1].retries: must be"),
        ('on = ["moved"]\ncommand = "cat"\n', "line 4: webhooks[1].on: 'moved' is not an event"),
    ]
    for rule, message in cases:
        config_file.write_text(header + rule)
        done = run_atlas("list", db=db)
        assert done.code == 2, (rule, done.err)
        assert message in done.err and str(config_file) in done.err, done.err
        assert len(done.err.splitlines()) == 1 and "Traceback" not in done.err
        assert SECRET not in done.err and URL_PASSWORD not in done.err

    # A secret in a variable that is not set: only the dispatcher needs it, and says where.
    config_file.write_text(
        f'{header}{on}url = "https://example.org/x"\nsecret_env = "NO_SUCH_VAR"\n'
    )
    assert run_atlas("list", db=db).code == 0
    refused = run_atlas("webhooks", "run", db=db)
    assert refused.code == 1
    assert "line 6: webhooks[1].secret_env: the variable NO_SUCH_VAR is not set" in refused.err


def test_a_ping_to_a_dead_receiver_fails_and_is_logged(config_file: Path, tmp_path: Path) -> None:
    db = tmp_path / "data" / "atlas.json"
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config_file.write_text(
        f'[[webhooks]]\non = ["low_stock"]\nurl = "http://127.0.0.1:{port}/x"\n'
        f'secret = "{SECRET}"\n'
    )
    done = run_atlas("webhooks", "test", db=db)
    assert done.code == 1 and "FAILED" in done.out and "did not take the ping" in done.err
    logged = json.loads(run_atlas("webhooks", "log", "--json", db=db).out)["deliveries"]
    assert [(row["type"], row["ok"]) for row in logged] == [("ping", False)]
    assert logged[0]["error"] and SECRET not in json.dumps(logged)


def test_the_dispatcher_class_a_server_runs_starts_reports_and_stops(
    config_file: Path, receivers: Callable[..., Receiver], tmp_path: Path
) -> None:
    db = tmp_path / "data" / "atlas.sqlite"
    receiver = receivers()
    config_file.write_text(
        f'[[webhooks]]\non = ["movement"]\nurl = "{receiver.url}"\nsecret_env = "HOOK_KEY"\n'
    )
    service = make_service(db)
    service.add("A-1", "Anvil", quantity=3)
    settings = Settings.from_env(storage_path=db)
    with pytest.raises(ConfigError, match=r"line 4: webhooks\[1\]\.secret_env: the variable"):
        Dispatcher(settings, env={})
    told: list[tuple[str, bool]] = []
    dispatcher = Dispatcher(
        settings, env={"HOOK_KEY": SECRET}, on_attempt=lambda *a: told.append(a)
    )
    dispatcher.start()
    try:
        service.adjust("A-1", -1)
        wait_until(lambda: len(receiver.events()) == 1, "the adjust's event")
    finally:
        assert dispatcher.stop()
    assert told == [("movement", True)]
    assert dispatcher.stats == {"attempts": 1, "delivered": 1, "failed": 0}
    headers, body = receiver.requests[0]
    assert verify(SECRET, headers["X-Atlas-Signature"], body)


def test_only_an_admin_runs_or_tests_webhooks(config_file: Path, tmp_path: Path) -> None:
    db = tmp_path / "data" / "atlas.json"
    config_file.write_text(
        '[access]\ndefault = "operator"\n[[webhooks]]\non = ["movement"]\ncommand = "cat"\n'
    )
    for action in ("run", "test"):
        done = run_atlas("webhooks", action, db=db)
        assert done.code == 1 and "may not run or test webhooks (needs admin)" in done.err
    assert run_atlas("webhooks", "log", db=db).code == 0


def test_signatures_verify_only_for_the_same_secret_body_and_recent_time() -> None:
    body = b'{"id":"evt_1","type":"ping"}'
    header = signature_header(SECRET, body, timestamp=1_800_000_000)
    assert header == f"t=1800000000,v1={sign(SECRET, 1_800_000_000, body)}"
    assert verify(SECRET, header, body, now=1_800_000_100)
    assert not verify(SECRET, header, body + b" ", now=1_800_000_100)  # body changed
    assert not verify("wrong", header, body, now=1_800_000_100)
    assert not verify(SECRET, header, body, now=1_800_000_000 + 301)  # replayed later
    assert not verify(SECRET, "v1=abc", body) and not verify(SECRET, "", body)
    rotated = f"{header},v1={sign('old', 1_800_000_000, body)}"
    assert verify("old", rotated, body, now=1_800_000_000)
