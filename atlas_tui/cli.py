"""The `atlas` command line: one subcommand per operation, human or --json output."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atlas_tui import __version__
from atlas_tui.api import AtlasAPI, Envelope, failure
from atlas_tui.cli_output import EXIT_OK, EXIT_REFUSED, Output
from atlas_tui.cli_workflows import add_workflow_commands, run_workflow
from atlas_tui.render import (
    history_table,
    item_details,
    items_table,
    media_table,
    plain,
    reorder_table,
    status_of,
    summary_view,
)
from atlas_tui.text import safe_json, safe_text

if TYPE_CHECKING:
    from _typeshed import SupportsWrite


def _attribute(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    return key.strip(), value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


class SafeParser(argparse.ArgumentParser):
    """An argument parser whose usage, help and errors reach the terminal escaped: its
    errors quote what was typed, e.g. an unknown argument holding an escape sequence."""

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        if message:
            super()._print_message(safe_text(message, keep_lines=True), file)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; --json and --db are accepted before or after the subcommand."""
    common = SafeParser(add_help=False)
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print the API's JSON envelope instead of tables",
    )
    common.add_argument(
        "--db",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="data file to use (default: $ATLAS_STORAGE_PATH, else the per-user data file)",
    )
    parser = SafeParser(
        prog="atlas",
        parents=[common],
        description="ATLAS: a keyboard-first terminal inventory manager. "
        "With no command, starts the app.",
    )
    parser.add_argument("--version", action="version", version=f"atlas {__version__}")
    media_help = "folder the app's media search looks in (default: $ATLAS_MEDIA_DIR)"
    parser.add_argument("--media-dir", metavar="DIR", help=media_help)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], help=help_text, description=help_text)

    def sku(p: argparse.ArgumentParser) -> None:
        p.add_argument("--sku", required=True, help="the item's SKU (any case)")

    def reason(p: argparse.ArgumentParser) -> None:
        p.add_argument("--reason", help="why, recorded in the history")

    p = command("add", "add a new item")
    sku(p)
    p.add_argument("--name", required=True)
    p.add_argument("--category", default="")
    p.add_argument("--qty", type=int, default=0, help="quantity on hand (default 0)")
    p.add_argument("--location", default="")
    p.add_argument("--min", type=int, default=0, help="minimum stock (0 = none)")
    p.add_argument("--max", type=int, default=0, help="maximum stock (0 = no ceiling)")
    p.add_argument("--attr", type=_attribute, action="append", default=[], metavar="KEY=VALUE")
    reason(p)

    p = command("list", "list items, optionally filtered")
    p.add_argument("--category")
    p.add_argument("--location")
    p.add_argument("--search", metavar="TEXT", help="SKU or name contains TEXT (any case)")
    p.add_argument("--low", action="store_true", help="only items at or below their minimum")
    p.add_argument("--over", action="store_true", help="only items above their maximum")

    p = command("show", "show one item")
    sku(p)

    p = command("adjust", "add or remove stock (never below zero)")
    sku(p)
    p.add_argument("--delta", type=int, required=True, help="the change of quantity, e.g. 5 or -5")
    reason(p)

    p = command("count", "set the quantity on hand to a counted figure")
    sku(p)
    p.add_argument("--qty", type=int, required=True)
    reason(p)

    p = command("move", "move an item to another location")
    sku(p)
    p.add_argument("--location", required=True)
    reason(p)

    p = command("update", "change name, category, min/max or attributes")
    sku(p)
    p.add_argument("--name")
    p.add_argument("--category")
    p.add_argument("--min", type=int, help="minimum stock (0 = none)")
    p.add_argument("--max", type=int, help="maximum stock (0 = no ceiling)")
    p.add_argument("--attr", type=_attribute, action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--unset-attr", action="append", default=[], metavar="KEY")
    reason(p)

    p = command("delete", "delete an item (its history is kept)")
    sku(p)
    reason(p)

    p = command("report", "summary, low-stock, over-stock or reorder report")
    p.add_argument("--type", choices=("summary", "low", "over", "reorder"), default="summary")
    p.add_argument(
        "--at",
        metavar="TIME",
        help="as it was then, rebuilt from the history (e.g. 2026-11-01T12:00Z)",
    )

    p = command("history", "changes newest first: of one item, or of all since a time")
    p.add_argument("--sku", help="the item's SKU (any case)")
    p.add_argument("--since", metavar="TIME", help="only changes at or after TIME (UTC if no zone)")

    command("verify", "check the data file, the rules and that the history adds up")

    p = command("backup", "write a consistent snapshot of items and history")
    p.add_argument(
        "--to", metavar="DIR", help="folder for the snapshot (default: backups/ beside the data)"
    )

    p = command("restore", "replace all data with a backup (the current data is backed up first)")
    p.add_argument(
        "file", metavar="FILE", help="a snapshot made by `atlas backup` (or a data file)"
    )
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    p = command("migrate", "copy items and full history to a new store, e.g. SQLite")
    p.add_argument(
        "--to",
        required=True,
        metavar="PATH",
        help="new data file (.json, .sqlite, .db or sqlite:///...)",
    )

    p = command("demo", "add a realistic demo inventory with history")
    p.add_argument("--items", type=_count, default=300, help="how many items (default 300)")
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument(
        "--if-new", action="store_true", help="only when the store has no items and no history"
    )

    p = command("find", "find movies and series by title in a folder of metadata files")
    p.add_argument(
        "title", metavar="TITLE", help="the title to look for (any case, accents optional)"
    )
    p.add_argument("--dir", metavar="DIR", help="the media folder (default: $ATLAS_MEDIA_DIR)")
    p.add_argument("--kind", choices=("movie", "series"))
    p.add_argument("--year", type=int)
    p.add_argument("--limit", type=_count, metavar="N", help="at most N results")

    add_workflow_commands(command, common)

    p = command("tui", "start the app (the default)")
    p.add_argument("--media-dir", metavar="DIR", default=argparse.SUPPRESS, help=media_help)
    return parser


def _low_warning(out: Output, item: dict[str, Any]) -> None:
    status = status_of(item)
    if status == "low":
        out.line(("  ▼ ", "bold yellow"), f"at or below its minimum of {item['min_stock']}")
    elif status == "over":
        out.line(("  ▲ ", "bold magenta"), f"above its maximum of {item['max_stock']}")


def _run(args: argparse.Namespace, api: AtlasAPI, out: Output) -> int:
    command = args.command
    done = run_workflow(args, api, out)
    if done is not None:
        return done

    if command == "add":
        attributes = dict(args.attr) or None

        def shown_added(item: dict[str, Any]) -> None:
            out.line(
                "added ",
                plain(item["sku"]),
                " ",
                plain(item["name"]),
                f": {item['quantity']}",
                " at ",
                plain(item["location"] or "-"),
            )
            _low_warning(out, item)

        return out.finish(
            api.add_item(
                args.sku,
                args.name,
                args.category,
                args.qty,
                args.location,
                args.min,
                args.max,
                attributes,
                reason=args.reason,
            ),
            shown_added,
        )
    if command == "list":

        def shown_list(items: list[dict[str, Any]]) -> None:
            if items:
                out.console.print(items_table(items, out.console.width))
            noun = "item" if len(items) == 1 else "items"
            out.line(f"{len(items)} {noun}")

        return out.finish(
            api.list_items(args.category, args.location, args.search, args.low, args.over),
            shown_list,
        )
    if command == "show":
        return out.finish(
            api.get_item(args.sku), lambda item: out.console.print(item_details(item))
        )
    if command == "adjust":

        def shown_adjust(item: dict[str, Any]) -> None:
            before = item["quantity"] - args.delta
            out.line(plain(item["sku"]), f": {before} → {item['quantity']} ({args.delta:+d})")
            _low_warning(out, item)

        return out.finish(api.adjust_quantity(args.sku, args.delta, args.reason), shown_adjust)
    if command == "count":

        def shown_count(item: dict[str, Any]) -> None:
            out.line(plain(item["sku"]), f": counted {item['quantity']}")
            _low_warning(out, item)

        return out.finish(api.count_item(args.sku, args.qty, args.reason), shown_count)
    if command == "move":
        return out.finish(
            api.move_item(args.sku, args.location, args.reason),
            lambda item: out.line(plain(item["sku"]), " moved to ", plain(item["location"])),
        )
    if command == "update":
        patch: dict[str, Any] = dict(args.attr)
        patch.update({key: None for key in args.unset_attr})
        fields = {
            "name": args.name,
            "category": args.category,
            "min_stock": args.min,
            "max_stock": args.max,
            "attributes": patch or None,
        }
        return out.finish(
            api.update_item(args.sku, args.reason, **fields),
            lambda item: out.line(plain(item["sku"]), " updated"),
        )
    if command == "delete":
        return out.finish(
            api.delete_item(args.sku, args.reason),
            lambda item: out.line(
                "deleted ",
                plain(item["sku"]),
                f" (quantity was {item['quantity']}); its history is kept",
            ),
        )
    if command == "report":

        def shown_report(report: dict[str, Any]) -> None:
            if args.at:
                out.line("as of ", plain(args.at), " (rebuilt from the history)")
            if args.type == "summary":
                out.console.print(summary_view(report))
                return
            if args.type == "reorder":
                rows = report["reorder"]
                if rows:
                    out.console.print(reorder_table(rows, out.console.width))
                out.line(f"{len(rows)} {'item' if len(rows) == 1 else 'items'} to reorder")
                return
            items = report["low_stock" if args.type == "low" else "over_stock"]
            if items:
                out.console.print(items_table(items, out.console.width))
            out.line(f"{len(items)} {'low-stock' if args.type == 'low' else 'over-stock'} items")

        return out.finish(api.report(args.type, args.at), shown_report)
    if command == "history":
        if args.sku is None and args.since is None:
            out.parser_error("history: give --sku, --since, or both")

        def shown_history(movements: list[dict[str, Any]]) -> None:
            if movements:
                out.console.print(history_table(movements, with_sku=args.sku is None))
            elif args.sku is not None:
                out.line("no history for ", plain(args.sku))
            else:
                out.line("no changes since ", plain(args.since))

        return out.finish(api.history(args.sku, args.since), shown_history)
    if command == "verify":

        def shown_verify(report: dict[str, Any]) -> None:
            items, movements = report["items"], report["movements"]
            counts = (
                f"{items} item{'s' * (items != 1)}, {movements} movement{'s' * (movements != 1)}"
            )
            if report["ok"]:
                out.line(("OK", "bold green"), f": {counts}; every item obeys the rules and "
                         "the history adds up")  # fmt: skip
                return
            found = len(report["problems"])
            out.line((f"{found} problem{'s' * (found != 1)}", "bold red"), f" ({counts}):")
            for problem in report["problems"]:
                out.line("  ", plain(problem["sku"] or "data"), ": ", plain(problem["problem"]))

        envelope = api.verify()
        code = out.finish(envelope, shown_verify)
        return code if not envelope["success"] or envelope["report"]["ok"] else EXIT_REFUSED
    if command == "backup":
        return out.finish(
            api.backup(args.to),
            lambda result: out.line("backup written to ", plain(result["path"])),
        )
    if command == "restore":
        question = f"Replace all current data with {args.file}? It is backed up first."
        if not args.yes and not out.confirm(question):
            refused: Envelope = {
                "success": False,
                "error": "restore: not confirmed (add --yes to confirm)",
                "error_type": "validation",
            }
            return out.finish(refused, lambda _: None)

        def shown_restore(result: dict[str, Any]) -> None:
            out.line(f"restored {result['items']} items and {result['movements']} movements from ",
                     plain(result["from"]))  # fmt: skip
            if result["previous_data_kept_in"]:
                out.line("the previous data is kept in ", plain(result["previous_data_kept_in"]))

        return out.finish(api.restore(args.file), shown_restore)
    if command == "migrate":
        return out.finish(
            api.migrate(args.to),
            lambda r: out.line(
                f"copied {r['items']} items and {r['movements']} movements to ", plain(r["to"]),
                f" ({r['backend']}); counts and checksums match",
            ),
        )  # fmt: skip
    if command == "find":
        return _find(args, api, out)
    if command == "demo":

        def shown_demo(result: dict[str, Any]) -> None:
            if result["skipped"]:
                out.line("the store already holds data; no demo items were added")
            else:
                out.line(
                    f"added {result['items']} demo items and {result['movements']} movements to ",
                    plain(result["path"]),
                )

        return out.finish(api.demo(args.items, seed=args.seed, if_new=args.if_new), shown_demo)
    raise AssertionError(command)


def _find(args: argparse.Namespace, api: AtlasAPI, out: Output) -> int:
    """`atlas find`: its JSON is the list of results (`[]` for no match), not an envelope."""
    found = api.find_media(args.title, args.dir, kind=args.kind, year=args.year, limit=args.limit)
    if not found["success"]:
        print(f"error: {safe_text(found['error'])}", file=sys.stderr)
        return EXIT_REFUSED
    warnings = found["warnings"]
    for warning in warnings[:10]:
        print(f"warning: skipped {safe_text(warning['path'])}: {safe_text(warning['message'])}",
              file=sys.stderr)  # fmt: skip
    if len(warnings) > 10:
        print(f"warning: and {len(warnings) - 10} more files skipped", file=sys.stderr)
    results = found["results"]
    if out.as_json:
        print(safe_json(results))
    elif results:
        out.console.print(media_table(results, out.console.width))
    if not results:
        print(f"no match for {safe_text(repr(args.title))}", file=sys.stderr)
        return EXIT_REFUSED
    return EXIT_OK


def _run_app(api: AtlasAPI, media_dir: Path | None = None) -> int:
    try:
        service = api.service
        service.list_items()  # fail fast, before the screen takes over, on a bad file or setting
    except Exception as exc:
        print(f"error: {safe_text(failure(exc)['error'])}", file=sys.stderr)
        return EXIT_REFUSED
    from atlas_tui.app import AtlasApp

    AtlasApp(service, media_dir or api.settings.media_dir).run()
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (0 done, 1 refused, 2 bad usage)."""
    # Warnings reach the user through our own output; keep logging's last-resort
    # handler from printing them a second time.
    logging.getLogger("atlas_tui").addHandler(logging.NullHandler())
    parser = build_parser()
    args = parser.parse_args(argv)
    api = AtlasAPI(getattr(args, "db", None))
    out = Output(getattr(args, "json", False), parser)
    try:
        if args.command in (None, "tui"):
            media_dir = getattr(args, "media_dir", None)
            return _run_app(api, Path(media_dir) if media_dir else None)
        return _run(args, api, out)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # A closed pipe (`atlas list | head`) is not an error; silence the flush at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # a bug: one line, never a traceback full of user data
        print(f"error: {safe_text(failure(exc)['error'])}", file=sys.stderr)
        return EXIT_REFUSED
