"""Find movies and series described by metadata files (TMDb, OMDb, TVmaze, Trakt,
Jellyfin/Emby, Kodi .nfo, generic JSON/NDJSON) under a folder.

Stands alone: nothing here imports the rest of ATLAS or any UI library.
"""

from __future__ import annotations

from pathlib import Path

from atlas_tui.media.adapters import parse_document
from atlas_tui.media.config import (
    CACHE_DIR_ENV,
    DEFAULT_MAX_FILE_MB,
    MAX_FILE_ENV,
    max_file_bytes,
)
from atlas_tui.media.errors import MediaConfigError, MediaDirError, MediaError
from atlas_tui.media.files import read_media_file
from atlas_tui.media.index import MediaIndex, ProgressHook, clear_index_memory, load_index
from atlas_tui.media.matching import FUZZY_CUTOFF
from atlas_tui.media.merge import merge_items
from atlas_tui.media.models import KINDS, MOVIE, SERIES, Episode, MediaItem, MediaWarning
from atlas_tui.media.normalize import exact_key, normal_key
from atlas_tui.media.results import MediaMatch, ScanStats, SearchResult
from atlas_tui.media.search import find_media, search_media
from atlas_tui.media.years import parse_year

DEMO_DIR = Path(__file__).parent / "demo"
"""A small folder of sample metadata files in every supported format."""

__all__ = [
    "CACHE_DIR_ENV",
    "DEFAULT_MAX_FILE_MB",
    "DEMO_DIR",
    "FUZZY_CUTOFF",
    "KINDS",
    "MAX_FILE_ENV",
    "MOVIE",
    "SERIES",
    "Episode",
    "MediaConfigError",
    "MediaDirError",
    "MediaError",
    "MediaIndex",
    "MediaItem",
    "MediaMatch",
    "MediaWarning",
    "ProgressHook",
    "ScanStats",
    "SearchResult",
    "clear_index_memory",
    "exact_key",
    "find_media",
    "load_index",
    "max_file_bytes",
    "merge_items",
    "normal_key",
    "parse_document",
    "parse_year",
    "read_media_file",
    "search_media",
]
