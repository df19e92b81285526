"""`atlas webhooks log|run|test`: the delivery log, the dispatcher in the foreground, a ping."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from atlas_tui.cli.output import Output
from atlas_tui.text import safe_text

if TYPE_CHECKING:
    from atlas_tui.api import AtlasAPI
    from atlas_tui.config import Settings

Command = Callable[[str, str, Callable[[argparse.ArgumentParser], None]], None]
LOG_LIMIT = 50


def _whole(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1, got {text!r}")
    return int(text)


def add_webhooks_command(command: Command, common: argparse.ArgumentParser) -> None:
    """Add `atlas webhooks {log,run,test}` through the CLI's command factory."""

    def setup(p: argparse.ArgumentParser) -> None:
        actions = p.add_subparsers(dest="webhooks_action", metavar="ACTION", required=True)
        log = actions.add_parser(
            "log",
            parents=[common],
            help="every delivery attempt, newest first",
            description="Every delivery attempt, newest first: event, target, attempt, "
            "status or error, duration.",
        )
        log.add_argument(
            "--limit", type=_whole, default=LOG_LIMIT, metavar="N", help="at most N (default 50)"
        )
        log.add_argument("--failed", action="store_true", help="only the attempts that failed")
        actions.add_parser(
            "run",
            parents=[common],
            help="deliver events until Ctrl-C (where `atlas serve` does not run)",
            description="Follow the store's history and deliver each [[webhooks]] rule's "
            "events, until Ctrl-C or SIGTERM.",
        )
        actions.add_parser(
            "test",
            parents=[common],
            help="send a ping event to every rule and say how each went",
            description="Send a ping event to every [[webhooks]] rule, one attempt each.",
        )

    command("webhooks", "send events to URLs and commands on changes: log, run, test", setup)


def run_webhooks(args: argparse.Namespace, api: AtlasAPI, out: Output) -> int | None:
    """Run `webhooks` (None for any other command)."""
    if args.command != "webhooks":
        return None
    from atlas_tui.api import failure

    try:
        settings = api.settings
        if args.webhooks_action == "log":
            return _log(args, settings, out)
        # Sending the store's changes out is the administrator's to start (or `atlas serve`).
        api.service.allow("webhooks")
        if args.webhooks_action == "test":
            return _test(settings, out)
        return _run(settings, out)
    except Exception as exc:  # a bad setting, an unset secret, a second dispatcher
        return out.finish(failure(exc), lambda _: None)


def _log(args: argparse.Namespace, settings: Settings, out: Output) -> int:
    from atlas_tui.storage.webhook_log import log_path, read_attempts

    path = log_path(settings.storage_path)
    rows = read_attempts(path, args.limit, args.failed)

    def shown(_: object) -> None:
        if not rows:
            print(f"no {'failed ' * args.failed}deliveries logged in {safe_text(path)}")
            return
        head = f"{'TIME (UTC)':<19}  {'TYPE':<13}  {'TRY':>3}  {'RESULT':<24}  {'MS':>6}"
        print(f"{head}  TARGET  EVENT")
        for row in rows:
            when = str(row["at"])[:19].replace("T", " ")
            print(
                f"{when:<19}  {safe_text(row['type']):<13}  {row['attempt']:>3}  "
                f"{safe_text(_result(row))[:24]:<24}  {row['duration_ms']:>6.0f}  "
                f"{safe_text(row['target'])}  {safe_text(row['event'])}"
            )

    return out.finish({"success": True, "deliveries": rows, "log": str(path)}, shown)


def _result(row: dict[str, Any]) -> str:
    if row["ok"]:
        return f"ok {row['status']}" if row["status"] else "ok"  # a command's exit 0: ok
    return str(row["error"] or f"status {row['status']}")


def _no_rules(settings: Settings) -> dict[str, Any]:
    where = settings.preferences.path if settings.preferences else "the preferences file"
    return {
        "success": False,
        "error": f"webhooks: no rules; add a [[webhooks]] table to {where}",
        "error_type": "config",
    }


def _test(settings: Settings, out: Output) -> int:
    from atlas_tui.services.webhooks import Dispatcher

    if not settings.webhooks:
        return out.finish(_no_rules(settings), lambda _: None)
    results = Dispatcher(settings).ping()
    report = [
        {"target": rule.target, "ok": outcome.ok, "status": outcome.status,
         "error": outcome.error, "duration_ms": round(outcome.seconds * 1000, 1)}
        for rule, outcome in results
    ]  # fmt: skip
    failed = sum(not row["ok"] for row in report)
    for row in report if not out.as_json else ():
        print(f"{'ok    ' if row['ok'] else 'FAILED'}  {safe_text(row['target'])}: "
              f"{safe_text(_result(row))} ({row['duration_ms']:.0f} ms)")  # fmt: skip
    envelope: dict[str, Any] = {"success": not failed, "results": report}
    if failed:
        envelope["error"] = f"webhooks: {failed} of {len(report)} rules did not take the ping"
        envelope["error_type"] = "delivery"
    return out.finish(envelope, lambda _: None)


def _run(settings: Settings, out: Output) -> int:
    import signal
    import threading

    from atlas_tui.services.webhooks import Dispatcher

    if not settings.webhooks:
        return out.finish(_no_rules(settings), lambda _: None)
    dispatcher = Dispatcher(settings)
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    dispatcher.start()
    rules = len(dispatcher.rules)
    if not out.as_json:
        print(f"delivering the events of {rules} rule{'s' * (rules != 1)} for "
              f"{safe_text(settings.store)}; Ctrl-C to stop", flush=True)  # fmt: skip
    told: str | None = None
    while not stop.wait(0.5):
        if dispatcher.problem != told:  # say so when the store cannot be read, once
            told = dispatcher.problem
            if told is not None:
                print(f"warning: {safe_text(told)}", file=sys.stderr, flush=True)
    finished = dispatcher.stop()
    stats = dict(dispatcher.stats)
    left = "" if finished else "; a delivery was cut short and goes again next start"
    return out.finish(
        {"success": True, "stats": stats, "cut_short": not finished},
        lambda _: print(f"stopped: {stats['delivered']} delivered, {stats['failed']} failed{left}"),
    )
