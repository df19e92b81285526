"""The one-call entry points: search a folder for a title."""

from __future__ import annotations

import os

from atlas_tui.media.matching import FUZZY_CUTOFF
from atlas_tui.media.models import MediaItem
from atlas_tui.media.results import SearchResult
from atlas_tui.media.scan import ProgressHook, load_index

PathLike = str | os.PathLike[str]


def search_media(
    query: str,
    search_dir: PathLike,
    *,
    kind: str | None = None,
    year: int | None = None,
    limit: int | None = None,
    fuzzy_cutoff: float = FUZZY_CUTOFF,
    max_file_mb: float | None = None,
    cache_dir: PathLike | None = None,
    use_cache: bool = True,
    on_progress: ProgressHook | None = None,
) -> SearchResult:
    """Movies and series under ``search_dir`` whose title matches ``query``, best first.

    Tiers, in order: exact (NFKC + casefold), normalised (accents, ``&``, punctuation and
    one leading The/A/An or trailing ", The" ignored), prefix, substring; only when none
    of those match, fuzzy similarity of at least ``fuzzy_cutoff`` (default 80). A query of
    one or two letters, or of only an article ("the"), finds titles beginning with it. Title,
    original title and aliases all count. ``kind`` ("movie"/"series") and ``year``
    filter. Raises :class:`MediaDirError` when ``search_dir`` is missing or not a folder;
    skipped files are listed in ``result.warnings``. For several queries over one folder,
    call :func:`load_index` once and use :meth:`MediaIndex.search`.
    """
    index = load_index(
        search_dir,
        max_file_mb=max_file_mb,
        cache_dir=cache_dir,
        use_cache=use_cache,
        on_progress=on_progress,
    )
    return index.search(query, kind=kind, year=year, limit=limit, fuzzy_cutoff=fuzzy_cutoff)


def find_media(
    media_title: str,
    search_dir: PathLike,
    *,
    kind: str | None = None,
    year: int | None = None,
    fuzzy_cutoff: float = FUZZY_CUTOFF,
    max_file_mb: float | None = None,
    cache_dir: PathLike | None = None,
    use_cache: bool = True,
    on_progress: ProgressHook | None = None,
) -> MediaItem | None:
    """The best match for ``media_title`` under ``search_dir`` (as ranked by
    :func:`search_media`, which takes the same options), or None."""
    return search_media(
        media_title,
        search_dir,
        kind=kind,
        year=year,
        limit=1,
        fuzzy_cutoff=fuzzy_cutoff,
        max_file_mb=max_file_mb,
        cache_dir=cache_dir,
        use_cache=use_cache,
        on_progress=on_progress,
    ).best
