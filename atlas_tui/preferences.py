"""The preferences file (TOML): read with tomllib and checked; the theme written back with tomlkit.

Reading knows nothing of the environment or flags; config.Settings lays them over it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from atlas_tui.domain.access import parse_role
from atlas_tui.domain.errors import ConfigError, ValidationError
from atlas_tui.domain.models import ITEM_FIELDS, LABEL_MAX_LEN

if TYPE_CHECKING:  # webhook_rules is imported only by a file that has rules
    from atlas_tui.webhook_rules import WebhookRule

CONFIG_ENV = "ATLAS_CONFIG"
PROFILE_ENV = "ATLAS_PROFILE"
FILE_NAME = "config.toml"
# The item table's columns, by the names a file may give for default_sort.
SORT_COLUMNS = (*ITEM_FIELDS[:7], "status")
SCANNER_KEYS = ("prefix", "suffix", "command_prefix", "command_suffix")
SCANNER_MAX_LEN = 16
_KEYS = frozenset(
    {"store", "user", "media_dir", "theme", "default_sort", "keys", "scanner", "access", "webhooks"}
)
# `[a.b]`, `[[a.b]]` and `key = ...` / `a.b = ...` lines: where a key is, for messages.
# Patterns, not compiled: only a message needs them (re caches them then).
_HEADER = r"\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$"
_PART = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_ASSIGN = rf"\s*({_PART}(?:\s*\.\s*{_PART})*)\s*="
_TOML_LINE = r"\s*\(at line (\d+), column (\d+)\)$"


class PreferencesError(ConfigError):
    """A broken preferences file (bad TOML, a wrong type, an unknown profile): exit code 2."""


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """$ATLAS_CONFIG, else config.toml in the platform's config folder (~/.config/atlas)."""
    env = os.environ if env is None else env
    named = env.get(CONFIG_ENV, "").strip()
    if named:
        return Path(named).expanduser()
    from platformdirs import user_config_dir  # only when no file is named

    return Path(user_config_dir("atlas", appauthor=False)) / FILE_NAME


def _parts(dotted: str) -> list[str]:
    return [
        part.strip().strip("\"'")
        for part in re.split(r"\.(?=(?:[^\"']|\"[^\"]*\"|'[^']*')*$)", dotted)
    ]


def _line_of(text: str, key: tuple[str, ...]) -> int | None:
    """The line (1-based) where a dotted key, or the nearest table holding it, is set."""
    header: list[str] = []
    best: tuple[int, int] | None = None  # (parts matched, line)
    for number, line in enumerate(text.splitlines(), 1):
        found = re.match(_HEADER, line)
        if found:
            header = _parts(found.group(1))
            full = header
        else:
            assigned = re.match(_ASSIGN, line)
            if not assigned:
                continue
            full = header + _parts(assigned.group(1))
        if tuple(full) == key:
            return number
        nearer = best is None or len(full) > best[0]
        if nearer and len(full) <= len(key) and tuple(full) == key[: len(full)]:
            best = (len(full), number)
    return None if best is None else best[1]


def _rule_line(text: str, table: list[str], number: int, key: str) -> int | None:
    """The line of `key` in the number-th `[[table]]` (its header's for the rule as a
    whole), else where the table is named at all (an inline list of rules)."""
    seen, header = 0, None
    for line_number, line in enumerate(text.splitlines(), 1):
        found = re.match(_HEADER, line)
        if found:
            if header is not None:
                break  # the rule's table ended without the key
            if line.lstrip().startswith("[[") and _parts(found.group(1)) == table:
                seen += 1
                if seen == number:
                    header = line_number
                    if not key:
                        return header
            continue
        assigned = re.match(_ASSIGN, line) if header is not None else None
        if assigned and _parts(assigned.group(1)) == [key]:
            return line_number
    return header if header is not None else _line_of(text, tuple(table))


def kind_of(value: object) -> str:
    """How a message names a TOML value's type: text, a number, a table..."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return "a date"


class Preferences:
    """A checked preferences file: its top level and profiles, flattened to dotted keys.

    Keys: store, user, media_dir, theme, default_sort, keys.<binding id>, scanner.<name>,
    webhooks (a tuple of WebhookRule).
    A file that does not exist is an empty one. (A plain class: a dataclass costs every
    command a millisecond at start-up.)
    """

    __slots__ = ("exists", "path", "profiles", "text", "top", "warnings")

    def __init__(
        self,
        path: Path,
        exists: bool = False,
        top: Mapping[str, object] | None = None,
        profiles: Mapping[str, Mapping[str, object]] | None = None,
        warnings: tuple[str, ...] = (),
        text: str = "",
    ) -> None:
        self.path = path
        self.exists = exists
        self.top: Mapping[str, object] = top or {}
        self.profiles: Mapping[str, Mapping[str, object]] = profiles or {}
        self.warnings = warnings
        self.text = text

    def __repr__(self) -> str:
        return f"Preferences({str(self.path)!r}, exists={self.exists})"

    def where(self, *key: str) -> str:
        """`<file> line N: a.b.c` for messages about one key."""
        line = _line_of(self.text, key)
        at = f" line {line}" if line else ""
        return f"{self.path}{at}: {'.'.join(key)}"

    def key_path(self, profile: str | None, key: str) -> tuple[str, ...]:
        """The dotted path of a flattened key, in the profile when it sets it."""
        inner = tuple(key.split(".", 1)) if key.startswith(("keys.", "scanner.")) else (key,)
        if profile is not None and key in self.profiles.get(profile, {}):
            return ("profiles", profile, *inner)
        return inner

    def layers(
        self, profile: str | None, chosen_by: str = "--profile"
    ) -> dict[str, tuple[object, str]]:
        """Each key's value and where it came from ("profile" over "file")."""
        merged = {key: (value, "file") for key, value in self.top.items()}
        if profile is not None:
            if profile not in self.profiles:
                known = ", ".join(sorted(self.profiles)) or "none"
                raise PreferencesError(
                    f"{self.path}: no profile {profile!r} ({chosen_by}); profiles: {known}"
                )
            merged.update(
                (key, (value, "profile")) for key, value in self.profiles[profile].items()
            )
        return merged


def read_preferences(path: Path) -> Preferences:
    """The file at `path`, checked; PreferencesError names the file, line and key."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Preferences(path)
    except IsADirectoryError:
        raise PreferencesError(f"{path}: is a folder, not a preferences file") from None
    except OSError as error:
        raise PreferencesError(f"{path}: cannot be read: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise PreferencesError(f"{path} line {line}: not UTF-8 text") from None
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PreferencesError(_toml_problem(path, text, error)) from None
    reader = _Reader(Preferences(path, True, text=text))
    top = reader.layer(data, ())
    profiles: dict[str, dict[str, object]] = {}
    found = data.get("profiles", {})
    if not isinstance(found, dict):
        reader.fail(
            ("profiles",), f"must be a table of profiles ([profiles.NAME]), got {kind_of(found)}"
        )
    for name, table in found.items():
        if not isinstance(table, dict):
            reader.fail(
                ("profiles", name), f"must be a table ([profiles.{name}]), got {kind_of(table)}"
            )
        profiles[name] = reader.layer(table, ("profiles", name))
    return Preferences(path, True, top, profiles, tuple(reader.warnings), text)


def _toml_problem(path: Path, text: str, error: ValueError) -> str:
    message = str(error)
    found = re.search(_TOML_LINE, message)
    if not found:
        return f"{path}: not valid TOML: {message}"
    line = int(found.group(1))
    problem = message[: found.start()]
    lines = text.splitlines()
    key = re.match(_ASSIGN, lines[line - 1]) if 0 < line <= len(lines) else None
    named = f": {key.group(1).strip()}" if key else ""
    return f"{path} line {line}{named}: not valid TOML: {problem} (column {found.group(2)})"


class _Reader:
    """Checks one table of the file; remembers warnings for unknown keys."""

    def __init__(self, preferences: Preferences) -> None:
        self.prefs = preferences
        self.warnings: list[str] = []

    def fail(self, key: tuple[str, ...], problem: str) -> None:
        raise PreferencesError(f"{self.prefs.where(*key)}: {problem}")

    def warn(self, key: tuple[str, ...]) -> None:
        self.warnings.append(f"{self.prefs.where(*key)}: unknown key, ignored")

    def text(self, key: tuple[str, ...], value: object, limit: int = 4096) -> str:
        if not isinstance(value, str):
            self.fail(key, f"must be text (in quotes), got {kind_of(value)}")
        assert isinstance(value, str)
        if len(value) > limit:
            self.fail(key, f"must be at most {limit} characters")
        return value

    def layer(self, table: Mapping[str, Any], at: tuple[str, ...]) -> dict[str, object]:
        found: dict[str, object] = {}
        for name, value in table.items():
            key = (*at, name)
            if name == "profiles" and not at:
                continue
            if name not in _KEYS:
                self.warn(key)
            elif name == "keys":
                found.update(self._keys(key, value))
            elif name == "scanner":
                found.update(self._scanner(key, value))
            elif name == "access":
                found.update(self._access(key, value))
            elif name == "webhooks":
                found[name] = self._webhooks(key, value)
            elif name == "default_sort":
                found[name] = self._sort(key, value)
            elif name == "user":
                user = self.text(key, value, LABEL_MAX_LEN).strip()
                if user:
                    found[name] = user
            elif name in ("store", "media_dir"):
                found[name] = self._path(key, value)
            else:  # theme
                theme = self.text(key, value, 100).strip()
                if not theme:
                    self.fail(key, "must name a theme")
                found[name] = theme
        return found

    def _path(self, key: tuple[str, ...], value: object) -> str:
        """The text as written: config reads a store's URL or path, relative to the file."""
        text = self.text(key, value).strip()
        if not text:
            self.fail(key, "must name a file or folder")
        return text

    def _sort(self, key: tuple[str, ...], value: object) -> tuple[str, bool]:
        column, reverse = value, False
        if isinstance(value, dict):
            unknown = set(value) - {"column", "reverse"}
            for name in sorted(unknown):
                self.warn((*key, name))
            column, reverse = value.get("column"), value.get("reverse", False)
            if not isinstance(reverse, bool):
                self.fail((*key, "reverse"), f"must be true or false, got {kind_of(reverse)}")
            if column is None:
                self.fail(key, 'needs a column, e.g. { column = "quantity", reverse = true }')
            key = (*key, "column")
        name = self.text(key, column).strip().lower()
        if name not in SORT_COLUMNS:
            self.fail(key, f"{name!r} is not a column; columns: {', '.join(SORT_COLUMNS)}")
        assert isinstance(reverse, bool)
        return name, reverse

    def _table(self, key: tuple[str, ...], value: object) -> Mapping[str, object]:
        if not isinstance(value, dict):
            self.fail(key, f"must be a table ([{'.'.join(key)}]), got {kind_of(value)}")
        assert isinstance(value, dict)
        return value

    def _webhooks(self, key: tuple[str, ...], value: object) -> tuple[WebhookRule, ...]:
        """`[[webhooks]]` rules; messages name the rule's line and key, never a secret."""
        from atlas_tui.webhook_rules import read_rules

        prefs = self.prefs

        def where(number: int, name: str = "") -> str:
            line = _rule_line(prefs.text, list(key), number, name) if number else None
            line = line or _line_of(prefs.text, key)
            at = f" line {line}" if line else ""
            rule = f"[{number}]" if number else ""
            return f"{prefs.path}{at}: {'.'.join(key)}{rule}{'.' * bool(name)}{name}"

        def fail(number: int, name: str, problem: str) -> NoReturn:
            raise PreferencesError(f"{where(number, name)}: {problem}")

        def warn(number: int, name: str) -> None:
            self.warnings.append(f"{where(number, name)}: unknown key, ignored")

        return read_rules(value, fail, warn, where)

    def _keys(self, key: tuple[str, ...], value: object) -> dict[str, object]:
        found: dict[str, object] = {}
        for binding, keys in self._table(key, value).items():
            text = self.text((*key, binding), keys, 200).strip()
            if not text:
                self.fail((*key, binding), 'must name at least one key, e.g. "plus,k"')
            found[f"keys.{binding}"] = text
        return found

    def _access(self, key: tuple[str, ...], value: object) -> dict[str, object]:
        """[access]: default = ROLE, users = {NAME = ROLE}, groups = {GROUP = ROLE}."""
        found: dict[str, object] = {}
        for name, entry in self._table(key, value).items():
            if name == "default":
                found["access.default"] = self._role((*key, name), entry)
            elif name in ("users", "groups"):
                for who, role in self._table((*key, name), entry).items():
                    found[f"access.{name}.{who}"] = self._role((*key, name, who), role)
            else:
                self.warn((*key, name))
        return found

    def _role(self, key: tuple[str, ...], value: object) -> str:
        try:
            return parse_role(self.text(key, value, 20)).value
        except ValidationError as error:
            self.fail(key, error.problem)
            raise

    def _scanner(self, key: tuple[str, ...], value: object) -> dict[str, object]:
        found: dict[str, object] = {}
        for name, text in self._table(key, value).items():
            if name not in SCANNER_KEYS:
                self.warn((*key, name))
                continue
            found[f"scanner.{name}"] = self.text((*key, name), text, SCANNER_MAX_LEN)
        return found


def save_setting(path: Path, key: str, value: str, profile: str | None = None) -> bool:
    """Set one top-level key (e.g. theme) in the file, keeping its comments and layout.

    Written to the profile's table when that profile sets the key itself (else the choice
    would not take effect there), else to the top level. The file is replaced atomically,
    and only if nobody changed it while it was being rewritten. Returns False when the
    file already held that value. Raises OSError or PreferencesError (file not valid TOML).
    """
    import tomlkit
    from tomlkit.exceptions import ParseError

    target = path.resolve() if path.is_symlink() else path  # keep a dotfiles symlink
    if target.exists() and not target.is_file():  # ATLAS_CONFIG=/dev/null: never replace it
        raise OSError(21, "not a regular file", str(target))
    for _attempt in range(5):
        try:
            before: bytes | None = target.read_bytes()
        except FileNotFoundError:
            before = None
        if before is not None and not os.access(target, os.W_OK):
            raise PermissionError(13, "the file is read-only", str(target))
        try:
            document = tomlkit.parse((before or b"").decode("utf-8"))
        except (ParseError, UnicodeDecodeError) as error:
            line = getattr(error, "line", None)
            at = f" line {line}" if line else ""
            raise PreferencesError(f"{path}{at}: not valid TOML, so {key} was not saved") from None
        table: Any = document
        profiles = document.get("profiles")
        if profile is not None and isinstance(profiles, dict):
            chosen = profiles.get(profile)
            if isinstance(chosen, dict) and key in chosen:
                table = chosen
        if table.get(key) == value:
            return False
        table[key] = value
        if _replace(target, before, tomlkit.dumps(document).encode("utf-8")):
            return True
    raise PreferencesError(f"{path}: keeps changing, so {key} was not saved")


def _replace(target: Path, before: bytes | None, new: bytes) -> bool:
    """Write `new` beside `target` and rename it over; False if target changed meanwhile."""
    import stat
    import tempfile

    target.parent.mkdir(parents=True, exist_ok=True)
    mode = stat.S_IMODE(target.stat().st_mode) if before is not None else 0o644
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(new)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, mode)
        try:
            now: bytes | None = target.read_bytes()
        except FileNotFoundError:
            now = None
        if now != before:  # an editor saved it meanwhile: start again from theirs
            return False
        os.replace(temp, target)
        return True
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
