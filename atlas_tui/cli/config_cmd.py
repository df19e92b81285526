"""`atlas config path` and `atlas config show`: the preferences file and the settings in effect."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atlas_tui.cli.output import EXIT_OK, Output

if TYPE_CHECKING:
    from atlas_tui.config import Settings

Command = Callable[..., None]
# Where a setting can come from besides the file, in the words `config show` prints.
ORIGINS = {
    ("store", "flag"): "--db",
    ("store", "env"): "ATLAS_STORAGE_PATH",
    ("user", "env"): "ATLAS_USER",
    ("role", "env"): "ATLAS_ROLE",
    ("media_dir", "flag"): "--media-dir",
    ("media_dir", "env"): "ATLAS_MEDIA_DIR",
    ("max_items", "env"): "ATLAS_MAX_ITEMS",
    ("auto_backup", "env"): "ATLAS_AUTO_BACKUP",
    ("backups_kept", "env"): "ATLAS_BACKUP_KEEP",
    ("lock_timeout", "env"): "ATLAS_LOCK_TIMEOUT",
}


def add_config_command(command: Command, common: argparse.ArgumentParser) -> None:
    """Add `atlas config {path,show}` through the CLI's command factory."""

    def setup(p: argparse.ArgumentParser) -> None:
        actions = p.add_subparsers(dest="config_action", metavar="ACTION", required=True)
        actions.add_parser(
            "path",
            parents=[common],
            help="the preferences file's path and whether it exists",
            description="The preferences file: $ATLAS_CONFIG, else config.toml in the "
            "platform's config folder.",
        )
        actions.add_parser(
            "show",
            parents=[common],
            help="the settings in effect and where each came from",
            description="The settings in effect and where each came from: "
            "flag, env, profile, file or default.",
        )

    command("config", "the preferences file and the settings in effect", setup)


def _value(value: object) -> Any:
    from atlas_tui.dburl import DatabaseURL  # here: dataclasses is slow to import

    if isinstance(value, Path | DatabaseURL):
        return str(value)  # a server store's password masked
    if isinstance(value, tuple):  # default_sort
        return {"column": value[0], "reverse": value[1]}
    return value


def effective(settings: Settings) -> dict[str, dict[str, Any]]:
    """Each setting's value and source, in the order `config show` lists them."""
    values: dict[str, object] = {
        "store": settings.store,
        "user": settings.user,
        "role": settings.role.value,
        "media_dir": settings.media_dir,
        "theme": settings.theme,
        "default_sort": settings.default_sort,
        **{f"keys.{key}": keys for key, keys in sorted(settings.keymap.items())},
        **{
            f"scanner.{name}": getattr(settings.scanner, name)
            for name in ("prefix", "suffix", "command_prefix", "command_suffix")
        },
        "max_items": settings.max_items,
        "auto_backup": settings.auto_backup,
        "backups_kept": settings.backups_kept,
        "lock_timeout": settings.lock_timeout,
    }
    return {
        key: {"value": _value(value), "source": settings.sources.get(key, "default")}
        for key, value in values.items()
    }


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return f"{value['column']}{' (reverse)' if value['reverse'] else ''}"
    if isinstance(value, str) and (value == "" or value != value.strip()):
        return repr(value)
    return str(value)


def run_config(args: argparse.Namespace, settings: Settings | None, path: Path, out: Output) -> int:
    """`config path` needs no settings; `config show` gets them already read."""
    from atlas_tui.cli.render import plain

    exists = path.is_file()
    if args.config_action == "path":
        state = "exists" if exists else "does not exist"
        return out.finish(
            {"success": True, "config": {"path": str(path), "exists": exists}},
            lambda _: out.line(plain(str(path)), f" ({state})"),
        )
    assert settings is not None
    rows = effective(settings)
    report = {"path": str(path), "exists": exists, "profile": settings.profile, "settings": rows}

    def shown(_: object) -> None:
        out.line("file     ", plain(str(path)), "" if exists else " (does not exist)")
        chosen = {"flag": "  ← flag --profile", "env": "  ← env ATLAS_PROFILE"}
        by = chosen.get(settings.sources.get("profile", ""), "")
        out.line("profile  ", plain(settings.profile or "-"), (by, "dim"))
        width = max(len(key) for key in rows) + 2
        for key, row in rows.items():
            source = row["source"]
            detail = ORIGINS.get((key, source), settings.profile if source == "profile" else "")
            origin = f"{source} {detail}".strip()
            out.line(f"{key:<{width}}", plain(_shown(row["value"])), ("  ← " + origin, "dim"))

    out.finish({"success": True, "config": report}, shown)
    return EXIT_OK
