"""From the bytes of an import file to text, and which format that text is in."""

from __future__ import annotations

import codecs
from typing import Final

from atlas_tui.domain.errors import ValidationError

FORMATS: Final = ("csv", "json")
_SUFFIXES: Final = {".csv": "csv", ".tsv": "csv", ".json": "json"}
_UTF16_BOMS: Final = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _refuse_undecodable(data: bytes, error: UnicodeDecodeError, encoding: str) -> ValidationError:
    offset = error.start
    line = data.count(b"\n", 0, offset) + 1
    bad = data[offset : offset + 1].hex()
    if codecs.lookup(encoding).name == "utf-8":
        encoding, hint = "UTF-8", "give its encoding, e.g. --encoding cp1252"
    else:
        hint = "give the encoding it was saved in with --encoding"
    return ValidationError(
        "file", f"is not {encoding} text (byte 0x{bad} at offset {offset}, line {line}); {hint}"
    )


def decode(data: bytes, encoding: str | None = None) -> str:
    """The text of `data`: UTF-8 with or without BOM (a UTF-16 BOM is honoured too), or
    `encoding` when given. Refusals name the first bad byte's offset and line."""
    if encoding is None:
        if data.startswith(b"PK\x03\x04"):
            raise ValidationError(
                "file", "is a ZIP archive (an .xlsx workbook?); save it as CSV UTF-8 first"
            )
        if data.startswith(_UTF16_BOMS):
            encoding = "utf-16"
        else:
            encoding = "utf-8"
            sample = data[:4096]
            # ASCII text saved as UTF-16 is every other byte NUL; UTF-8 text has next to none.
            if sample.count(0) * 4 > len(sample):
                raise ValidationError(
                    "file",
                    "holds NUL bytes, so it is not UTF-8 text (UTF-16 without a BOM?); "
                    "give its encoding, e.g. --encoding utf-16-le",
                )
    if not isinstance(encoding, str):
        raise ValidationError("encoding", f"must be the name of an encoding, got {encoding!r:.40}")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValidationError("encoding", f"{encoding!r} is not an encoding Python knows") from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise _refuse_undecodable(data, error, encoding) from None
    # A BOM is a marker, never part of the first header (utf-8 leaves it in the text).
    return text[1:] if text.startswith("\ufeff") else text


def choose_format(text: str, name: str = "", file_format: str | None = None) -> str:
    """ "csv" or "json": `file_format` if given, else the name's suffix (.csv, .tsv, .json),
    else JSON when the first non-space character is `[` or `{`."""
    if file_format is not None:
        chosen = file_format.strip().casefold()
        if chosen not in FORMATS:
            raise ValidationError("format", f"must be csv or json, got {file_format!r}")
        return chosen
    dot = name.rfind(".")
    if dot >= 0 and name[dot:].casefold() in _SUFFIXES:
        return _SUFFIXES[name[dot:].casefold()]
    for char in text:
        if not char.isspace():
            return "json" if char in "[{" else "csv"
    return "csv"
