"""How the command line answers: exit codes, and tables or JSON envelopes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from atlas_tui.text import safe_json, safe_text

if TYPE_CHECKING:  # Rich is imported by the commands that draw with it, when they run
    from rich.console import Console
    from rich.text import Text

    from atlas_tui.api import Envelope

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
# The width tables are fitted to when the output is not a terminal: wider than any value.
UNCUT_WIDTH = 100_000


class Output:
    """Where results go: Rich tables for people, JSON envelopes for programs."""

    def __init__(self, as_json: bool, parser: argparse.ArgumentParser | None = None) -> None:
        self.as_json = as_json
        self.parser = parser
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        """Rich's console for the commands that draw tables (made on first use)."""
        if self._console is None:
            from rich.console import Console

            # A file or a pipe has no width: Rich would take $COLUMNS (else 80) and cut
            # every long name with an ellipsis. There every value is written whole.
            width = None if sys.stdout.isatty() else UNCUT_WIDTH
            self._console = Console(highlight=False, emoji=False, width=width)
        return self._console

    def finish(self, envelope: Envelope, show: Callable[[Any], None]) -> int:
        if self.as_json:
            print(safe_json(envelope))
        elif envelope["success"]:
            payload = next(value for key, value in envelope.items() if key != "success")
            show(payload)
        else:
            print(f"error: {safe_text(envelope['error'])}", file=sys.stderr)
        return EXIT_OK if envelope["success"] else EXIT_REFUSED

    def line(self, *parts: str | Text | tuple[str, str]) -> None:
        """One message line; never wrapped, so paths and SKUs stay whole for copying."""
        from rich.text import Text

        self.console.print(Text.assemble(*parts), soft_wrap=True)

    def confirm(self, question: str) -> bool:
        """Ask on the terminal; without one (or with --json) the answer is no."""
        if self.as_json or not sys.stdin.isatty():
            return False
        answer = input(f"{safe_text(question)} [y/N] ")
        return answer.strip().lower() in {"y", "yes"}

    def parser_error(self, message: str) -> None:
        """Reject the command line like argparse does (usage, exit 2)."""
        assert self.parser is not None
        self.parser.error(message)
