"""Kodi/Jellyfin ``.nfo`` XML with a ``<movie>`` or ``<tvshow>`` root."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from atlas_tui.media.adapters._common import build_item, count, ids, names, runtime, text
from atlas_tui.media.models import MOVIE, SERIES, MediaItem, MediaKind
from atlas_tui.media.years import parse_year

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

_ROOTS: dict[str, MediaKind] = {"movie": MOVIE, "tvshow": SERIES}
_FIRST_TAG = re.compile(r"<(?![?!])\s*([A-Za-z_][\w.:-]*)")
_DECLARATION = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_URL = re.compile(r"^(?:https?|ftp)://\S+$", re.IGNORECASE)


class NfoError(ValueError):
    """The .nfo looks like XML but cannot be read safely; the message says why."""


def is_url_only(content: str) -> bool:
    """Kodi lets an .nfo hold just a scraper URL; such a file has nothing to read."""
    lines = [line.strip() for line in content.splitlines() if line.strip()]
    return bool(lines) and all(_URL.match(line) for line in lines)


def parse_nfo(content: str) -> list[MediaItem]:
    """The movie or series in an .nfo document; other roots (episodes, music) give []."""
    first = _FIRST_TAG.search(content)
    if first is None:
        raise NfoError("no XML element found")
    kind = _ROOTS.get(first.group(1).lower())
    if kind is None:
        return []
    # Entity declarations are how XML bombs and external-entity reads start; Kodi never
    # writes them, so refusing the document outright costs nothing legitimate.
    if _DECLARATION.search(content):
        raise NfoError("refused: XML with a DOCTYPE or ENTITY declaration")
    close = f"</{first.group(1)}>"
    end = content.rfind(close)
    if end >= 0:  # Kodi allows a scraper URL after the XML; ElementTree does not.
        content = content[: end + len(close)]
    import xml.etree.ElementTree as ET  # only libraries with .nfo files need it

    try:
        root = ET.fromstring(content[first.start() :])
    except ET.ParseError as exc:
        raise NfoError(f"invalid XML: {exc}") from None
    return [item] if (item := _item(root, kind)) else []


def _values(root: ET.Element, tag: str) -> list[str]:
    return [value for e in root.findall(tag) if (value := text(e.text)) is not None]


def _first(root: ET.Element, *tags: str) -> str | None:
    for tag in tags:
        found = _values(root, tag)
        if found:
            return found[0]
    return None


def _item(root: ET.Element, kind: MediaKind) -> MediaItem | None:
    id_pairs = [(e.get("type") or "", e.text) for e in root.findall("uniqueid")]
    id_pairs += [(tag, _first(root, tag)) for tag in ("imdbid", "tmdbid", "tvdbid", "imdb")]
    legacy = _first(root, "id")
    # Old scrapers wrote a bare <id>: an IMDb id for movies, a TVDB id for shows.
    if legacy and legacy.startswith("tt"):
        id_pairs.append(("imdb", legacy))
    elif legacy and kind == SERIES:
        id_pairs.append(("tvdb", legacy))
    date = _first(root, "premiered", "aired", "releasedate")
    return build_item(
        kind,
        title=_first(root, "title"),
        original_title=_first(root, "originaltitle"),
        year=parse_year(_first(root, "year")) or parse_year(date),
        directors=[name for value in _values(root, "director") for name in names(value)],
        seasons=count(_first(root, "season")),
        episodes=count(_first(root, "episode")),
        network=_first(root, "studio"),
        genres=[name for value in _values(root, "genre") for name in names(value, split=" / ")],
        runtime_minutes=runtime(_first(root, "runtime")),
        id_pairs=ids(id_pairs),
    )
