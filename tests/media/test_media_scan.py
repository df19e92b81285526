"""Scanning a folder: bad files are skipped with a warning naming them, never fatal."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from atlas_tui.media import MediaDirError, load_index, search_media

Write = Callable[[str, Any], Path]
GOOD = {"title": "Alien", "year": 1979}


def warned(index_warnings: tuple[Any, ...]) -> dict[str, str]:
    return {w.path: w.message for w in index_warnings}


def test_missing_folder_raises_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(MediaDirError, match="not found") as caught:
        search_media("alien", missing)
    assert str(missing) in str(caught.value)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_a_file_is_not_a_folder(tmp_path: Path) -> None:
    file = tmp_path / "movie.json"
    file.write_text("{}")
    with pytest.raises(MediaDirError, match="not a folder"):
        load_index(file)


def test_empty_folder_finds_nothing(root: Path) -> None:
    result = search_media("alien", root)
    assert (result.matches, result.warnings, result.stats.files_found) == ((), (), 0)


def test_broken_json_beside_good_files(root: Path, write: Write) -> None:
    write("a.json", GOOD)
    broken = write("b.json", '{"title": "Aliens", "year": 19')
    write("c.json", {"title": "Alien 3", "year": 1992})
    result = search_media("alien", root)
    assert [item.title for item in result.items] == ["Alien", "Alien 3"]
    assert list(warned(result.warnings)) == [str(broken)]
    assert "invalid JSON" in result.warnings[0].message
    assert result.stats.files_skipped == 1


def test_ndjson_with_a_bad_line_keeps_the_good_lines(root: Path, write: Write) -> None:
    path = write("x.ndjson", '{"title": "Alien"}\n{oops\n{"title": "Aliens"}\n')
    index = load_index(root)
    assert sorted(item.title for item in index.items) == ["Alien", "Aliens"]
    assert warned(index.warnings) == {
        str(path): "skipped 1 invalid NDJSON line(s), first at line 2"
    }


def test_non_utf8_file_is_skipped(root: Path, write: Write) -> None:
    write("good.json", GOOD)
    bad = root / "latin1.nfo"
    bad.write_bytes("<movie><title>Amélie</title></movie>".encode("latin-1"))
    index = load_index(root)
    assert [item.title for item in index.items] == ["Alien"]
    assert "not UTF-8" in warned(index.warnings)[str(bad)]


def test_empty_file_is_reported(root: Path, write: Write) -> None:
    empty = write("empty.json", "")
    assert warned(load_index(root).warnings) == {str(empty): "empty file"}


def test_utf8_bom_is_accepted(root: Path) -> None:
    (root / "bom.json").write_bytes(b'\xef\xbb\xbf{"title": "Alien"}')
    assert [item.title for item in load_index(root).items] == ["Alien"]


def test_file_over_the_size_limit_is_skipped_without_reading(root: Path, write: Write) -> None:
    write("good.json", GOOD)
    big = root / "huge.json"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: instant, and it is never read
    index = load_index(root)
    assert [item.title for item in index.items] == ["Alien"]
    message = warned(index.warnings)[str(big)]
    assert "50.0 MB is over the 20 MB limit" in message
    assert (index.stats.files_read, index.stats.files_skipped) == (1, 1)


def test_size_limit_from_environment_and_argument(
    root: Path, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    write("small.json", GOOD)
    write("bigger.json", {"title": "Aliens", "plot": "x" * 3000})
    monkeypatch.setenv("ATLAS_MEDIA_MAX_FILE_MB", "0.002")
    assert [item.title for item in load_index(root).items] == ["Alien"]
    both = load_index(root, max_file_mb=1)
    assert sorted(item.title for item in both.items) == ["Alien", "Aliens"]


@pytest.mark.parametrize("value", ["lots", "0", "-5", "nan"])
def test_bad_size_limit_is_a_config_error(
    root: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    from atlas_tui.media import MediaConfigError

    monkeypatch.setenv("ATLAS_MEDIA_MAX_FILE_MB", value)
    with pytest.raises(MediaConfigError, match="ATLAS_MEDIA_MAX_FILE_MB"):
        load_index(root)


def test_symlink_loop_is_walked_once(root: Path, write: Write) -> None:
    write("shelf/a.json", GOOD)
    (root / "shelf" / "loop").symlink_to(root, target_is_directory=True)
    (root / "self").symlink_to(".", target_is_directory=True)
    index = load_index(root)
    (item,) = index.items
    assert item.sources == (str(root / "shelf" / "a.json"),)
    assert index.stats.files_found == 1


def test_symlinked_folder_elsewhere_is_followed(tmp_path: Path, root: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "b.json").write_text('{"title": "Aliens", "year": 1986}')
    (root / "linked").symlink_to(elsewhere, target_is_directory=True)
    (item,) = load_index(root).items
    assert item.sources == (str(root / "linked" / "b.json"),)


def test_dangling_symlink_is_reported(root: Path, write: Write) -> None:
    write("good.json", GOOD)
    dangling = root / "gone.json"
    dangling.symlink_to(root / "missing.json")
    index = load_index(root)
    assert [item.title for item in index.items] == ["Alien"]
    assert "cannot read" in warned(index.warnings)[str(dangling)]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_reported(root: Path, write: Write) -> None:
    write("good.json", GOOD)
    locked = write("locked.json", GOOD)
    locked.chmod(0)
    index = load_index(root)
    assert "cannot read" in warned(index.warnings)[str(locked)]


def test_fifo_is_not_read(root: Path, write: Write) -> None:
    write("good.json", GOOD)
    fifo = root / "pipe.json"
    os.mkfifo(fifo)
    index = load_index(root)  # would hang if the FIFO were opened
    assert warned(index.warnings) == {str(fifo): "not a regular file"}


def test_only_metadata_extensions_are_read(root: Path, write: Write) -> None:
    write("notes.txt", '{"title": "Alien"}')
    write("Movie.JSON", {"title": "Aliens"})
    assert [item.title for item in load_index(root).items] == ["Aliens"]


def test_warnings_are_logged_not_printed(
    root: Path, write: Write, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = write("broken.json", "{")
    with caplog.at_level(logging.WARNING, logger="atlas_tui.media"):
        load_index(root)
    assert any(str(broken) in record.getMessage() for record in caplog.records)
    assert capsys.readouterr() == ("", "")


def test_progress_hook_reports_done_and_total(root: Path, write: Write) -> None:
    for n in range(5):
        write(f"f{n}.json", {"title": f"Film {n}"})
    calls: list[tuple[int, int]] = []
    load_index(root, on_progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 5)
    assert calls[-1] == (5, 5)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_progress_hook_can_stop_the_scan(root: Path, write: Write) -> None:
    write("a.json", GOOD)

    def stop(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        load_index(root, on_progress=stop)
