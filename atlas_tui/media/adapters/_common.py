"""Value coercion shared by the adapters, and the one place items are assembled."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from atlas_tui.media.models import KINDS, MOVIE, SERIES, Episode, MediaItem, MediaKind

_MISSING = {"", "n/a", "null", "none"}
_HOURS = re.compile(r"(\d+)\s*h", re.IGNORECASE)
_MINUTES = re.compile(r"(\d+)\s*m", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_TICKS_PER_MINUTE = 600_000_000  # Jellyfin/Emby RunTimeTicks are 100 ns units.

_ID_NAMES = {
    "imdb": "imdb",
    "imdbid": "imdb",
    "tmdb": "tmdb",
    "tmdbid": "tmdb",
    "themoviedb": "tmdb",
    "tvdb": "tvdb",
    "tvdbid": "tvdb",
    "thetvdb": "tvdb",
    "tvmaze": "tvmaze",
    "tvmazeid": "tvmaze",
    "trakt": "trakt",
    "traktid": "trakt",
    "tvrage": "tvrage",
    "tvrageid": "tvrage",
    "wikidata": "wikidata",
    "wikidataid": "wikidata",
}


def fold(key: str) -> str:
    """``"Original_Title"`` -> ``"originaltitle"``: how generic keys are compared."""
    return key.lower().replace("_", "").replace("-", "").replace(" ", "")


def folded(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` keyed by :func:`fold`; the first spelling of a key wins."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(key, str):
            out.setdefault(fold(key), value)
    return out


def text(value: Any) -> str | None:
    """A non-empty string for ``value`` (numbers become their digits), else None.

    Outer whitespace is dropped; everything inside is kept exactly as read.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, str):
        stripped = value.strip()
        return None if stripped.lower() in _MISSING else stripped
    return None


def count(value: Any) -> int | None:
    """A non-negative count from an int or numeric string; ``-1``/``"N/A"`` give None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and value >= 0 else None


def runtime(value: Any) -> int | None:
    """Minutes from ``136``, ``"136 min"``, ``"2h 16m"`` or ``"PT2H16M"``; 0 means unknown."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        minutes = round(value)
    elif isinstance(value, str):
        hours = _HOURS.search(value)
        mins = _MINUTES.search(value)
        if hours or mins:
            minutes = int(hours.group(1)) * 60 if hours else 0
            minutes += int(mins.group(1)) if mins else 0
        else:
            digits = _DIGITS.search(value)
            if not digits:
                return None
            minutes = int(digits.group())
    else:
        return None
    return minutes if minutes > 0 else None


def ticks_to_minutes(value: Any) -> int | None:
    """Jellyfin/Emby ``RunTimeTicks`` in minutes."""
    ticks = count(value)
    return runtime(ticks / _TICKS_PER_MINUTE) if ticks else None


def names(value: Any, *keys: str, split: str | None = ",") -> list[str]:
    """Names from a string list (``"A, B"``), a list of strings, or a list of objects.

    Objects give the first of ``keys`` they hold (default ``name``/``Name``). A trailing
    separator (``"Christopher Nolan,"``) leaves no empty name behind.
    """
    keys = keys or ("name", "Name")
    if value is None:
        return []
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        raw = text(value)
        if raw is None:
            return []
        parts = raw.split(split) if split else [raw]
        return [part for part in (text(p) for p in parts) if part]
    if isinstance(value, Mapping):
        return names([value], *keys, split=split)
    out: list[str] = []
    if isinstance(value, list):
        for entry in value:
            if isinstance(entry, Mapping):
                found = next((text(entry[k]) for k in keys if text(entry.get(k))), None)
                if found:
                    out.append(found)
            else:
                out.extend(names(entry, *keys, split=split))
    return out


def first_name(value: Any, *keys: str) -> str | None:
    """The first of :func:`names`, or a string value itself."""
    found = names(value, *keys, split=None)
    return found[0] if found else None


def dedupe(values: Iterable[str]) -> tuple[str, ...]:
    """Values in order, dropping repeats that differ only in case."""
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        key = value.casefold()
        if key not in seen:
            seen.add(key)
            out.append(value)
    return tuple(out)


def ids(pairs: Iterable[tuple[str, Any]]) -> tuple[tuple[str, str], ...]:
    """Known external ids, keyed by a canonical lower-case source name."""
    out: dict[str, str] = {}
    for key, value in pairs:
        name = _ID_NAMES.get(fold(key))
        found = text(value)
        if name and found and found != "0":
            out.setdefault(name, found)
    return tuple(sorted(out.items()))


def kind_from(value: Any) -> MediaKind | None:
    """``movie``/``series`` from the many words tools use for them, else None."""
    word = text(value)
    if word is None:
        return None
    word = fold(word)
    if word in ("movie", "film", "feature", "movies"):
        return MOVIE
    if word in ("series", "show", "tv", "tvshow", "tvseries", "shows", "miniseries"):
        return SERIES
    return None


def episode(season: Any, number: Any, name: Any, air_date: Any) -> Episode:
    return Episode(count(season), count(number), text(name), text(air_date))


def build_item(
    kind: MediaKind,
    *,
    title: Any = None,
    original_title: Any = None,
    aliases: Iterable[str] = (),
    year: int | None = None,
    directors: Iterable[str] = (),
    seasons: Any = None,
    episodes: Any = None,
    episode_list: Iterable[Episode] = (),
    network: Any = None,
    genres: Iterable[str] = (),
    runtime_minutes: int | None = None,
    id_pairs: tuple[tuple[str, str], ...] = (),
) -> MediaItem | None:
    """Assemble an item, deriving what the file left out; None when it has no title."""
    if kind not in KINDS:
        return None
    main = text(title)
    original = text(original_title)
    main = main or original
    if main is None:
        return None
    known = {main.casefold(), (original or "").casefold()}
    alias_list = tuple(a for a in dedupe(aliases) if a.casefold() not in known)
    if kind == MOVIE:
        return MediaItem(
            kind=kind,
            title=main,
            original_title=original,
            aliases=alias_list,
            year=year,
            directors=dedupe(directors),
            genres=dedupe(genres),
            runtime=runtime_minutes,
            ids=id_pairs,
        )
    episode_tuple = tuple(episode_list)
    season_count = count(seasons)
    episode_count = count(episodes)
    if season_count is None and episode_tuple:
        season_count = len({e.season for e in episode_tuple if e.season}) or None
    if episode_count is None and episode_tuple:
        episode_count = sum(1 for e in episode_tuple if e.season != 0) or None
    return MediaItem(
        kind=kind,
        title=main,
        original_title=original,
        aliases=alias_list,
        year=year,
        directors=dedupe(directors),
        seasons=season_count,
        episodes=episode_count,
        episode_list=episode_tuple,
        network=text(network),
        genres=dedupe(genres),
        runtime=runtime_minutes,
        ids=id_pairs,
    )
