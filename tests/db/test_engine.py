"""Engine settings: SQLite gets WAL, foreign keys and a busy timeout; URLs are classified."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from dialer.db.engine import create_engine, is_postgresql, is_sqlite, sqlite_file


async def test_sqlite_pragmas(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{(tmp_path / 'sub' / 'x.db').as_posix()}"
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            journal = (await connection.execute(text("PRAGMA journal_mode"))).scalar()
            keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar()
            busy = (await connection.execute(text("PRAGMA busy_timeout"))).scalar()
    finally:
        await engine.dispose()
    assert (journal, keys) == ("wal", 1)
    assert busy is not None and busy >= 5000
    assert (tmp_path / "sub" / "x.db").is_file()  # the folder was created


def test_url_helpers() -> None:
    assert is_sqlite("sqlite+aiosqlite:///data/dialer.db")
    assert is_postgresql("postgresql+asyncpg://u@h/db")
    assert sqlite_file("sqlite+aiosqlite:///data/dialer.db") == Path("data/dialer.db")
    assert sqlite_file("sqlite+aiosqlite:///:memory:") is None
    assert sqlite_file("postgresql+asyncpg://u@h/db") is None
