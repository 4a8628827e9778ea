"""The webhook dispatcher: result callbacks to campaigns' HTTP endpoints, in the background.

Dialing never waits for it. It listens to the runtime's `EventBus` (`call/<campaign>/<attempt>`
events carry the call's state), queues a delivery row per subscribed webhook (so a restart
loses nothing once queued), and a small pool of senders POSTs the signed JSON with
exponential backoff until the receiver answers 2xx or the webhook's tries run out (the
delivery is then a dead letter, listed in the API).

What the bus cannot guarantee, the database does: a periodic sweep queues attempts that
ended recently without a delivery (an event lost to a crash, a webhook created a moment
ago), due callbacks are found by a scan, and `(webhook, event)` is unique so every path
(and every process) queues an event once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.db.engine import SessionFactory
from dialer.db.enums import CallbackStatus
from dialer.db.models import CallAttempt, Callback, Webhook, WebhookDelivery
from dialer.db.types import utcnow
from dialer.runtime.attempt_state import TERMINAL, AttemptState
from dialer.runtime.bus import BusEvent, EventBus, Subscription
from dialer.services import webhooks as hooks_service
from dialer.services.webhooks import (
    ATTEMPT_DISPOSITIONED,
    ATTEMPT_ENDED,
    CALLBACK_DUE,
    DeliveryStatus,
    body_bytes,
    event_key,
    retry_delay,
    sign,
)

log = logging.getLogger(__name__)

_TERMINAL_STATES = frozenset(s.value for s in TERMINAL)
_KEY_CHUNK = 500
_MAX_BACKLOG = 100_000


def events_for_state(state: str) -> tuple[str, ...]:
    """Which webhook events a call state change raises. `wrapup` is the end of the call for
    a connected customer (the disposition follows); the terminal state ends every other one."""
    if state == AttemptState.WRAPUP:
        return (ATTEMPT_ENDED,)
    if state == AttemptState.COMPLETED:
        return (ATTEMPT_ENDED, ATTEMPT_DISPOSITIONED)
    if state in _TERMINAL_STATES:
        return (ATTEMPT_ENDED,)
    return ()


@dataclass(frozen=True)
class _Hook:
    id: int
    campaign_id: int
    events: frozenset[str]
    created_at: datetime


@dataclass(frozen=True)
class _Job:
    delivery_id: int
    webhook_id: int
    url: str
    secret: str
    timeout_s: float
    max_attempts: int


@dataclass
class _EndpointHealth:
    failures: int = 0  # rests in a row
    rest_until: float = 0.0  # real (monotonic) time
    probing: bool = False  # the one try after a rest is on its way


class WebhookDispatcher:
    """`start()` / `stop()`; the knobs are seconds. `now` is the runtime's wall clock (what
    attempt and callback times are written with); the queue is scheduled in real time.
    `transport` is for tests only."""

    def __init__(
        self,
        sessions: SessionFactory,
        bus: EventBus,
        *,
        now: Callable[[], datetime] = utcnow,
        base_delay_s: float = 10.0,
        max_delay_s: float = 3600.0,
        jitter: float = 0.2,
        poll_s: float = 1.0,
        refresh_s: float = 5.0,
        sweep_s: float = 60.0,
        sweep_window_s: float = 600.0,
        startup_window_s: float = 3600.0,
        callback_window_s: float = 3600.0,
        settle_s: float = 30.0,
        max_concurrency: int = 8,
        keep_delivered_s: float = 7 * 86400.0,
        transport: httpx.AsyncBaseTransport | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.sessions = sessions
        self.bus = bus
        self.now = now
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.jitter = jitter
        self.poll_s = poll_s
        self.refresh_s = refresh_s
        self.sweep_s = sweep_s
        self.sweep_window_s = sweep_window_s
        self.startup_window_s = startup_window_s
        self.callback_window_s = callback_window_s
        self.settle_s = settle_s
        self.max_concurrency = max_concurrency
        self.keep_delivered_s = keep_delivered_s
        self._transport = transport
        self._rand = rand
        self.hooks: dict[int, list[_Hook]] = {}  # active webhooks by campaign
        self.queued = 0  # deliveries queued from bus events
        self.delivered = 0
        self.failed = 0  # failed tries (each retried or dead)
        self.dead = 0
        self.last_error = ""
        self._backlog: list[dict[str, Any]] = []
        self._endpoints: dict[int, _EndpointHealth] = {}  # failing as a whole, by webhook
        self._sub: Subscription | None = None
        self._client: httpx.AsyncClient | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._in_flight: dict[asyncio.Task[Any], _Job] = {}
        self._wake = asyncio.Event()
        self.hooks_loaded = asyncio.Event()
        self.swept = asyncio.Event()  # the startup sweep is done

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Subscribe and start the background tasks (nothing here waits for the database)."""
        self._sub = self.bus.subscribe("call/", maxsize=20_000, replay=False)
        self._client = httpx.AsyncClient(transport=self._transport, follow_redirects=False)
        for coro, name in (
            (self._consume(), "webhooks-queue"),
            (self._send_loop(), "webhooks-send"),
            (self._housekeeping(), "webhooks-housekeeping"),
        ):
            task = asyncio.ensure_future(coro)
            task.set_name(name)
            self._tasks.append(task)

    async def stop(self, within: float = 5.0, grace: float = 2.0) -> None:
        """Queue what the bus still holds, give tries in flight `grace` seconds, then stop.
        Tries cut short are handed back to the queue (due at once, for the next start)."""
        if self._sub is not None:
            self._sub.close()
            while not self._sub.queue.empty():
                self._take(self._sub.queue.get_nowait())
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await self._flush_all()
        if self._backlog:
            log.warning("webhooks: %d events not queued at shutdown", len(self._backlog))
        if self._in_flight:
            await asyncio.wait(list(self._in_flight), timeout=grace)
        cut = [job.delivery_id for task, job in self._in_flight.items() if not task.done()]
        for task in list(self._in_flight):
            task.cancel()
        await asyncio.gather(*self._in_flight, return_exceptions=True)
        if cut:
            with contextlib.suppress(Exception):
                await self._release(cut)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def wake(self) -> None:
        self._wake.set()

    # ------------------------------------------------------------------ bus -> queue

    def _take(self, event: BusEvent) -> None:
        payload = event.payload
        campaign_id = payload.get("campaign_id")
        hooks = self.hooks.get(campaign_id) if isinstance(campaign_id, int) else None
        if not hooks:
            return
        state = str(payload.get("state") or "")
        types = events_for_state(state)
        attempt_id = payload.get("attempt_id")
        if not types or not attempt_id:
            return
        occurred = self.now()
        for hook in hooks:
            for event_type in types:
                if event_type in hook.events:
                    self._backlog.append(
                        {
                            "webhook_id": hook.id,
                            "campaign_id": campaign_id,
                            "event_type": event_type,
                            "event_key": event_key(event_type, attempt_id),
                            "attempt_id": attempt_id,
                            "state": state,
                            "occurred_at": occurred,
                        }
                    )
                    self.queued += 1
        if len(self._backlog) > _MAX_BACKLOG:  # the database is away: the sweep recovers these
            del self._backlog[: len(self._backlog) - _MAX_BACKLOG]

    async def _flush(self) -> bool:
        batch = self._backlog[:1000]
        if not batch:
            return True
        try:
            async with self.sessions() as session, session.begin():
                await hooks_service.queue_deliveries(session, batch)
        except Exception as exc:
            self.last_error = f"queueing: {exc}"
            log.warning("webhooks: could not queue %d deliveries: %s", len(batch), exc)
            return False
        del self._backlog[: len(batch)]
        self._wake.set()
        return True

    async def _flush_all(self) -> None:
        failures = 0
        while self._backlog:
            if await self._flush():
                failures = 0
                continue
            failures += 1
            await asyncio.sleep(min(5.0, 0.2 * 2**failures))

    async def _consume(self) -> None:
        assert self._sub is not None
        failures = 0
        while True:
            if not self._backlog:
                self._take(await self._sub.get())
            while not self._sub.queue.empty() and len(self._backlog) < 1000:
                self._take(self._sub.queue.get_nowait())
            if await self._flush():
                failures = 0
            else:
                failures += 1
                await asyncio.sleep(min(5.0, 0.2 * 2**failures))

    # ------------------------------------------------------------------ sending

    async def _send_loop(self) -> None:
        while True:
            free = self.max_concurrency - len(self._in_flight)
            jobs: list[_Job] = []
            if free > 0:
                try:
                    jobs = await self._claim(free)
                except Exception as exc:
                    self.last_error = f"claiming: {exc}"
                    log.warning("webhooks: could not read the queue: %s", exc)
            for job in jobs:
                task = asyncio.ensure_future(self._deliver(job))
                self._in_flight[task] = job
                task.add_done_callback(self._sent)
            if free <= 0 or len(jobs) < free:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_s):
                        await self._wake.wait()
                self._wake.clear()

    def _sent(self, task: asyncio.Task[Any]) -> None:
        self._in_flight.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("webhooks: delivery failed unexpectedly", exc_info=task.exception())
        self._wake.set()

    async def _claim(self, limit: int) -> list[_Job]:
        """Take up to `limit` due deliveries of active webhooks. A claim moves the next try past
        the request's timeout, so another process (or this one after a crash) retries it only
        if this try never records its result. An endpoint failing as a whole gets one try (a
        probe) when its rest is over, and nothing while it rests."""
        now = utcnow()
        due = (
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
            Webhook.active.is_(True),
        )
        failing = list(self._endpoints)
        async with self.sessions() as session, session.begin():
            jobs = await self._claim_rows(session, now, (*due, Webhook.id.not_in(failing)), limit)
            for webhook_id in failing:
                health = self._endpoints[webhook_id]
                if len(jobs) >= limit or health.probing or health.rest_until > time.monotonic():
                    continue
                probe = await self._claim_rows(session, now, (*due, Webhook.id == webhook_id), 1)
                health.probing = bool(probe)
                jobs += probe
        return jobs

    async def _claim_rows(
        self, session: AsyncSession, now: datetime, where: tuple[Any, ...], limit: int
    ) -> list[_Job]:
        rows = (
            await session.execute(
                select(WebhookDelivery.id, WebhookDelivery.next_attempt_at, Webhook)
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .where(*where)
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                .limit(limit)
            )
        ).all()
        jobs: list[_Job] = []
        for delivery_id, due, hook in rows:
            lease = now + timedelta(seconds=hook.timeout_s + 30)
            result = await session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == delivery_id,
                    WebhookDelivery.status == DeliveryStatus.PENDING,
                    WebhookDelivery.next_attempt_at == due,
                )
                .values(next_attempt_at=lease)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                jobs.append(
                    _Job(
                        delivery_id,
                        hook.id,
                        hook.url,
                        hook.secret,
                        hook.timeout_s,
                        hook.max_attempts,
                    )
                )
        return jobs

    async def _release(self, delivery_ids: list[int]) -> None:
        """Claims of tries that were cut short: due again now (the receiver may have got the
        request already; `event_id` lets it drop the duplicate)."""
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id.in_(delivery_ids),
                    WebhookDelivery.status == DeliveryStatus.PENDING,
                )
                .values(next_attempt_at=utcnow())
            )

    async def _settled(self, session: AsyncSession, delivery: WebhookDelivery) -> bool:
        """Has the runtime's write-behind stored what the event is about?"""
        if delivery.attempt_id is None:
            return True
        attempt = await session.get(CallAttempt, delivery.attempt_id)
        if attempt is None:
            return False
        if delivery.state == AttemptState.WRAPUP and delivery.event_type == ATTEMPT_ENDED:
            return attempt.hangup_at is not None or attempt.terminal_state is not None
        return attempt.terminal_state is not None

    async def _payload(self, job: _Job) -> dict[str, Any] | None:
        """The stored payload, built on the first try; None: not ready yet (retried soon)."""
        now = utcnow()
        async with self.sessions() as session, session.begin():
            delivery = await session.get(WebhookDelivery, job.delivery_id)
            if delivery is None or delivery.status != DeliveryStatus.PENDING:
                return None
            if delivery.payload is None:
                waited = (now - delivery.created_at).total_seconds()
                if not await self._settled(session, delivery) and waited < self.settle_s:
                    delivery.next_attempt_at = now + timedelta(seconds=min(1.0, self.settle_s))
                    return None
                delivery.payload = await hooks_service.build_payload(session, delivery)
            return {
                "payload": delivery.payload,
                "event_type": delivery.event_type,
                "event_id": delivery.event_id,
            }

    async def _deliver(self, job: _Job) -> None:
        ready = await self._payload(job)
        if ready is None:
            return
        body = body_bytes(ready["payload"])
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "asterisk-predictive-dialer-webhooks/1",
            hooks_service.SIGNATURE_HEADER: sign(job.secret, body),
            hooks_service.EVENT_HEADER: ready["event_type"],
            hooks_service.DELIVERY_HEADER: str(job.delivery_id),
        }
        status: int | None = None
        retry_after: float | None = None
        error = ""
        assert self._client is not None
        try:
            response = await self._client.post(
                job.url, content=body, headers=headers, timeout=job.timeout_s
            )
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}: {response.text[:300]}"
                retry_after = _retry_after(response.headers.get("Retry-After"))
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
        endpoint_down = bool(error) and (status is None or status >= 500 or status == 429)
        self._endpoint_result(job.webhook_id, endpoint_down, retry_after)
        await self._record(job, status, error, retry_after)

    def _endpoint_result(self, webhook_id: int, down: bool, retry_after: float | None) -> None:
        """A receiver that is down or overloaded fails every delivery alike: its queue rests
        (exponential backoff per endpoint, then one probe) instead of each delivery finding
        out on its own, so an outage costs a try now and then, not a request and two writes
        per event. A delivery refused for itself (4xx) says nothing about the endpoint."""
        health = self._endpoints.get(webhook_id)
        if not down:
            if health is not None and (health.probing or health.rest_until <= time.monotonic()):
                del self._endpoints[webhook_id]
            return
        now = time.monotonic()
        if health is None:
            health = self._endpoints[webhook_id] = _EndpointHealth()
        elif not health.probing and health.rest_until > now:
            return  # a try sent before the rest began: the rest stands
        health.probing = False
        health.failures += 1
        health.rest_until = now + retry_delay(
            health.failures,
            base_s=self.base_delay_s,
            max_s=self.max_delay_s,
            retry_after_s=retry_after,
        )

    async def _record(
        self, job: _Job, status: int | None, error: str, retry_after: float | None
    ) -> None:
        now = utcnow()
        async with self.sessions() as session, session.begin():
            delivery = await session.get(WebhookDelivery, job.delivery_id)
            if delivery is None or delivery.status != DeliveryStatus.PENDING:
                return  # deleted or handled meanwhile
            delivery.attempts += 1
            delivery.last_attempt_at = now
            delivery.last_status = status
            delivery.last_error = error
            if not error:
                delivery.status = DeliveryStatus.DELIVERED
                delivery.delivered_at = now
                self.delivered += 1
                return
            self.failed += 1
            if delivery.attempts >= job.max_attempts:
                delivery.status = DeliveryStatus.DEAD
                self.dead += 1
                log.warning(
                    "webhook delivery %s is a dead letter after %d tries: %s",
                    delivery.id,
                    delivery.attempts,
                    error,
                )
                return
            delay = retry_delay(
                delivery.attempts,
                base_s=self.base_delay_s,
                max_s=self.max_delay_s,
                jitter=self.jitter,
                rand=self._rand(),
                retry_after_s=retry_after,
            )
            delivery.next_attempt_at = now + timedelta(seconds=delay)

    # ------------------------------------------------------------------ housekeeping

    async def _housekeeping(self) -> None:
        next_sweep = next_purge = 0.0
        swept_once = False
        while True:
            try:
                await self.refresh_hooks()
                clock = time.monotonic()
                if not swept_once or clock >= next_sweep:
                    window = self.sweep_window_s if swept_once else self.startup_window_s
                    await self.sweep(window)
                    swept_once = True
                    self.swept.set()
                    next_sweep = clock + self.sweep_s
                await self.queue_due_callbacks()
                if clock >= next_purge:
                    await self.purge_delivered()
                    next_purge = clock + 3600.0
            except Exception as exc:
                self.last_error = f"housekeeping: {exc}"
                log.warning("webhooks: housekeeping failed: %s", exc)
            await asyncio.sleep(self.refresh_s)

    async def refresh_hooks(self) -> None:
        """The active webhooks, by campaign (what bus events are matched against)."""
        async with self.sessions() as session:
            rows = await session.scalars(select(Webhook).where(Webhook.active.is_(True)))
            hooks: dict[int, list[_Hook]] = {}
            for row in rows:
                hooks.setdefault(row.campaign_id, []).append(
                    _Hook(row.id, row.campaign_id, frozenset(row.events or ()), row.created_at)
                )
        self.hooks = hooks
        self.hooks_loaded.set()

    def _subscribed(self, event_types: Iterable[str]) -> dict[int, list[_Hook]]:
        wanted = set(event_types)
        found: dict[int, list[_Hook]] = {}
        for campaign_id, hooks in self.hooks.items():
            chosen = [h for h in hooks if h.events & wanted]
            if chosen:
                found[campaign_id] = chosen
        return found

    async def _queue_missing(self, session: AsyncSession, rows: list[dict[str, Any]]) -> int:
        """Queue the rows whose (webhook, event key) is not queued yet."""
        by_hook: dict[int, list[dict[str, Any]]] = {}
        for row in rows:
            by_hook.setdefault(row["webhook_id"], []).append(row)
        missing: list[dict[str, Any]] = []
        for webhook_id, hook_rows in by_hook.items():
            for start in range(0, len(hook_rows), _KEY_CHUNK):
                chunk = hook_rows[start : start + _KEY_CHUNK]
                known = set(
                    await session.scalars(
                        select(WebhookDelivery.event_key).where(
                            WebhookDelivery.webhook_id == webhook_id,
                            WebhookDelivery.event_key.in_([r["event_key"] for r in chunk]),
                        )
                    )
                )
                missing.extend(r for r in chunk if r["event_key"] not in known)
        await hooks_service.queue_deliveries(session, missing)
        return len(missing)

    async def sweep(self, window_s: float) -> int:
        """Queue deliveries for attempts that ended in the last `window_s` seconds and have none
        (each webhook only for attempts that ended after it was created)."""
        hooks_by_campaign = self._subscribed((ATTEMPT_ENDED, ATTEMPT_DISPOSITIONED))
        if not hooks_by_campaign:
            return 0
        since = self.now() - timedelta(seconds=window_s)
        queued = 0
        async with self.sessions() as session, session.begin():
            for campaign_id, hooks in hooks_by_campaign.items():
                attempts = (
                    await session.execute(
                        select(
                            CallAttempt.id, CallAttempt.terminal_state, CallAttempt.end_at
                        ).where(
                            CallAttempt.campaign_id == campaign_id,
                            # the campaign/originate index narrows; calls of hours are rare
                            CallAttempt.originate_at >= since - timedelta(hours=6),
                            CallAttempt.end_at >= since,
                            CallAttempt.terminal_state.is_not(None),
                        )
                    )
                ).all()
                rows: list[dict[str, Any]] = []
                for attempt_id, state, end_at in attempts:
                    for hook in hooks:
                        if end_at < hook.created_at:
                            continue
                        for event_type in events_for_state(state):
                            if event_type in hook.events:
                                rows.append(
                                    {
                                        "webhook_id": hook.id,
                                        "campaign_id": campaign_id,
                                        "event_type": event_type,
                                        "event_key": event_key(event_type, attempt_id),
                                        "attempt_id": attempt_id,
                                        "state": state,
                                        "occurred_at": end_at,
                                    }
                                )
                queued += await self._queue_missing(session, rows)
        if queued:
            log.info("webhooks: the sweep queued %d deliveries the bus had not", queued)
            self._wake.set()
        return queued

    async def queue_due_callbacks(self) -> int:
        """`callback.due` for callbacks that came due (recently, and after the webhook was
        created), whether or not the dialer has already started calling them back."""
        hooks_by_campaign = self._subscribed((CALLBACK_DUE,))
        if not hooks_by_campaign:
            return 0
        now = self.now()
        since = now - timedelta(seconds=self.callback_window_s)
        async with self.sessions() as session, session.begin():
            due = (
                await session.execute(
                    select(Callback.id, Callback.campaign_id, Callback.due_at).where(
                        Callback.campaign_id.in_(list(hooks_by_campaign)),
                        Callback.status != CallbackStatus.CANCELLED,
                        Callback.due_at <= now,
                        Callback.due_at > since,
                    )
                )
            ).all()
            rows = [
                {
                    "webhook_id": hook.id,
                    "campaign_id": campaign_id,
                    "event_type": CALLBACK_DUE,
                    "event_key": event_key(CALLBACK_DUE, callback_id),
                    "callback_id": callback_id,
                    "occurred_at": due_at,
                }
                for callback_id, campaign_id, due_at in due
                for hook in hooks_by_campaign[campaign_id]
                if CALLBACK_DUE in hook.events and due_at >= hook.created_at
            ]
            queued = await self._queue_missing(session, rows)
        if queued:
            self._wake.set()
        return queued

    async def purge_delivered(self) -> int:
        """Delivered rows are kept a week for support questions, then deleted."""
        before = utcnow() - timedelta(seconds=self.keep_delivered_s)
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                delete(WebhookDelivery).where(
                    WebhookDelivery.status == DeliveryStatus.DELIVERED,
                    WebhookDelivery.delivered_at < before,
                )
            )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def health(self) -> dict[str, Any]:
        return {
            "queued": self.queued,
            "delivered": self.delivered,
            "failed_tries": self.failed,
            "dead": self.dead,
            "backlog": len(self._backlog),
            "in_flight": len(self._in_flight),
            "endpoints_resting": len(self._endpoints),
            "last_error": self.last_error,
        }


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (the HTTP-date form is ignored: the backoff applies)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
