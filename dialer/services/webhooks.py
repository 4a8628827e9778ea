"""Result webhooks: per-campaign endpoints, the signed JSON they receive, the delivery queue
and its dead letters.

The dispatcher (`dialer.runtime.webhooks.WebhookDispatcher`) queues deliveries and sends
them; this module holds what both it and the API need: the payload models (documented in the
OpenAPI schema), signing, the retry schedule, payload building and the stored-data functions.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.db.engine import SessionFactory
from dialer.db.enums import CallbackStatus
from dialer.db.models import Agent, CallAttempt, Callback, Campaign, Lead, Webhook, WebhookDelivery
from dialer.db.types import utcnow
from dialer.services.audit import add_audit
from dialer.services.errors import Invalid, NotFound

SIGNATURE_HEADER = "X-Dialer-Signature"
EVENT_HEADER = "X-Dialer-Event"
DELIVERY_HEADER = "X-Dialer-Delivery"

ATTEMPT_ENDED = "attempt.ended"
ATTEMPT_DISPOSITIONED = "attempt.dispositioned"
CALLBACK_DUE = "callback.due"
WEBHOOK_TEST = "webhook.test"
# What a webhook can subscribe to (a test event goes to the one webhook it was asked for).
EVENT_TYPES: tuple[str, ...] = (ATTEMPT_ENDED, ATTEMPT_DISPOSITIONED, CALLBACK_DUE)
EventType = Literal["attempt.ended", "attempt.dispositioned", "callback.due", "webhook.test"]

MIN_SECRET_LENGTH = 16


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # queued or waiting for its next try
    DELIVERED = "delivered"  # the receiver answered 2xx
    DEAD = "dead"  # every try failed: on the dead-letter list until retried or deleted


# ---------------------------------------------------------------------- the payload


class WebhookAttempt(BaseModel):
    """The call attempt as stored when the payload was built."""

    id: str = Field(description="the attempt id (also the Asterisk channel id)")
    lead_id: int | None
    number_dialed: str = Field(description="E.164")
    caller_id: str = Field(description="the caller ID presented")
    agent_id: int | None
    agent_extension: str | None
    state: str | None = Field(
        description="the call's state when the event happened: `wrapup` (the customer hung up "
        "and the agent is wrapping up) or a terminal state: no_answer, busy, congestion, "
        "failed, machine, abandoned, dropped, completed, lost"
    )
    terminal_state: str | None = Field(description="null while the agent is still wrapping up")
    outcome: str | None = Field(description="human, machine, no_answer, busy, congestion, failed")
    disposition: str | None = Field(description="the disposition code")
    notes: str
    abandoned: bool
    originate_at: datetime
    answer_at: datetime | None
    connect_at: datetime | None
    hangup_at: datetime | None
    end_at: datetime | None
    hangup_cause: int | None = Field(description="Q.850 cause")
    amd_status: str | None


class WebhookLead(BaseModel):
    id: int
    phone_e164: str
    name: str
    custom_fields: dict[str, Any] = Field(description="the columns imported with the lead")
    status: str
    attempt_count: int
    next_call_at: datetime | None
    last_disposition: str | None


class WebhookCallback(BaseModel):
    id: int
    lead_id: int
    agent_id: int | None = Field(description="null: any agent of the campaign may call back")
    due_at: datetime
    status: str
    note: str


class WebhookPayload(BaseModel):
    """The JSON body POSTed to a webhook.

    The body is signed: `X-Dialer-Signature: sha256=<hex>` is the HMAC-SHA256 of the exact
    body bytes with the webhook's secret. `X-Dialer-Event` names the event type and
    `X-Dialer-Delivery` the delivery. Retries send the same bytes; `event_id` is unique per
    event and webhook, so a receiver can drop duplicates.
    """

    event_id: str
    type: EventType
    occurred_at: datetime
    campaign_id: int
    campaign_name: str
    webhook_id: int
    attempt: WebhookAttempt | None = Field(
        default=None,
        description="for attempt.* events; with the lead and, after a "
        "callback disposition, the scheduled callback",
    )
    lead: WebhookLead | None = None
    callback: WebhookCallback | None = Field(
        default=None,
        description="for callback.due; for attempt.dispositioned when the "
        "disposition scheduled one",
    )


def body_bytes(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact, sorted keys, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for `body`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, body: bytes, header: str) -> bool:
    """How a receiver checks a delivery (constant-time)."""
    return hmac.compare_digest(sign(secret, body), header or "")


def retry_delay(
    failures: int,
    *,
    base_s: float,
    max_s: float,
    jitter: float = 0.0,
    rand: float = 0.0,
    retry_after_s: float | None = None,
) -> float:
    """Seconds to wait after the `failures`-th failed try: base·2^(failures-1), capped, plus up
    to `jitter` of itself (`rand` in [0, 1)); a receiver's Retry-After is honoured up to the cap.
    """
    delay = min(max_s, base_s * 2 ** max(0, failures - 1))
    delay *= 1.0 + jitter * rand
    if retry_after_s is not None and retry_after_s > delay:
        delay = retry_after_s
    return min(max_s, delay)


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def new_event_id() -> str:
    return str(uuid.uuid4())


# ---------------------------------------------------------------------- queueing


def _insert_for(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def queue_deliveries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert deliveries; one already queued for the same webhook and event key is kept."""
    if not rows:
        return
    now = utcnow()
    values = [
        {
            "event_id": new_event_id(),
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": "",
            "created_at": now,
            **row,
        }
        for row in rows
    ]
    insert = _insert_for(session)
    stmt = insert(WebhookDelivery).on_conflict_do_nothing(
        index_elements=["webhook_id", "event_key"]
    )
    await session.execute(stmt, values)


def event_key(event_type: str, object_id: str | int) -> str:
    return f"{event_type}:{object_id}"


async def build_payload(session: AsyncSession, delivery: WebhookDelivery) -> dict[str, Any]:
    """The payload from the stored rows (read once, on the first try)."""
    campaign = await session.get(Campaign, delivery.campaign_id)
    attempt_out = lead_out = callback_out = None
    lead_id: int | None = None
    if delivery.attempt_id is not None:
        attempt = await session.get(CallAttempt, delivery.attempt_id)
        if attempt is not None:
            extension = None
            if attempt.agent_id is not None:
                extension = await session.scalar(
                    select(Agent.extension).where(Agent.id == attempt.agent_id)
                )
            attempt_out = WebhookAttempt(
                id=attempt.id,
                lead_id=attempt.lead_id,
                number_dialed=attempt.number_dialed,
                caller_id=attempt.caller_id,
                agent_id=attempt.agent_id,
                agent_extension=extension,
                state=delivery.state,
                terminal_state=attempt.terminal_state,
                outcome=attempt.outcome,
                disposition=attempt.disposition,
                notes=attempt.notes,
                abandoned=attempt.abandoned,
                originate_at=attempt.originate_at,
                answer_at=attempt.answer_at,
                connect_at=attempt.connect_at,
                hangup_at=attempt.hangup_at,
                end_at=attempt.end_at,
                hangup_cause=attempt.hangup_cause,
                amd_status=attempt.amd_status,
            )
            lead_id = attempt.lead_id
            if delivery.event_type == ATTEMPT_DISPOSITIONED and lead_id is not None:
                callback = await session.scalar(
                    select(Callback)
                    .where(
                        Callback.lead_id == lead_id,
                        Callback.status == CallbackStatus.PENDING,
                        Callback.created_at >= attempt.originate_at,
                    )
                    .order_by(Callback.id.desc())
                    .limit(1)
                )
                if callback is not None:
                    callback_out = _callback_out(callback)
    if delivery.callback_id is not None:
        callback = await session.get(Callback, delivery.callback_id)
        if callback is not None:
            callback_out = _callback_out(callback)
            lead_id = callback.lead_id
    if lead_id is not None:
        lead = await session.get(Lead, lead_id)
        if lead is not None:
            lead_out = WebhookLead(
                id=lead.id,
                phone_e164=lead.phone_e164,
                name=lead.name,
                custom_fields=dict(lead.custom_fields or {}),
                status=lead.status,
                attempt_count=lead.attempt_count,
                next_call_at=lead.next_call_at,
                last_disposition=lead.last_disposition,
            )
    payload = WebhookPayload(
        event_id=delivery.event_id,
        type=delivery.event_type,  # type: ignore[arg-type]
        occurred_at=delivery.occurred_at,
        campaign_id=delivery.campaign_id,
        campaign_name=campaign.name if campaign is not None else "",
        webhook_id=delivery.webhook_id,
        attempt=attempt_out,
        lead=lead_out,
        callback=callback_out,
    )
    return payload.model_dump(mode="json")


def _callback_out(callback: Callback) -> WebhookCallback:
    return WebhookCallback(
        id=callback.id,
        lead_id=callback.lead_id,
        agent_id=callback.agent_id,
        due_at=callback.due_at,
        status=callback.status,
        note=callback.note,
    )


# ---------------------------------------------------------------------- webhooks


def _check_events(events: Sequence[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise Invalid(f"unknown event types {unknown}; known: {list(EVENT_TYPES)}")
    if not events:
        raise Invalid("a webhook needs at least one event type")
    return list(dict.fromkeys(events))


def _check_secret(secret: str | None) -> str:
    if secret is None:
        return new_secret()
    if len(secret) < MIN_SECRET_LENGTH:
        raise Invalid(f"a webhook secret needs at least {MIN_SECRET_LENGTH} characters")
    return secret


async def _campaign(session: AsyncSession, campaign_id: int) -> Campaign:
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    return campaign


async def _webhook(session: AsyncSession, campaign_id: int, webhook_id: int) -> Webhook:
    hook = await session.get(Webhook, webhook_id)
    if hook is None or hook.campaign_id != campaign_id:
        raise NotFound(f"no webhook {webhook_id} in campaign {campaign_id}")
    return hook


async def create_webhook(
    session_factory: SessionFactory,
    campaign_id: int,
    *,
    url: str,
    events: Sequence[str] = EVENT_TYPES,
    description: str = "",
    max_attempts: int = 8,
    timeout_s: int = 10,
    active: bool = True,
    secret: str | None = None,
    actor: str = "",
) -> tuple[Webhook, str]:
    """A new webhook and its secret (the only time the secret is handed out)."""
    secret = _check_secret(secret)
    async with session_factory() as session, session.begin():
        await _campaign(session, campaign_id)
        hook = Webhook(
            campaign_id=campaign_id,
            url=url,
            description=description,
            events=_check_events(events),
            secret=secret,
            active=active,
            max_attempts=max_attempts,
            timeout_s=timeout_s,
            created_by=actor,
        )
        session.add(hook)
        await session.flush()
        add_audit(session, actor, "webhook.create", "webhook", hook.id, {"url": url})
    return hook, secret


async def list_webhooks(session_factory: SessionFactory, campaign_id: int) -> list[Webhook]:
    async with session_factory() as session:
        await _campaign(session, campaign_id)
        rows = await session.scalars(
            select(Webhook).where(Webhook.campaign_id == campaign_id).order_by(Webhook.id)
        )
        return list(rows)


async def delivery_counts(
    session_factory: SessionFactory, webhook_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """Deliveries per webhook and status."""
    if not webhook_ids:
        return {}
    async with session_factory() as session:
        rows = await session.execute(
            select(WebhookDelivery.webhook_id, WebhookDelivery.status, func.count())
            .where(WebhookDelivery.webhook_id.in_(list(webhook_ids)))
            .group_by(WebhookDelivery.webhook_id, WebhookDelivery.status)
        )
        counts: dict[int, dict[str, int]] = {
            i: dict.fromkeys((s.value for s in DeliveryStatus), 0) for i in webhook_ids
        }
        for webhook_id, status, n in rows:
            counts[webhook_id][status] = n
    return counts


async def get_webhook(
    session_factory: SessionFactory, campaign_id: int, webhook_id: int
) -> Webhook:
    async with session_factory() as session:
        return await _webhook(session, campaign_id, webhook_id)


async def update_webhook(
    session_factory: SessionFactory,
    campaign_id: int,
    webhook_id: int,
    changes: dict[str, Any],
    actor: str = "",
) -> Webhook:
    allowed = {"url", "events", "description", "max_attempts", "timeout_s", "active"}
    unknown = set(changes) - allowed
    if unknown:
        raise Invalid(f"unknown webhook fields: {sorted(unknown)}")
    if "events" in changes:
        changes["events"] = _check_events(changes["events"])
    async with session_factory() as session, session.begin():
        hook = await _webhook(session, campaign_id, webhook_id)
        for key, value in changes.items():
            setattr(hook, key, value)
        add_audit(session, actor, "webhook.update", "webhook", hook.id, {"fields": sorted(changes)})
    return hook


async def rotate_secret(
    session_factory: SessionFactory,
    campaign_id: int,
    webhook_id: int,
    secret: str | None = None,
    actor: str = "",
) -> tuple[Webhook, str]:
    """A new secret, used from the next try on (queued deliveries are signed when sent)."""
    secret = _check_secret(secret)
    async with session_factory() as session, session.begin():
        hook = await _webhook(session, campaign_id, webhook_id)
        hook.secret = secret
        add_audit(session, actor, "webhook.rotate_secret", "webhook", hook.id)
    return hook, secret


async def delete_webhook(
    session_factory: SessionFactory, campaign_id: int, webhook_id: int, actor: str = ""
) -> None:
    """The webhook goes, with its queued and dead deliveries."""
    async with session_factory() as session, session.begin():
        hook = await _webhook(session, campaign_id, webhook_id)
        await session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id))
        await session.delete(hook)
        add_audit(session, actor, "webhook.delete", "webhook", webhook_id, {"url": hook.url})


async def queue_test_event(
    session_factory: SessionFactory, campaign_id: int, webhook_id: int
) -> WebhookDelivery:
    """Queue a `webhook.test` delivery to this webhook (an inactive webhook keeps it queued
    until it is active again)."""
    async with session_factory() as session, session.begin():
        hook = await _webhook(session, campaign_id, webhook_id)
        key = event_key(WEBHOOK_TEST, uuid.uuid4().hex)
        await queue_deliveries(
            session,
            [
                {
                    "webhook_id": hook.id,
                    "campaign_id": campaign_id,
                    "event_type": WEBHOOK_TEST,
                    "event_key": key,
                    "occurred_at": utcnow(),
                }
            ],
        )
        delivery = await session.scalar(
            select(WebhookDelivery).where(
                WebhookDelivery.webhook_id == hook.id, WebhookDelivery.event_key == key
            )
        )
    assert delivery is not None
    return delivery


# ---------------------------------------------------------------------- deliveries


async def list_deliveries(
    session_factory: SessionFactory,
    *,
    status: str | None = None,
    campaign_id: int | None = None,
    webhook_id: int | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[WebhookDelivery], int]:
    """Newest first."""
    where = []
    if status is not None:
        where.append(WebhookDelivery.status == status)
    if campaign_id is not None:
        where.append(WebhookDelivery.campaign_id == campaign_id)
    if webhook_id is not None:
        where.append(WebhookDelivery.webhook_id == webhook_id)
    async with session_factory() as session:
        total = await session.scalar(
            select(func.count()).select_from(WebhookDelivery).where(*where)
        )
        rows = await session.scalars(
            select(WebhookDelivery)
            .where(*where)
            .order_by(WebhookDelivery.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return list(rows), int(total or 0)


async def _dead_letter(session: AsyncSession, delivery_id: int) -> WebhookDelivery:
    delivery = await session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.DEAD:
        raise NotFound(f"no dead letter {delivery_id}")
    return delivery


def _requeue(delivery: WebhookDelivery) -> None:
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()


async def retry_dead_letter(
    session_factory: SessionFactory, delivery_id: int, actor: str = ""
) -> WebhookDelivery:
    """Back to the queue with a fresh set of tries (the same payload and event id)."""
    async with session_factory() as session, session.begin():
        delivery = await _dead_letter(session, delivery_id)
        _requeue(delivery)
        add_audit(session, actor, "webhook.dead_letter.retry", "webhook_delivery", delivery_id)
    return delivery


async def retry_dead_letters(
    session_factory: SessionFactory,
    *,
    campaign_id: int | None = None,
    webhook_id: int | None = None,
    actor: str = "",
) -> int:
    """Requeue every dead letter (of a campaign, of a webhook); how many were requeued."""
    where = [WebhookDelivery.status == DeliveryStatus.DEAD]
    if campaign_id is not None:
        where.append(WebhookDelivery.campaign_id == campaign_id)
    if webhook_id is not None:
        where.append(WebhookDelivery.webhook_id == webhook_id)
    async with session_factory() as session, session.begin():
        result = await session.execute(
            update(WebhookDelivery)
            .where(*where)
            .values(status=DeliveryStatus.PENDING.value, attempts=0, next_attempt_at=utcnow())
        )
        n = int(result.rowcount or 0)  # type: ignore[attr-defined]
        add_audit(
            session,
            actor,
            "webhook.dead_letter.retry_all",
            "webhook_delivery",
            "",
            {"campaign_id": campaign_id, "webhook_id": webhook_id, "requeued": n},
        )
    return n


async def delete_dead_letter(
    session_factory: SessionFactory, delivery_id: int, actor: str = ""
) -> None:
    async with session_factory() as session, session.begin():
        delivery = await _dead_letter(session, delivery_id)
        await session.delete(delivery)
        add_audit(
            session,
            actor,
            "webhook.dead_letter.delete",
            "webhook_delivery",
            delivery_id,
            {"event_type": delivery.event_type, "event_id": delivery.event_id},
        )
