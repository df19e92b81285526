"""`atlas user` and `atlas token`: who may use `atlas serve`, and with which role."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from atlas_tui.cli.output import Output
from atlas_tui.text import safe_text

if TYPE_CHECKING:
    from atlas_tui.api import AtlasAPI

Command = Callable[[str, str, Callable[[argparse.ArgumentParser], None]], None]
ROLE_NAMES = ("viewer", "operator", "manager", "admin")


def add_access_commands(command: Command, common: argparse.ArgumentParser) -> None:
    """Add `user` and `token` through the CLI's command factory."""

    def actions(p: argparse.ArgumentParser) -> Callable[[str, str], argparse.ArgumentParser]:
        found = p.add_subparsers(dest="action", metavar="ACTION", required=True)

        def action(name: str, help_text: str) -> argparse.ArgumentParser:
            return found.add_parser(name, parents=[common], help=help_text, description=help_text)

        return action

    def user_args(p: argparse.ArgumentParser) -> None:
        action = actions(p)
        add = action("add", "add a user with a role")
        add.add_argument("name", metavar="NAME")
        add.add_argument("--role", required=True, help=" | ".join(ROLE_NAMES))
        action("list", "every user, their role and live tokens")
        role = action("role", "give a user another role")
        role.add_argument("name", metavar="NAME")
        role.add_argument("role", metavar="ROLE", help=" | ".join(ROLE_NAMES))
        remove = action("remove", "remove a user and revoke their tokens")
        remove.add_argument("name", metavar="NAME")

    def token_args(p: argparse.ArgumentParser) -> None:
        action = actions(p)
        create = action("create", "make an access token for a user (shown once)")
        create.add_argument("name", metavar="USER")
        create.add_argument("--label", help="what the token is for, e.g. 'scanner 3'")
        action("list", "every token: id, user, label, when made and revoked")
        revoke = action("revoke", "revoke a token by its id")
        revoke.add_argument("token", metavar="ID")

    command("user", "users of `atlas serve` and their roles (admin)", user_args)
    command("token", "access tokens for `atlas serve` (admin)", token_args)


def run_access(args: argparse.Namespace, api: AtlasAPI, out: Output) -> int | None:
    """Run `user` or `token`; None for any other command."""
    if args.command == "user":
        return _user(args, api, out)
    if args.command == "token":
        return _token(args, api, out)
    return None


def _user(args: argparse.Namespace, api: AtlasAPI, out: Output) -> int:
    if args.action == "list":
        return out.finish(api.users(), lambda users: _user_table(out, users))
    if args.action == "add":
        envelope = api.add_user(args.name, args.role)
        said = "added user"
    elif args.action == "role":
        envelope = api.set_role(args.name, args.role)
        said = "user"
    else:
        envelope = api.remove_user(args.name)
        said = "removed user"

    def shown(user: dict[str, Any]) -> None:
        revoked = user.get("revoked")
        extra = f"; {revoked} token(s) revoked" if revoked else ""
        print(f"{said} {safe_text(user['name'])}: {user['role']}{extra}")

    return out.finish(envelope, shown)


def _user_table(out: Output, users: list[dict[str, Any]]) -> None:
    if not users:
        print("no users yet: add one with `atlas user add NAME --role operator`")
        return
    for user in users:
        print(f"{safe_text(user['name'])}\t{user['role']}\t{user['tokens']} token(s)")


def _token(args: argparse.Namespace, api: AtlasAPI, out: Output) -> int:
    if args.action == "list":
        return out.finish(api.tokens(), _token_table)
    if args.action == "revoke":

        def revoked(token: dict[str, Any]) -> None:
            print(f"revoked token {token['id']} of {safe_text(token['user'])}")

        return out.finish(api.revoke_token(args.token), revoked)

    def created(token: dict[str, Any]) -> None:
        print(token["token"])
        print(
            f"token {token['id']} for {safe_text(token['user'])}: shown this once; "
            "keep it secret (only its hash is stored)",
            file=sys.stderr,
        )

    return out.finish(api.create_token(args.name, args.label), created)


def _token_table(tokens: list[dict[str, Any]]) -> None:
    if not tokens:
        print("no tokens yet: make one with `atlas token create USER`")
        return
    for token in tokens:
        state = f"revoked {token['revoked_at']}" if token["revoked_at"] else "live"
        label = safe_text(token["label"] or "-")
        print(f"{token['id']}\t{safe_text(token['user'])}\t{label}\t{token['created_at']}\t{state}")
