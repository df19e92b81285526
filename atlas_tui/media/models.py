"""The immutable records a media search returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

MediaKind = Literal["movie", "series"]
MOVIE: MediaKind = "movie"
SERIES: MediaKind = "series"
KINDS: tuple[MediaKind, ...] = (MOVIE, SERIES)


@dataclass(frozen=True, slots=True)
class Episode:
    """One entry of a series' episode list; any part the file lacks is None."""

    season: int | None
    number: int | None
    name: str | None
    air_date: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "season": self.season,
            "number": self.number,
            "name": self.name,
            "air_date": self.air_date,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Episode:
        return cls(data["season"], data["number"], data["name"], data["air_date"])


@dataclass(frozen=True, slots=True)
class MediaItem:
    """A movie or series as read from one or more metadata files.

    ``ids`` holds (source, id) pairs sorted by source, e.g. ``(("imdb", "tt0133093"),)``;
    ``sources`` lists every file the item was read from. Series-only fields are empty
    for movies.
    """

    kind: MediaKind
    title: str
    original_title: str | None = None
    aliases: tuple[str, ...] = ()
    year: int | None = None
    directors: tuple[str, ...] = ()
    seasons: int | None = None
    episodes: int | None = None
    episode_list: tuple[Episode, ...] = ()
    network: str | None = None
    genres: tuple[str, ...] = ()
    runtime: int | None = None
    ids: tuple[tuple[str, str], ...] = ()
    sources: tuple[str, ...] = ()

    def id(self, source: str) -> str | None:
        """The id this item has at ``source`` ("imdb", "tmdb", "tvdb", ...), if known."""
        for name, value in self.ids:
            if name == source:
                return value
        return None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data; ``ids`` becomes an object."""
        return {
            "kind": self.kind,
            "title": self.title,
            "original_title": self.original_title,
            "aliases": list(self.aliases),
            "year": self.year,
            "directors": list(self.directors),
            "seasons": self.seasons,
            "episodes": self.episodes,
            "episode_list": [episode.to_dict() for episode in self.episode_list],
            "network": self.network,
            "genres": list(self.genres),
            "runtime": self.runtime,
            "ids": dict(self.ids),
            "sources": list(self.sources),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MediaItem:
        """Rebuild an item from :meth:`to_dict` output; missing keys take their defaults."""
        get = data.get
        return cls(
            kind=data["kind"],
            title=data["title"],
            original_title=get("original_title"),
            aliases=tuple(get("aliases", ())),
            year=get("year"),
            directors=tuple(get("directors", ())),
            seasons=get("seasons"),
            episodes=get("episodes"),
            episode_list=tuple(Episode.from_dict(e) for e in get("episode_list", ())),
            network=get("network"),
            genres=tuple(get("genres", ())),
            runtime=get("runtime"),
            ids=tuple(sorted(get("ids", {}).items())),
            sources=tuple(get("sources", ())),
        )


@dataclass(frozen=True, slots=True)
class MediaWarning:
    """A file (or folder) the search skipped or only partly read, and why."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}
