"""`atlas undo`: the real CLI in subprocesses, each one a new process of its user."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from support import Result

from atlas_tui.factory import make_service

Atlas = Callable[..., Result]
ALICE, BOB = {"ATLAS_USER": "alice"}, {"ATLAS_USER": "bob"}


def quantity(db: Path, sku: str) -> int:
    return make_service(db).get(sku).quantity


def test_undo_says_what_it_takes_back_and_needs_a_yes(atlas: Atlas, db: Path) -> None:
    added = atlas("add", "--sku", "BOLT-1", "--name", "Bolt", "--qty", "10", env=ALICE)
    assert added.code == 0, added.err
    assert atlas("adjust", "--sku", "BOLT-1", "--delta", "-3", env=ALICE).code == 0

    dry = atlas("undo", "--dry-run", env=ALICE)
    assert dry.code == 0, dry.err
    assert re.fullmatch(
        r"would undo your adjustment of BOLT-1 by -3 at \d\d:\d\d; nothing was changed\n", dry.out
    )
    planned = json.loads(atlas("--json", "undo", "--dry-run", env=ALICE).out)
    assert planned["success"] and planned["dry_run"]
    assert planned["undo"]["summary"].startswith("adjustment of BOLT-1 by -3 at ")
    assert [m["kind"] for m in planned["undo"]["movements"]] == ["adjust"]

    asked = atlas("undo", env=ALICE)  # no terminal to answer on: not confirmed
    assert asked.code == 1
    assert asked.out.startswith("will undo your adjustment of BOLT-1 by -3 at ")
    assert asked.err == "error: undo: not confirmed (add --yes to confirm)\n"
    assert quantity(db, "BOLT-1") == 7

    done = json.loads(atlas("--json", "undo", "--yes", env=ALICE).out)
    assert done["success"] and done["item"]["quantity"] == 10
    assert done["undone"]["summary"].startswith("adjustment of BOLT-1 by -3")
    again = atlas("undo", "--yes", env=ALICE)  # walks back to the add
    assert again.code == 0 and again.out.startswith("will undo your adding of BOLT-1 at ")
    assert "undone: your adding of BOLT-1" in again.out
    nothing = atlas("undo", "--yes", env=ALICE)
    assert (nothing.code, nothing.err) == (1, "error: undo: nothing of yours to undo\n")


def test_undo_refuses_what_another_user_changed_since(atlas: Atlas, db: Path) -> None:
    atlas("add", "--sku", "BOLT-1", "--name", "Bolt", "--qty", "10", "--location", "A1", env=BOB)
    assert atlas("undo", "--yes", env=ALICE).err == "error: undo: nothing of yours to undo\n"
    assert atlas("adjust", "--sku", "BOLT-1", "--delta", "5", env=ALICE).code == 0
    assert atlas("adjust", "--sku", "BOLT-1", "--delta", "-1", env=BOB).code == 0

    refused = atlas("undo", "--yes", env=ALICE)
    assert refused.code == 1
    assert re.fullmatch(
        r"error: undo: BOLT-1 was changed by bob at \d\d:\d\d after your change: undo refused\n",
        refused.err,
    )
    envelope = json.loads(atlas("--json", "undo", "--dry-run", env=ALICE).out)
    assert not envelope["success"] and "changed by bob" in envelope["error"]
    assert quantity(db, "BOLT-1") == 14
