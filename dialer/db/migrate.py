"""`dialer migrate`: bring the configured database to the newest schema with Alembic.

The Alembic configuration is built here (no alembic.ini needed); `upgrade(url)` runs the
migrations on a connection of our own async engine, so it can be awaited from tests and the demo.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection, make_url

import migrations
from dialer.db.engine import create_engine


def migrations_dir() -> Path:
    # __path__ also works while an older editable install still sees a namespace package.
    return Path(next(iter(migrations.__path__))).resolve()


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our `migrations/` folder and the given database."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    # ConfigParser interpolation would eat '%' in passwords.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _upgrade_on(connection: Connection, config: Config, revision: str) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _current_on(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision` (creating a SQLite file and its folder if needed)."""
    config = alembic_config(url)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_on, config, revision)
    finally:
        await engine.dispose()


async def current_revision(url: str) -> str | None:
    """The revision the database is at (None for an empty database)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current_on)
    finally:
        await engine.dispose()


def main(argv: list[str]) -> int:
    from dialer.settings import Settings

    parser = argparse.ArgumentParser(prog="dialer migrate", description=__doc__)
    parser.add_argument("--url", help="database URL (default: the configured database)")
    parser.add_argument("--revision", default="head", help="target revision (default: head)")
    args = parser.parse_args(argv)
    url = args.url or Settings().database_url
    shown = make_url(url).render_as_string(hide_password=True)
    asyncio.run(upgrade(url, args.revision))
    revision = asyncio.run(current_revision(url))
    print(f"database {shown} is at revision {revision}")
    return 0
