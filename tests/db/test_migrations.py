"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection

from dialer.db.engine import create_engine, make_session_factory
from dialer.db.migrate import current_revision, upgrade
from dialer.db.models import Base, Disposition

HEAD = "0003"


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_head_creates_every_table(db_url: str) -> None:
    assert await current_revision(db_url) is None
    await upgrade(db_url)
    assert await current_revision(db_url) == HEAD
    engine = create_engine(db_url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(_tables)
    finally:
        await engine.dispose()
    assert set(Base.metadata.tables) <= tables


async def test_models_and_migrations_agree(db_url: str) -> None:
    await upgrade(db_url)
    engine = create_engine(db_url)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(_diff)
    finally:
        await engine.dispose()
    assert diff == []


async def test_upgrade_is_idempotent(db_url: str) -> None:
    await upgrade(db_url)
    await upgrade(db_url)
    assert await current_revision(db_url) == HEAD


async def test_default_dispositions_are_seeded(db_url: str) -> None:
    await upgrade(db_url)
    engine = create_engine(db_url)
    try:
        async with make_session_factory(engine)() as session:
            rows = (await session.scalars(select(Disposition))).all()
    finally:
        await engine.dispose()
    by_label = {row.label: row for row in rows}
    refused = by_label["明确拒绝"]
    assert refused.refusal and refused.final and refused.human_answered
    assert refused.campaign_id is None
    assert by_label["成交"].success
    assert by_label["投诉"].complaint
    assert {row.code for row in rows if row.system} >= {"NA", "BUSY", "MACHINE", "ABANDONED"}
    dtmf_keys = [row.dtmf for row in rows if row.dtmf]
    assert len(dtmf_keys) == len(set(dtmf_keys))


async def test_0002_keeps_existing_attempts_and_steps_back(db_url: str) -> None:
    """0002 adds `legal_hold` (false) to attempts written under 0001; downgrade and upgrade
    again leave the same schema."""
    from alembic import command
    from sqlalchemy import text

    from dialer.db.migrate import alembic_config

    await upgrade(db_url, "0001")
    engine = create_engine(db_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO campaigns (name, description, dial_mode, status, pacing, "
                    "schedule, caller_id_pool, caller_id_name, script_text, amd_enabled, "
                    "amd_machine_action, voicemail_message, safe_harbor_message, retry_rules, "
                    "compliance_profile, trunk, asterisk_server, recording_mode, "
                    "wrapup_timeout_s, max_attempts, created_at, updated_at) VALUES ('c', '', "
                    "'predictive', 'draft', '{}', '{}', '[]', '', '', false, 'hangup', '', '', "
                    "'{}', '[]', '', '', 'never', 30, 5, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO call_attempts (id, campaign_id, number_dialed, caller_id, trunk, "
                    "asterisk_server, originate_at, abandoned, notes) SELECT 'att-1', id, "
                    "'+8613800000000', '', '', '', CURRENT_TIMESTAMP, false, '' FROM campaigns"
                )
            )
        await upgrade(db_url)
        async with engine.connect() as connection:
            held = await connection.scalar(text("SELECT legal_hold FROM call_attempts"))
        assert held in (False, 0)

        def down_and_up(connection: Connection) -> None:
            config = alembic_config(db_url)
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")
            assert "webhooks" not in _tables(connection)
            command.upgrade(config, "head")

        async with engine.begin() as connection:
            await connection.run_sync(down_and_up)
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        await engine.dispose()
