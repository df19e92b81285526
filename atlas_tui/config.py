"""Settings from flags, the environment (ATLAS_*) and the preferences file, checked at start-up.

Precedence: flags > environment variables > the chosen profile > the file's top level > defaults.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

from atlas_tui.dburl import DatabaseURL, is_database_url, parse_database_url
from atlas_tui.domain.access import Role, parse_role
from atlas_tui.domain.errors import ConfigError, ValidationError
from atlas_tui.domain.models import LABEL_MAX_LEN as USER_MAX_LEN
from atlas_tui.domain.models import clean_path
from atlas_tui.preferences import (
    PROFILE_ENV,
    Preferences,
    PreferencesError,
    config_path,
    read_preferences,
)

if TYPE_CHECKING:
    from atlas_tui.webhook_rules import WebhookRule

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
    raise ConfigError(
        f"{source}: {scheme}:// is not a store ATLAS serves; give a data file path "
        "(.json for TinyDB, .sqlite/.sqlite3/.db for SQLite), a sqlite:/// URL or a "
        "postgresql:// URL"
    )


def storage_location(
    value: object, source: str = "storage path", env: Mapping[str, str] | None = None
) -> Path | DatabaseURL:
    """A store: a data file path, a `sqlite:///` URL (sqlite:////abs, sqlite:///rel) or a
    `postgresql://` URL (a server store).

    Any other `scheme://` URL is a ConfigError; `source` names the setting in messages.
    """
    if isinstance(value, DatabaseURL):
        return value
    text = _path_text(value, source)
    if is_database_url(text):
        return parse_database_url(text, source, env)
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
class ScannerSettings:
    """What a barcode scanner sends around each code, and the marks around a command code."""

    prefix: str = ""
    suffix: str = ""
    command_prefix: str = "*"
    command_suffix: str = "*"


@dataclass(frozen=True, slots=True)
class Settings:
    """Where the data lives, the limits that apply to it, and the user's preferences.

    `sources` tells where each setting came from: flag, env, profile, file or default.
    """

    storage_path: Path
    max_items: int | None = None
    auto_backup: bool = False
    backups_kept: int = DEFAULT_BACKUPS_KEPT
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    user: str | None = None
    media_dir: Path | None = None
    theme: str | None = None
    default_sort: tuple[str, bool] | None = None
    keymap: Mapping[str, str] = field(default_factory=dict, hash=False)
    scanner: ScannerSettings = field(default_factory=ScannerSettings)
    profile: str | None = None
    server: DatabaseURL | None = None
    """A PostgreSQL store; `storage_path` then names it locally (its `anchor`)."""
    role: Role = Role.ADMIN
    """What this OS user may do: [access] in the preferences file, lowered by ATLAS_ROLE."""
    preferences: Preferences | None = field(default=None, hash=False, compare=False)
    webhooks: tuple[WebhookRule, ...] = field(default=(), hash=False, compare=False)
    """The preferences' `[[webhooks]]` rules (a profile's replace the file's)."""
    sources: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        storage_path: str | os.PathLike[str] | None = None,
        *,
        profile: str | None = None,
        media_dir: str | os.PathLike[str] | None = None,
        preferences: Preferences | None = None,
    ) -> Settings:
        """Arguments (the flags) over ATLAS_* variables over the profile (`profile`, else
        ATLAS_PROFILE) over the preferences file (`preferences`, else the one at
        config_path()) over defaults. A broken file raises PreferencesError."""
        env = os.environ if env is None else env
        prefs = read_preferences(config_path(env)) if preferences is None else preferences
        chosen_by = "--profile"
        if profile is None:
            chosen_by = PROFILE_ENV
            profile = env.get(PROFILE_ENV, "").strip() or None
        layered = prefs.layers(profile, chosen_by)
        sources: dict[str, str] = {}
        if profile is not None:
            sources["profile"] = "flag" if chosen_by == "--profile" else "env"

        def from_file(key: str) -> tuple[object, str] | None:
            found = layered.get(key)
            if found is not None:
                sources[key] = found[1]
            return found

        def where(key: str) -> str:
            return prefs.where(*prefs.key_path(profile, key))

        store = _store(storage_path, env, from_file("store"), where, prefs.path, sources)
        server = store if isinstance(store, DatabaseURL) else None
        path = store.anchor if isinstance(store, DatabaseURL) else store
        user = env.get("ATLAS_USER", "").strip() or None
        if user is not None:
            if len(user) > USER_MAX_LEN:
                raise ConfigError(f"ATLAS_USER: must be at most {USER_MAX_LEN} characters")
            sources["user"] = "env"
        elif (found := from_file("user")) is not None:
            user = str(found[0])
        media = _media(media_dir, env, from_file("media_dir"), prefs.path, sources)
        theme = from_file("theme")
        sort = from_file("default_sort")
        webhooks = from_file("webhooks")
        keymap = {key[5:]: str(value) for key, (value, _) in layered.items() if key[:5] == "keys."}
        sources.update((key, source) for key, (_, source) in layered.items() if key[:5] == "keys.")
        scanner = {key[8:]: str(v) for key, (v, _) in layered.items() if key[:8] == "scanner."}
        sources.update((k, source) for k, (_, source) in layered.items() if k[:8] == "scanner.")
        role = _local_role(layered, env, sources)
        for key, name in _ENV_ONLY.items():
            sources[key] = "env" if env.get(name, "").strip() else "default"
        for key in ("user", "media_dir", "theme", "default_sort"):
            sources.setdefault(key, "default")
        return cls(
            storage_path=path,
            max_items=_whole(env, "ATLAS_MAX_ITEMS", None, 0),
            auto_backup=_flag(env, "ATLAS_AUTO_BACKUP"),
            backups_kept=_whole(env, "ATLAS_BACKUP_KEEP", DEFAULT_BACKUPS_KEPT, 1)
            or DEFAULT_BACKUPS_KEPT,
            lock_timeout=_seconds(env, "ATLAS_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT),
            user=user,
            media_dir=media,
            theme=None if theme is None else str(theme[0]),
            default_sort=None if sort is None else _sort(sort[0]),
            keymap=keymap,
            scanner=ScannerSettings(**scanner),
            profile=profile,
            server=server,
            role=role,
            preferences=prefs,
            webhooks=() if webhooks is None else cast("tuple[WebhookRule, ...]", webhooks[0]),
            sources=sources,
        )

    @property
    def backend(self) -> str:
        """postgresql for a server store, sqlite for .sqlite/.sqlite3/.db files (and
        sqlite:/// URLs), else tinydb."""
        return "postgresql" if self.server is not None else self.backend_for(self.storage_path)

    @property
    def store(self) -> Path | DatabaseURL:
        """The store as the user named it: a data file, or a server store."""
        return self.server if self.server is not None else self.storage_path

    @staticmethod
    def backend_for(path: Path) -> str:
        """The backend a data file of this name uses."""
        return "sqlite" if path.suffix.lower() in SQLITE_SUFFIXES else "tinydb"


# Settings only the environment gives, by the names `atlas config show` uses.
_ENV_ONLY = {
    "max_items": "ATLAS_MAX_ITEMS",
    "auto_backup": "ATLAS_AUTO_BACKUP",
    "backups_kept": "ATLAS_BACKUP_KEEP",
    "lock_timeout": "ATLAS_LOCK_TIMEOUT",
}


def _sort(value: object) -> tuple[str, bool]:
    assert isinstance(value, tuple)
    column, reverse = value
    return str(column), bool(reverse)


def _os_user() -> str:
    """Who runs this process by its uid (not $USER, which anyone may set)."""
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError, OSError):
        return os.environ.get("USERNAME", "")


def _os_groups() -> set[str]:
    try:
        import grp
    except ImportError:  # no groups on Windows
        return set()
    names = set()
    for gid in {os.getgid(), *os.getgroups()}:
        try:
            names.add(grp.getgrgid(gid).gr_name)
        except KeyError:  # a gid without a name
            continue
    return names


def _local_role(
    layered: Mapping[str, tuple[object, str]], env: Mapping[str, str], sources: dict[str, str]
) -> Role:
    """The role of whoever runs this process: admin unless [access] names roles; then the
    best of their user's and groups' roles, else its default (viewer). ATLAS_ROLE may only
    lower it: a browser visitor's app runs with the visitor's role."""
    rules = {key[7:]: str(value) for key, (value, _) in layered.items() if key[:7] == "access."}
    role = Role.ADMIN
    if rules:
        sources["role"] = "file"
        me = f"users.{_os_user()}"
        found = [rules[me]] if me in rules else []
        found += [rules[f"groups.{name}"] for name in _os_groups() if f"groups.{name}" in rules]
        found = found or [rules.get("default", Role.VIEWER.value)]
        role = max((Role(name) for name in found), key=lambda r: r.rank)
    if wanted := env.get("ATLAS_ROLE", "").strip():
        try:
            lowered = parse_role(wanted, "ATLAS_ROLE")
        except ValidationError as error:
            raise ConfigError(str(error)) from None
        if lowered.rank < role.rank:
            role, sources["role"] = lowered, "env"
    sources.setdefault("role", "default")
    return role


def _store(
    flag: str | os.PathLike[str] | None,
    env: Mapping[str, str],
    in_file: tuple[object, str] | None,
    where: Callable[[str], str],
    file: Path,
    sources: dict[str, str],
) -> Path | DatabaseURL:
    """The store: --db, else ATLAS_STORAGE_PATH, else the file's store, else the default."""
    value: object
    if flag is not None:
        value, source, label = flag, "flag", "--db"
    elif named := env.get("ATLAS_STORAGE_PATH", "").strip():
        value, source, label = named, "env", "ATLAS_STORAGE_PATH"
    elif in_file is not None:
        (value, source), label = in_file, where("store")
    else:
        value, source, label = default_storage_path(), "default", "ATLAS_STORAGE_PATH"
    sources["store"] = source
    # A mistake in the file is the file's: the command line exits 2 for it, as for bad TOML.
    problem = PreferencesError if source in ("file", "profile") else ConfigError
    try:
        if not _path_text(value, label):
            raise ConfigError(f"{label}: must name a file")
        path = storage_location(value, label, env)
    except ConfigError as error:
        raise problem(str(error)) from None
    if isinstance(path, DatabaseURL):
        return path
    if source in ("file", "profile") and not path.is_absolute():
        path = file.parent / path  # relative to the file, not to where atlas is started
    if path.is_dir():
        raise problem(f"{label}: {str(path)!r} must name a file, not a directory")
    return path


def _media(
    flag: str | os.PathLike[str] | None,
    env: Mapping[str, str],
    in_file: tuple[object, str] | None,
    file: Path,
    sources: dict[str, str],
) -> Path | None:
    """The media folder: --media-dir, else ATLAS_MEDIA_DIR, else the file's media_dir."""
    if flag is not None and str(flag).strip():
        sources["media_dir"] = "flag"
        return Path(flag).expanduser()
    if named := env.get("ATLAS_MEDIA_DIR", "").strip():
        sources["media_dir"] = "env"
        return Path(named).expanduser()
    if in_file is None:
        return None
    path = Path(str(in_file[0])).expanduser()
    return path if path.is_absolute() else file.parent / path
