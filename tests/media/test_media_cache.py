"""The index cache: repeat searches read only what changed; a bad cache is rebuilt."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from atlas_tui.media import cache, clear_index_memory, load_index, search_media
from atlas_tui.media.data import CACHE_VERSION, IndexData

Write = Callable[[str, Any], Path]


@pytest.fixture(autouse=True, params=["deferred", "read-whole"])
def reading(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test here runs twice: with the cache file kept open and all but its first
    100 bytes read only when needed (as on POSIX, where real caches are far larger than
    the first read), and read whole at once (as on Windows)."""
    if request.param == "deferred":
        monkeypatch.setattr(cache, "HEAD_READ", 100)
    else:
        monkeypatch.setattr(cache, "KEEP_OPEN", False)
    return str(request.param)


@pytest.fixture
def three_files(write: Write) -> list[Path]:
    return [
        write("a.json", {"title": "Alien", "year": 1979}),
        write("b.json", {"title": "Aliens", "year": 1986}),
        write("c/movie.nfo", "<movie><title>Heat</title><year>1995</year></movie>"),
    ]


def only_cache_file(cache_dir: Path) -> Path:
    (found,) = (cache_dir / "media").glob("index-*")
    return found


def only_cache_file_for(cache_dir: Path, folder: Path) -> Path:
    return cache.cache_file(cache_dir, os.path.realpath(folder))


def rewrite_cache(cache_file: Path, root: Path, change: Callable[[IndexData], None]) -> None:
    """Decode the cache file, let ``change`` damage it, and write it back."""
    data = IndexData.from_bytes(cache_file.read_bytes(), os.path.realpath(root))
    assert data is not None
    change(data)
    cache_file.write_bytes(b"".join(data.to_chunks(os.path.realpath(root))))


def touch_content(path: Path, text: str) -> None:
    """Rewrite ``path`` and make sure its mtime moves even on a coarse clock."""
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


@pytest.mark.parametrize("fresh_process", [False, True], ids=["in-memory", "from-disk"])
def test_second_search_reads_only_the_changed_file(
    root: Path, three_files: list[Path], fresh_process: bool
) -> None:
    first = search_media("alien", root)
    assert (first.stats.files_read, first.stats.files_cached) == (3, 0)
    touch_content(three_files[1], '{"title": "Aliens (Special Edition)", "year": 1986}')
    if fresh_process:
        clear_index_memory()
    second = search_media("alien", root)
    assert (second.stats.files_read, second.stats.files_cached) == (1, 2)
    assert [item.title for item in second.items] == ["Alien", "Aliens (Special Edition)"]
    third = search_media("alien", root)
    assert (third.stats.files_read, third.stats.files_cached) == (0, 3)
    assert third.stats.cache_written is False


def test_unchanged_folder_is_not_read_again_from_disk_cache(
    root: Path, three_files: list[Path], isolated_cache: Path
) -> None:
    load_index(root)
    assert only_cache_file(isolated_cache).stat().st_size > 0
    clear_index_memory()
    again = load_index(root)
    assert (again.stats.files_read, again.stats.files_cached) == (0, 3)
    assert [item.title for item in again.items] == ["Alien", "Aliens", "Heat"]


def test_added_and_removed_files_are_noticed(
    root: Path, write: Write, three_files: list[Path]
) -> None:
    load_index(root)
    three_files[0].unlink()
    write("d.json", {"title": "Alien: Resurrection", "year": 1997})
    index = load_index(root)
    assert (index.stats.files_read, index.stats.files_cached) == (1, 2)
    assert [item.title for item in index.items] == ["Aliens", "Alien: Resurrection", "Heat"]


def test_corrupt_cache_is_ignored_and_rebuilt(
    root: Path, three_files: list[Path], isolated_cache: Path
) -> None:
    load_index(root)
    cache_file = only_cache_file(isolated_cache)
    good = cache_file.read_bytes()
    body = good.index(b"\n") + 1
    flipped = bytearray(good)
    flipped[body + good[body:].index(b"a.json")] ^= 0x20  # a file name, "A.json"
    garbage = [
        b"\x00\xffnot json",
        b'{"version": %d, "folder": 1}\n' % CACHE_VERSION,
        b"[]",
        b"",
        good[: len(good) // 2],  # cut short: sections run past the end
        good[:body],  # the header alone
        good.replace(b'"version":%d' % CACHE_VERSION, b'"version":1', 1),
        good.replace(b'"names":[', b'"names":[7,', 1),  # a malformed section span
        bytes(flipped),  # only the checksum can tell
    ]
    for bad in garbage:
        assert bad != good
        cache_file.write_bytes(bad)
        clear_index_memory()
        index = load_index(root)
        assert (index.stats.files_read, index.stats.cache_written) == (3, True), bad[:40]
        assert [item.title for item in index.items] == ["Alien", "Aliens", "Heat"]
        assert not index.warnings
    clear_index_memory()
    assert load_index(root).stats.files_read == 0  # and the rebuilt cache is good


def test_cache_of_another_folder_is_not_used(
    root: Path, three_files: list[Path], isolated_cache: Path, tmp_path: Path
) -> None:
    load_index(root)
    cache_file = only_cache_file(isolated_cache)
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.json").write_text('{"title": "Xanadu"}')
    load_index(other)
    (other_file,) = set((isolated_cache / "media").glob("index-*")) - {cache_file}
    cache_file.write_bytes(other_file.read_bytes())  # as if two folders hashed alike
    clear_index_memory()
    index = load_index(root)
    assert (index.stats.files_read, len(index)) == (3, 3)


def test_cache_with_mangled_records_is_rebuilt(
    root: Path, write: Write, three_files: list[Path], isolated_cache: Path
) -> None:
    load_index(root)

    def mangle(data: IndexData) -> None:
        data.records = b"[1, 2"

    rewrite_cache(only_cache_file(isolated_cache), root, mangle)
    clear_index_memory()
    write("d.json", {"title": "Alien: Resurrection"})  # forces a rebuild from the records
    index = load_index(root)
    assert (index.stats.files_read, len(index)) == (4, 4)


def test_cache_with_a_mangled_item_falls_back_to_the_file(
    root: Path, three_files: list[Path], isolated_cache: Path
) -> None:
    load_index(root)

    def mangle(data: IndexData) -> None:
        data.payload = b"x" * len(data.payload_bytes())

    rewrite_cache(only_cache_file(isolated_cache), root, mangle)
    clear_index_memory()
    result = search_media("heat", root)
    assert result.stats.files_read == 0  # the cache looked fine when loaded
    assert [(item.title, item.year) for item in result.items] == [("Heat", 1995)]


def test_cache_cut_short_after_loading_falls_back_to_the_files(
    root: Path, write: Write, three_files: list[Path], isolated_cache: Path, reading: str
) -> None:
    load_index(root)
    clear_index_memory()
    index = load_index(root)
    cache_file = only_cache_file(isolated_cache)
    with cache_file.open("r+b") as handle:  # the same file, cut in place
        handle.truncate(cache_file.stat().st_size // 2)
    assert [(i.title, i.year) for i in index.search("heat").items] == [("Heat", 1995)]
    write("d.json", {"title": "Alien: Resurrection"})  # a rebuild needs the old items
    again = load_index(root)
    expected = 4 if reading == "deferred" else 1  # read whole: nothing left to read
    assert (again.stats.files_read, len(again)) == (expected, 4)


def test_cache_replaced_after_loading_is_not_mixed_in(
    root: Path, write: Write, three_files: list[Path], isolated_cache: Path, tmp_path: Path
) -> None:
    load_index(root)
    clear_index_memory()
    index = load_index(root)  # items not read yet (when deferred)
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.json").write_text('{"title": "Xanadu"}')
    load_index(other)
    (other_file,) = set((isolated_cache / "media").glob("index-*")) - {
        only_cache_file_for(isolated_cache, root)
    }
    os.replace(other_file, only_cache_file_for(isolated_cache, root))
    assert [item.title for item in index.items] == ["Alien", "Aliens", "Heat"]


def test_cache_write_leaves_no_temp_files(
    root: Path, three_files: list[Path], isolated_cache: Path
) -> None:
    load_index(root)
    assert [p.name for p in (isolated_cache / "media").iterdir()] == [
        only_cache_file(isolated_cache).name
    ]


def test_cache_dir_argument_wins_over_environment(
    root: Path, three_files: list[Path], tmp_path: Path, isolated_cache: Path
) -> None:
    chosen = tmp_path / "chosen"
    index = load_index(root, cache_dir=chosen)
    assert index.stats.cache_written
    assert only_cache_file(chosen).exists()
    assert not isolated_cache.exists()


def test_use_cache_false_reads_everything_and_writes_nothing(
    root: Path, three_files: list[Path], isolated_cache: Path
) -> None:
    load_index(root, use_cache=False)
    again = load_index(root, use_cache=False)
    assert again.stats.files_read == 3
    assert not isolated_cache.exists()


def test_unwritable_cache_is_a_warning_not_an_error(
    root: Path, three_files: list[Path], tmp_path: Path
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache folder should be")
    result = search_media("heat", root, cache_dir=blocker)
    assert [item.title for item in result.items] == ["Heat"]
    assert [w.path.startswith(str(blocker)) for w in result.warnings] == [True]
    assert "cannot write cache" in result.warnings[0].message


def test_cached_problems_are_still_reported(root: Path, write: Write) -> None:
    broken = write("broken.json", "{")
    load_index(root)
    clear_index_memory()
    index = load_index(root)
    assert index.stats.files_read == 0
    assert [w.path for w in index.warnings] == [str(broken)]


def test_two_folders_have_separate_caches(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "m.json").write_text(f'{{"title": "Film {name}"}}')
    assert search_media("film", tmp_path / "one").items[0].title == "Film one"
    assert search_media("film", tmp_path / "two").items[0].title == "Film two"
    clear_index_memory()
    assert search_media("film", tmp_path / "one").items[0].title == "Film one"
