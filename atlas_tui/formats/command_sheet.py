"""A printable sheet of Code 128 barcodes, one per row with its text and meaning, as SVG,
PNG or PDF, on A4 or Letter.

python-barcode encodes each code (character set, checksum); the layout and drawing are
ours, so the three formats show exactly the same bars. Both libraries come with the
`atlas-tui[labels]` extra and are imported only when a sheet is drawn.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal
from xml.sax.saxutils import escape

from atlas_tui.domain.errors import ValidationError

if TYPE_CHECKING:
    from PIL import Image

SheetFormat = Literal["svg", "png", "pdf"]
Paper = Literal["a4", "letter"]
PAPERS: Final[dict[Paper, tuple[float, float]]] = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
INSTALL_HINT: Final = "barcodes need the labels extra: pip install 'atlas-tui[labels]'"

DPI: Final = 300
MODULE_PX: Final = 5  # 0.42 mm bars at 300 dpi: whole pixels, read by any scanner
MODULE_MM: Final = MODULE_PX * 25.4 / DPI
QUIET: Final = 10  # modules of white either side, as Code 128 asks
MARGIN: Final = 15.0
TITLE_H: Final = 18.0
ROW_H: Final = 32.0
BAR_H: Final = 15.0
CODE_TEXT: Final = 4.0  # mm, the human-readable code under the bars
MEANING_TEXT: Final = 3.6
MEANING_X: Final = 95.0  # the meanings' column, past the widest code expected
WRAP: Final = 52


@dataclass(frozen=True)
class SheetRow:
    """One barcode on the sheet: the code scanned, and what it does."""

    code: str
    meaning: str


@dataclass(frozen=True)
class _Text:
    x: float  # mm, left
    y: float  # mm, baseline
    size: float  # mm, the font's height
    text: str
    bold: bool = False


@dataclass(frozen=True)
class _Bars:
    x: float  # mm, left of the first bar
    y: float  # mm, top
    modules: str  # "1" black, "0" white, one character per module


@dataclass(frozen=True)
class _Page:
    texts: list[_Text]
    bars: list[_Bars]


def code128_modules(code: str) -> str:
    """The code's Code 128 modules (start, data, checksum, stop), "1" for black."""
    barcode = _barcode_module()
    if not code or any(not (" " <= ch <= "~") for ch in code):
        raise ValidationError("code", f"Code 128 here takes printable ASCII, got {code!r}")
    built: list[str] = barcode.get_barcode_class("code128")(code).build()
    return built[0]


def render_sheet(
    rows: Sequence[SheetRow], title: str, file_format: SheetFormat, paper: Paper = "a4"
) -> tuple[bytes, int]:
    """The sheet as a file's bytes, and how many pages it has."""
    pages = _layout(rows, title, paper)
    if file_format == "svg":
        return _svg(pages, paper), len(pages)
    images = [_raster(page, paper) for page in pages]
    out = io.BytesIO()
    if file_format == "png":
        if len(images) > 1:  # PNG has no pages: one tall image
            images = [_stack(images)]
        images[0].save(out, "PNG", dpi=(DPI, DPI))
    else:
        images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=float(DPI))
    return out.getvalue(), len(pages)


def _barcode_module() -> Any:
    try:
        import barcode  # type: ignore[import-untyped]
    except ImportError:
        raise ValidationError("format", INSTALL_HINT) from None
    return barcode


def _layout(rows: Sequence[SheetRow], title: str, paper: Paper) -> list[_Page]:
    _, height = PAPERS[paper]
    per_page = max(1, int((height - 2 * MARGIN - TITLE_H) // ROW_H))
    pages: list[_Page] = []
    chunks = [rows[at : at + per_page] for at in range(0, len(rows), per_page)] or [[]]
    for number, chunk in enumerate(chunks, 1):
        heading = title if len(chunks) == 1 else f"{title} ({number}/{len(chunks)})"
        texts = [_Text(MARGIN, MARGIN + 7, 7, heading, bold=True)]
        bars: list[_Bars] = []
        for index, row in enumerate(chunk):
            top = MARGIN + TITLE_H + index * ROW_H
            modules = code128_modules(row.code)
            bars.append(_Bars(MARGIN + QUIET * MODULE_MM, top, modules))
            texts.append(_Text(MARGIN + QUIET * MODULE_MM, top + BAR_H + 5, CODE_TEXT, row.code))
            for line_no, line in enumerate(textwrap.wrap(row.meaning, WRAP)[:3]):
                texts.append(_Text(MEANING_X, top + 6 + line_no * 5, MEANING_TEXT, line))
        pages.append(_Page(texts, bars))
    return pages


def _runs(modules: str) -> list[tuple[int, int]]:
    """(first module, width in modules) of each black bar."""
    runs: list[tuple[int, int]] = []
    at = 0
    while at < len(modules):
        if modules[at] == "1":
            end = at
            while end < len(modules) and modules[end] == "1":
                end += 1
            runs.append((at, end - at))
            at = end
        else:
            at += 1
    return runs


def _svg(pages: list[_Page], paper: Paper) -> bytes:
    width, height = PAPERS[paper]
    total = height * len(pages)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}mm" height="{total}mm"'
        f' viewBox="0 0 {width} {total}">',
        f'<rect width="{width}" height="{total}" fill="white"/>',
    ]
    for number, page in enumerate(pages):
        out.append(f'<g transform="translate(0 {number * height})">')
        for bars in page.bars:
            for start, run in _runs(bars.modules):
                x = bars.x + start * MODULE_MM
                out.append(
                    f'<rect x="{x:.4f}" y="{bars.y}" width="{run * MODULE_MM:.4f}"'
                    f' height="{BAR_H}" fill="black"/>'
                )
        for text in page.texts:
            weight = ' font-weight="bold"' if text.bold else ""
            out.append(
                f'<text x="{text.x:.2f}" y="{text.y:.2f}" font-family="sans-serif"'
                f' font-size="{text.size}"{weight}>{escape(text.text)}</text>'
            )
        out.append("</g>")
    out.append("</svg>")
    return ("\n".join(out) + "\n").encode("utf-8")


def _px(mm: float) -> int:
    return round(mm * DPI / 25.4)


def _raster(page: _Page, paper: Paper) -> Image.Image:
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        raise ValidationError("format", INSTALL_HINT) from None
    width, height = PAPERS[paper]
    image = Image.new("L", (_px(width), _px(height)), 255)
    draw = ImageDraw.Draw(image)
    for bars in page.bars:
        left, top = _px(bars.x), _px(bars.y)
        for start, run in _runs(bars.modules):
            x = left + start * MODULE_PX  # whole pixels per module: bars stay exact
            draw.rectangle((x, top, x + run * MODULE_PX - 1, top + _px(BAR_H) - 1), fill=0)
    for text in page.texts:
        font = ImageFont.load_default(size=_px(text.size))
        draw.text(
            (_px(text.x), _px(text.y)),
            text.text,
            fill=0,
            font=font,
            anchor="ls",
            stroke_width=1 if text.bold else 0,
            stroke_fill=0,
        )
    return image


def _stack(images: list[Image.Image]) -> Image.Image:
    from PIL import Image

    tall = Image.new("L", (images[0].width, sum(im.height for im in images)), 255)
    top = 0
    for image in images:
        tall.paste(image, (0, top))
        top += image.height
    return tall
