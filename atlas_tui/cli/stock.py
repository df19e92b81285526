"""Commands about where stock is: receive, pick, transfer, stock, locations, location."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from atlas_tui.cli.output import EXIT_OK, Output

if TYPE_CHECKING:
    from rich.text import Text

    from atlas_tui.api import AtlasAPI

Command = Callable[[str, str, Callable[[argparse.ArgumentParser], None]], None]
STOCK_COMMANDS = ("receive", "pick", "transfer", "stock", "locations", "location")


def add_stock_commands(command: Command, common: argparse.ArgumentParser) -> None:
    """Add the stock-line commands through the CLI's command factory."""
    command("receive", "receive stock into a location, of a lot and expiry date", _receive_args)
    command("pick", "take stock for use (earliest expiry first, then the home)", _pick_args)
    command("transfer", "move part of an item's stock from one location to another", _transfer_args)
    command("stock", "an item's stock lines: location, lot, expiry, quantity", _stock_args)
    command("locations", "every location with what it holds", _locations_args)

    def location_args(p: argparse.ArgumentParser) -> None:
        _location_args(p, common)

    command("location", "show, create, edit, rename or retire a location", location_args)


def _sku(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sku", required=True, help="the item's SKU (any case)")


def _reason(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reason", help="why, recorded in the history")


def _receive_args(p: argparse.ArgumentParser) -> None:
    _sku(p)
    p.add_argument("--qty", type=int, required=True, help="how many units arrived")
    p.add_argument("--location", help="where they are put (default: the item's home)")
    p.add_argument("--lot", help="the lot or batch code")
    p.add_argument("--expiry", metavar="YYYY-MM-DD", help="the lot's expiry date")
    _reason(p)


def _pick_args(p: argparse.ArgumentParser) -> None:
    _sku(p)
    p.add_argument("--qty", type=int, required=True, help="how many units are taken")
    p.add_argument(
        "--location", help="take from here (default: earliest expiry, then the home, then fullest)"
    )
    p.add_argument("--lot", help="take this lot")
    _reason(p)


def _transfer_args(p: argparse.ArgumentParser) -> None:
    _sku(p)
    p.add_argument("--qty", type=int, required=True, help="how many units move")
    p.add_argument("--from", dest="source", required=True, metavar="LOCATION")
    p.add_argument("--to", dest="target", required=True, metavar="LOCATION")
    p.add_argument("--lot", help="move this lot (default: earliest expiry first)")
    _reason(p)


def _stock_args(p: argparse.ArgumentParser) -> None:
    _sku(p)


def _locations_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--empty", action="store_true", help="only locations holding nothing")


def _location_args(p: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, parents=[common], help=help_text, description=help_text)
        sub.add_argument("code", metavar="CODE", help="the location code (any case)")
        return sub

    action("show", "what is at the location")
    create = action("create", "record a location (empty until stock is put there)")
    create.add_argument("--name", default="", help="a name people read, e.g. 'Cold room'")
    create.add_argument("--parent", default="", help="the location it is inside, e.g. WH2")
    edit = action("edit", "change a location's name or parent")
    edit.add_argument("--name")
    edit.add_argument("--parent", help="the location it is inside ('' for none)")
    rename = action("rename", "give a location a new code (its stock and homes follow)")
    rename.add_argument("--to", dest="new_code", required=True, metavar="CODE")
    _reason(rename)
    retire = action("retire", "retire a location that holds nothing (it takes no more stock)")
    _reason(retire)


def _lines_text(lines: Sequence[dict[str, Any]]) -> list[str | Text | tuple[str, str]]:
    """`A-1 10 → 7, B-2 lot L7 0 → 3`: the lines a change touched."""
    from atlas_tui.cli.render import plain

    parts: list[str | Text | tuple[str, str]] = []
    for n, line in enumerate(lines):
        if n:
            parts.append(", ")
        parts.append(plain(line["location"] or "(no location)"))
        if line.get("lot"):
            parts += [" lot ", plain(line["lot"])]
        parts.append(f" {line['before']} → {line['after']}")
    return parts


def run_stock_command(args: argparse.Namespace, api: AtlasAPI, out: Output) -> int | None:
    """Run a stock-line command; None when the command is not one of them."""
    command = args.command
    if command not in STOCK_COMMANDS:
        return None
    from atlas_tui.cli.render import plain

    def changed(envelope: dict[str, Any], verb: str) -> int:
        def show(_: object) -> None:
            item = envelope["item"]
            out.line(plain(item["sku"]), f" {verb}: ", *_lines_text(envelope["lines"]))
            out.line(f"  {item['quantity']} {item['unit']} on hand")

        return out.finish(envelope, show)

    if command == "receive":
        envelope = api.receive(
            args.sku, args.qty, args.location, args.lot, args.expiry, reason=args.reason
        )
        return changed(envelope, "received")
    if command == "pick":
        return changed(api.pick(args.sku, args.qty, args.location, args.lot, args.reason), "picked")
    if command == "transfer":
        envelope = api.transfer(args.sku, args.qty, args.source, args.target, args.lot, args.reason)
        return changed(envelope, "transferred")
    if command == "stock":
        return out.finish(api.stock(args.sku), lambda lines: _show_lines(out, args.sku, lines))
    if command == "locations":
        return out.finish(api.locations(args.empty), lambda rows: _show_locations(out, rows))
    return _location_action(args, api, out)


def _show_lines(out: Output, sku: str, lines: list[dict[str, Any]]) -> None:
    from atlas_tui.cli.render import fitted_table, plain

    if not lines:
        out.line(plain(sku), ": no stock anywhere")
        return
    from rich.text import Text

    columns: list[Any] = [
        ("Location", "left", lambda r: plain(r["location"] or "(none)")),
        ("Lot", "left", lambda r: plain(r.get("lot", ""))),
        ("Expiry", "left", lambda r: plain(r.get("expiry", ""))),
        ("Qty", "right", lambda r: Text(str(r["quantity"]))),
    ]
    out.console.print(fitted_table(columns, lines, out.console.width, {"Location": 8}))
    total = sum(line["quantity"] for line in lines)
    out.line(f"{total} on hand in {len(lines)} {'line' if len(lines) == 1 else 'lines'}")


def _show_locations(out: Output, rows: list[dict[str, Any]]) -> None:
    from rich.text import Text

    from atlas_tui.cli.render import fitted_table, plain

    if not rows:
        out.line("no locations")
        return
    columns: list[Any] = [
        ("Location", "left", lambda r: plain(" > ".join(r["path"]))),
        ("Name", "left", lambda r: plain(r["name"])),
        ("Items", "right", lambda r: Text(str(r["items"]))),
        ("Qty", "right", lambda r: Text(str(r["quantity"]))),
        ("", "left", lambda r: Text("retired", style="dim") if r["retired"] else Text("")),
    ]
    out.console.print(fitted_table(columns, rows, out.console.width, {"Location": 10, "Name": 8}))
    out.line(f"{len(rows)} {'location' if len(rows) == 1 else 'locations'}")


def _show_location(out: Output, place: dict[str, Any]) -> None:
    from rich.text import Text

    from atlas_tui.cli.render import fitted_table, plain

    out.line(
        plain(" > ".join(place["path"])), *([" — ", plain(place["name"])] if place["name"] else [])
    )
    if place["retired"]:
        out.line(("  retired: takes no stock", "dim"))
    if place["children"]:
        out.line("  holds locations: ", plain(", ".join(place["children"])))
    if not place["lines"]:
        out.line("  no stock here")
        return
    columns: list[Any] = [
        ("SKU", "left", lambda r: plain(r["sku"])),
        ("Name", "left", lambda r: plain(r["name"])),
        ("Lot", "left", lambda r: plain(r["lot"])),
        ("Expiry", "left", lambda r: plain(r["expiry"])),
        ("Qty", "right", lambda r: Text(f"{r['quantity']} {r['unit']}")),
    ]
    out.console.print(fitted_table(columns, place["lines"], out.console.width, {"Name": 8}))
    items = place["items"]
    out.line(f"{place['quantity']} units of {items} {'item' if items == 1 else 'items'}")


def show_report(out: Output, kind: str, report: dict[str, Any]) -> None:
    """The locations report (what each holds) or the expiring one (soonest first)."""
    if kind == "locations":
        _show_locations(out, report["locations"])
        return
    from rich.text import Text

    from atlas_tui.cli.render import fitted_table, plain

    rows = report["expiring"]
    if rows:
        columns: list[Any] = [
            (
                "Expiry",
                "left",
                lambda r: Text(r["expiry"], style="bold red" if r["expired"] else ""),
            ),
            ("Days", "right", lambda r: Text("expired" if r["expired"] else str(r["days_left"]))),
            ("SKU", "left", lambda r: plain(r["sku"])),
            ("Name", "left", lambda r: plain(r["name"])),
            ("Location", "left", lambda r: plain(r["location"])),
            ("Lot", "left", lambda r: plain(r["lot"])),
            ("Qty", "right", lambda r: Text(f"{r['quantity']} {r['unit']}")),
        ]
        out.console.print(fitted_table(columns, rows, out.console.width, {"Name": 8}))
    out.line(
        f"{len(rows)} {'line' if len(rows) == 1 else 'lines'} expiring within {report['days']} days"
    )


def _location_action(args: argparse.Namespace, api: AtlasAPI, out: Output) -> int:
    action = args.action

    def shown(place: dict[str, Any]) -> None:
        _show_location(out, place)

    if action == "show":
        return out.finish(api.location(args.code), shown)
    if action == "create":
        return out.finish(api.create_location(args.code, args.name, args.parent), shown)
    if action == "edit":
        return out.finish(api.edit_location(args.code, args.name, args.parent), shown)
    if action == "rename":
        return out.finish(api.rename_location(args.code, args.new_code, args.reason), shown)
    if action == "retire":
        return out.finish(api.retire_location(args.code, args.reason), shown)
    return EXIT_OK
