"""The data model: typed SQLAlchemy 2 declarative classes, portable to PostgreSQL and SQLite.

Enumerated values are plain strings (see `dialer.db.enums`); timestamps are timezone-aware UTC
(`UTCDateTime`); structured settings are JSON. `migrations/versions` must match this file
(a test compares them on both databases).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from dialer.db.enums import (
    AgentState,
    CallbackStatus,
    CampaignStatus,
    ComplaintStatus,
    DialMode,
    LeadStatus,
    MachineAction,
    RecordingMode,
)
from dialer.db.types import BigIntPK, UTCDateTime, utcnow

# Deterministic constraint names: Alembic (and SQLite batch mode) need them to alter tables.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONDict = dict[str, Any]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads this class attribute)
        datetime: UTCDateTime(),
        JSONDict: JSON(),
        list[str]: JSON(),
        list[int]: JSON(),
        date: Date(),
    }


def _default_pacing() -> JSONDict:
    return {"target_abandon_rate": 0.03, "ratio": 1.5, "max_lines_per_agent": 3.0}


def _default_compliance_profile() -> list[str]:
    return ["CN"]


class Campaign(Base):
    """A calling campaign: how to dial, when, with which caller IDs, and under which rules."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    dial_mode: Mapped[str] = mapped_column(String(16), default=DialMode.PREDICTIVE)
    status: Mapped[str] = mapped_column(String(16), default=CampaignStatus.DRAFT)
    # Pacing knobs: target_abandon_rate, ratio, max_lines_per_agent, caps...
    pacing: Mapped[JSONDict] = mapped_column(default=_default_pacing)
    # Calling schedule in the callee's local time, e.g.
    # {"days": [1,2,3,4,5], "start": "09:00", "end": "20:00", "skip_holidays": true}
    schedule: Mapped[JSONDict] = mapped_column(default=dict)
    # Caller IDs to present, e.g. ["+862112345678", ...]; the runtime rotates through them.
    caller_id_pool: Mapped[list[str]] = mapped_column(default=list)
    caller_id_name: Mapped[str] = mapped_column(String(80), default="")
    script_text: Mapped[str] = mapped_column(Text, default="")
    amd_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    amd_machine_action: Mapped[str] = mapped_column(String(16), default=MachineAction.HANGUP)
    voicemail_message: Mapped[str] = mapped_column(String(200), default="")  # a sound name
    safe_harbor_message: Mapped[str] = mapped_column(String(200), default="")  # a sound name
    # Per disposition code: {"NA": {"delay_minutes": 60, "max_attempts": 5}, ...}
    retry_rules: Mapped[JSONDict] = mapped_column(default=dict)
    # Rule-set ids the compliance engine applies to this campaign.
    compliance_profile: Mapped[list[str]] = mapped_column(default=_default_compliance_profile)
    trunk: Mapped[str] = mapped_column(String(80), default="")
    asterisk_server: Mapped[str] = mapped_column(String(80), default="")
    recording_mode: Mapped[str] = mapped_column(String(16), default=RecordingMode.NEVER)
    wrapup_timeout_s: Mapped[int] = mapped_column(Integer, default=30)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    # Inbound blending: {"dids": ["4001"], "reserved_agents": 1, "max_wait_s": 60, ...}
    # (`dialer.runtime.inbound.InboundSettings`); no DIDs = an outbound-only campaign.
    inbound: Mapped[JSONDict] = mapped_column(default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    lead_lists: Mapped[list[LeadList]] = relationship(back_populates="campaign")
    agents: Mapped[list[Agent]] = relationship(
        secondary=lambda: agent_campaigns, back_populates="campaigns"
    )


class LeadList(Base):
    """One imported file (or API batch) of leads for a campaign."""

    __tablename__ = "lead_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    source_filename: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    imported_rows: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    campaign: Mapped[Campaign] = relationship(back_populates="lead_lists")

    __table_args__ = (Index("ix_lead_lists_campaign_id", "campaign_id"),)


class Lead(Base):
    """A number to call for one campaign. A number appears at most once per campaign."""

    __tablename__ = "leads"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    list_id: Mapped[int | None] = mapped_column(ForeignKey("lead_lists.id", ondelete="SET NULL"))
    phone_e164: Mapped[str] = mapped_column(String(20))
    phone_raw: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    custom_fields: Mapped[JSONDict] = mapped_column(default=dict)
    # IANA zones the number may be in (a mobile number may map to several); region is ISO 3166.
    timezones: Mapped[list[str]] = mapped_column(default=list)
    region: Mapped[str] = mapped_column(String(4), default="")
    status: Mapped[str] = mapped_column(String(16), default=LeadStatus.NEW)
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column()
    next_call_at: Mapped[datetime | None] = mapped_column()
    priority: Mapped[int] = mapped_column(Integer, default=0)
    last_disposition: Mapped[str | None] = mapped_column(String(32))
    # The hopper: which runtime instance holds the lead and since when (stale claims are freed).
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        # Number first: the same index finds a number across campaigns (a refusal suppresses it
        # everywhere) and keeps it unique within one.
        UniqueConstraint("phone_e164", "campaign_id", name="uq_leads_phone_campaign"),
        # The hopper query: WHERE campaign_id = ? AND status IN (...) AND next_call_at <= now
        # ORDER BY priority DESC, next_call_at.
        Index("ix_leads_hopper", "campaign_id", "status", "next_call_at", "priority"),
        Index("ix_leads_list_id", "list_id"),
        # Only claimed leads are indexed: finding stale claims costs imports nothing.
        Index(
            "ix_leads_claimed_by",
            "claimed_by",
            postgresql_where=text("claimed_by IS NOT NULL"),
            sqlite_where=text("claimed_by IS NOT NULL"),
        ),
        # Deliberately no more: every index is paid for by each of millions of imported rows.
    )


agent_campaigns = Table(
    "agent_campaigns",
    Base.metadata,
    Column("agent_id", ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
)


class Agent(Base):
    """A person on a phone: an extension on one Asterisk server, assigned to campaigns."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    extension: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    pin_hash: Mapped[str] = mapped_column(String(200), default="")
    asterisk_server: Mapped[str] = mapped_column(String(80), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Last known state, for restarts and dashboards; the runtime's memory is authoritative.
    state: Mapped[str] = mapped_column(String(16), default=AgentState.OFFLINE)
    pause_reason: Mapped[str | None] = mapped_column(String(80))
    state_changed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    campaigns: Mapped[list[Campaign]] = relationship(
        secondary=agent_campaigns, back_populates="agents"
    )


class AgentDailyCounter(Base):
    """Per agent and calendar day: the numbers behind daily caps and agent reports."""

    __tablename__ = "agent_daily_counters"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    connects: Mapped[int] = mapped_column(Integer, default=0)
    talk_seconds: Mapped[int] = mapped_column(Integer, default=0)
    wrap_seconds: Mapped[int] = mapped_column(Integer, default=0)


class CallAttempt(Base):
    """One dial. The id is the attempt id sent as the AMI `ChannelId`."""

    __tablename__ = "call_attempts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    lead_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("leads.id", ondelete="SET NULL"),
    )
    number_dialed: Mapped[str] = mapped_column(String(20))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    caller_id: Mapped[str] = mapped_column(String(80), default="")
    trunk: Mapped[str] = mapped_column(String(80), default="")
    asterisk_server: Mapped[str] = mapped_column(String(80), default="")
    originate_at: Mapped[datetime] = mapped_column(default=utcnow)
    answer_at: Mapped[datetime | None] = mapped_column()
    amd_at: Mapped[datetime | None] = mapped_column()
    connect_at: Mapped[datetime | None] = mapped_column()
    hangup_at: Mapped[datetime | None] = mapped_column()
    end_at: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(String(16))  # AttemptOutcome
    originate_reason: Mapped[int | None] = mapped_column(Integer)  # OriginateResponse Reason
    hangup_cause: Mapped[int | None] = mapped_column(Integer)  # Q.850
    amd_status: Mapped[str | None] = mapped_column(String(16))
    amd_cause: Mapped[str | None] = mapped_column(String(64))
    abandoned: Mapped[bool] = mapped_column(Boolean, default=False)
    disposition: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str] = mapped_column(Text, default="")
    recording_path: Mapped[str | None] = mapped_column(String(500))
    terminal_state: Mapped[str | None] = mapped_column(String(20))  # None while in flight
    # Kept out of recording retention purges while set (litigation, complaints, regulators).
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (
        Index("ix_call_attempts_campaign_originate", "campaign_id", "originate_at"),
        # Caller-ID health: dials per presented number per day (daily caps across campaigns).
        Index("ix_call_attempts_caller_originate", "caller_id", "originate_at"),
        # Per-agent daily counters and caps: attempts by agent within a day.
        Index("ix_call_attempts_agent_originate", "agent_id", "originate_at"),
        Index("ix_call_attempts_lead_id", "lead_id"),
        Index("ix_call_attempts_number_originate", "number_dialed", "originate_at"),
        Index("ix_call_attempts_terminal_state", "terminal_state"),
    )


class Disposition(Base):
    """A wrap-up code an agent (or the system) gives an attempt; global when campaign_id is null."""

    __tablename__ = "dispositions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(100))
    dtmf: Mapped[str | None] = mapped_column(String(4))  # the key for desk-phone wrap-up
    human_answered: Mapped[bool] = mapped_column(Boolean, default=False)
    success: Mapped[bool] = mapped_column(Boolean, default=False)
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    callback: Mapped[bool] = mapped_column(Boolean, default=False)
    dnc: Mapped[bool] = mapped_column(Boolean, default=False)
    refusal: Mapped[bool] = mapped_column(Boolean, default=False)
    complaint: Mapped[bool] = mapped_column(Boolean, default=False)
    system: Mapped[bool] = mapped_column(Boolean, default=False)  # set by the dialer, not agents
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("campaign_id", "code", name="uq_dispositions_campaign_code"),
    )


class Callback(Base):
    """A promise to call a lead again: by one agent, or by anyone when agent_id is null."""

    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("leads.id", ondelete="CASCADE"),
    )
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    due_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default=CallbackStatus.PENDING)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_callbacks_due", "campaign_id", "status", "due_at"),
        Index("ix_callbacks_lead_id", "lead_id"),
    )


class SuppressionList(Base):
    """A named source of suppressed numbers (a national registry extract, the company list...)."""

    __tablename__ = "suppression_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # SuppressionListKind
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    scrubbed_at: Mapped[datetime | None] = mapped_column()  # when leads were last screened
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SuppressionEntry(Base):
    """A do-not-call entry. The hash lets registries that ship only hashes be matched too."""

    __tablename__ = "suppression_entries"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    list_id: Mapped[int | None] = mapped_column(
        ForeignKey("suppression_lists.id", ondelete="CASCADE")
    )
    scope: Mapped[str] = mapped_column(String(16))  # SuppressionScope
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    registry_name: Mapped[str | None] = mapped_column(String(80))  # for scope=registry
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    number_hash: Mapped[str] = mapped_column(String(64))  # sha256 hex of the E.164 text
    reason: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        Index("ix_suppression_entries_number_hash", "number_hash"),
        Index("ix_suppression_entries_phone_e164", "phone_e164"),
        Index("ix_suppression_entries_list_id", "list_id"),
    )


class Consent(Base):
    """Recorded permission to call a number (for a campaign or in general), until revoked."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone_e164: Mapped[str] = mapped_column(String(20))
    number_hash: Mapped[str] = mapped_column(String(64))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(200), default="")
    evidence: Mapped[str] = mapped_column(Text, default="")
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (Index("ix_consents_number_hash", "number_hash"),)


class Complaint(Base):
    """A callee's complaint, tracked against its response deadline."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("leads.id", ondelete="SET NULL"),
    )
    phone_e164: Mapped[str] = mapped_column(String(20))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    attempt_id: Mapped[str | None] = mapped_column(
        ForeignKey("call_attempts.id", ondelete="SET NULL")
    )
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    channel: Mapped[str] = mapped_column(String(32), default="phone")  # phone/web/regulator...
    text: Mapped[str] = mapped_column(Text, default="")
    sla_due_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default=ComplaintStatus.OPEN)
    resolution: Mapped[str] = mapped_column(Text, default="")
    resolved_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        Index("ix_complaints_status_due", "status", "sla_due_at"),
        Index("ix_complaints_phone_e164", "phone_e164"),
    )


class User(Base):
    """A person who uses the control plane. Only a password hash is stored."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))  # Role
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    api_keys: Mapped[list[ApiKey]] = relationship(back_populates="user")


class ApiKey(Base):
    """A bearer key for the API. Only its hash is stored; the prefix identifies it in lists."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100), default="")
    key_prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # Role
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User | None] = relationship(back_populates="api_keys")


class AuditLog(Base):
    """Who did what to which object, and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[JSONDict] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_object", "object_type", "object_id"),
    )


class ComplianceDecision(Base):
    """One answer of the compliance engine: which rules spoke, and whether the dial was allowed."""

    __tablename__ = "compliance_decisions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    number_hash: Mapped[str] = mapped_column(String(64))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    lead_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    rule_ids: Mapped[list[str]] = mapped_column(default=list)
    allowed: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[JSONDict] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_compliance_decisions_campaign_at", "campaign_id", "at"),
        Index("ix_compliance_decisions_number_hash", "number_hash"),
    )


class Webhook(Base):
    """A campaign's result callback: an HTTPS endpoint that gets signed JSON on chosen events.

    The secret is kept as given (it must be usable to sign); the API shows it only once, when
    the webhook is created or its secret rotated.
    """

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    # Event types (`dialer.services.webhooks.EVENT_TYPES`) this endpoint receives.
    events: Mapped[list[str]] = mapped_column(default=list)
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    timeout_s: Mapped[int] = mapped_column(Integer, default=10)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_webhooks_campaign_id", "campaign_id"),)


class WebhookDelivery(Base):
    """One event for one webhook, from queued to delivered or dead (the dead-letter list).

    The payload is built from the stored rows on the first try and then kept, so every retry
    sends the same bytes. `(webhook_id, event_key)` is unique: an event is queued once even
    when several paths (the live bus, the catch-up sweep, another process) see it.
    """

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(32))
    event_key: Mapped[str] = mapped_column(String(120))  # e.g. "attempt.ended:att-42"
    event_id: Mapped[str] = mapped_column(String(36))  # sent in the payload, for deduplication
    attempt_id: Mapped[str | None] = mapped_column(String(64))
    callback_id: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str | None] = mapped_column(String(20))  # the call's state when it happened
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    payload: Mapped[JSONDict | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="pending")  # DeliveryStatus
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column()
    last_status: Mapped[int | None] = mapped_column(Integer)  # the receiver's HTTP status
    last_error: Mapped[str] = mapped_column(Text, default="")
    delivered_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("webhook_id", "event_key", name="uq_webhook_deliveries_event"),
        # The dispatcher's query (pending and due) and the dead-letter list.
        Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
    )


class CallerIdPolicy(Base):
    """How a campaign watches its caller IDs; a campaign without a row uses the defaults."""

    __tablename__ = "caller_id_policies"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    auto_rest: Mapped[bool] = mapped_column(Boolean, default=True)
    window_hours: Mapped[int] = mapped_column(Integer, default=24)  # the rolling window
    min_attempts: Mapped[int] = mapped_column(Integer, default=50)  # before a number is judged
    max_ratio: Mapped[float] = mapped_column(Float, default=0.5)  # number rate / campaign rate
    min_z: Mapped[float] = mapped_column(Float, default=2.5)  # how sure the drop is not noise
    rest_hours: Mapped[int] = mapped_column(Integer, default=24)
    daily_cap: Mapped[int] = mapped_column(Integer, default=0)  # dials per number per day; 0 = none
    # Every number at its cap: stop dialing (True) or go on with the least used one.
    hard_caps: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CallerIdStatus(Base):
    """What the health check (or a supervisor) decided about one caller ID of a campaign."""

    __tablename__ = "caller_id_status"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    caller_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)  # probably labelled as spam
    flagged_at: Mapped[datetime | None] = mapped_column()
    reason: Mapped[str] = mapped_column(String(300), default="")
    rested_until: Mapped[datetime | None] = mapped_column()  # skipped by the rotation until then
    daily_cap: Mapped[int | None] = mapped_column(Integer)  # overrides the policy's cap
    answer_rate: Mapped[float | None] = mapped_column(Float)  # at the last evaluation
    baseline_rate: Mapped[float | None] = mapped_column(Float)
    samples: Mapped[int] = mapped_column(Integer, default=0)
    evaluated_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class QaForm(Base):
    """A quality score form: weighted criteria, for one campaign or all (campaign_id null).

    `criteria`: [{"key": "greeting", "label": "...", "weight": 2, "max_score": 5}, ...]. Once a
    call is scored with a form, its criteria are frozen (scores keep a copy anyway).
    """

    __tablename__ = "qa_forms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    criteria: Mapped[list[JSONDict]] = mapped_column(JSON, default=list)
    pass_score: Mapped[float | None] = mapped_column(Float)  # percent; None = no pass mark
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class QaScore(Base):
    """A supervisor's score of one call with one form: per-criterion scores, total, notes."""

    __tablename__ = "qa_scores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[str] = mapped_column(ForeignKey("call_attempts.id", ondelete="CASCADE"))
    form_id: Mapped[int] = mapped_column(ForeignKey("qa_forms.id", ondelete="RESTRICT"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    scorer: Mapped[str] = mapped_column(String(100))
    # [{"key", "label", "weight", "max_score", "score"}]: the form's criteria when scored.
    answers: Mapped[list[JSONDict]] = mapped_column(JSON, default=list)
    total: Mapped[float] = mapped_column(Float)  # weighted percent, 0..100
    passed: Mapped[bool | None] = mapped_column(Boolean)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_qa_scores_agent_created", "agent_id", "created_at"),
        Index("ix_qa_scores_campaign_created", "campaign_id", "created_at"),
        Index("ix_qa_scores_attempt_id", "attempt_id"),
        Index("ix_qa_scores_form_id", "form_id"),
    )


class InboundCall(Base):
    """One call to a blended campaign's number: queued, answered by an agent, abandoned by
    the caller, or sent to the overflow message. Kept apart from `call_attempts` so the
    outbound books (abandonment under the legal limit, caller-ID health, agent dial caps)
    stay about calls the dialer placed."""

    __tablename__ = "inbound_calls"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    did: Mapped[str] = mapped_column(String(40))
    caller_number: Mapped[str] = mapped_column(String(40), default="")
    lead_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("leads.id", ondelete="SET NULL"),
    )
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    asterisk_server: Mapped[str] = mapped_column(String(80), default="")
    uniqueid: Mapped[str] = mapped_column(String(64), default="")
    arrived_at: Mapped[datetime] = mapped_column(default=utcnow)
    connect_at: Mapped[datetime | None] = mapped_column()
    hangup_at: Mapped[datetime | None] = mapped_column()
    end_at: Mapped[datetime | None] = mapped_column()
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    # answered | abandoned | overflow | closed | lost; None while the call is live
    outcome: Mapped[str | None] = mapped_column(String(16))
    disposition: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str] = mapped_column(Text, default="")
    recording_path: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        Index("ix_inbound_calls_campaign_arrived", "campaign_id", "arrived_at"),
        Index("ix_inbound_calls_agent_arrived", "agent_id", "arrived_at"),
    )
