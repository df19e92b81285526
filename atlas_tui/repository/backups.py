"""Rotated copies of the data file, kept before writes when ATLAS_AUTO_BACKUP is on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from atlas_tui.errors import StorageError
from atlas_tui.repository.files import atomic_write


@dataclass(frozen=True, slots=True)
class BackupPolicy:
    """Where backups go and how many are kept."""

    directory: Path
    keep: int = 10


def backup_name(path: Path) -> str:
    """e.g. atlas-20261129T085424123456Z.json: sorts by time."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{path.stem}-{stamp}{path.suffix}"


def list_backups(path: Path, directory: Path) -> list[Path]:
    """Backups of `path` in `directory`, oldest first."""
    if not directory.is_dir():
        return []
    prefix, suffix = f"{path.stem}-", path.suffix
    return sorted(
        entry
        for entry in directory.iterdir()
        if entry.name.startswith(prefix) and entry.name.endswith(suffix) and entry.is_file()
    )


def rotate_backup(path: Path, policy: BackupPolicy) -> Path:
    """Copy `path` into the backup directory, then drop the oldest beyond `keep`."""
    target = policy.directory / backup_name(path)
    try:
        atomic_write(target, path.read_bytes())
    except OSError as exc:
        raise StorageError(
            f"cannot back up {path} to {policy.directory}: {exc.strerror or exc}; "
            "nothing was changed"
        ) from None
    for old in list_backups(path, policy.directory)[: -policy.keep]:
        old.unlink(missing_ok=True)
    return target
