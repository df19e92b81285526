"""One delivery attempt: an HTTP POST of the event, or a shell command given it on stdin.

Each returns an Outcome and never raises; its error text names no secret (the URL's user,
password and query stay out of it).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import signal
import subprocess
import time
import urllib.parse
from dataclasses import dataclass

from atlas_tui.services.webhooks.events import Event
from atlas_tui.services.webhooks.signing import HEADER, signature_header
from atlas_tui.webhook_rules import WebhookRule

# How much of a receiver's answer is read: only the status counts.
_ANSWER_LIMIT = 64 * 1024


@dataclass(frozen=True, slots=True)
class Outcome:
    """How an attempt went: ok, the HTTP status (or exit status), why it failed, how long."""

    ok: bool
    status: int | None
    error: str
    seconds: float


def attempt(rule: WebhookRule, secret: str, event: Event, delivery: str) -> Outcome:
    """Send `event` to the rule's URL or command once."""
    body = event.body()
    started = time.monotonic()
    try:
        if rule.url:
            status, error = _post(rule, secret, event, body, delivery)
        else:
            status, error = _run(rule, secret, event, body, delivery)
    except Exception as exc:  # any failure is a failed attempt, logged, never a crash
        status, error = None, _scrubbed(rule, secret, f"{type(exc).__name__}: {exc}")
    return Outcome(not error, status, error, time.monotonic() - started)


def _headers(event: Event, delivery: str) -> dict[str, str]:
    return {"X-Atlas-Event": event.type, "X-Atlas-Delivery": delivery}


def _post(
    rule: WebhookRule, secret: str, event: Event, body: bytes, delivery: str
) -> tuple[int | None, str]:
    parts = urllib.parse.urlsplit(rule.url)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "ATLAS-Webhooks/1",
        **_headers(event, delivery),
        HEADER: signature_header(secret, body),
    }
    if parts.username is not None:  # https://user:password@host: HTTP basic auth
        pair = (
            f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        )
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    kind = (
        http.client.HTTPSConnection
        if parts.scheme.lower() == "https"
        else http.client.HTTPConnection
    )
    connection = kind(parts.hostname or "", parts.port, timeout=rule.timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        answer = connection.getresponse()
        answer.read(_ANSWER_LIMIT)
        status = answer.status
    except TimeoutError:
        return None, f"no answer within {rule.timeout:g} s"
    except OSError as exc:
        return None, _scrubbed(rule, secret, exc.strerror or str(exc) or type(exc).__name__)
    except http.client.HTTPException as exc:
        return None, _scrubbed(rule, secret, f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()
    return status, "" if 200 <= status < 300 else f"HTTP {status}"


def _run(
    rule: WebhookRule, secret: str, event: Event, body: bytes, delivery: str
) -> tuple[int | None, str]:
    env = {**os.environ, "ATLAS_EVENT": event.type, "ATLAS_EVENT_ID": event.id}
    env["ATLAS_DELIVERY"] = delivery
    if secret:
        env["ATLAS_SIGNATURE"] = signature_header(secret, body)
    # A session of its own: a timeout ends the shell and whatever it started.
    process = subprocess.Popen(
        rule.command,
        shell=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    try:
        process.communicate(body, timeout=rule.timeout)
    except subprocess.TimeoutExpired:
        _end(process)
        return None, f"did not finish within {rule.timeout:g} s"
    except BrokenPipeError:
        process.wait(rule.timeout)  # it did not read stdin: its exit status tells
    code = process.returncode
    if code == 0:
        return 0, ""
    if code < 0:
        return code, f"killed by signal {-code}"
    return code, f"exit status {code}"


def _end(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _scrubbed(rule: WebhookRule, secret: str, text: str) -> str:
    """`text` with anything secret of the rule masked."""
    parts = urllib.parse.urlsplit(rule.url) if rule.url else None
    hidden = [secret, rule.url]
    if parts is not None:
        hidden += [parts.password or "", parts.query, parts.netloc.rpartition("@")[0]]
    for value in sorted((v for v in hidden if v), key=len, reverse=True):
        text = text.replace(value, "***")
    return text[:300]
