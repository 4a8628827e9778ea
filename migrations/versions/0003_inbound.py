"""Inbound blending: `campaigns.inbound` (the numbers a campaign answers and how) and
`inbound_calls`, one row per call to those numbers; `caller_id_policies.hard_caps` (a pool
whose numbers are all at their daily cap stops dialing).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 23:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("inbound", sa.JSON(), server_default="{}", nullable=False))
    with op.batch_alter_table("caller_id_policies") as batch:
        batch.add_column(
            sa.Column("hard_caps", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    op.create_table(
        "inbound_calls",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("did", sa.String(length=40), nullable=False),
        sa.Column("caller_number", sa.String(length=40), nullable=False),
        sa.Column("lead_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("asterisk_server", sa.String(length=80), nullable=False),
        sa.Column("uniqueid", sa.String(length=64), nullable=False),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("connect_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hangup_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wait_seconds", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("disposition", sa.String(length=32), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("recording_path", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_inbound_calls_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_inbound_calls_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_inbound_calls_lead_id_leads"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_calls")),
    )
    op.create_index(
        "ix_inbound_calls_campaign_arrived", "inbound_calls", ["campaign_id", "arrived_at"]
    )
    op.create_index("ix_inbound_calls_agent_arrived", "inbound_calls", ["agent_id", "arrived_at"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_inbound_calls_agent_arrived", table_name="inbound_calls")
    op.drop_index("ix_inbound_calls_campaign_arrived", table_name="inbound_calls")
    op.drop_table("inbound_calls")
    with op.batch_alter_table("caller_id_policies") as batch:
        batch.drop_column("hard_caps")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("inbound")
