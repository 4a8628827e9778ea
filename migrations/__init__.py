"""Alembic migrations for PostgreSQL and SQLite (run them with `dialer migrate`)."""
