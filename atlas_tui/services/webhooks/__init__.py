"""Webhooks and notifications: events from the history, signed, delivered and logged.

`Dispatcher(settings).start()` / `.stop()` runs it (`atlas serve`, `atlas webhooks run`);
`signing.verify` is what a receiver checks a delivery with.
"""

from atlas_tui.services.webhooks.dispatcher import Dispatcher
from atlas_tui.services.webhooks.signing import sign, verify

__all__ = ["Dispatcher", "sign", "verify"]
