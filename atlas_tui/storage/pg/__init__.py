"""The PostgreSQL backend (psycopg 3 and psycopg-pool, the `postgres` extra)."""

from __future__ import annotations

from atlas_tui.storage.pg.repo import PostgresRepository

__all__ = ["PostgresRepository"]
