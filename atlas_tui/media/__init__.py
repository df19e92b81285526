"""Find movies and series described by metadata files under a folder.

Formats, recognised by the shape of the data rather than the file name: TMDb movie/TV
details, OMDb, TVmaze shows and search results, Trakt, Jellyfin/Emby items, Kodi/Jellyfin
``.nfo`` XML, and generic JSON, JSON arrays, ``{"movies": [...]}`` wrappers and NDJSON.

    result = search_media("amelie", "/srv/media", kind="movie")
    for match in result.matches: ...        # best first; result.warnings lists skipped files
    item = find_media("The Matrix", "/srv/media")   # the best MediaItem, or None
    index = load_index("/srv/media")        # keep it to answer many queries fast

Settings: files over 20 MB are skipped (``max_file_mb=`` or $ATLAS_MEDIA_MAX_FILE_MB);
the index cache lives in ``platformdirs.user_cache_dir("atlas")/media`` (``cache_dir=``
or $ATLAS_CACHE_DIR); the fuzzy fallback needs a rapidfuzz ``ratio`` of at least 80
(``fuzzy_cutoff=``). A missing search folder raises :class:`MediaDirError`.

Stands alone: nothing here imports the rest of ATLAS or any UI or storage library.
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
from atlas_tui.media.files import FileOutcome, read_media_file
from atlas_tui.media.index import MediaIndex
from atlas_tui.media.matching import FUZZY_CUTOFF
from atlas_tui.media.memory import clear_index_memory
from atlas_tui.media.merge import merge_items
from atlas_tui.media.models import KINDS, MOVIE, SERIES, Episode, MediaItem, MediaWarning
from atlas_tui.media.normalize import exact_key, normal_key
from atlas_tui.media.results import MediaMatch, ScanStats, SearchResult
from atlas_tui.media.scan import ProgressHook, load_index
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
    "FileOutcome",
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
