"""Reusable widgets of the ATLAS screens."""
