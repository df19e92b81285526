"""`atlas find` and `AtlasAPI.find_media` over real metadata files."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from support import run_atlas

from atlas_tui.api import AtlasAPI
from atlas_tui.media import DEMO_DIR


@pytest.fixture
def library(tmp_path: Path) -> Path:
    folder = tmp_path / "library"
    (folder / "tmdb").mkdir(parents=True)
    (folder / "tmdb" / "bb.json").write_text(
        json.dumps(
            {
                "id": 1396,
                "name": "Breaking Bad",
                "original_name": "Breaking Bad",
                "first_air_date": "2008-01-20",
                "number_of_seasons": 5,
                "number_of_episodes": 62,
                "networks": [{"name": "AMC"}],
                "seasons": [{"season_number": n} for n in range(6)],
            }
        )
    )
    (folder / "movies.json").write_text(
        json.dumps(
            {
                "movies": [
                    {
                        "title": "[red]Heat[/red] \u001b[31m",
                        "year": 1995,
                        "director": "Michael Mann",
                    },
                    {"title": "Heat", "year": 1986},
                ]
            }
        )
    )
    (folder / "broken.json").write_text("{ not json")
    return folder


def test_find_prints_a_table_and_exits_0(library: Path) -> None:
    result = run_atlas("find", "breaking bad", "--dir", str(library))
    assert result.code == 0, result.err
    assert "Breaking Bad" in result.out and "AMC" in result.out and "5/62" in result.out
    assert "broken.json" in result.err and result.err.startswith("warning: skipped")
    assert max(len(line) for line in result.out.splitlines()) <= 80


def test_find_json_is_the_list_of_results_best_first(library: Path) -> None:
    result = run_atlas("find", "heat", "--dir", str(library), "--json")
    assert result.code == 0
    found = json.loads(result.out)
    assert [(r["title"], r["year"]) for r in found] == [
        ("Heat", 1986),
        ("[red]Heat[/red] \x1b[31m", 1995),
    ]
    assert found[0]["match"] == "exact" and found[0]["sources"][0].endswith("movies.json")
    filtered = json.loads(
        run_atlas("find", "heat", "--dir", str(library), "--year", "1995", "--json").out
    )
    assert [r["year"] for r in filtered] == [1995]
    limited = json.loads(
        run_atlas("find", "heat", "--dir", str(library), "--limit", "1", "--json").out
    )
    assert len(limited) == 1
    series = run_atlas("find", "heat", "--dir", str(library), "--kind", "series", "--json")
    assert series.code == 1 and json.loads(series.out) == []


def test_titles_are_shown_literally(library: Path) -> None:
    result = run_atlas("find", "heat", "--dir", str(library), "--year", "1995")
    assert "[red]Heat[/red]" in result.out and "\x1b[31m" not in result.out
    assert "\\x1b[31m" in result.out


def test_no_match_and_missing_folder_exit_1(library: Path, tmp_path: Path) -> None:
    none = run_atlas("find", "Zzyzx", "--dir", str(library))
    assert none.code == 1 and "no match for 'Zzyzx'" in none.err and none.out == ""
    as_json = run_atlas("find", "Zzyzx", "--dir", str(library), "--json")
    assert as_json.code == 1 and json.loads(as_json.out) == []
    missing = run_atlas("find", "x", "--dir", str(tmp_path / "nope"))
    assert missing.code == 1 and "media folder not found" in missing.err
    assert str(tmp_path / "nope") in missing.err and "Traceback" not in missing.err
    unset = run_atlas("find", "x")
    assert unset.code == 1 and "ATLAS_MEDIA_DIR" in unset.err
    bad_kind = run_atlas("find", "x", "--kind", "opera", "--dir", str(library))
    assert bad_kind.code == 2


def test_media_dir_from_the_environment_and_the_demo_folder() -> None:
    result = run_atlas("find", "breaking bad", "--json", env={"ATLAS_MEDIA_DIR": str(DEMO_DIR)})
    [best, *_] = json.loads(result.out)
    assert (best["title"], best["kind"], best["year"], best["network"]) == (
        "Breaking Bad",
        "series",
        2008,
        "AMC",
    )


def test_api_find_media_envelope(library: Path, tmp_path: Path) -> None:
    api = AtlasAPI(tmp_path / "atlas.json")
    found = api.find_media("Breaking Bad", library)
    assert found["success"] is True
    assert found["results"][0]["seasons"] == 5
    assert [w["path"] for w in found["warnings"]] == [str(library / "broken.json")]
    assert api.find_media("nothing like it", library) == {
        "success": True,
        "results": [],
        "warnings": found["warnings"],
    }
    missing = api.find_media("x", tmp_path / "nope")
    assert missing["success"] is False and missing["error_type"] == "not_found"
    assert api.find_media("x", library, kind="opera")["error_type"] == "validation"
    assert api.find_media("x", library, limit=0)["error_type"] == "validation"


def test_parsing_in_a_pool_of_processes_finds_exactly_what_one_process_finds(
    library: Path, tmp_path: Path
) -> None:
    """The demo folder and the test library, copied often enough that several workers
    share the files: the same titles, sources, order and warnings."""
    from atlas_tui.media import load_index
    from atlas_tui.media.parallel import CHUNK_FILES

    folder = tmp_path / "all"
    for copy in range(20):
        for source in (DEMO_DIR, library):
            for path in source.rglob("*"):
                if path.is_file():
                    target = folder / f"{copy:02d}" / source.name / path.relative_to(source)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(path.read_bytes())
    (folder / "broken.json").write_text("{not json")
    one = load_index(folder, use_cache=False, processes=1)
    pooled = load_index(folder, use_cache=False, processes=2)
    assert one.stats.files_read == pooled.stats.files_read > 2 * CHUNK_FILES
    for query in ("heat", "breaking bad", "the", "alien"):
        assert [(m.item.to_dict(), m.match, m.score) for m in one.search(query).matches] == [
            (m.item.to_dict(), m.match, m.score) for m in pooled.search(query).matches
        ]
    assert [w.to_dict() for w in one.warnings] == [w.to_dict() for w in pooled.warnings]
    assert any("broken.json" in w.path for w in pooled.warnings)


def _every_shape(folder: Path, copies: int) -> None:
    """The demo folder (every format) and files of every awkward shape, ``copies`` times
    over, plus one of each kind of file that cannot be read at all."""
    odd: dict[str, bytes] = {
        "bom.json": b'\xef\xbb\xbf{"title": "Alien"}',
        "nbsp.json": '\u00a0{"title": "Alien"}'.encode(),
        "spaced.json": b'  \n\t{"title": "Spaced", "year": 1979}  \n',
        "latin1.nfo": "<movie><title>Am\u00e9lie</title></movie>".encode("latin-1"),
        "latin1.json": '{"title": "Am\u00e9lie"}'.encode("latin-1"),
        "empty.json": b"",
        "blank.json": b"   \n  ",
        "url.nfo": b"https://www.themoviedb.org/movie/603\n",
        "url-after.nfo": b"<movie><title>Matrix</title></movie>\nhttps://tmdb.org/movie/603\n",
        "doctype.nfo": b'<!DOCTYPE movie [<!ENTITY x "y">]><movie><title>&x;</title></movie>',
        "bom.nfo": b"\xef\xbb\xbf<tvshow><title>Bom Show</title><season>2</season></tvshow>",
        "partial.ndjson": b'{"title":"Partial","year":2000}\n{bad\n{"title":"Second"}\n',
        "broken.ndjson": b'{\n"title": 1,\n',
        "crlf.ndjson": b'{"title":"Crlf One"}\r\n{"title":"Crlf Two"}\r\n',
        "list.json": b'[{"title":"Listed","year":1990},{"title":"Listed Show","kind":"series"}]',
        "prose.json": b"hello world",
        "number.json": b"42",
        "trailing.json": b'{"title":"Trailing"} more',
        "surrogate.json": b'{"title": "\\ud800x"}',
        "deep.json": b"[" * 10 + b'{"title":"Deep"}' + b"]" * 10,
        "accents.json": '{"title":"  Am\u00e9lie & Co.  ","aliases":["\ufb01lm"]}'.encode(),
        "big.json": b'{"title": "Big", "plot": "' + b"x" * 20_000 + b'"}',
    }
    for copy in range(copies):
        shelf = folder / f"{copy:02d}"
        for path in DEMO_DIR.rglob("*"):
            if path.is_file():
                target = shelf / "demo" / path.relative_to(DEMO_DIR)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(path.read_bytes())
        (shelf / "odd").mkdir()
        for name, data in odd.items():
            (shelf / "odd" / name).write_bytes(data)
    (folder / "linked-file.json").symlink_to(folder / "00" / "odd" / "list.json")
    (folder / "linked-folder").symlink_to(folder / "01" / "demo", target_is_directory=True)
    (folder / "dangling.json").symlink_to(folder / "missing.json")
    os.mkfifo(folder / "pipe.json")
    # Opens for anyone (root too) but every read fails: an unreadable file, never cached.
    (folder / "unreadable.json").symlink_to("/proc/self/mem")


def _seen(index: Any) -> tuple[Any, ...]:
    """Everything a search of ``index`` shows: results, warnings and counts."""
    queries = ("heat", "breaking bad", "the", "alien", "amelie", "listed", "crlf", "matrx")
    return (
        [[(m.item.to_dict(), m.match, m.score) for m in index.search(q).matches] for q in queries],
        [item.to_dict() for item in index.items],
        [w.to_dict() for w in index.warnings],
        (index.stats.files_found, index.stats.files_read, index.stats.files_skipped),
    )


def test_every_file_shape_reads_the_same_in_one_process_and_in_a_pool(tmp_path: Path) -> None:
    """Cold scans (no index, with and without a cache to write) in one process and with
    one or two workers, and a rescan after an edit, see exactly the same."""
    from atlas_tui.media import clear_index_memory, load_index
    from atlas_tui.media.parallel import CHUNK_FILES

    folder = tmp_path / "all"
    _every_shape(folder, copies=8)
    limit = 0.015625  # MB, 16 KiB: big.json is skipped for its size
    one = load_index(folder, use_cache=False, processes=1, max_file_mb=limit)
    assert one.stats.files_read > 3 * CHUNK_FILES
    warned = {Path(w.path).name: w.message for w in one.warnings}
    assert warned["pipe.json"] == "not a regular file"
    assert warned["unreadable.json"].startswith("cannot read")
    assert warned["dangling.json"].startswith("cannot read")
    assert "over the 0.015625 MB limit" in warned["big.json"]
    assert "not UTF-8" in warned["latin1.json"] and "DOCTYPE" in warned["doctype.nfo"]
    expected = _seen(one)
    for processes in (2, 3):
        clear_index_memory()
        pooled = load_index(folder, use_cache=False, processes=processes, max_file_mb=limit)
        assert _seen(pooled) == expected, processes
        cache = tmp_path / f"cache-{processes}"
        cached = load_index(folder, cache_dir=cache, processes=processes, max_file_mb=limit)
        assert _seen(cached) == expected, processes
    # From a thread (as the app searches), workers are fresh interpreters, not forks.
    found: list[Any] = []
    thread = threading.Thread(
        target=lambda: found.append(
            load_index(folder, use_cache=False, processes=2, max_file_mb=limit)
        )
    )
    thread.start()
    thread.join()
    assert _seen(found[0]) == expected
    # An edit: the index on disk is reused for every other file, the rest read again.
    edited = folder / "00" / "odd" / "spaced.json"
    edited.write_bytes(b'{"title": "Spaced", "year": 1979, "runtime": 90}')
    clear_index_memory()
    again = load_index(folder, cache_dir=cache, processes=2, max_file_mb=limit)
    one_again = load_index(folder, use_cache=False, processes=1, max_file_mb=limit)
    assert _seen(again)[:3] == _seen(one_again)[:3] != expected[:3]
    assert again.stats.files_cached > 0


def test_a_worker_killed_mid_scan_costs_only_time(tmp_path: Path) -> None:
    """Its chunks are read by the scanning process instead: the same results."""
    import multiprocessing
    import signal

    from atlas_tui.media import load_index

    folder = tmp_path / "all"
    _every_shape(folder, copies=8)
    expected = _seen(load_index(folder, use_cache=False, processes=1))
    killed: list[int] = []

    def kill_workers(done: int, total: int) -> None:
        for child in multiprocessing.active_children():
            if child.pid is not None and child.pid not in killed:
                os.kill(child.pid, signal.SIGKILL)
                killed.append(child.pid)

    pooled = load_index(folder, use_cache=False, processes=3, on_progress=kill_workers)
    assert len(killed) == 2
    assert _seen(pooled) == expected
