"""PostgreSQL store addresses: parsed, checked and shown with the password masked.

Pure Python (no psycopg), so settings can name a server store without the extra installed.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from atlas_tui.domain.errors import ConfigError

SCHEMES = ("postgresql", "postgres")
DEFAULT_SCHEMA = "atlas"
SCHEMA_ENV = "ATLAS_PG_SCHEMA"
# Schemas ATLAS creates and names in messages: plain SQL identifiers, lower case (an
# unquoted name in psql folds to lower case, so `\dn site2` finds it).
_SCHEMA = re.compile(r"[a-z_][a-z0-9_]{0,55}")
# `-c search_path=X` (or `-csearch_path=X`) in libpq's options parameter.
_SEARCH_PATH = re.compile(r"-c\s*search_path\s*=\s*([^\s,]+)")


def is_database_url(text: str) -> bool:
    """Whether a store setting names a PostgreSQL server rather than a file."""
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme.lower() in SCHEMES


@dataclass(frozen=True, slots=True)
class DatabaseURL:
    """A PostgreSQL store: the server, the database and the schema that holds ATLAS's tables.

    `str()` and `repr()` mask the password; only `conninfo` carries it, for libpq alone.
    """

    conninfo: str = field(repr=False)
    host: str
    port: int
    dbname: str
    schema: str
    masked: str = field(repr=False)

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"DatabaseURL({self.masked!r}, schema={self.schema!r})"

    def scrub(self, text: str) -> str:
        """`text` (a libpq message) with the URL and its password masked: libpq quotes the
        part of a URL it cannot parse, a mistyped password's %-escape included."""
        text = text.replace(self.conninfo, self.masked)
        secrets = _secrets(self.conninfo)

        def masked(part: str, shortest: int) -> str:
            for secret in secrets:
                if len(secret) >= shortest:
                    part = part.replace(secret, "***")
            return part

        # Within the quotes libpq puts around what it quotes, any password; elsewhere, one
        # too long to be a word of the message itself ("a" would mask every a).
        text = re.sub(r'"[^"]*"', lambda quoted: masked(quoted.group(0), 1), text)
        return masked(text, 6)

    @property
    def server(self) -> str:
        """host:port, as messages name the server."""
        return f"{self.host}:{self.port}"

    @property
    def label(self) -> str:
        """What the status line shows: database/schema@host:port."""
        return f"{self.dbname}/{self.schema}@{self.server}"

    @property
    def anchor(self) -> Path:
        """A local name standing for this store where a file name is needed: backups of it
        go to backups/ beside it, in the per-user data folder."""
        from platformdirs import user_data_dir

        host = re.sub(r"[^A-Za-z0-9.-]", "_", self.host)
        dbname = re.sub(r"[^A-Za-z0-9._-]", "_", self.dbname)
        name = f"{dbname}-{self.schema}@{host}-{self.port}.pg"  # .pg: the stem is all
        return Path(user_data_dir("atlas", appauthor=False)) / "postgresql" / name


def parse_database_url(
    text: str, source: str = "storage path", env: Mapping[str, str] | None = None
) -> DatabaseURL:
    """A postgresql:// URL checked and taken apart; ConfigError names `source` and the part.

    The schema comes from `options=-csearch_path=NAME` in the URL, else ATLAS_PG_SCHEMA,
    else "atlas". Messages never repeat the URL's password.
    """
    env = os.environ if env is None else env
    try:
        parts = urllib.parse.urlsplit(text.strip())
        port = parts.port or 5432
    except ValueError as exc:
        raise ConfigError(f"{source}: not a valid PostgreSQL URL ({_no_secret(exc)})") from None
    if parts.scheme.lower() not in SCHEMES:
        raise ConfigError(f"{source}: a PostgreSQL URL starts with postgresql://")
    query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    dbname = urllib.parse.unquote(parts.path.lstrip("/")) or _only(query, "dbname")
    if not dbname:
        raise ConfigError(
            f"{source}: the PostgreSQL URL names no database (postgresql://user@host:5432/dbname)"
        )
    # libpq lets the query's host and port override the URL's: messages name the one it uses.
    host = _only(query, "host") or parts.hostname or "localhost"
    if named_port := _only(query, "port").strip():
        if not named_port.isdigit() or not 0 < int(named_port) < 65536:
            raise ConfigError(f"{source}: port {named_port[:12]!r} in the URL is not a port number")
        port = int(named_port)
    schema = _schema(query, env, source)
    masked_netloc = parts.netloc
    if parts.password is not None:
        user = parts.username or ""
        at = masked_netloc.rpartition("@")[2]
        masked_netloc = f"{urllib.parse.quote(user, safe='')}:***@{at}"
    masked_query = "&".join(
        f"{key}={'***' if key == 'password' else urllib.parse.quote(value, safe='=-_.')}"
        for key, values in query.items()
        for value in values
    )
    masked = urllib.parse.urlunsplit(
        (parts.scheme, masked_netloc, parts.path, masked_query, parts.fragment)
    )
    return DatabaseURL(text.strip(), host, port, dbname, schema, masked)


def _secrets(conninfo: str) -> list[str]:
    """The password of a URL as written and as decoded (in the user part or the query),
    longest first, so that a part of it is never left showing."""
    found: set[str] = set()
    try:
        parts = urllib.parse.urlsplit(conninfo)
        written = [parts.password] if parts.password else []
    except ValueError:
        written = []
    netloc = conninfo.partition("://")[2].partition("/")[0].rpartition("@")[0]
    if ":" in netloc:
        written.append(netloc.partition(":")[2])
    written += re.findall(r"(?:^|[?&])password=([^&#]*)", conninfo.partition("?")[2])
    for secret in written:
        found.update((secret, urllib.parse.unquote(secret), urllib.parse.unquote_plus(secret)))
    return sorted((s for s in found if s), key=len, reverse=True)


def _only(query: dict[str, list[str]], key: str) -> str:
    values = query.get(key) or [""]
    return values[-1]


def _schema(query: dict[str, list[str]], env: Mapping[str, str], source: str) -> str:
    found = _SEARCH_PATH.search(_only(query, "options"))
    if found is not None:
        name, where = found.group(1).strip('"'), f"{source}: search_path in options"
    elif named := env.get(SCHEMA_ENV, "").strip():
        name, where = named, SCHEMA_ENV
    else:
        return DEFAULT_SCHEMA
    if not _SCHEMA.fullmatch(name):
        raise ConfigError(
            f"{where}: schema {name[:63]!r} must be lower-case letters, digits and _ "
            "(at most 56, not starting with a digit)"
        )
    return name


def _no_secret(error: Exception) -> str:
    """urllib's messages quote the port text only; kept short all the same."""
    return str(error)[:80]
