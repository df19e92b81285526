"""Rank titles against a query: exact, normalised, prefix/substring, then fuzzy.

A query of only an article ("the") finds titles beginning with that word; a query of one
or two letters finds titles beginning with them, never ones that merely contain them.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate, count
from operator import add
from typing import Any, Literal

from atlas_tui.media.models import MOVIE, SERIES, MediaItem, MediaKind
from atlas_tui.media.normalize import exact_key, normal_key

# rapidfuzz fuzz.ratio (Indel similarity, 0-100) of the normalised keys. 80 lets
# one wrong letter in five through ("Fargo"/"Cargo") and a swapped pair in ten
# ("Inceptoin"); it is only consulted when nothing matched any other way.
FUZZY_CUTOFF = 80.0

MatchKind = Literal["exact", "normalized", "prefix", "substring", "fuzzy"]
_TIERS: tuple[MatchKind, ...] = ("exact", "normalized", "prefix", "substring", "fuzzy")
_ARTICLES = ("the", "a", "an")
_SHORT = 2  # a query this short (normalised) is a prefix search only

# A search key: [field rank (0 title, 1 original title, 2 alias), exact key, normal key].
SearchKey = list[Any]


def search_keys(item: MediaItem) -> list[SearchKey]:
    """The keys ``item`` is found by; the title's key comes first."""
    title = item.title
    exact = exact_key(title)
    out: list[SearchKey] = [[0, exact, normal_key(title)]] if title else []
    if not (item.aliases or (item.original_title and item.original_title != title)):
        return out  # most items: one title, or the same one twice
    seen = {exact} if title else set()
    names = [(1, item.original_title), *((2, a) for a in item.aliases)]
    for rank, name in names:
        if name:
            exact = exact_key(name)
            if exact not in seen:
                seen.add(exact)
                out.append([rank, exact, normal_key(name)])
    return out


def key_table(keys: Sequence[str]) -> tuple[str, array[int]]:
    """Keys as one string, each followed by a newline (``"\\nk0\\nk1\\n"``), and where
    each starts: key ``i`` is ``text[at[i] : at[i + 1] - 1]``. One string and one array
    load from the cache as two objects instead of one per key, and ``str.find`` scans
    them at C speed."""
    text = "\n" + "\n".join(keys) + "\n" if keys else "\n"
    # Key i starts after i + 1 newlines and the keys before it: all in C, no loop here.
    lengths = accumulate(map(len, keys), initial=0)
    return text, array("q", map(add, lengths, count(1)))


@dataclass(slots=True)
class Matcher:
    """Lookup tables over groups (merged titles); built once, queried many times.

    Each search key is stored twice: exact (NFKC + casefold) and normalised, each
    kind in a :func:`key_table`, with flat arrays of the ``(group, rank)`` owning each
    key. Normalised keys never contain a newline (it is punctuation to them), so a
    substring never spans two keys; an exact key may, so exact hits are checked.
    """

    exact_text: str
    exact_at: array[int]
    exact_owners: array[int]  # (group, rank) of each exact key, flat
    firsts: array[int]  # group g owns exact keys firsts[g] .. firsts[g + 1] - 1
    normal_text: str
    normal_at: array[int]
    normal_owners: array[int]  # (group, rank) of each group's distinct normal keys
    kinds: bytes  # per group: 1 series, 0 movie
    years: array[int]  # per group: the year, 0 when unknown
    _normal_list: list[str] | None = None  # for the fuzzy tier, split on first use

    @classmethod
    def build(
        cls,
        keys: Sequence[Sequence[SearchKey]],
        kinds: list[str],
        years: list[int | None],
    ) -> Matcher:
        """Tables for groups whose search keys, kinds and years are given in order."""
        exact: list[str] = []
        exact_owners: list[int] = []
        firsts: list[int] = []
        normals: list[str] = []
        normal_owners: list[int] = []
        for group, group_keys in enumerate(keys):
            firsts.append(len(exact))
            if len(group_keys) == 1:  # most groups: one title, so nothing to dedupe
                rank, exact_text, normal_text = group_keys[0]
                exact.append(exact_text)
                exact_owners += (group, rank)
                if normal_text:
                    normals.append(normal_text.replace("\n", " "))
                    normal_owners += (group, rank)
                continue
            seen: set[str] = set()
            for rank, exact_text, normal_text in group_keys:
                exact.append(exact_text)
                exact_owners += (group, rank)
                if normal_text and normal_text not in seen:
                    seen.add(normal_text)
                    normals.append(normal_text.replace("\n", " "))  # never, but it must not
                    normal_owners += (group, rank)
        firsts.append(len(exact))
        exact_text, exact_at = key_table(exact)
        normal_text, normal_at = key_table(normals)
        return cls(
            exact_text,
            exact_at,
            array("q", exact_owners),
            array("q", firsts),
            normal_text,
            normal_at,
            array("q", normal_owners),
            bytes(kind == SERIES for kind in kinds),
            array("q", [year or 0 for year in years]),
        )

    def __len__(self) -> int:
        return len(self.kinds)

    def valid(self) -> bool:
        """Whether the tables' sizes fit together (the values are checksummed)."""
        exact, normal = len(self.exact_at) - 1, len(self.normal_at) - 1
        return (
            len(self.years) == len(self.kinds) == len(self.firsts) - 1
            and exact >= 0
            and normal >= 0
            and self.exact_at[-1] == len(self.exact_text)
            and self.normal_at[-1] == len(self.normal_text)
            and len(self.exact_owners) == 2 * exact
            and len(self.normal_owners) == 2 * normal
            and self.firsts[-1] == exact
        )

    def kind(self, group: int) -> MediaKind:
        return SERIES if self.kinds[group] else MOVIE

    def year(self, group: int) -> int | None:
        return self.years[group] or None

    def title(self, group: int) -> str:
        """The exact key of the group's first title (its main title): a tie-breaker."""
        first = self.firsts[group]
        if first == self.firsts[group + 1]:
            return ""
        return self.exact_text[self.exact_at[first] : self.exact_at[first + 1] - 1]

    def normal_keys(self) -> list[str]:
        """Every normalised key, in order (``normal_owners`` says whose)."""
        if self._normal_list is None:
            self._normal_list = self.normal_text[1:].split("\n")[:-1]
        return self._normal_list

    def match(
        self,
        query: str,
        *,
        kind: str | None = None,
        year: int | None = None,
        cutoff: float = FUZZY_CUTOFF,
    ) -> list[tuple[int, MatchKind, float]]:
        """(group, how it matched, score 0-100) for every matching group, best first."""
        exact, normal = exact_key(query), normal_key(query)
        if not exact:
            return []
        best: dict[int, tuple[Any, ...]] = {}
        kinds, years = self.kinds, self.years
        want_kind = None if kind is None else int(kind == SERIES)

        def offer(group: int, tier: int, score: float, rank: int, length: int) -> None:
            if (want_kind is not None and kinds[group] != want_kind) or (
                year is not None and (years[group] or None) != year
            ):
                return
            newest_first = -years[group]
            key = (tier, -score, rank, length, self.title(group), newest_first, group)
            if group not in best or key < best[group]:
                best[group] = key

        text, at, owners = self.exact_text, self.exact_at, self.exact_owners
        needle = f"\n{exact}\n"
        found = text.find(needle)
        while found >= 0:
            i = bisect_right(at, found + 1) - 1
            # A key with a newline in it could hold the needle; only whole keys count.
            if at[i] == found + 1 and at[i + 1] - 1 - at[i] == len(exact):
                offer(owners[2 * i], 0, 100.0, owners[2 * i + 1], 0)
            found = text.find(needle, found + 1)
        if normal in _ARTICLES or not normal:
            # Normal keys drop a leading article and punctuation, so a query of only those
            # ("the", "!!") would match nothing there: look for titles that begin with it.
            table = (self.exact_text, self.exact_at, self.exact_owners)
            self._prefix(table, exact + " " if normal in _ARTICLES else exact, offer)
        if normal and len(normal) <= _SHORT:
            # One or two letters are inside most titles: only titles beginning with them.
            self._prefix((self.normal_text, self.normal_at, self.normal_owners), normal, offer)
        elif normal and normal not in _ARTICLES:
            text, at, owners = self.normal_text, self.normal_at, self.normal_owners
            found = text.find(normal)
            while found >= 0:
                i = bisect_right(at, found) - 1
                start, length = at[i], at[i + 1] - 1 - at[i]
                if found == start and length == len(normal):
                    offer(owners[2 * i], 1, 100.0, owners[2 * i + 1], 0)
                else:
                    # find() gives the leftmost hit in the key: a prefix iff it is at 0.
                    tier = 2 if found == start else 3
                    score = round(100 * len(normal) / length, 1)
                    offer(owners[2 * i], tier, score, owners[2 * i + 1], length)
                found = text.find(normal, at[i + 1])  # the next key: one offer per key
            if not best:
                keys = self.normal_keys()
                from rapidfuzz import fuzz, process  # only when nothing else matched

                hits = process.extract(
                    normal, keys, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
                )
                for _choice, score, i in hits:
                    group, rank = owners[2 * i], owners[2 * i + 1]
                    offer(group, 4, round(score, 1), rank, len(keys[i]))
        ranked = sorted(best.values())
        return [(key[-1], _TIERS[key[0]], -key[1]) for key in ranked]

    @staticmethod
    def _prefix(
        table: tuple[str, array[int], array[int]],
        start: str,
        offer: Callable[[int, int, float, int, int], None],
    ) -> None:
        """Offer every key of ``table`` (text, starts, owners) that begins with ``start``:
        as normalised when it is all of the key, else as a prefix."""
        text, at, owners = table
        needle = "\n" + start
        found = text.find(needle)
        while found >= 0:
            i = bisect_right(at, found + 1) - 1
            length = at[i + 1] - 1 - at[i]
            if at[i] == found + 1 and length >= len(start):
                if length == len(start):
                    offer(owners[2 * i], 1, 100.0, owners[2 * i + 1], 0)
                else:
                    score = round(100 * len(start.strip()) / length, 1)
                    offer(owners[2 * i], 2, score, owners[2 * i + 1], length)
            found = text.find(needle, found + 1)
