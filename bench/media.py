"""Benchmark the media search on 10,000 generated metadata files of mixed formats.

Prints cold scan, warm (cached) scan, per-query time on a warm index and a whole warm
search, against a naive baseline that reads and parses every file on every search, all
in the same run. Figures only: nothing here asserts on time.

Last, `atlas find` as a process, cold (no index yet) and warm, against the naive loop run
as a process too: the goal is cold >= 1x naive (not slower), warm >= 20x.

Warm scans are measured twice. Right after the tree is built, every folder changed
moments ago, so each one is listed again (a listing is only reused once its folder has
been left alone for ``SETTLE_NS``, 2 s). Then, after waiting that long, as a library
usually is when searched: only the per-file stat() that notices edits is left.

    .venv/bin/python bench/media.py [--files 10000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from atlas_tui.media import (
    clear_index_memory,
    load_index,
    read_media_file,
    search_media,
)
from atlas_tui.media.normalize import exact_key, normal_key
from atlas_tui.media.parallel import cores
from atlas_tui.media.walk import SETTLE_NS, walk

ROOT = Path(__file__).resolve().parent.parent

WORDS = [
    "shadow",
    "river",
    "night",
    "garden",
    "empire",
    "silent",
    "golden",
    "broken",
    "winter",
    "last",
    "city",
    "ghost",
    "iron",
    "blue",
    "hidden",
    "storm",
    "glass",
    "wild",
    "crimson",
    "secret",
    "paper",
    "stone",
    "midnight",
    "northern",
    "lost",
    "fire",
    "echo",
    "velvet",
    "quiet",
    "burning",
    "ocean",
    "distant",
    "little",
    "electric",
    "hollow",
]
FORMATS = ("tmdb_movie", "tmdb_tv", "omdb", "tvmaze", "trakt", "jellyfin", "nfo", "ndjson")


def _title(rng: random.Random, n: int) -> str:
    words = rng.sample(WORDS, rng.randint(1, 3))
    return f"{rng.choice(('The ', '', ''))}{' '.join(words).title()} {n}"


def _text(rng: random.Random, words: int) -> str:
    """Filler prose, like the overviews and summaries real files carry."""
    return " ".join(rng.choices(WORDS, k=words)).capitalize() + "."


def _people(rng: random.Random, n: int, count: int, job: str) -> list[dict[str, object]]:
    return [
        {
            "adult": False,
            "gender": rng.randint(0, 2),
            "id": n * 100 + i,
            "known_for_department": job,
            "name": f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()}son",
            "original_name": f"Person {n}-{i}",
            "popularity": round(rng.random() * 30, 3),
            "profile_path": f"/{n:05d}{i:02d}abcdefghijklmnop.jpg",
            "credit_id": f"52fe4{n:05d}{i:03d}c3a36847f80{i:04d}",
            "character" if job == "Acting" else "job": f"Role {i}" if job == "Acting" else job,
            "order": i,
        }
        for i in range(count)
    ]


def _document(fmt: str, n: int, title: str, year: int, rng: random.Random) -> bytes:
    """One file shaped (and roughly sized) like what each tool writes."""
    imdb = f"tt{n:07d}"
    if fmt == "tmdb_movie":
        crew = _people(rng, n, 25, "Crew")
        crew[0]["job"] = "Director"
        data: object = {
            "adult": False,
            "backdrop_path": f"/{n:07d}backdrop.jpg",
            "budget": 1_000_000 * (n % 90),
            "genres": [{"id": 18, "name": "Drama"}, {"id": 53, "name": "Thriller"}],
            "homepage": f"https://example.com/{n}",
            "id": n,
            "imdb_id": imdb,
            "original_language": "en",
            "original_title": title,
            "overview": _text(rng, 80),
            "popularity": rng.random() * 100,
            "production_companies": [{"id": i, "name": f"Studio {i}"} for i in range(3)],
            "release_date": f"{year}-05-01",
            "runtime": 90 + n % 60,
            "status": "Released",
            "tagline": _text(rng, 8),
            "title": title,
            "vote_average": 7.1,
            "vote_count": 1234,
            "credits": {"cast": _people(rng, n, 30, "Acting"), "crew": crew},
        }
    elif fmt == "tmdb_tv":
        data = {
            "id": n,
            "name": title,
            "original_name": title,
            "overview": _text(rng, 80),
            "first_air_date": f"{year}-01-10",
            "number_of_seasons": 3,
            "number_of_episodes": 30,
            "networks": [{"id": 49, "name": "HBO", "logo_path": "/hbo.png"}],
            "created_by": [{"id": n, "name": f"Creator {n}"}],
            "seasons": [
                {"season_number": s, "episode_count": 10, "overview": _text(rng, 40)}
                for s in range(4)
            ],
            "external_ids": {"imdb_id": imdb, "tvdb_id": n},
        }
    elif fmt == "omdb":
        data = {
            "Title": title,
            "Year": str(year),
            "Rated": "R",
            "Released": f"01 May {year}",
            "Runtime": "101 min",
            "Genre": "Drama, Thriller",
            "Director": "N/A" if n % 2 else f"Director {n}",
            "Actors": ", ".join(str(p["name"]) for p in _people(rng, n, 4, "Acting")),
            "Plot": _text(rng, 60),
            "Type": "movie",
            "imdbID": imdb,
            "Ratings": [{"Source": "Internet Movie Database", "Value": "7.1/10"}],
            "Response": "True",
        }
    elif fmt == "tvmaze":
        episodes = [
            {
                "id": n * 100 + s * 10 + e,
                "url": f"https://www.tvmaze.com/episodes/{n}{s}{e}",
                "name": f"Episode {e}",
                "season": s,
                "number": e,
                "type": "regular",
                "airdate": f"{year}-0{s}-1{e % 10}",
                "airtime": "21:00",
                "runtime": 60,
                "rating": {"average": 7.5},
                "image": {"medium": f"https://img/{n}/{s}/{e}/m.jpg", "original": "o.jpg"},
                "summary": f"<p>{_text(rng, 40)}</p>",
            }
            for s in (1, 2, 3)
            for e in range(1, 9)
        ]
        data = {
            "id": n,
            "name": title,
            "type": "Scripted",
            "genres": ["Drama"],
            "premiered": f"{year}-02-01",
            "network": None,
            "webChannel": {"id": 1, "name": "Netflix"},
            "externals": {"imdb": imdb, "thetvdb": n},
            "summary": f"<p>{_text(rng, 60)}</p>",
            "_embedded": {"episodes": episodes},
        }
    elif fmt == "trakt":
        movie = {"title": title, "year": year, "ids": {"trakt": n, "slug": f"m-{n}"}}
        movie |= {"overview": _text(rng, 50), "runtime": 100, "genres": ["drama"]}
        data = [{"type": "movie", "movie": movie}]
    elif fmt == "jellyfin":
        people = [{"Name": p["name"], "Type": "Actor"} for p in _people(rng, n, 20, "Acting")]
        data = {
            "Items": [
                {
                    "Name": title,
                    "Id": f"{n:032x}",
                    "Type": "Series",
                    "Overview": _text(rng, 70),
                    "ProductionYear": year,
                    "Studios": [{"Name": "BBC", "Id": "1"}],
                    "People": people,
                    "ProviderIds": {"Imdb": imdb, "Tvdb": str(n)},
                    "ImageTags": {"Primary": f"{n:032x}"},
                }
            ]
        }
    elif fmt == "nfo":
        actors = "".join(
            f"<actor><name>{p['name']}</name><role>Role {i}</role><order>{i}</order></actor>"
            for i, p in enumerate(_people(rng, n, 15, "Acting"))
        )
        return (
            f"<?xml version='1.0' encoding='UTF-8'?>\n<movie><title>{title}</title>"
            f"<year>{year}</year><plot>{_text(rng, 80)}</plot><director>Director {n},"
            f"</director><uniqueid type='imdb'>{imdb}</uniqueid>{actors}</movie>\n"
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
            _document(fmt, ident, title, 1950 + ident % 70, rng)
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


# Run in a new interpreter: imports first, then one timed search from the disk cache.
_NEW_PROCESS = """
import sys, time
sys.path.insert(0, sys.argv[1])
from atlas_tui.media import search_media
started = time.perf_counter()
result = search_media(sys.argv[4], sys.argv[2], cache_dir=sys.argv[3])
print((time.perf_counter() - started) * 1000, result.stats.files_read)
"""


def new_process_search(query: str, root: Path, cache: Path, repeat: int) -> float:
    """Median of ``repeat`` searches, each the first one of a new Python process (its
    start-up and imports not counted), in seconds."""
    times = []
    for _ in range(repeat):
        args = [sys.executable, "-c", _NEW_PROCESS, str(ROOT), str(root), str(cache), query]
        out = subprocess.run(args, capture_output=True, text=True, check=True).stdout.split()
        assert out[1] == "0", "a new process should read nothing"
        times.append(float(out[0]) / 1000)
    return statistics.median(times)


def stat_every_file(root: Path) -> float:
    """The floor under any scan that notices in-place edits: one stat() per file."""
    paths = [os.path.join(folder, name) for folder, _d, names in os.walk(root) for name in names]
    started = time.perf_counter()
    for path in paths:
        os.stat(path)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    repeat = args.repeat
    with tempfile.TemporaryDirectory(prefix="atlas-media-bench-") as temp:
        root, cache = Path(temp, "library"), Path(temp, "cache")
        root.mkdir()
        started = time.perf_counter()
        titles = build_tree(root, args.files)
        built = time.time()
        size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
        print(
            f"built {args.files} files ({size / 1e6:.0f} MB, {size / args.files / 1e3:.1f} kB"
            f" average) in {time.perf_counter() - started:.2f} s"
        )
        typo = titles[777]
        queries = {
            "exact": titles[1234],
            "normalized": titles[4321].upper().replace(" ", "  ") + "!",
            "substring": "Velvet",
            "fuzzy": typo[:3] + typo[4] + typo[3] + typo[5:],
            "no match": "Zzyzx Qwv",
        }
        query = queries["exact"]

        def from_disk() -> object:
            clear_index_memory()  # as in a new process: nothing in memory, the cache on disk
            return load_index(root, cache_dir=cache)

        def in_memory() -> object:
            return load_index(root, cache_dir=cache)

        started = time.perf_counter()
        index = load_index(root, cache_dir=cache, use_cache=True)
        cold = time.perf_counter() - started
        print(
            f"cold scan (reads everything, writes the cache): {cold * 1000:8.1f} ms  "
            f"({index.stats.files_read} files read, {len(index)} titles)"
        )
        # Straight after the build, before the folders settle: they are listed again.
        unsettled = {
            label: timed(run, repeat)
            for label, run in (("disk cache", from_disk), ("in memory ", in_memory))
        }
        tree = load_index(root, cache_dir=cache).data.tree
        relisted = len(tree.prefixes) - tree.reusable()
        naive = timed(lambda: naive_search(query, root), repeat)
        print(f"naive baseline: read + parse every file, per search: {naive * 1000:8.1f} ms")
        print(
            f"warm scan, just after the build ({relisted} of {len(tree.prefixes)} folders"
            f" changed < {SETTLE_NS / 1e9:g} s before, so listed again):"
        )
        for label, seconds in unsettled.items():
            print(f"  {label}  {seconds * 1000:8.1f} ms  {naive / seconds:6.1f}x naive")

        wait = built + SETTLE_NS / 1e9 + 0.2 - time.time()
        if wait > 0:
            print(f"(waiting {wait:.1f} s: the library is now left alone, as usual)")
            time.sleep(wait)
        first = load_index(root, cache_dir=cache)
        print(
            f"first scan once settled: {first.stats.seconds * 1000:.1f} ms"
            f" (cache rewritten so new processes reuse listings: {first.stats.cache_written})"
        )
        print("warm scan, settled library (no folder listed again, every file stat()ed):")
        for label, run in (("disk cache", from_disk), ("in memory ", in_memory)):
            seconds = timed(run, repeat)
            print(f"  {label}  {seconds * 1000:8.1f} ms  {naive / seconds:6.1f}x naive")
        tree, _ = walk(str(root))
        walked = timed(lambda: walk(str(root), tree), repeat)
        floor = statistics.median(stat_every_file(root) for _ in range(repeat))
        print(f"  of which the walk (a stat() per file and folder): {walked * 1000:.1f} ms")
        print(f"  a bare os.stat() loop over the {args.files} files:  {floor * 1000:.1f} ms")

        index = load_index(root, cache_dir=cache)
        print("query on a warm index (median of 50):")
        for label, text in queries.items():
            per_query = timed(partial(index.search, text), 50)
            found = index.search(text)
            how = found.matches[0].match if found.matches else "-"
            print(
                f"  {label:<10} {per_query * 1000:7.3f} ms  {len(found):4d} results"
                f" (best: {how})  {text!r}"
            )

        rows: list[tuple[str, Callable[[], object] | None]] = [
            ("search_media(use_cache=False)", lambda: search_media(query, root, use_cache=False)),
            ("  the same on one core only", lambda: one_core_search(query, root)),
            ("search_media, new process", None),
            ("search_media, warm disk cache", lambda: from_disk_search(query, root, cache)),
            ("search_media, warm in memory", lambda: search_media(query, root, cache_dir=cache)),
            ("MediaIndex.search on a kept index", lambda: index.search(query)),
        ]
        naive = timed(lambda: naive_search(query, root), repeat)  # again, same conditions
        print(f"one search for {query!r}, end to end (median of {repeat}):")
        print(f"  {'naive: read + parse every file':<34} {naive * 1000:8.2f} ms")
        for label, search in rows:
            if search is None:
                seconds = new_process_search(query, root, cache, repeat)
            else:
                seconds = timed(search, repeat)
            print(f"  {label:<34} {seconds * 1000:8.2f} ms  {naive / seconds:7.1f}x naive")
        atlas_find_processes(query, root, Path(temp), repeat)


# The naive baseline as a process: walk, parse every file with the same reader, compare.
_NAIVE_PROCESS = """
import os, sys
from atlas_tui.media import read_media_file
from atlas_tui.media.normalize import exact_key, normal_key
exact, normal = exact_key(sys.argv[2]), normal_key(sys.argv[2])
hits = [item.title for folder, _d, files in os.walk(sys.argv[1]) for name in files
        if name.endswith((".json", ".ndjson", ".nfo"))
        for item in read_media_file(os.path.join(folder, name)).items
        if exact_key(item.title) == exact or normal in normal_key(item.title)]
print(len(hits))
"""


def atlas_find_processes(query: str, root: Path, temp: Path, repeat: int) -> None:
    """`atlas find` as users run it, cold (no index yet: a new cache folder each time) and
    warm, against the naive loop run as a process, all whole processes."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE",)}
    atlas = str(Path(sys.executable).parent / "atlas")

    cpu: dict[str, list[float]] = {}

    def process(command: list[str], cache: Path, label: str = "") -> float:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, check=True,
                       env={**env, "ATLAS_CACHE_DIR": str(cache)})  # fmt: skip
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # workers included: joined
        used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        cpu.setdefault(label, []).append(used / wall)
        return wall

    find = [atlas, "find", query, "--dir", str(root)]
    naive_command = [sys.executable, "-c", _NAIVE_PROCESS, str(root), query]
    process(naive_command, temp / "unused")  # warm the page cache and the .pyc files
    naive, cold, warm = [], [], []
    for run in range(repeat):
        naive.append(process(naive_command, temp / "unused", "naive"))
        cold.append(process(find, temp / f"cold-{run}", "cold"))
        warm.append(process(find, temp / "cold-0", "warm"))
    base = statistics.median(naive)
    load = os.getloadavg()[0]  # other work on the machine leaves fewer cores to use
    print(f"atlas find as a process, {query!r} (median of {repeat}, one per core: {cores()},")
    print(f"  load average {load:.2f};")
    print("  cores busy = CPU time of the process and its workers / wall time):")
    busy = statistics.median(cpu["naive"])
    label = "naive loop, as a process"
    print(f"  {label:<34} {base * 1000:8.1f} ms  {'':17}  cores busy {busy:.2f}")
    for label, times in (("cold: no index yet", cold), ("warm: index cached", warm)):
        seconds = statistics.median(times)
        busy = statistics.median(cpu[label.split(":")[0]])
        print(
            f"  {label:<34} {seconds * 1000:8.1f} ms  naive/this {base / seconds:5.2f}x"
            f"  cores busy {busy:.2f}"
        )


def one_core_search(query: str, root: Path) -> object:
    """A first search with no workers: what it costs when no other core is free."""
    return load_index(root, use_cache=False, processes=1).search(query)


def from_disk_search(query: str, root: Path, cache: Path) -> object:
    clear_index_memory()
    return search_media(query, root, cache_dir=cache)


if __name__ == "__main__":
    main()
