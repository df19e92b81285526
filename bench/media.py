"""Benchmark the media search on 10,000 generated metadata files of mixed formats.

Prints cold scan, warm (cached) scan, per-query time on a warm index and a whole warm
search, against a naive baseline that reads and parses every file on every search.
Figures only: nothing here asserts on time.

    .venv/bin/python bench/media.py [--files 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from atlas_tui.media import load_index, read_media_file, search_media  # noqa: E402
from atlas_tui.media.normalize import exact_key, normal_key  # noqa: E402

WORDS = (
    "shadow river night garden empire silent golden broken winter last city ghost iron "
    "blue hidden storm glass wild crimson secret paper stone midnight northern lost fire "
    "echo velvet quiet burning ocean distant little electric hollow"
).split()
FORMATS = ("tmdb_movie", "tmdb_tv", "omdb", "tvmaze", "trakt", "jellyfin", "nfo", "ndjson")


def _title(rng: random.Random, n: int) -> str:
    words = rng.sample(WORDS, rng.randint(1, 3))
    return f"{rng.choice(('The ', '', ''))}{' '.join(words).title()} {n}"


def _document(fmt: str, n: int, title: str, year: int) -> bytes:
    imdb = f"tt{n:07d}"
    if fmt == "tmdb_movie":
        data: object = {
            "id": n,
            "imdb_id": imdb,
            "title": title,
            "original_title": title,
            "release_date": f"{year}-05-01",
            "runtime": 90 + n % 60,
            "genres": [{"id": 18, "name": "Drama"}],
            "credits": {"crew": [{"name": f"Director {n}", "job": "Director"}]},
        }
    elif fmt == "tmdb_tv":
        data = {
            "id": n,
            "name": title,
            "original_name": title,
            "first_air_date": f"{year}-01-10",
            "number_of_seasons": 3,
            "number_of_episodes": 30,
            "networks": [{"name": "HBO"}],
            "seasons": [{"season_number": s, "episode_count": 10} for s in range(4)],
            "external_ids": {"imdb_id": imdb},
        }
    elif fmt == "omdb":
        data = {
            "Title": title,
            "Year": str(year),
            "Director": "N/A" if n % 2 else f"Director {n}",
            "Type": "movie",
            "Runtime": "101 min",
            "imdbID": imdb,
            "Response": "True",
        }
    elif fmt == "tvmaze":
        episodes = [
            {"season": s, "number": e, "name": f"Episode {e}", "airdate": f"{year}-02-0{e}"}
            for s in (1, 2)
            for e in range(1, 6)
        ]
        data = {
            "id": n,
            "name": title,
            "premiered": f"{year}-02-01",
            "network": None,
            "webChannel": {"name": "Netflix"},
            "externals": {"imdb": imdb},
            "_embedded": {"episodes": episodes},
        }
    elif fmt == "trakt":
        data = [{"type": "movie", "movie": {"title": title, "year": year, "ids": {"trakt": n}}}]
    elif fmt == "jellyfin":
        data = {
            "Items": [
                {
                    "Name": title,
                    "Type": "Series",
                    "ProductionYear": year,
                    "Studios": [{"Name": "BBC"}],
                    "ProviderIds": {"Imdb": imdb},
                }
            ]
        }
    elif fmt == "nfo":
        return (
            f"<?xml version='1.0' encoding='UTF-8'?>\n<movie><title>{title}</title>"
            f"<year>{year}</year><director>Director {n},</director>"
            f"<uniqueid type='imdb'>{imdb}</uniqueid></movie>\n"
        ).encode()
    else:
        lines = [{"title": title, "year": year, "kind": "movie", "imdb": imdb}]
        lines.append({"title": f"{title} Returns", "year": year + 2, "kind": "movie"})
        return b"\n".join(orjson.dumps(line) for line in lines) + b"\n"
    return orjson.dumps(data)


def build_tree(root: Path, count: int) -> list[str]:
    """``count`` files in 100 folders; every 20th repeats an earlier title (a duplicate)."""
    rng = random.Random(42)
    titles: list[str] = []
    for n in range(count):
        fmt = FORMATS[n % len(FORMATS)]
        dup = n % 20 == 19
        title = titles[n - 7] if dup else _title(rng, n)
        ident = n - 7 if dup else n
        folder = root / f"shelf{n % 100:02d}"
        folder.mkdir(exist_ok=True)
        ext = ".nfo" if fmt == "nfo" else ".ndjson" if fmt == "ndjson" else ".json"
        (folder / f"{fmt}-{n:05d}{ext}").write_bytes(
            _document(fmt, ident, title, 1950 + ident % 70)
        )
        titles.append(title)
    return titles


def naive_search(query: str, root: Path) -> list[str]:
    """The baseline: read and parse every file, compare every title, on every search."""
    exact, normal = exact_key(query), normal_key(query)
    hits = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith((".json", ".ndjson", ".nfo")):
                for item in read_media_file(os.path.join(folder, name)).items:
                    key = item.title
                    if exact_key(key) == exact or normal in normal_key(key):
                        hits.append(key)
    return hits


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atlas-media-bench-") as temp:
        root, cache = Path(temp, "library"), Path(temp, "cache")
        root.mkdir()
        started = time.perf_counter()
        titles = build_tree(root, args.files)
        print(f"built {args.files} files in {time.perf_counter() - started:.2f} s")
        queries = {
            "exact": titles[1234],
            "normalized": titles[4321].upper().replace(" ", "  ") + "!",
            "substring": "Velvet",
            "fuzzy": titles[777].replace(" ", "")[:-1] + "x",
            "no match": "Zzyzx Qwv",
        }

        started = time.perf_counter()
        index = load_index(root, cache_dir=cache)
        cold = time.perf_counter() - started
        print(
            f"cold scan  : {cold * 1000:8.1f} ms  ({index.stats.files_read} files read, "
            f"{len(index)} titles, {len(index.warnings)} warnings)"
        )
        warm = timed(lambda: load_index(root, cache_dir=cache), args.repeat)
        print(f"warm scan  : {warm * 1000:8.1f} ms  (all {args.files} files from cache)")
        print(f"cold / warm: {cold / warm:8.1f}x")

        print("query on a warm index (median of 50):")
        for label, query in queries.items():
            per_query = timed(lambda q=query: index.search(q), 50)
            found = len(index.search(query))
            print(f"  {label:<10} {per_query * 1000:8.3f} ms  {found:5d} results  {query!r}")

        query = queries["exact"]
        naive = timed(lambda: naive_search(query, root), args.repeat)
        no_cache = timed(lambda: search_media(query, root, use_cache=False), args.repeat)
        warm_search = timed(lambda: search_media(query, root, cache_dir=cache), args.repeat)
        index_search = timed(lambda: index.search(query), 50)
        print(f"naive search (read+parse every file): {naive * 1000:8.1f} ms")
        print(f"search_media, use_cache=False       : {no_cache * 1000:8.1f} ms")
        print(
            f"search_media, warm cache            : {warm_search * 1000:8.1f} ms"
            f"  -> {naive / warm_search:6.1f}x faster than naive"
        )
        print(
            f"MediaIndex.search, index in memory  : {index_search * 1000:8.3f} ms"
            f"  -> {naive / index_search:6.0f}x faster than naive"
        )


if __name__ == "__main__":
    main()
