"""Command-line workflows: import, export and count sessions (stocktake)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from atlas_tui.cli.output import EXIT_OK, EXIT_REFUSED, Output
from atlas_tui.text import safe_json_text, safe_text

if TYPE_CHECKING:
    from rich.text import Text

    from atlas_tui.api import AtlasAPI

Command = Callable[[str, str, Callable[[argparse.ArgumentParser], None]], None]


def add_workflow_commands(command: Command, common: argparse.ArgumentParser) -> None:
    """Add `import`, `export` and `count-session` through the CLI's command factory (each
    gets its arguments when it is used)."""
    command("export", "write every item, attributes included, as CSV or JSON", _export_args)
    command("import", "add and update items from a CSV or JSON file", _import_args)

    def session_args(p: argparse.ArgumentParser) -> None:
        _count_session_args(p, common)

    command("count-session", "stocktake: count items in any order, review, apply", session_args)


def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format", choices=("csv", "json"), help="default: csv, or json for a .json --out"
    )
    p.add_argument("--out", metavar="FILE", help="write to FILE (atomically) instead of stdout")
    p.add_argument(
        "--lines",
        action="store_true",
        help="one row per stock line (location, lot, expiry) instead of one per item",
    )


def _import_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="CSV (, ; or tab) or JSON; ATLAS exports too")
    p.add_argument("--dry-run", action="store_true", help="show what would happen, change nothing")
    p.add_argument(
        "--strict", action="store_true", help="all or nothing: import no row if any is refused"
    )
    p.add_argument(
        "--mapping",
        action="append",
        default=[],
        metavar="COLUMN=FIELD",
        help="read COLUMN as FIELD (an item field, attr:NAME or ignore); repeatable",
    )
    p.add_argument("--encoding", help="the file's text encoding (default: UTF-8)")
    p.add_argument("--format", choices=("csv", "json"), help="default: from the content")
    p.add_argument("--reason", help="reason recorded on every movement (default: import of FILE)")


def _count_session_args(p: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        # The actions accept --json and --db like every command.
        return actions.add_parser(name, parents=[common], help=help_text, description=help_text)

    start = action("start", "open a session over a location and/or category")
    start.add_argument("--location", help="only items at this location")
    start.add_argument("--category", help="only items in this category")
    start.add_argument("--reason", help="reason on the count movements (default: stocktake #N)")
    listing = action("list", "open sessions, newest first")
    listing.add_argument("--all", action="store_true", help="also applied and cancelled ones")
    show = action("show", "the variance report: expected, counted, difference, uncounted")
    show.add_argument("session", metavar="ID")
    count = action("count", "record a counted quantity for a SKU or barcode")
    count.add_argument("session", metavar="ID")
    count.add_argument("code", metavar="SKU", help="SKU (any case) or barcode")
    count.add_argument("quantity", metavar="QUANTITY", type=int)
    count.add_argument("--add", action="store_true", help="add to the count instead of setting it")
    count.add_argument("--location", help="where it was counted (default: the session's location)")
    count.add_argument("--lot", help="the lot counted (default: the only lot expected there)")
    apply = action("apply", "turn the differences into count movements")
    apply.add_argument("session", metavar="ID")
    cancel = action("cancel", "close the session without changing stock")
    cancel.add_argument("session", metavar="ID")


def run_workflow(args: argparse.Namespace, api: AtlasAPI, out: Output) -> int | None:
    """Run a workflow command; None when `args` names another command."""
    if args.command == "export":
        return _export(args, api, out)
    if args.command == "import":
        return _import(args, api, out)
    if args.command == "count-session":
        return _count_session(args, api, out)
    return None


def _export(args: argparse.Namespace, api: AtlasAPI, out: Output) -> int:
    from atlas_tui.cli.render import plain

    file_format = args.format or (
        "json" if args.out and str(args.out).lower().endswith(".json") else "csv"
    )
    envelope = api.export_items(file_format, args.out, lines=args.lines)
    if args.out is None and envelope["success"] and not out.as_json:
        data: str = envelope["export"]["data"]
        if sys.stdout.isatty():
            # For the eye only: a file or a pipe gets the exact data, which import reads back.
            data = (
                safe_json_text(data) if file_format == "json" else safe_text(data, keep_lines=True)
            )
        sys.stdout.write(data)
        return EXIT_OK
    return out.finish(
        envelope,
        lambda r: out.line(
            f"exported {r['items']} items"
            + (f" ({r['lines']} stock lines)" if "lines" in r else "")
            + f" as {r['format']} to ",
            plain(r["path"]),
        ),
    )


def _import(args: argparse.Namespace, api: AtlasAPI, out: Output) -> int:
    from atlas_tui.cli.render import plain
    from atlas_tui.cli.render_counts import describe_change
    from atlas_tui.wording import line_words

    envelope = api.import_file(
        args.file,
        dry_run=args.dry_run,
        strict=args.strict,
        mapping=args.mapping,
        encoding=args.encoding,
        file_format=args.format,
        reason=args.reason,
    )
    report = envelope.get("import")
    if out.as_json or report is None:
        return out.finish(envelope, lambda _: None)
    rows = report["rows"]
    if args.dry_run:
        out.line("dry run of ", plain(args.file), ": nothing was changed")
        for row in rows:
            if row["action"] == "add" and "item" in row:  # not a further line of an item
                item = row["item"]
                out.line(
                    ("  + ", "green"),
                    plain(item["sku"]),
                    " ",
                    plain(item["name"]),
                    f": {item['quantity']}",
                    *((" at ", plain(item["location"])) if item["location"] else ()),
                )
            elif row["action"] == "update" and "changes" in row:
                lines = "; ".join(line_words(change) for change in row.get("lines", ()))
                out.line(
                    ("  ~ ", "yellow"),
                    plain(row["sku"]),
                    ": ",
                    describe_change(row["changes"]),
                    *(("; " if row["changes"] else "", plain(lines)) if lines else ()),
                )
            for note in row.get("notes", ()):
                out.line(("  · ", "dim"), plain(row["sku"]), ": ", plain(note))
    for row in rows:
        if row["action"] == "refuse":
            out.line(
                ("  ✗ ", "red"),
                f"row {row['row']} ",
                plain(row["sku"] or "(no SKU)"),
                ": ",
                plain(row["reason"]),
            )
    out.line(_import_summary(report))
    return EXIT_OK if envelope["success"] else EXIT_REFUSED


def _import_summary(report: dict[str, Any]) -> Text:
    from rich.text import Text

    added, updated = report["added"], report["updated"]
    unchanged, refused = report["unchanged"], report["refused"]
    if report["dry_run"]:
        head = f"would add {added}, update {updated}"
    elif report["applied"]:
        head = f"imported: added {added}, updated {updated}"
    else:
        head = f"nothing imported (--strict): {added + updated} rows were ready"
    parts = [head]
    if unchanged:
        parts.append(f"{unchanged} unchanged")
    parts.append(f"{refused} {'row' if refused == 1 else 'rows'} refused")
    if report.get("lines_kept"):
        kept = report["lines_kept"]
        parts.append(
            f"{kept} stock {'line' if kept == 1 else 'lines'} at locations the file does not "
            "name kept"
        )
    # Only a file not read as plain UTF-8 says so: the operator checks the guess or the name.
    read_as = report.get("read_as", "utf-8")
    encoding = "" if read_as in ("utf-8", "utf-16") else f"; read as {read_as}"
    return Text(", ".join(parts) + f" (of {report['rows_read']} rows){encoding}")


def _count_session(args: argparse.Namespace, api: AtlasAPI, out: Output) -> int:
    from atlas_tui.cli.render import plain

    action = args.action
    if action == "start":
        return out.finish(
            api.count_session_start(args.location, args.category, args.reason),
            lambda s: out.line(
                f"count #{s['id']} started: {s['expected_items']} lines ",
                plain(s["scope"]),
                f"; record counts with `atlas count-session count {s['id']} SKU QUANTITY`",
            ),
        )
    if action == "list":
        return out.finish(api.count_sessions(args.all), lambda found: _session_list(out, found))
    if action == "show":
        return out.finish(api.count_session(args.session), lambda v: _variance(out, v))
    if action == "count":
        envelope = api.count_session_record(
            args.session,
            args.code,
            args.quantity,
            add=args.add,
            location=args.location,
            lot=args.lot,
        )
        return out.finish(envelope, lambda c: _counted(out, c))
    if action == "apply":
        return out.finish(api.count_session_apply(args.session), lambda r: _applied(out, r))
    if action == "cancel":
        return out.finish(
            api.count_session_cancel(args.session),
            lambda s: out.line(f"count #{s['id']} cancelled; no stock was changed"),
        )
    raise AssertionError(action)


def _counted(out: Output, c: dict[str, Any]) -> None:
    """`BOLT-1 at A1 lot L7 counted 5 (system holds 4)`, and when it should not be there,
    `(not expected here)`."""
    from atlas_tui.cli.render import plain

    where: list[Any] = [" at ", plain(c["location"] or "(no location)")]
    if c.get("lot"):
        where += [" lot ", plain(c["lot"])]
    note = f" ({c['note']})" if c.get("note") else ""
    out.line(
        plain(c["sku"]),
        *where,
        f" counted {c['counted']} (system holds {c['expected']}){note}",
    )


def _session_list(out: Output, found: list[dict[str, Any]]) -> None:
    from atlas_tui.cli.render import plain

    if not found:
        out.line("no open count sessions (start one with `atlas count-session start`)")
        return
    for s in found:
        out.line(
            f"#{s['id']} {s['status']:<9} {str(s['created_at'])[:16].replace('T', ' ')}  ",
            plain(s["scope"]),
            f"  {s['counted_items']}/{s['expected_items']} counted  ",
            f"({s['not_expected']} not expected)  " if s.get("not_expected") else "",
            plain(s["created_by"]),
        )


def _variance(out: Output, variance: dict[str, Any]) -> None:
    from atlas_tui.cli.render import plain
    from atlas_tui.cli.render_counts import count_table, not_expected

    session, totals = variance["session"], variance["totals"]
    out.line(f"count #{session['id']} ({session['status']}) ", plain(session["scope"]))
    if variance["rows"] or variance["uncounted"]:
        out.console.print(count_table(variance, out.console.width))
    for line in not_expected(variance):
        out.line(line)
    out.line(
        f"{totals['counted']} of {totals['expected_items']} counted, "
        f"{totals['differences']} with a difference (net {totals['net']:+d}), "
        f"{totals['uncounted']} uncounted"
        + (f", {totals['not_expected']} not expected" if totals.get("not_expected") else "")
    )


def _applied(out: Output, result: dict[str, Any]) -> None:
    from atlas_tui.cli.render import plain

    session, changes = result["session"], result["changes"]
    for change in changes:
        where: list[Any] = []
        if change.get("location"):
            where += [" at ", plain(change["location"])]
        if change.get("lot"):
            where += [" lot ", plain(change["lot"])]
        out.line(
            "  ",
            plain(change["sku"]),
            *where,
            f": {change['before']} → {change['after']} ({change['difference']:+d})",
        )
    noun = "line" if len(changes) == 1 else "lines"
    out.line(f"count #{session['id']} applied: {len(changes)} {noun} changed")
