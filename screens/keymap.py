"""Checks a keymap from the preferences (binding id -> keys) before the app uses it."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping

from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import REPLACED_KEYS, Keys, key_to_character

MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
_NAMED = frozenset(
    name
    for key in Keys
    if not (name := key.value.rpartition("+")[2]).startswith("<") and len(name) > 1
)


def _subclasses(cls: type[DOMNode]) -> Iterator[type[DOMNode]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def binding_ids() -> set[str]:
    """The id of every binding of the screens, widgets and apps imported so far."""
    found: set[str] = set()
    for cls in {DOMNode, *_subclasses(DOMNode)}:
        for binding in cls.__dict__.get("BINDINGS", ()):
            if isinstance(binding, Binding) and binding.id:
                found.add(binding.id)
    return found


def is_key(name: str) -> bool:
    """True for a key Textual knows: `k`, `plus`, `f5`, `ctrl+r`, `shift+tab`."""
    *modifiers, base = name.split("+")
    if not base or any(modifier not in MODIFIERS for modifier in modifiers):
        return False
    if len(base) == 1:
        return base.isprintable() and not base.isspace()
    return base in _NAMED or key_to_character(REPLACED_KEYS.get(base, base)) is not None


def keymap_problem(keymap: Mapping[str, str], known: set[str]) -> tuple[str, str] | None:
    """The first (binding id, problem) of the keymap, or None when every entry is usable."""
    for binding, keys in keymap.items():
        if binding not in known:
            close = difflib.get_close_matches(binding, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            return binding, f"no binding has this id{hint}"
        for key in (key.strip() for key in keys.split(",")):
            if not is_key(key):
                return binding, f"{key!r} is not a key name (e.g. k, plus, f5, ctrl+r, shift+tab)"
    return None
