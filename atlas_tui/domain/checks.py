"""Checks of text every field shares: how a bad value is shown, UTF-8, trimmed text."""

from __future__ import annotations

from atlas_tui.domain.errors import ValidationError


def shown(value: object) -> str:
    """A short, safe rendering of a bad value for an error message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_utf8(field_name: str, text: str) -> None:
    """Refuse text holding lone surrogates: bytes that were not UTF-8 (a command-line
    argument in another encoding) that no store can write."""
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        code = ord(text[error.start])
        # surrogateescape (how Python reads argv and file names) keeps byte b as U+DC00+b.
        what = f"byte 0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"U+{code:04X}"
        raise ValidationError(field_name, f"is not UTF-8 text ({what})") from None


def clean_text(field_name: str, value: object, max_len: int, *, required: bool = False) -> str:
    """Trim a free-text field and check its length (None reads as empty)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(field_name, f"must be text, got {shown(value)}")
    text = value.strip()
    if required and not text:
        raise ValidationError(field_name, "is required")
    if len(text) > max_len:
        raise ValidationError(field_name, f"must be at most {max_len} characters, got {len(text)}")
    if "\x00" in text:
        raise ValidationError(field_name, "must not contain NUL characters")
    check_utf8(field_name, text)
    return text
