"""What a scan and a search hand back: matches, warnings and counters, all plain data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from atlas_tui.media.matching import MatchKind
from atlas_tui.media.models import MediaItem, MediaWarning


@dataclass(frozen=True, slots=True)
class ScanStats:
    """Counters of one scan: how many files were found, parsed, reused from the cache
    and skipped, how many titles resulted, and whether the cache file was rewritten."""

    files_found: int = 0
    files_read: int = 0
    files_cached: int = 0
    files_skipped: int = 0
    items: int = 0
    cache_written: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "files_found": self.files_found,
            "files_read": self.files_read,
            "files_cached": self.files_cached,
            "files_skipped": self.files_skipped,
            "items": self.items,
            "cache_written": self.cache_written,
            "seconds": self.seconds,
        }


@dataclass(frozen=True, slots=True)
class MediaMatch:
    """One result: the item, how it matched (exact, normalized, prefix, substring,
    fuzzy) and a 0-100 score (share of the title covered, or fuzzy similarity)."""

    item: MediaItem
    match: MatchKind
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"match": self.match, "score": self.score, "item": self.item.to_dict()}


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Ranked matches, best first, plus every file that was skipped or partly read."""

    query: str
    matches: tuple[MediaMatch, ...]
    warnings: tuple[MediaWarning, ...]
    stats: ScanStats

    @property
    def items(self) -> tuple[MediaItem, ...]:
        return tuple(match.item for match in self.matches)

    @property
    def best(self) -> MediaItem | None:
        return self.matches[0].item if self.matches else None

    def __len__(self) -> int:
        return len(self.matches)

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "matches": [match.to_dict() for match in self.matches],
            "warnings": [warning.to_dict() for warning in self.warnings],
            "stats": self.stats.to_dict(),
        }
