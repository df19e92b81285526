"""Webhook rules: the `[[webhooks]]` tables of the preferences file, checked as they are read.

A rule sends the events it is `on` to a URL (an HTTP POST, signed with its secret) or to a
shell command (the event on stdin). preferences.py reads the file and says where a problem
is; this module knows what a rule may hold.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NoReturn

from atlas_tui.domain.errors import ConfigError
from atlas_tui.preferences import kind_of as _kind

EVENT_TYPES = ("movement", "low_stock", "count_applied")
RULE_KEYS = ("on", "url", "command", "secret", "secret_env", "retries", "timeout", "backoff")
DEFAULT_RETRIES = 5
DEFAULT_TIMEOUT = 10.0
DEFAULT_BACKOFF = 1.0
MAX_RETRIES = 20
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# (rule number from 1, key, problem): raises, naming the file's line.
Fail = Callable[[int, str, str], NoReturn]
Warn = Callable[[int, str], None]
# (rule number, key or ""): `<file> line N: webhooks[K].key`.
Where = Callable[[int, str], str]


@dataclass(frozen=True, slots=True)
class WebhookRule:
    """Where to send which events. Exactly one of `url` and `command` is set; a URL rule has
    a `secret` or names the variable holding it (`secret_env`)."""

    on: tuple[str, ...]
    url: str = ""
    command: str = ""
    secret: str = field(default="", repr=False)
    secret_env: str = ""
    retries: int = DEFAULT_RETRIES
    timeout: float = DEFAULT_TIMEOUT
    backoff: float = DEFAULT_BACKOFF
    where: str = ""
    """`<file> line N: webhooks[K]` (`...secret_env` when it has one), for messages."""

    def __repr__(self) -> str:  # the URL or command may hold a password
        return f"WebhookRule({self.target!r}, on={self.on!r})"

    @property
    def target(self) -> str:
        """What logs name: the URL without its user, password, query or fragment, or the
        command's first word (the rest may hold a password)."""
        if self.url:
            parts = urllib.parse.urlsplit(self.url)
            host = parts.hostname or ""
            if ":" in host:
                host = f"[{host}]"
            port = f":{parts.port}" if parts.port else ""
            return urllib.parse.urlunsplit((parts.scheme, host + port, parts.path, "", ""))
        words = _words(self.command)
        return words[0] if words else ""

    @property
    def key(self) -> str:
        """Names the rule across restarts (where it got to): its target and events, never
        its secret. A rule edited to send elsewhere starts afresh."""
        import hashlib

        text = "\n".join((self.url or f"$ {self.command}", *sorted(self.on)))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def secret_from(self, env: Mapping[str, str]) -> str:
        """The signing secret ("" for a command rule without one); ConfigError when the
        variable named by secret_env is unset or empty (its value is never shown)."""
        if self.secret or not self.secret_env:
            return self.secret
        value = env.get(self.secret_env, "")
        if not value.strip():
            raise ConfigError(
                f"{self.where}: the variable {self.secret_env} is not set "
                "(it holds the rule's signing secret)"
            )
        return value


def _words(command: str) -> list[str]:
    import shlex

    try:
        return shlex.split(command)
    except ValueError:
        return command.split()


def read_rules(value: object, fail: Fail, warn: Warn, where: Where) -> tuple[WebhookRule, ...]:
    """The rules of a `webhooks` key: a list of tables (`[[webhooks]]`)."""
    if isinstance(value, dict):
        fail(0, "", "must be a list of rules: write each as [[webhooks]], with two brackets")
    if not isinstance(value, list):
        fail(0, "", f"must be a list of rules ([[webhooks]]), got {_kind(value)}")
    return tuple(_rule(number, table, fail, warn, where) for number, table in enumerate(value, 1))


def _rule(number: int, table: object, fail: Fail, warn: Warn, where: Where) -> WebhookRule:
    if not isinstance(table, dict):
        fail(number, "", f"must be a table ([[webhooks]]), got {_kind(table)}")
    for name in table:
        if name not in RULE_KEYS:
            warn(number, name)
    events = _events(number, table.get("on"), fail)
    url, command = table.get("url"), table.get("command")
    if url is None and command is None:
        fail(number, "", 'needs a url = "https://..." or a command = "..." to send events to')
    if url is not None and command is not None:
        fail(number, "command", "give a url or a command, not both")
    secret, secret_env = table.get("secret"), table.get("secret_env")
    if secret is not None and secret_env is not None:
        fail(number, "secret_env", "give secret or secret_env, not both")
    if secret is not None and (not isinstance(secret, str) or not secret.strip()):
        fail(number, "secret", "must be text (in quotes), not empty")  # never repeated
    if secret_env is not None and (
        not isinstance(secret_env, str) or not _ENV_NAME.fullmatch(secret_env)
    ):
        fail(number, "secret_env", "must name an environment variable, e.g. ATLAS_HOOK_SECRET")
    if url is not None:
        url = _url(number, url, fail)
        if secret is None and secret_env is None:
            fail(
                number,
                "url",
                'a URL rule needs a signing secret: secret_env = "VARIABLE" (or secret = ...)',
            )
    else:
        command = _command(number, command, fail)
    return WebhookRule(
        on=events,
        url=url or "",
        command=command or "",
        secret=secret or "",
        secret_env=secret_env or "",
        retries=int(_number(number, table, "retries", DEFAULT_RETRIES, 0, MAX_RETRIES, fail)),
        timeout=_number(number, table, "timeout", DEFAULT_TIMEOUT, 0.01, 600, fail),
        backoff=_number(number, table, "backoff", DEFAULT_BACKOFF, 0, 3600, fail),
        where=where(number, "secret_env") if secret_env else where(number, ""),
    )


def _events(number: int, value: object, fail: Fail) -> tuple[str, ...]:
    known = ", ".join(EVENT_TYPES)
    if value is None:
        fail(number, "", f"needs on = [...]: the events to send, any of {known}")
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        fail(number, "on", f'must be a list of events such as ["movement"], any of {known}')
    found: list[str] = []
    for event in value:
        if not isinstance(event, str) or event.strip() not in EVENT_TYPES:
            shown = repr(event[:40]) if isinstance(event, str) else _kind(event)
            fail(number, "on", f"{shown} is not an event; events: {known}")
        if event.strip() not in found:
            found.append(event.strip())
    return tuple(found)


def _url(number: int, value: object, fail: Fail) -> str:
    # The URL may hold a password: messages name its scheme at most.
    if not isinstance(value, str) or not value.strip():
        fail(number, "url", "must be an http:// or https:// URL (in quotes)")
    text = value.strip()
    if _CONTROL.search(text) or " " in text:
        fail(number, "url", "must not hold spaces or control characters")
    try:
        parts = urllib.parse.urlsplit(text)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        fail(number, "url", "is not a valid URL (its port must be a number up to 65535)")
    if parts.scheme.lower() not in ("http", "https"):
        scheme = f"{parts.scheme[:20]}://" if parts.scheme else "no scheme"
        fail(number, "url", f"must start with http:// or https://, got {scheme}")
    if not parts.hostname:
        fail(number, "url", "names no host, e.g. https://erp.example/atlas")
    return text


def _command(number: int, value: object, fail: Fail) -> str:
    if not isinstance(value, str) or not value.strip():
        fail(number, "command", "must be a shell command (in quotes), not empty")
    if "\x00" in value:
        fail(number, "command", "must not hold a NUL character")
    return value.strip()


def _number(
    number: int,
    table: Mapping[str, object],
    key: str,
    default: float,
    low: float,
    high: float,
    fail: Fail,
) -> float:
    value = table.get(key, default)
    whole = key == "retries"
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (whole and not isinstance(value, int))
    ):
        kind = "a whole number" if whole else "a number of seconds"
        fail(number, key, f"must be {kind}, got {_kind(value)}")
    if not low <= value <= high:
        fail(number, key, f"must be from {low:g} to {high:g}, got {value:g}")
    return float(value)
