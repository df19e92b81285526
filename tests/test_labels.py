"""`atlas labels commands` through the real CLI: the text sheet, and PDF/PNG/SVG sheets whose
barcodes decode (read back with zxing-cpp, a Code 128 reader independent of the writer)."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageDraw
from support import run_atlas

from atlas_tui.formats.command_sheet import MODULE_MM, PAPERS

CODES = ["*RECEIVE*", "*PICK*", "*COUNT*", "*MOVE*", "*TRANSFER*", "*UNDO*", "*DONE*"]


def decoded(image: Image.Image) -> list[str]:
    """The Code 128 barcodes a reader finds in the image, top to bottom."""
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.Code128)
    return [code.text for code in sorted(found, key=lambda code: code.position.top_left.y)]


def test_the_text_sheet_lists_every_code_and_what_it_does() -> None:
    done = run_atlas("labels", "commands")
    assert done.code == 0, done.err
    lines = done.out.splitlines()
    assert lines[0] == "ATLAS scan mode: command codes"
    assert [line.split()[0] for line in lines[1:8]] == CODES
    assert lines[2] == "  *PICK*      pick: each scan takes one from the current location"
    assert "1**PICK*" in lines[8]


def test_png_sheet_decodes_to_every_command_code(tmp_path: Path) -> None:
    target = tmp_path / "codes.png"
    done = run_atlas("labels", "commands", "--format", "png", "--output", str(target))
    assert done.code == 0, done.err
    assert done.out.strip() == f"wrote 1 page(s) of 7 codes to {target}"
    data = target.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    assert image.size == (2480, 3508), "A4 at 300 dpi"
    assert decoded(image) == CODES
    assert os.listdir(tmp_path) == ["codes.png"], "no temp file left behind"


def test_pdf_sheet_has_one_page_whose_barcodes_decode(tmp_path: Path) -> None:
    target = tmp_path / "codes.pdf"
    target.write_text("an older sheet")
    done = run_atlas(
        "labels", "commands", "--format", "pdf", "--output", str(target), "--paper", "letter"
    )
    assert done.code == 0, done.err
    data = target.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", data)) == 1
    width, height = (round(mm / 25.4 * 72) for mm in PAPERS["letter"])
    assert re.search(rb"/MediaBox \[\s*0 0 %d(\.0+)? %d(\.0+)?\s*\]" % (width, height), data)
    start = data.index(b"stream", data.index(b"/DCTDecode")) + len(b"stream")
    page = data[start : data.index(b"endstream", start)].strip(b"\r\n")
    assert decoded(Image.open(io.BytesIO(page))) == CODES


def test_svg_sheet_draws_bars_that_decode(tmp_path: Path) -> None:
    target = tmp_path / "codes.svg"
    done = run_atlas("labels", "commands", "--format", "svg", "--output", str(target))
    assert done.code == 0, done.err
    text = target.read_text()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg ')
    assert 'width="210.0mm" height="297.0mm"' in text
    assert [f">{code}</text>" in text for code in CODES] == [True] * len(CODES)
    # Paint the drawn bars (4 pixels a module) and let the reader decode them.
    scale = 4 / MODULE_MM
    page = Image.new("L", (round(210 * scale), round(297 * scale)), 255)
    draw = ImageDraw.Draw(page)
    bars = re.findall(
        r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="black"/>',
        text,
    )
    for x, y, w, h in (map(float, bar) for bar in bars):
        draw.rectangle(
            (round(x * scale), round(y * scale), round((x + w) * scale) - 1, (y + h) * scale),
            fill=0,
        )
    assert decoded(page) == CODES


def test_hostile_output_paths_are_refused_in_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    to_folder = tmp_path / "to-folder"
    to_folder.symlink_to(folder)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere" / "x.png")
    refused = {
        folder: f"error: output: {folder} is a folder: give a file name",
        fifo: f"error: output: {fifo} is not a regular file (a FIFO or a device)",
        to_folder: f"error: output: {to_folder} is a folder: give a file name",
        dangling: f"error: output: {dangling} is a symbolic link to nothing that exists",
        tmp_path / "no" / "x.png": f"error: output: folder {tmp_path / 'no'} does not exist",
    }
    for path, said in refused.items():
        done = run_atlas("labels", "commands", "--format", "png", "--output", str(path))
        assert (done.code, done.out, done.err.strip()) == (1, "", said)
    assert sorted(os.listdir(tmp_path)) == ["dangling", "fifo", "folder", "to-folder"]
    assert os.listdir(folder) == []


def test_a_symlink_to_a_file_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "real.svg"
    real.write_text("old")
    link = tmp_path / "link.svg"
    link.symlink_to(real)
    done = run_atlas("labels", "commands", "--format", "svg", "--output", str(link))
    assert done.code == 0, done.err
    assert link.is_symlink() and real.read_text().startswith("<?xml")


def test_usage_errors() -> None:
    done = run_atlas("labels", "commands", "--format", "pdf")
    assert done.code == 2 and "--format pdf needs --output FILE" in done.err
    done = run_atlas("labels", "commands", "--output", "x.txt")
    assert done.code == 2 and "--output is for --format pdf, png or svg" in done.err


@pytest.fixture
def without_labels_extra(tmp_path: Path) -> dict[str, str]:
    """An environment where python-barcode cannot be imported (as without the extra)."""
    stub = tmp_path / "stub" / "barcode"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("raise ImportError('not installed')\n")
    return {"PYTHONPATH": str(stub.parent)}


def test_without_the_extra_text_works_and_barcodes_say_how_to_install(
    tmp_path: Path, without_labels_extra: dict[str, str]
) -> None:
    assert run_atlas("labels", "commands", env=without_labels_extra).code == 0
    target = tmp_path / "codes.pdf"
    done = run_atlas(
        "labels", "commands", "--format", "pdf", "--output", str(target), env=without_labels_extra
    )
    assert (done.code, done.err) == (
        1,
        "error: format: barcodes need the labels extra: pip install 'atlas-tui[labels]'\n",
    )
    assert not target.exists()
