"""Result webhooks: per-campaign endpoints, their deliveries, and the dead-letter list.

The JSON the dialer POSTs is documented under the schema's `webhooks` (one entry per event
type, body `WebhookPayload`). A webhook's secret is returned when it is created or rotated,
never again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Response
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, UrlConstraints

from api.paging import BigDbId, DbId, Limit, Offset
from api.security import Ctx, Supervisor
from dialer.db.models import Webhook
from dialer.services import webhooks as service
from dialer.services.webhooks import DeliveryStatus, WebhookPayload

router = APIRouter(prefix="/v1", tags=["webhooks"])

SubscribableEvent = Literal["attempt.ended", "attempt.dispositioned", "callback.due"]
HookUrl = Annotated[AnyHttpUrl, UrlConstraints(max_length=2000, allowed_schemes=["http", "https"])]
Secret = Annotated[str, Field(min_length=service.MIN_SECRET_LENGTH, max_length=200)]


class WebhookFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(default=None, max_length=200)
    events: list[SubscribableEvent] | None = Field(default=None, min_length=1, max_length=3)
    max_attempts: int | None = Field(
        default=None, ge=1, le=20, description="tries before a delivery becomes a dead letter"
    )
    timeout_s: int | None = Field(default=None, ge=1, le=60)
    active: bool | None = None


class WebhookCreate(WebhookFields):
    url: HookUrl
    secret: Secret | None = Field(
        default=None, description="the HMAC-SHA256 key; generated when not given"
    )


class WebhookUpdate(WebhookFields):
    url: HookUrl | None = None


class SecretRotate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    secret: Secret | None = None


class WebhookOut(BaseModel):
    id: int
    campaign_id: int
    url: str
    description: str
    events: list[str]
    active: bool
    max_attempts: int
    timeout_s: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    deliveries: dict[str, int] = Field(description="deliveries kept, by status")


class WebhookWithSecret(WebhookOut):
    secret: str = Field(description="shown only now: store it to verify signatures")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    webhook_id: int
    campaign_id: int
    event_type: str
    event_id: str
    attempt_id: str | None
    callback_id: int | None
    status: str
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_status: int | None
    last_error: str
    delivered_at: datetime | None
    created_at: datetime
    payload: dict[str, Any] | None


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    total: int


class Requeued(BaseModel):
    requeued: int


def _out(hook: Webhook, counts: dict[int, dict[str, int]]) -> WebhookOut:
    return WebhookOut(
        id=hook.id,
        campaign_id=hook.campaign_id,
        url=hook.url,
        description=hook.description,
        events=list(hook.events),
        active=hook.active,
        max_attempts=hook.max_attempts,
        timeout_s=hook.timeout_s,
        created_by=hook.created_by,
        created_at=hook.created_at,
        updated_at=hook.updated_at,
        deliveries=counts.get(hook.id, {}),
    )


def _fields(body: BaseModel) -> dict[str, Any]:
    fields = body.model_dump(exclude_none=True)
    if "url" in fields:
        fields["url"] = str(fields["url"])
    return fields


# ---------------------------------------------------------------------- webhooks


@router.get("/campaigns/{campaign_id}/webhooks", response_model=list[WebhookOut])
async def list_webhooks(ctx: Ctx, _: Supervisor, campaign_id: DbId) -> Any:
    hooks = await service.list_webhooks(ctx.session_factory, campaign_id)
    counts = await service.delivery_counts(ctx.session_factory, [h.id for h in hooks])
    return [_out(h, counts) for h in hooks]


@router.post("/campaigns/{campaign_id}/webhooks", response_model=WebhookWithSecret, status_code=201)
async def create_webhook(ctx: Ctx, who: Supervisor, campaign_id: DbId, body: WebhookCreate) -> Any:
    """The response carries the secret; it is never shown again (rotate it if lost)."""
    fields = _fields(body)
    hook, secret = await service.create_webhook(
        ctx.session_factory, campaign_id, actor=who.username, **fields
    )
    return WebhookWithSecret(**_out(hook, {}).model_dump(), secret=secret)


@router.get("/campaigns/{campaign_id}/webhooks/{webhook_id}", response_model=WebhookOut)
async def read_webhook(ctx: Ctx, _: Supervisor, campaign_id: DbId, webhook_id: DbId) -> Any:
    hook = await service.get_webhook(ctx.session_factory, campaign_id, webhook_id)
    return _out(hook, await service.delivery_counts(ctx.session_factory, [hook.id]))


@router.patch("/campaigns/{campaign_id}/webhooks/{webhook_id}", response_model=WebhookOut)
async def update_webhook(
    ctx: Ctx, who: Supervisor, campaign_id: DbId, webhook_id: DbId, body: WebhookUpdate
) -> Any:
    hook = await service.update_webhook(
        ctx.session_factory, campaign_id, webhook_id, _fields(body), who.username
    )
    return _out(hook, await service.delivery_counts(ctx.session_factory, [hook.id]))


@router.delete("/campaigns/{campaign_id}/webhooks/{webhook_id}", status_code=204)
async def delete_webhook(
    ctx: Ctx, who: Supervisor, campaign_id: DbId, webhook_id: DbId
) -> Response:
    """Its queued and dead deliveries go with it."""
    await service.delete_webhook(ctx.session_factory, campaign_id, webhook_id, who.username)
    return Response(status_code=204)


@router.post(
    "/campaigns/{campaign_id}/webhooks/{webhook_id}/rotate-secret",
    response_model=WebhookWithSecret,
)
async def rotate_secret(
    ctx: Ctx,
    who: Supervisor,
    campaign_id: DbId,
    webhook_id: DbId,
    body: SecretRotate | None = None,
) -> Any:
    """A new secret (given or generated), used from the next try on; shown only now."""
    hook, secret = await service.rotate_secret(
        ctx.session_factory,
        campaign_id,
        webhook_id,
        body.secret if body is not None else None,
        who.username,
    )
    counts = await service.delivery_counts(ctx.session_factory, [hook.id])
    return WebhookWithSecret(**_out(hook, counts).model_dump(), secret=secret)


@router.post(
    "/campaigns/{campaign_id}/webhooks/{webhook_id}/test",
    response_model=DeliveryOut,
    status_code=202,
)
async def send_test_event(ctx: Ctx, _: Supervisor, campaign_id: DbId, webhook_id: DbId) -> Any:
    """Queue a `webhook.test` event to this webhook; follow it in its deliveries."""
    return await service.queue_test_event(ctx.session_factory, campaign_id, webhook_id)


@router.get(
    "/campaigns/{campaign_id}/webhooks/{webhook_id}/deliveries", response_model=DeliveryPage
)
async def list_webhook_deliveries(
    ctx: Ctx,
    _: Supervisor,
    campaign_id: DbId,
    webhook_id: DbId,
    status: DeliveryStatus | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Any:
    """Newest first; delivered ones are kept a week."""
    await service.get_webhook(ctx.session_factory, campaign_id, webhook_id)
    items, total = await service.list_deliveries(
        ctx.session_factory, status=status, webhook_id=webhook_id, offset=offset, limit=limit
    )
    return DeliveryPage(items=[DeliveryOut.model_validate(d) for d in items], total=total)


# ---------------------------------------------------------------------- dead letters


@router.get("/webhooks/dead-letters", response_model=DeliveryPage)
async def list_dead_letters(
    ctx: Ctx,
    _: Supervisor,
    campaign_id: DbId | None = None,
    webhook_id: DbId | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Any:
    """Deliveries whose every try failed, newest first, with the last error."""
    items, total = await service.list_deliveries(
        ctx.session_factory,
        status=DeliveryStatus.DEAD,
        campaign_id=campaign_id,
        webhook_id=webhook_id,
        offset=offset,
        limit=limit,
    )
    return DeliveryPage(items=[DeliveryOut.model_validate(d) for d in items], total=total)


@router.post("/webhooks/dead-letters/retry", response_model=Requeued)
async def retry_dead_letters(
    ctx: Ctx, who: Supervisor, campaign_id: DbId | None = None, webhook_id: DbId | None = None
) -> Requeued:
    """Requeue every dead letter (of a campaign or webhook), e.g. after a receiver outage."""
    n = await service.retry_dead_letters(
        ctx.session_factory, campaign_id=campaign_id, webhook_id=webhook_id, actor=who.username
    )
    return Requeued(requeued=n)


@router.post("/webhooks/dead-letters/{delivery_id}/retry", response_model=DeliveryOut)
async def retry_dead_letter(ctx: Ctx, who: Supervisor, delivery_id: BigDbId) -> Any:
    """Back to the queue with a fresh set of tries: the same body and event id."""
    return await service.retry_dead_letter(ctx.session_factory, delivery_id, who.username)


@router.delete("/webhooks/dead-letters/{delivery_id}", status_code=204)
async def delete_dead_letter(ctx: Ctx, who: Supervisor, delivery_id: BigDbId) -> Response:
    await service.delete_dead_letter(ctx.session_factory, delivery_id, who.username)
    return Response(status_code=204)


# ---------------------------------------------------------------------- outgoing (docs only)

outgoing = APIRouter(tags=["webhooks"])

SignatureHeader = Annotated[
    str,
    Header(
        alias=service.SIGNATURE_HEADER,
        description="`sha256=` and the hex HMAC-SHA256 of the raw body with the webhook's secret",
    ),
]
EventHeader = Annotated[str, Header(alias=service.EVENT_HEADER, description="the event type")]
DeliveryHeader = Annotated[
    str, Header(alias=service.DELIVERY_HEADER, description="the delivery id (same on retries)")
]
_RECEIVER = (
    " Answer 2xx within the webhook's timeout; anything else is retried with exponential "
    "backoff (a `Retry-After` in seconds is honoured) until the webhook's `max_attempts`, "
    "then the delivery is a dead letter (`GET /v1/webhooks/dead-letters`)."
)


@outgoing.post(
    "attempt.ended",
    description="A call ended: for a connected customer when the "
    "customer hangs up (state `wrapup`), otherwise at its terminal state." + _RECEIVER,
)
def attempt_ended(
    body: WebhookPayload, signature: SignatureHeader, event: EventHeader, delivery: DeliveryHeader
) -> None:
    """Sent by the dialer (documentation only)."""


@outgoing.post(
    "attempt.dispositioned",
    description="An agent (or the wrap-up timeout) gave "
    "the call its disposition; a scheduled callback is included." + _RECEIVER,
)
def attempt_dispositioned(
    body: WebhookPayload, signature: SignatureHeader, event: EventHeader, delivery: DeliveryHeader
) -> None:
    """Sent by the dialer (documentation only)."""


@outgoing.post("callback.due", description="A scheduled callback came due." + _RECEIVER)
def callback_due(
    body: WebhookPayload, signature: SignatureHeader, event: EventHeader, delivery: DeliveryHeader
) -> None:
    """Sent by the dialer (documentation only)."""


@outgoing.post(
    "webhook.test", description="Asked for with `POST .../webhooks/{id}/test`." + _RECEIVER
)
def webhook_test(
    body: WebhookPayload, signature: SignatureHeader, event: EventHeader, delivery: DeliveryHeader
) -> None:
    """Sent by the dialer (documentation only)."""
