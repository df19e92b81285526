"""Roles outside the server: [access] in the preferences maps OS users and groups to roles,
and the CLI and the app obey them through the service (as `atlas serve` does)."""

from __future__ import annotations

import grp
import json
import os
import pwd
from pathlib import Path

import pytest
from support import run_atlas
from test_app import ready, wait_for

from atlas_tui.api import AtlasAPI
from atlas_tui.app import AtlasApp
from atlas_tui.domain.access import Role
from atlas_tui.factory import make_service

ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


@pytest.fixture
def stocked(tmp_path: Path) -> Path:
    store = tmp_path / "atlas.json"
    done = run_atlas("add", "--sku", "A-1", "--name", "Anvil", "--qty", "5", db=store)
    assert done.code == 0, done.err
    return store


def test_without_access_rules_the_os_user_may_do_everything(stocked: Path) -> None:
    assert run_atlas("adjust", "--sku", "A-1", "--delta", "1", db=stocked).code == 0
    assert run_atlas("user", "add", "ann", "--role", "viewer", db=stocked).code == 0


def test_a_viewer_by_the_file_may_read_but_not_change(stocked: Path, config_file: Path) -> None:
    config_file.write_text(f'[access]\ndefault = "admin"\nusers = {{ {ME} = "viewer" }}\n')
    assert run_atlas("show", "--sku", "A-1", db=stocked).code == 0
    refused = run_atlas("adjust", "--sku", "A-1", "--delta", "1", db=stocked)
    assert refused.code == 1
    assert refused.err == (
        f"error: permission: {ME} is a viewer and may not change stock (needs operator)\n"
    )
    as_json = run_atlas("adjust", "--sku", "A-1", "--delta", "1", "--json", db=stocked)
    assert json.loads(as_json.out)["error_type"] == "forbidden"
    shown = run_atlas("show", "--sku", "A-1", "--json", db=stocked)
    assert json.loads(shown.out)["item"]["quantity"] == 5


def test_the_best_of_user_and_group_roles_applies(stocked: Path, config_file: Path) -> None:
    config_file.write_text(
        f'[access]\nusers = {{ {ME} = "operator" }}\ngroups = {{ {MY_GROUP} = "manager" }}\n'
    )
    assert run_atlas("update", "--sku", "A-1", "--name", "Big anvil", db=stocked).code == 0
    refused = run_atlas("backup", db=stocked)
    assert refused.code == 1 and "needs admin" in refused.err


def test_someone_the_rules_do_not_name_is_a_viewer(stocked: Path, config_file: Path) -> None:
    config_file.write_text('[access]\nusers = { somebody-else = "admin" }\n')
    refused = run_atlas("adjust", "--sku", "A-1", "--delta", "1", db=stocked)
    assert "is a viewer" in refused.err


def test_atlas_role_only_lowers(stocked: Path, config_file: Path) -> None:
    config_file.write_text(f'[access]\nusers = {{ {ME} = "operator" }}\n')
    raised = run_atlas("backup", db=stocked, env={"ATLAS_ROLE": "admin"})
    assert "needs admin" in raised.err
    lowered = run_atlas(
        "adjust", "--sku", "A-1", "--delta", "1", db=stocked, env={"ATLAS_ROLE": "viewer"}
    )
    assert "is a viewer" in lowered.err
    bad = run_atlas("list", db=stocked, env={"ATLAS_ROLE": "root"})
    assert (bad.code, bad.err) == (
        1,
        "error: ATLAS_ROLE: must be one of viewer, operator, manager, admin, got 'root'\n",
    )


def test_a_bad_role_in_the_file_names_its_line(stocked: Path, config_file: Path) -> None:
    config_file.write_text('theme = "nord"\n[access]\nusers = { ann = "boss" }\n')
    done = run_atlas("list", db=stocked)
    assert done.code == 2
    assert done.err.startswith(f"error: {config_file} line 3: access.users.ann: must be one of")


def test_tokens_are_shown_once_and_stored_hashed(stocked: Path) -> None:
    assert run_atlas("user", "add", "ann", "--role", "operator", db=stocked).code == 0
    made = run_atlas("token", "create", "ann", "--label", "scanner \x1b[31m3", db=stocked)
    token = made.out.strip()
    assert made.code == 0 and token.startswith("atlas_") and "shown this once" in made.err
    kept = Path(f"{stocked}.access.json").read_text()
    assert token not in kept and token.split("_")[2] not in kept
    listed = run_atlas("token", "list", db=stocked)
    assert "\x1b" not in listed.out and token not in listed.out
    api = AtlasAPI(stocked)
    assert api.service.access.authenticate(token) is not None
    altered = token[:-1] + ("B" if token.endswith("A") else "A")  # one character off
    assert api.service.access.authenticate(altered) is None
    gone = run_atlas("user", "remove", "ann", db=stocked)
    assert gone.out == "removed user ann: operator; 1 token(s) revoked\n"
    assert AtlasAPI(stocked).service.access.authenticate(token) is None
    duplicate = run_atlas("token", "create", "nobody", db=stocked)
    assert duplicate.err == "error: user: no user 'nobody'; add one with `atlas user add`\n"


async def test_the_app_refuses_what_the_role_may_not_do(stocked: Path) -> None:
    """An operator whose [access] role is viewer presses + in the app: refused, said, and
    taken back on screen; the store is unchanged."""
    viewer = make_service(stocked).acting_as("kim", Role.VIEWER)
    app = AtlasApp(viewer)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(app, pilot)
        assert app.session.user == "kim (viewer)"  # the status line's user field
        await pilot.press("plus")
        await wait_for(
            pilot,
            lambda: any("may not change stock" in str(n.message) for n in app._notifications),
        )
        await wait_for(pilot, lambda: screen.table.current.quantity == 5)
    assert AtlasAPI(stocked).get_item("A-1")["item"]["quantity"] == 5
