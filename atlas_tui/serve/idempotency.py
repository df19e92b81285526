"""Idempotency-Key: a retried request gets the first answer, never a second change.

The answers are kept by the store's RequestLog (storage.requests). A key is claimed before
the change runs; a retry while it runs, or after a crash left it unfinished, is refused
rather than run twice.
"""

from __future__ import annotations

import hashlib
from typing import Final

KEY_MAX: Final = 200


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """What makes two requests the same request."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()
