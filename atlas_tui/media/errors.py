"""Errors the media package raises; each message is one line naming what is wrong."""

from __future__ import annotations


class MediaError(Exception):
    """Base of every error the media package raises on purpose."""


class MediaDirError(MediaError, ValueError):
    """The folder to search is missing or is not a folder."""


class MediaConfigError(MediaError, ValueError):
    """An option or environment variable holds a value the media search cannot use."""
