"""`atlas undo`: take back your latest change, after saying what it is."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from atlas_tui.cli.output import Output

if TYPE_CHECKING:
    from atlas_tui.api import AtlasAPI, Envelope

Command = Callable[[str, str, Callable[[argparse.ArgumentParser], None]], None]


def add_undo_command(command: Command) -> None:
    """Add `undo` through the CLI's command factory."""
    command("undo", "take back your latest change (also a bulk step, whole)", _undo_args)


def _undo_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument(
        "--dry-run", action="store_true", help="say what would be undone, change nothing"
    )


def run_undo(args: argparse.Namespace, api: AtlasAPI, out: Output) -> int | None:
    """Run `undo` (None for any other command)."""
    if args.command != "undo":
        return None
    planned = api.undo_plan()
    if not planned["success"]:
        return out.finish(planned, lambda _: None)
    summary = planned["undo"]["summary"]
    if args.dry_run:
        planned["dry_run"] = True
        return out.finish(
            planned, lambda _: out.line(f"would undo your {summary}; nothing was changed")
        )
    if not out.as_json:
        out.line(f"will undo your {summary}")
    if not args.yes and not out.confirm("Undo it?"):
        refused: Envelope = {
            "success": False,
            "error": "undo: not confirmed (add --yes to confirm)",
            "error_type": "validation",
        }
        return out.finish(refused, lambda _: None)
    expect = [m["id"] for m in planned["undo"]["movements"]]

    def shown(_: Any) -> None:
        out.line(f"undone: your {summary}")

    return out.finish(api.undo(expect), shown)
