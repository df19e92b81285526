"""Naming and rotation of backup files (the backends write the snapshots themselves)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BACKUP_SUFFIXES = (".json", ".sqlite")
# What backup_name() makes: <stem>-<UTC time to the microsecond>Z<suffix>.
_STAMPED = re.compile(r"(?P<stem>.+)-\d{8}T\d{12}Z(?P<suffix>\.json|\.sqlite)")


@dataclass(frozen=True, slots=True)
class BackupPolicy:
    """Where automatic backups go and how many are kept."""

    directory: Path
    keep: int = 10


def default_backup_dir(path: Path) -> Path:
    """backups/ beside the data file."""
    return path.parent / "backups"


def backup_name(path: Path, suffix: str) -> str:
    """e.g. atlas-20261129T085424123456Z.json: names sort by time."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{path.stem}-{stamp}{suffix}"


def upgrade_backup_name(path: Path, suffix: str) -> str:
    """e.g. atlas-before-stock-lines-20261204T091500123456Z.json: kept out of rotation."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{path.stem}-before-stock-lines-{stamp}{suffix}"


def same_series(name: str, other: str) -> bool:
    """Whether two file names are backups of one data file (same stem and suffix)."""
    first, second = _STAMPED.fullmatch(name), _STAMPED.fullmatch(other)
    return (
        first is not None
        and second is not None
        and (first["stem"], first["suffix"]) == (second["stem"], second["suffix"])
    )


def list_backups(path: Path, directory: Path) -> list[Path]:
    """Backups of `path` in `directory`, oldest first."""
    if not directory.is_dir():
        return []
    prefix = f"{path.stem}-"
    return sorted(
        entry
        for entry in directory.iterdir()
        if entry.name.startswith(prefix)
        and entry.suffix in BACKUP_SUFFIXES
        and entry.name[len(prefix) : len(prefix) + 8].isdigit()
        and entry.is_file()
    )


def rotate(path: Path, policy: BackupPolicy) -> None:
    """Drop the oldest backups beyond `keep`."""
    for old in list_backups(path, policy.directory)[: -policy.keep]:
        old.unlink(missing_ok=True)
