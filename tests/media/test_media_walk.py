"""Warm scans skip listing folders that did not change, and still notice every change.

A folder's listing is reused only when its filesystem is trusted and it was listed well
after its last change. Tests make both true on purpose: ``settled`` trusts the test's
filesystem and moves the walk's clock 10 s ahead, as if the folders were left alone
since. ``next_tick`` then waits before a change, so the change gets a newer timestamp
than the listing saw even on a filesystem with a coarse clock; that is the guarantee
the real settle delay gives.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from atlas_tui.media import clear_index_memory, load_index, search_media
from atlas_tui.media import walk as walk_module
from atlas_tui.media.walk import trusted_devices, walk

Write = Callable[[str, Any], Path]
FRESH_PROCESS = pytest.mark.parametrize(
    "fresh_process", [False, True], ids=["in-memory", "from-disk"]
)


@pytest.fixture
def listed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The folders each walk listed (rather than reusing a previous listing)."""
    calls: list[str] = []
    real_list = walk_module._list

    def counting(path: str, base: str, warnings: list[Any]) -> Any:
        calls.append(path)
        return real_list(path, base, warnings)

    monkeypatch.setattr(walk_module, "_list", counting)
    return calls


@pytest.fixture
def settled(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    device = os.stat(root).st_dev
    monkeypatch.setattr(walk_module, "trusted_devices", lambda: frozenset({device}))
    monkeypatch.setattr(walk_module, "clock", lambda: time.time_ns() + 10_000_000_000)


def next_tick() -> None:
    time.sleep(0.05)


@pytest.fixture
def library(write: Write) -> list[Path]:
    return [
        write("a.json", {"title": "Alien", "year": 1979}),
        write("shelf/b.json", '{"title": "Aliens", "year": 1986}'),
        write("shelf/deeper/c.nfo", "<movie><title>Heat</title><year>1995</year></movie>"),
    ]


def scan_again(root: Path, fresh_process: bool) -> Any:
    if fresh_process:
        clear_index_memory()
    return load_index(root)


def titles(index: Any) -> list[str]:
    return sorted(item.title for item in index.items)


@FRESH_PROCESS
def test_unchanged_settled_folders_are_not_listed_again(
    root: Path, library: list[Path], settled: None, listed: list[str], fresh_process: bool
) -> None:
    load_index(root)
    assert len(listed) == 3
    listed.clear()
    again = scan_again(root, fresh_process)
    assert listed == []
    assert (again.stats.files_read, again.stats.files_cached) == (0, 3)
    assert titles(again) == ["Alien", "Aliens", "Heat"]


def test_recently_changed_folders_are_listed_again(
    root: Path, library: list[Path], listed: list[str]
) -> None:
    load_index(root)  # the folders were made just now: a listing could miss a change
    listed.clear()
    load_index(root)
    assert len(listed) == 3


def test_folders_on_an_untrusted_filesystem_are_always_listed(
    root: Path,
    library: list[Path],
    settled: None,
    listed: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(walk_module, "trusted_devices", lambda: frozenset())
    load_index(root)
    listed.clear()
    load_index(root)
    assert len(listed) == 3


@FRESH_PROCESS
def test_file_added_in_a_settled_subfolder_is_found(
    root: Path, library: list[Path], settled: None, write: Write, fresh_process: bool
) -> None:
    load_index(root)
    next_tick()
    write("shelf/deeper/d.json", {"title": "Alien 3", "year": 1992})
    again = scan_again(root, fresh_process)
    assert (again.stats.files_read, again.stats.files_cached) == (1, 3)
    assert titles(again) == ["Alien", "Alien 3", "Aliens", "Heat"]


@FRESH_PROCESS
def test_file_removed_from_a_settled_folder_disappears(
    root: Path, library: list[Path], settled: None, fresh_process: bool
) -> None:
    assert [i.title for i in search_media("aliens", root).items] == ["Aliens"]
    next_tick()
    library[1].unlink()
    if fresh_process:
        clear_index_memory()
    result = search_media("aliens", root)
    assert [(m.item.title, m.match) for m in result.matches] == [("Alien", "fuzzy")]
    assert result.stats.files_found == 2


@FRESH_PROCESS
def test_file_renamed_in_a_settled_folder_is_followed(
    root: Path, library: list[Path], settled: None, fresh_process: bool
) -> None:
    load_index(root)
    next_tick()
    renamed = library[1].with_name("z.json")
    library[1].rename(renamed)
    again = scan_again(root, fresh_process)
    (aliens,) = [item for item in again.items if item.title == "Aliens"]
    assert aliens.sources == (str(renamed),)


@FRESH_PROCESS
def test_same_size_edit_in_place_is_noticed(
    root: Path, library: list[Path], settled: None, listed: list[str], fresh_process: bool
) -> None:
    load_index(root)
    listed.clear()
    next_tick()
    before = library[1].stat()
    library[1].write_text('{"title": "Aliant", "year": 1986}')  # same length as "Aliens"
    assert library[1].stat().st_size == before.st_size
    assert library[1].stat().st_ino == before.st_ino  # edited in place, folder untouched
    again = scan_again(root, fresh_process)
    assert listed == []  # nothing was added or removed: no folder needed listing
    assert (again.stats.files_read, again.stats.files_cached) == (1, 2)
    assert titles(again) == ["Aliant", "Alien", "Heat"]


def test_symlink_retargeted_from_file_to_folder_is_followed(
    root: Path, tmp_path: Path, write: Write, settled: None
) -> None:
    write("a.json", {"title": "Alien"})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "target").write_text("not a folder yet")
    (root / "link").symlink_to(elsewhere / "target")  # no metadata extension: not read
    assert titles(load_index(root)) == ["Alien"]
    (elsewhere / "target").unlink()  # the folder holding the link does not change
    (elsewhere / "target").mkdir()
    (elsewhere / "target" / "b.json").write_text('{"title": "Aliens"}')
    assert titles(load_index(root)) == ["Alien", "Aliens"]


def test_metadata_symlink_retargeted_to_a_folder_is_walked(
    root: Path, tmp_path: Path, settled: None
) -> None:
    target = tmp_path / "elsewhere" / "target"
    target.parent.mkdir()
    target.write_text('{"title": "Alien"}')
    (root / "linked.json").symlink_to(target)
    assert titles(load_index(root)) == ["Alien"]
    target.unlink()  # the folder holding the link does not change
    target.mkdir()
    (target / "inner.json").write_text('{"title": "Aliens"}')
    index = load_index(root)
    assert titles(index) == ["Aliens"]
    assert index.items[0].sources == (str(root / "linked.json" / "inner.json"),)
    assert not index.warnings


def test_folder_named_like_a_metadata_file_is_walked_in_name_order(
    root: Path, write: Write, settled: None
) -> None:
    write("a/x.json", {"title": "First"})
    write("b.json/x.json", {"title": "Second"})
    write("c/x.json", {"title": "Third"})
    for _ in range(2):  # listed, then reused
        assert [item.title for item in load_index(root).items] == ["First", "Second", "Third"]


def test_reused_listings_walk_exactly_like_fresh_ones(
    root: Path, library: list[Path], settled: None, write: Write
) -> None:
    write("shelf/poster.jpg", "not metadata")
    (root / "empty").mkdir()
    fresh, _ = walk(str(root))
    assert fresh.reusable() == 4
    reused, _ = walk(str(root), fresh)
    assert reused.same_files(fresh)
    assert (reused.prefixes, reused.subfolders) == (fresh.prefixes, fresh.subfolders)
    assert [reused.relpath(i) for i in range(len(reused))] == [
        "a.json",
        os.path.join("shelf", "b.json"),
        os.path.join("shelf", "deeper", "c.nfo"),
    ]


def test_cache_is_rewritten_once_when_folders_settle(
    root: Path, library: list[Path], listed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_index(root).stats.cache_written  # just made: nothing settled yet
    device = os.stat(root).st_dev
    monkeypatch.setattr(walk_module, "trusted_devices", lambda: frozenset({device}))
    monkeypatch.setattr(walk_module, "clock", lambda: time.time_ns() + 10_000_000_000)
    assert load_index(root).stats.cache_written  # now settled: worth saving once
    assert not load_index(root).stats.cache_written
    clear_index_memory()
    listed.clear()
    from_disk = load_index(root)
    assert (listed, from_disk.stats.files_read, from_disk.stats.cache_written) == ([], 0, False)


def test_file_names_that_are_not_utf8_survive_the_cache(root: Path) -> None:
    name = os.path.join(os.fsencode(root), b"caf\xe9.json")
    with open(name, "wb") as handle:
        handle.write(b'{"title": "Cafe"}')
    first = load_index(root)
    assert first.stats.cache_written
    clear_index_memory()
    again = load_index(root)
    assert again.stats.files_read == 0
    (item,) = again.items
    assert item.sources == (os.fsdecode(name),)


def test_trusted_devices_come_from_mountinfo(tmp_path: Path) -> None:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
        "27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
        "30 27 0:40 / /my\\040media rw master:2 - btrfs /dev/sdb rw\n"
        "31 27 0:41 / /cloud rw,nosuid - fuse.rclone gdrive: rw\n"
        "32 27 0:42 / /nas rw - nfs4 nas:/media rw\n"
        "33 27 0:43 / /tmp rw - tmpfs tmpfs rw\n"
        "garbage line\n"
    )
    assert trusted_devices(str(mountinfo)) == {
        os.makedev(254, 0),
        os.makedev(0, 40),
        os.makedev(0, 43),
    }
    assert trusted_devices(str(tmp_path / "missing")) == frozenset()
