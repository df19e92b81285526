"""The `atlas` command line: one subcommand per operation, human or --json output."""

from __future__ import annotations

import _thread
import argparse
import os
import sys
import types
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

from atlas_tui import __version__
from atlas_tui.cli.output import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, Output
from atlas_tui.text import safe_text

# Each command imports what it needs when it runs: `atlas --help` or `atlas show` should not
# pay for Rich tables, import/export, media search or the app.
if TYPE_CHECKING:
    from _typeshed import SupportsWrite

    from atlas_tui.api import AtlasAPI, Envelope
    from atlas_tui.config import Settings
    from atlas_tui.services.inventory import InventoryService


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


def _help_width() -> int:
    """What argparse takes for help text: the terminal's width ($COLUMNS first) less 2.

    Measured here because argparse would import shutil (4 ms) for it, even for parsers
    that never print help (each add_argument makes a formatter)."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, OSError, ValueError):
            columns = 80
    return max(columns - 2, 11)


class _Formatter(argparse.HelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_help_width())


class SafeParser(argparse.ArgumentParser):
    """An argument parser whose usage, help and errors reach the terminal escaped: its
    errors quote what was typed, e.g. an unknown argument holding an escape sequence."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        if message:
            super()._print_message(safe_text(message, keep_lines=True), file)


Setup = Callable[[argparse.ArgumentParser], None]


class _LazyParser:
    """A subcommand's parser, made (and given its arguments) only when argparse uses it.

    Making an ArgumentParser costs a quarter of a millisecond (gettext looks for
    translations each time); `atlas show` should not pay that for all 20 commands.
    """

    def __init__(self, *, setup: Setup, **kwargs: Any) -> None:
        self._setup = setup
        self._kwargs = kwargs
        self._parser: argparse.ArgumentParser | None = None

    def __getattr__(self, name: str) -> Any:  # only for what this class lacks
        if self._parser is None:
            self._parser = SafeParser(**self._kwargs)
            self._setup(self._parser)
        return getattr(self._parser, name)


def _sku(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sku", required=True, help="the item's SKU (any case)")


def _reason(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reason", help="why, recorded in the history")


def _add_args(p: argparse.ArgumentParser) -> None:
    _sku(p)
    p.add_argument("--name", required=True)
    p.add_argument("--category", default="")
    p.add_argument("--qty", type=int, default=0, help="quantity on hand (default 0)")
    p.add_argument("--location", default="", help="its home, where --qty is put")
    p.add_argument("--min", type=int, default=0, help="minimum stock (0 = none)")
    p.add_argument("--max", type=int, default=0, help="maximum stock (0 = no ceiling)")
    p.add_argument("--unit", default=None, help="what it is counted in: pcs (default), kg, m, box")
    _pack_arg(p)
    p.add_argument("--attr", type=_attribute, action="append", default=[], metavar="KEY=VALUE")
    _reason(p)


def _pack(text: str) -> tuple[str, int]:
    code, sep, size = text.rpartition("=")
    if not sep:
        code, size = text, "1"
    if not code.strip() or not size.strip().isdigit():
        raise argparse.ArgumentTypeError(
            f"expected BARCODE=UNITS such as 4006381333931=12, got {text!r}"
        )
    return code.strip(), int(size)


def _pack_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--barcode",
        type=_pack,
        action="append",
        default=[],
        metavar="CODE[=UNITS]",
        help="a barcode of the item; =12 when one scan of it is a pack of 12; repeatable",
    )


def _list_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--category")
    p.add_argument("--location")
    p.add_argument("--search", metavar="TEXT", help="SKU or name contains TEXT (any case)")
    p.add_argument("--low", action="store_true", help="only items at or below their minimum")
    p.add_argument("--over", action="store_true", help="only items above their maximum")
    p.add_argument("--limit", type=_count, metavar="N", help="at most N items (the first by SKU)")
    p.add_argument(
        "--format",
        choices=("table", "csv", "tsv"),
        default="table",
        help="table (default, for people), or csv / tsv for scripts: one line per item, "
        "exact data to a file or pipe",
    )


def _adjust_args(p: argparse.ArgumentParser) -> None:
    _sku(p)
    p.add_argument("--delta", type=int, required=True, help="the change of quantity, e.g. 5 or -5")
    p.add_argument("--location", help="the stock line to change (default: the item's home)")
    p.add_argument("--lot", help="the lot at that location")
    _reason(p)


def _count_args(p: argparse.ArgumentParser) -> None:
    _sku(p)
    p.add_argument("--qty", type=int, required=True)
    p.add_argument("--location", help="where it was counted (needed when held in several places)")
    p.add_argument("--lot", help="the lot counted")
    _reason(p)


def _move_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sku",
        required=True,
        action="append",
        help="the item's SKU (any case); repeat it to move several items as one step",
    )
    p.add_argument("--location", required=True)
    _reason(p)


def _update_args(p: argparse.ArgumentParser) -> None:
    _sku(p)
    p.add_argument("--name")
    p.add_argument("--category")
    p.add_argument("--min", type=int, help="minimum stock (0 = none)")
    p.add_argument("--max", type=int, help="maximum stock (0 = no ceiling)")
    p.add_argument("--unit", help="what it is counted in: pcs, kg, m, box …")
    _pack_arg(p)
    p.add_argument("--attr", type=_attribute, action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--unset-attr", action="append", default=[], metavar="KEY")
    _reason(p)


def _delete_args(p: argparse.ArgumentParser) -> None:
    _sku(p)
    _reason(p)


def _report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--type",
        choices=("summary", "low", "over", "reorder", "locations", "expiring"),
        default="summary",
    )
    p.add_argument("--days", type=int, help="expiring: within this many days (default 30)")
    p.add_argument(
        "--at",
        metavar="TIME",
        help="as it was then, rebuilt from the history (e.g. 2026-11-01T12:00Z)",
    )


def _history_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sku", help="the item's SKU (any case)")
    p.add_argument("--since", metavar="TIME", help="only changes at or after TIME (UTC if no zone)")


def _backup_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--to", metavar="DIR", help="folder for the snapshot (default: backups/ beside the data)"
    )


def _restore_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "file", metavar="FILE", help="a snapshot made by `atlas backup` (or a data file)"
    )
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _migrate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--to",
        required=True,
        metavar="PATH",
        help="new data file (.json, .sqlite, .db or sqlite:///...)",
    )


def _demo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--items",
        type=_count,
        default=300,
        help="how many items, at most a million (default 300)",
    )
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument(
        "--if-new", action="store_true", help="only when the store has no items and no history"
    )


def _find_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "title", metavar="TITLE", help="the title to look for (any case, accents optional)"
    )
    p.add_argument("--dir", metavar="DIR", help="the media folder (default: $ATLAS_MEDIA_DIR)")
    p.add_argument("--kind", choices=("movie", "series"))
    p.add_argument("--year", type=int)
    p.add_argument("--limit", type=_count, metavar="N", help="at most N results")


def _no_args(p: argparse.ArgumentParser) -> None:
    pass


MEDIA_HELP = "folder the app's media search looks in (default: $ATLAS_MEDIA_DIR)"


def _tui_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--media-dir", metavar="DIR", default=argparse.SUPPRESS, help=MEDIA_HELP)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; --json and --db are accepted before or after the subcommand.

    Each subcommand's parser is made when it is used (see _LazyParser).
    """
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
        help="data file to use (default: $ATLAS_STORAGE_PATH, else the preferences' store, "
        "else the per-user data file)",
    )
    common.add_argument(
        "--profile",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="use the preferences of [profiles.NAME] in the config file (default: $ATLAS_PROFILE)",
    )
    parser = SafeParser(
        prog="atlas",
        parents=[common],
        description="ATLAS: a keyboard-first terminal inventory manager. "
        "With no command, starts the app.",
    )
    parser.add_argument("--version", action="version", version=f"atlas {__version__}")
    parser.add_argument("--media-dir", metavar="DIR", help=MEDIA_HELP)
    # _LazyParser stands in for the parser class: argparse only calls it and its methods.
    lazy = cast("type[argparse.ArgumentParser]", _LazyParser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=lazy)

    def command(name: str, help_text: str, setup: Setup) -> None:
        sub.add_parser(name, parents=[common], help=help_text, description=help_text, setup=setup)

    command("add", "add a new item", _add_args)
    command("list", "list items, optionally filtered", _list_args)
    command("show", "show one item", _sku)
    command("adjust", "add or remove stock (never below zero)", _adjust_args)
    command("count", "set a stock line to a counted figure", _count_args)
    command("move", "move all of an item's stock, and its home, to another location", _move_args)
    command("update", "change name, category, min/max or attributes", _update_args)
    command("delete", "delete an item (its history is kept)", _delete_args)
    command("report", "summary, low, over, reorder, locations or expiring report", _report_args)
    command("history", "changes newest first: of one item, or of all since a time", _history_args)
    command("verify", "check the data file, the rules and that the history adds up", _no_args)
    command("backup", "write a consistent snapshot of items and history", _backup_args)
    command(
        "restore",
        "replace all data with a backup (the current data is backed up first)",
        _restore_args,
    )
    command("migrate", "copy items and full history to a new store, e.g. SQLite", _migrate_args)
    command("demo", "add a realistic demo inventory with history", _demo_args)
    command("find", "find movies and series by title in a folder of metadata files", _find_args)
    from atlas_tui.cli.stock import add_stock_commands
    from atlas_tui.cli.workflows import add_workflow_commands

    add_stock_commands(command, common)
    add_workflow_commands(command, common)
    from atlas_tui.cli.access_cmd import add_access_commands
    from atlas_tui.cli.config_cmd import add_config_command
    from atlas_tui.cli.labels import add_labels_command
    from atlas_tui.cli.undo import add_undo_command
    from atlas_tui.cli.webhooks_cmd import add_webhooks_command

    add_access_commands(command, common)
    from atlas_tui.cli.serve_cmd import add_serve_command

    add_serve_command(command)
    add_config_command(command, common)
    add_labels_command(command)
    add_undo_command(command)
    add_webhooks_command(command, common)
    command("tui", "start the app (the default)", _tui_args)
    return parser


def _low_warning(out: Output, item: dict[str, Any]) -> None:
    from atlas_tui.cli.plain import status_of

    status = status_of(item["quantity"], item["min_stock"], item["max_stock"])
    if status == "low":
        out.line(("  ▼ ", "bold yellow"), f"at or below its minimum of {item['min_stock']}")
    elif status == "over":
        out.line(("  ▲ ", "bold magenta"), f"above its maximum of {item['max_stock']}")


def _run(args: argparse.Namespace, api: AtlasAPI, out: Output) -> int:
    command = args.command
    # The quick commands first: plain output, no Rich.
    if command == "list":
        return _list(args, api, out)
    if command == "show":
        return out.finish(api.get_item(args.sku), _show_item)
    if command == "labels":
        from atlas_tui.cli.labels import run_labels
        from atlas_tui.preferences import PreferencesError
        from atlas_tui.services.scanning import codes_from

        try:
            codes = codes_from(api.settings)
        except PreferencesError as exc:
            print(f"error: {safe_text(str(exc))}", file=sys.stderr)
            return EXIT_USAGE
        return run_labels(args, out, codes)
    from atlas_tui.cli.workflows import run_workflow

    done = run_workflow(args, api, out)
    if done is not None:
        return done
    from atlas_tui.cli.access_cmd import run_access

    done = run_access(args, api, out)
    if done is not None:
        return done
    from atlas_tui.cli.undo import run_undo
    from atlas_tui.cli.webhooks_cmd import run_webhooks

    done = run_undo(args, api, out)
    if done is None:
        done = run_webhooks(args, api, out)
    if done is not None:
        return done
    from atlas_tui.cli.stock import run_stock_command

    done = run_stock_command(args, api, out)
    if done is not None:
        return done
    from atlas_tui.cli.render import (
        history_table,
        plain,
        reorder_table,
        summary_view,
    )

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
                unit=args.unit,
                barcodes=dict(args.barcode) or None,
            ),
            shown_added,
        )
    if command == "adjust":

        def shown_adjust(item: dict[str, Any]) -> None:
            before = item["quantity"] - args.delta
            out.line(plain(item["sku"]), f": {before} → {item['quantity']} ({args.delta:+d})")
            _low_warning(out, item)

        adjusted = api.adjust_quantity(args.sku, args.delta, args.reason, args.location, args.lot)
        return out.finish(adjusted, shown_adjust)
    if command == "count":

        def shown_count(item: dict[str, Any]) -> None:
            where = f" at {args.location}" if args.location else ""
            out.line(plain(item["sku"]), f": counted {args.qty}{where}, {item['quantity']} on hand")
            _low_warning(out, item)

        counted = api.count_item(args.sku, args.qty, args.reason, args.location, args.lot)
        return out.finish(counted, shown_count)
    if command == "move" and len(args.sku) > 1:
        return out.finish(
            api.move_items(args.sku, args.location, args.reason),
            lambda step: out.line(plain(step["summary"])),
        )
    if command == "move":
        args.sku = args.sku[0]
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
            "unit": args.unit,
            "barcodes": dict(args.barcode) or None,
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
        from atlas_tui.cli.plain import dict_row

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
            if args.type in ("locations", "expiring"):
                from atlas_tui.cli.stock import show_report

                show_report(out, args.type, report)
                return
            items = report["low_stock" if args.type == "low" else "over_stock"]
            if items:
                _table(dict_row(item) for item in items)
            out.line(f"{len(items)} {'low-stock' if args.type == 'low' else 'over-stock'} items")

        return out.finish(api.report(args.type, args.at, args.days), shown_report)
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


def _show_item(item: dict[str, Any]) -> None:
    from atlas_tui.cli.plain import Styler, use_color, write_details

    write_details(item, sys.stdout, Styler(use_color(sys.stdout)))


def _table(rows: Any) -> int:
    """An items table on stdout, written as it goes; how many rows it had."""
    from atlas_tui.cli.plain import Styler, terminal_width, use_color, write_table

    stream = sys.stdout
    return write_table(rows, stream, width=terminal_width(stream), style=Styler(use_color(stream)))


def _storage_path(api: AtlasAPI) -> object:
    try:
        return api.settings.store
    except Exception:  # a bad setting: its own message says what is wrong
        return None


def _listed(args: argparse.Namespace, service: InventoryService) -> Sequence[Any]:
    """The items `atlas list` shows: just the first N when no filter needs them all."""
    filtered = args.category or args.location or args.search or args.low or args.over
    if args.limit is not None and not filtered:
        return service.first_items(args.limit)
    items = service.list_items(
        category=args.category,
        location=args.location,
        search=args.search,
        low=args.low,
        over=args.over,
    )
    return items if args.limit is None else items[: args.limit]


def _list(args: argparse.Namespace, api: AtlasAPI, out: Output) -> int:
    """`atlas list`: a table written row by row, CSV / TSV for scripts, or the JSON envelope."""
    from atlas_tui.api import failure

    if out.as_json and args.format != "table":
        out.parser_error("list: give --json or --format, not both")
    try:
        items = _listed(args, api.service)
    except Exception as exc:  # refused like every API call: one line, exit 1
        return out.finish(failure(exc, _storage_path(api)), lambda _: None)
    if out.as_json:
        envelope: Envelope = {"success": True, "items": [item.to_dict() for item in items]}
        return out.finish(envelope, lambda _: None)
    from atlas_tui.cli.plain import item_row, write_csv, write_tsv

    rows = (item_row(item) for item in items)
    stream = sys.stdout
    if args.format == "csv":
        write_csv(rows, stream, escape=stream.isatty())
        return EXIT_OK
    if args.format == "tsv":
        write_tsv(rows, stream, escape=stream.isatty())
        return EXIT_OK
    count = _table(rows)
    stream.write(f"{count} {'item' if count == 1 else 'items'}\n")
    return EXIT_OK


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
        from atlas_tui.text import safe_json

        print(safe_json(results))
    elif results:
        from atlas_tui.cli.render import media_table

        out.console.print(media_table(results, out.console.width))
    if not results:
        print(f"no match for {safe_text(repr(args.title))}", file=sys.stderr)
        return EXIT_REFUSED
    return EXIT_OK


def _run_app(api: AtlasAPI) -> int:
    from atlas_tui.api import failure
    from atlas_tui.app import AtlasApp, check_preferences
    from atlas_tui.domain.errors import ConfigError
    from atlas_tui.preferences import PreferencesError

    try:
        check_preferences(api.settings)  # before the store is opened or created
    except PreferencesError as exc:  # a theme or keymap the app cannot use
        print(f"error: {safe_text(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError:
        pass  # a wrong variable or flag: told below, as when the store is opened
    try:
        settings = api.settings
        service = api.service
        # Fail fast, before the screen takes over, on a bad file or setting: reading the
        # first item opens and checks the data file without reading every item.
        service.first_items(1)
    except Exception as exc:
        print(f"error: {safe_text(failure(exc, _storage_path(api))['error'])}", file=sys.stderr)
        return EXIT_REFUSED
    AtlasApp(service, settings.media_dir, settings=settings).run()
    return EXIT_OK


def _settings(args: argparse.Namespace) -> Settings | int | None:
    """This command's settings: flags over environment over profile over the preferences file.

    A broken preferences file is told here in one line and gives EXIT_USAGE; None when a
    flag or variable is wrong (the command reports that in its usual way)."""
    from atlas_tui.config import Settings
    from atlas_tui.domain.errors import ConfigError
    from atlas_tui.preferences import PreferencesError, config_path, read_preferences

    try:
        prefs = read_preferences(config_path())
        for warning in prefs.warnings:
            print(f"warning: {safe_text(warning)}", file=sys.stderr)
        return Settings.from_env(
            storage_path=getattr(args, "db", None),
            profile=getattr(args, "profile", None) or None,
            media_dir=getattr(args, "media_dir", None),
            preferences=prefs,
        )
    except PreferencesError as exc:
        print(f"error: {safe_text(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError:
        return None


def _config_show(args: argparse.Namespace, api: AtlasAPI, out: Output) -> int:
    from atlas_tui.api import failure
    from atlas_tui.cli.config_cmd import run_config

    try:
        settings = api.settings
    except Exception as exc:  # a wrong variable or flag, told like every refusal
        return out.finish(failure(exc), lambda _: None)
    assert settings.preferences is not None
    return run_config(args, settings, settings.preferences.path, out)


def _quiet_logging() -> None:
    """Media warnings reach the user through our own output; keep logging's last-resort
    handler from printing them a second time (only media search logs)."""
    import logging

    logging.getLogger("atlas_tui").addHandler(logging.NullHandler())


class _Deferred(types.ModuleType):
    """A stand-in for a module, loaded into itself on the first attribute it lacks.

    importlib.util.LazyLoader would load at the `import` statement itself (before Python
    3.12 the import system reads `__spec__` through the lazy module), so this one keeps
    `__spec__` and `__name__` as plain attributes."""

    def __getattr__(self, name: str) -> Any:
        with _deferred_lock:
            if type(self) is _Deferred:  # another thread may have loaded it meanwhile
                spec = self.__spec__
                assert spec is not None and spec.loader is not None
                spec.loader.exec_module(self)
                self.__class__ = types.ModuleType
        return getattr(self, name)


_deferred_lock = _thread.allocate_lock()


def _defer_inspect() -> None:
    """Load `inspect` on its first use rather than when `dataclasses` (and orjson, which
    imports dataclasses) import it: with ast, dis and tokenize it is about a sixth of
    `atlas show`'s start-up, and dataclasses only calls it for a class without a docstring.
    Not for the app, whose threads could reach it first at the same time."""
    if "inspect" in sys.modules:
        return
    from importlib.machinery import PathFinder

    spec = PathFinder.find_spec("inspect")
    if spec is None or spec.loader is None:
        return
    module = _Deferred("inspect")
    module.__spec__ = spec
    module.__file__ = spec.origin
    module.__loader__ = spec.loader
    sys.modules["inspect"] = module


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (0 done, 1 refused, 2 bad usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command not in (None, "tui"):
        _defer_inspect()
    from atlas_tui.api import AtlasAPI

    out = Output(getattr(args, "json", False), parser)
    if args.command == "config" and args.config_action == "path":
        from atlas_tui.cli.config_cmd import run_config
        from atlas_tui.preferences import config_path

        return run_config(args, None, config_path(), out)  # even when the file is broken
    settings = _settings(args)
    if isinstance(settings, int):
        return settings
    api = AtlasAPI(getattr(args, "db", None), settings=settings)
    try:
        if args.command in (None, "tui", "find"):
            _quiet_logging()
        if args.command in (None, "tui"):
            return _run_app(api)
        if args.command == "config":
            return _config_show(args, api, out)
        if args.command == "serve":
            from atlas_tui.cli.serve_cmd import run_serve

            return run_serve(args, settings)
        return _run(args, api, out)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # A closed pipe (`atlas list | head`) is not an error; silence the flush at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # a bug: one line, never a traceback full of user data
        from atlas_tui.api import failure

        print(f"error: {safe_text(failure(exc)['error'])}", file=sys.stderr)
        return EXIT_REFUSED
