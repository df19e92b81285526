"""From the bytes of an import file to text, and which format that text is in."""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from atlas_tui.domain.errors import ValidationError

FORMATS: Final = ("csv", "json")
_SUFFIXES: Final = {".csv": "csv", ".tsv": "csv", ".json": "json"}
_UTF16_BOMS: Final = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


# Legacy encodings tried, in order, when a file is not UTF-8: what Excel on Windows and older
# Macs save. latin-1 comes first so that a file it reads the same as cp1252
# (no byte 0x80-0x9F) is named by the narrower name.
CANDIDATES: Final = ("latin-1", "cp1252", "mac_roman")
# Non-ASCII characters real text is made of beside letters; others count against a reading.
_TYPOGRAPHY: Final = frozenset("“”‘’„‚–—…•™€£©®°§«»×½¼¾")  # noqa: RUF001
_LATIN_LETTERS: Final = ("\u00c0", "\u024f")  # À to ɏ: accented Latin letters
_NON_ASCII: Final = re.compile(r"[^\x00-\x7f]")
_MARGIN: Final = 2  # how far the best reading must lead the next one to be taken without asking


@dataclass(frozen=True, slots=True)
class Decoded:
    """A file's text and the encoding it was read as: `read_as` is e.g. "utf-8",
    "cp1252 (given)" or "mac_roman (detected)"."""

    text: str
    read_as: str


def line_of(data: bytes, offset: int, encoding: str) -> int:
    """The 1-based line of byte `offset`, counting CR, LF and CRLF line ends alike."""
    before = data[:offset].decode(encoding, errors="replace")
    return before.count("\n") + before.count("\r") - before.count("\r\n") + 1


def text_position(text: str, index: int) -> tuple[int, int]:
    """(line, column), both 1-based, of `text[index]`, counting CR, LF and CRLF alike."""
    before = text[:index]
    line = before.count("\n") + before.count("\r") - before.count("\r\n") + 1
    start = max(before.rfind("\n"), before.rfind("\r")) + 1
    return line, index - start + 1


def _refuse_undecodable(data: bytes, error: UnicodeDecodeError, encoding: str) -> ValidationError:
    offset = error.start
    line = line_of(data, offset, encoding)
    bad = data[offset : offset + 1].hex()
    if codecs.lookup(encoding).name == "utf-8":
        encoding, hint = "UTF-8", "give its encoding, e.g. --encoding cp1252"
    else:
        hint = "give the encoding it was saved in with --encoding"
    return ValidationError(
        "file", f"is not {encoding} text (byte 0x{bad} at offset {offset}, line {line}); {hint}"
    )


def _score(text: str) -> int | None:
    """How much a reading looks like Western European text: +1 for each non-ASCII letter that
    fits the case of its word and each typographic mark; -1 for other symbols, a capital
    inside a lowercase word ("CafŽ"), a letter outside Latin and any character between two
    other non-ASCII ones ("Ïðèâåò");
    None when it holds control characters, which text never does."""
    score = 0
    for found in _NON_ASCII.finditer(text):
        char, index = found[0], found.start()
        category = unicodedata.category(char)
        if category[0] == "C":
            return None
        before = text[index - 1] if index else " "
        after = text[index + 1 : index + 2] or " "
        if before > "\x7f" < after:
            # Western words are mostly ASCII: runs of three non-ASCII characters are another
            # script (Cyrillic, Greek) read in a Latin code page.
            score -= 1
        elif char in _TYPOGRAPHY:
            score += 1
        elif category[0] != "L" or not _LATIN_LETTERS[0] <= char <= _LATIN_LETTERS[1]:
            score -= 1
        elif category == "Lu":
            score += -1 if before.islower() else 1
        else:
            score += 1
    return score


def detect(data: bytes, error: UnicodeDecodeError) -> Decoded:
    """Read a file that is not UTF-8 as the one legacy encoding whose reading is clearly the
    most like text; refuse, naming the encodings that decode the whole file, when unsure."""
    fits: list[str] = []
    best: tuple[int, str, str] | None = None  # (score, encoding, text): one copy of the text
    runner_up: int | None = None  # the best score of a reading with other text
    for encoding in CANDIDATES:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        fits.append(encoding)
        score = _score(text)
        if score is None or (best is not None and text == best[2]):
            continue
        if best is None or score > best[0]:
            runner_up = None if best is None else best[0]
            best = (score, encoding, text)
        elif runner_up is None or score > runner_up:
            runner_up = score
        del text  # free a losing reading before decoding the next
    if best is not None and best[0] > 0 and (runner_up is None or best[0] - runner_up >= _MARGIN):
        return Decoded(best[2], f"{best[1]} (detected)")
    line = line_of(data, error.start, "utf-8")
    bad = data[error.start : error.start + 1].hex()
    listed = ", ".join(fits[:-1]) + " or " + fits[-1] if len(fits) > 1 else "".join(fits)
    decodes = f" (it decodes as {listed})" if fits else ""
    raise ValidationError(
        "file",
        f"is not UTF-8 text (byte 0x{bad} at offset {error.start}, line {line}) and its "
        f"encoding cannot be told for sure{decodes}; give the one it was saved in with --encoding",
    )


def decode_file(data: bytes, encoding: str | None = None) -> Decoded:
    """The text of `data` and how it was read: `encoding` when given, else UTF-8 with or
    without BOM (a UTF-16 BOM is honoured too), else detected (`detect`). Refusals name the
    first bad byte's offset and line."""
    given = encoding is not None
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
        decoded = Decoded(data.decode(encoding), f"{encoding} (given)" if given else encoding)
    except UnicodeDecodeError as error:
        if given or encoding != "utf-8":
            raise _refuse_undecodable(data, error, encoding) from None
        decoded = detect(data, error)
    text = decoded.text
    # A BOM is a marker, never part of the first header (utf-8 leaves it in the text).
    return Decoded(text[1:], decoded.read_as) if text.startswith("\ufeff") else decoded


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
