"""ATLAS: a keyboard-first terminal inventory manager."""

__version__ = "0.1.0"
