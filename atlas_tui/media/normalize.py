"""Keys that titles are compared by: an exact key and a forgiving normalised key."""

from __future__ import annotations

import re
import unicodedata

# Letters that NFKD does not split into base letter + accent.
_FOLD_LETTERS = str.maketrans(
    {"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ł": "l", "Ł": "l",
     "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th", "\u0131": "i"}
)  # fmt: skip
_TRAILING_THE = re.compile(r",\s*the\s*$")
_NON_WORD = re.compile(r"[\W_]+")
_LEADING_ARTICLES = ("the ", "a ", "an ")


def exact_key(title: str) -> str:
    """NFKC + casefold, outer whitespace dropped: the key for an exact match."""
    return unicodedata.normalize("NFKC", title).casefold().strip()


def normal_key(title: str) -> str:
    """Accents removed, ``&`` = and, punctuation to spaces, one article ignored.

    ``"The Amélie & Co., Ltd."`` -> ``"amelie and co ltd"``; ``"Matrix, The"`` -> ``"matrix"``.
    Returns ``""`` for a title with no letters or digits.
    """
    if title.isascii():  # no accents or folded letters: the steps below only lower it
        text = title.lower()
    else:
        text = unicodedata.normalize("NFKD", title.translate(_FOLD_LETTERS))
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
        text = unicodedata.normalize("NFKC", text).casefold()
    text, trailing = _TRAILING_THE.subn("", text)
    text = text.replace("&", " and ")
    text = _NON_WORD.sub(" ", text).strip()
    if not trailing:
        for article in _LEADING_ARTICLES:
            if text.startswith(article):
                text = text[len(article) :]
                break
    return text
