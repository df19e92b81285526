"""Webhook signatures, Stripe-style: `X-Atlas-Signature: t=<unix time>,v1=<hex HMAC-SHA256>`
of `"<t>.<raw body>"` with the rule's secret. Receivers check it with `verify`."""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Atlas-Signature"
TOLERANCE = 300  # seconds a signature stays good: an old one replayed is refused


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `"<timestamp>.<body>"` with `secret`."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The X-Atlas-Signature value for `body`, signed now (or at `timestamp`)."""
    stamp = int(time.time()) if timestamp is None else timestamp
    return f"t={stamp},v1={sign(secret, stamp, body)}"


def verify(
    secret: str, header: str, body: bytes, tolerance: int = TOLERANCE, now: float | None = None
) -> bool:
    """Whether `header` (X-Atlas-Signature) signs `body` with `secret`, made within
    `tolerance` seconds of `now`. Any v1 signature may match (a secret being rotated)."""
    stamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            stamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if stamp is None or not signatures:
        return False
    if abs((time.time() if now is None else now) - stamp) > tolerance:
        return False
    expected = sign(secret, stamp, body)
    return any(hmac.compare_digest(expected, found) for found in signatures)
