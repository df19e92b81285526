"""Textual screens and dialogs of ATLAS (UI layer only)."""
