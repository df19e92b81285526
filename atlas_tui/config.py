"""Settings read from the environment (ATLAS_*), checked once at start-up."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from atlas_tui.domain.errors import ConfigError, ValidationError
from atlas_tui.domain.models import LABEL_MAX_LEN as USER_MAX_LEN
from atlas_tui.domain.models import clean_path

DEFAULT_BACKUPS_KEPT = 10
SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
SQLITE_URL = "sqlite:///"
DEFAULT_LOCK_TIMEOUT = 10.0
# `scheme://` at the start of a storage path: a URL, not a file name.
_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def default_storage_path() -> Path:
    """The per-user data file, e.g. ~/.local/share/atlas/atlas.json on Linux."""
    from platformdirs import user_data_dir  # only when no data file is named

    return Path(user_data_dir("atlas", appauthor=False)) / "atlas.json"


def _path_text(value: object, source: str) -> str:
    try:
        return clean_path(source, value).strip()
    except ValidationError as error:
        raise ConfigError(str(error)) from None


def _refuse_url(text: str, source: str) -> None:
    """A URL of a store ATLAS does not serve is refused, never taken for a folder name."""
    found = _URL.match(text)
    if found is None:
        return
    scheme = found.group(1).lower()
    if scheme == "sqlite":
        raise ConfigError(
            f"{source}: a SQLite URL has three slashes: sqlite:///relative/path or "
            "sqlite:////absolute/path"
        )
    # Only the scheme is repeated: the rest of a URL may hold a password.
    later = "; PostgreSQL is not yet supported" if scheme.startswith("postgres") else ""
    raise ConfigError(
        f"{source}: {scheme}:// is not a store ATLAS serves; give a data file path "
        f"(.json for TinyDB, .sqlite/.sqlite3/.db for SQLite) or a sqlite:/// URL{later}"
    )


def storage_location(value: object, source: str = "storage path") -> Path:
    """A data file path from a path or a `sqlite:///` URL (sqlite:////abs, sqlite:///rel).

    Any other `scheme://` URL is a ConfigError; `source` names the setting in messages.
    """
    text = _path_text(value, source)
    if text.startswith(SQLITE_URL):
        text = text[len(SQLITE_URL) :]
        if not text:
            raise ConfigError(f"{source}: a sqlite:/// URL needs a file name")
        path = Path(text).expanduser()
        return path if path.suffix in SQLITE_SUFFIXES else path.with_name(path.name + ".sqlite")
    _refuse_url(text, source)
    return Path(text).expanduser()


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(f"{name}: must be one of 1/0, true/false, yes/no, on/off, got {raw!r}")


def _whole(env: Mapping[str, str], name: str, default: int | None, minimum: int) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name}: must be {minimum} or more, got {value}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: must be a number of seconds, got {raw!r}") from None
    if not 0 <= value <= 3600:
        raise ConfigError(f"{name}: must be between 0 and 3600 seconds, got {raw!r}")
    return value


@dataclass(frozen=True, slots=True)
class Settings:
    """Where the data lives and the limits that apply to it."""

    storage_path: Path
    max_items: int | None = None
    auto_backup: bool = False
    backups_kept: int = DEFAULT_BACKUPS_KEPT
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    user: str | None = None
    media_dir: Path | None = None

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        storage_path: str | os.PathLike[str] | None = None,
    ) -> Settings:
        """Read ATLAS_* variables; an explicit storage_path wins over ATLAS_STORAGE_PATH."""
        env = os.environ if env is None else env
        source = "--db"
        if storage_path is None:
            source = "ATLAS_STORAGE_PATH"
            storage_path = env.get(source, "").strip() or default_storage_path()
        if not _path_text(storage_path, source):
            raise ConfigError(f"{source}: must name a file")
        path = storage_location(storage_path, source)
        if path.is_dir():
            raise ConfigError(f"{source}: {str(path)!r} must name a file, not a directory")
        user = env.get("ATLAS_USER", "").strip() or None
        if user is not None and len(user) > USER_MAX_LEN:
            raise ConfigError(f"ATLAS_USER: must be at most {USER_MAX_LEN} characters")
        return cls(
            storage_path=path,
            max_items=_whole(env, "ATLAS_MAX_ITEMS", None, 0),
            auto_backup=_flag(env, "ATLAS_AUTO_BACKUP"),
            backups_kept=_whole(env, "ATLAS_BACKUP_KEEP", DEFAULT_BACKUPS_KEPT, 1)
            or DEFAULT_BACKUPS_KEPT,
            lock_timeout=_seconds(env, "ATLAS_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT),
            user=user,
            media_dir=Path(media).expanduser()
            if (media := env.get("ATLAS_MEDIA_DIR", "").strip())
            else None,
        )

    @property
    def backend(self) -> str:
        """sqlite for .sqlite/.sqlite3/.db files (and sqlite:/// URLs), else tinydb."""
        return self.backend_for(self.storage_path)

    @staticmethod
    def backend_for(path: Path) -> str:
        """The backend a data file of this name uses."""
        return "sqlite" if path.suffix.lower() in SQLITE_SUFFIXES else "tinydb"
