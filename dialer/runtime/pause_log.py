"""Agent pauses, kept for the agent performance report (pause time by reason).

A consumer of the runtime's agent events, like the MQTT bridge: when an agent leaves the
`paused` state, one `agent.pause` row goes to the audit log (who paused, why, from when to
when, how long), written behind through the `StoreWriter` so a slow database never slows an
agent down. Times are the runtime clock's (simulated in the demo and tests).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.db.models import AuditLog
from dialer.runtime.bus import EventBus, Subscription
from dialer.runtime.clock import Clock
from dialer.runtime.store_writer import StoreWriter, WriteOp

PAUSE_ACTION = "agent.pause"


@dataclass
class _Open:
    agent_id: int
    reason: str
    started_mono: float
    started_at: datetime


def pause_op(
    agent_id: int,
    extension: str,
    reason: str,
    started_at: datetime,
    ended_at: datetime,
    seconds: float,
) -> WriteOp:
    """One finished pause as an audit row; a retried write (a commit lost with the
    connection) finds its row and adds nothing."""

    async def op(session: AsyncSession) -> None:
        exists = await session.scalar(
            select(AuditLog.id).where(
                AuditLog.action == PAUSE_ACTION,
                AuditLog.object_type == "agent",
                AuditLog.object_id == str(agent_id),
                AuditLog.at == ended_at,
            )
        )
        if exists is not None:
            return
        session.add(
            AuditLog(
                actor=f"agent {extension}",
                action=PAUSE_ACTION,
                object_type="agent",
                object_id=str(agent_id),
                detail={
                    "extension": extension,
                    "reason": reason,
                    "started_at": started_at.isoformat(),
                    "ended_at": ended_at.isoformat(),
                    "seconds": round(seconds, 1),
                },
                at=ended_at,
            )
        )

    return op


class PauseLog:
    """Follows `agent/<ext>/state` events; `observe` is the whole logic (synchronous)."""

    def __init__(self, bus: EventBus, writer: StoreWriter, clock: Clock) -> None:
        self.bus = bus
        self.writer = writer
        self.clock = clock
        self.written = 0
        self._open: dict[str, _Open] = {}
        self._sub: Subscription | None = None

    def observe(self, payload: dict[str, Any]) -> None:
        extension = str(payload.get("extension") or "")
        if not extension:
            return
        paused = payload.get("state") == "paused"
        reason = str(payload.get("pause_reason") or "")
        current = self._open.get(extension)
        if current is not None and (not paused or current.reason != reason):
            self._close(extension, current)
            current = None
        if paused and current is None:
            self._open[extension] = _Open(
                int(payload.get("agent_id") or 0),
                reason or "(none)",
                self.clock.monotonic(),
                self.clock.now(),
            )

    def _close(self, extension: str, pause: _Open) -> None:
        del self._open[extension]
        seconds = max(0.0, self.clock.monotonic() - pause.started_mono)
        ended = self.clock.now()
        self.writer.submit(
            pause_op(pause.agent_id, extension, pause.reason, pause.started_at, ended, seconds)
        )
        self.written += 1

    async def run(self) -> None:
        self._sub = self.bus.subscribe("agent/", maxsize=100_000, replay=False)
        try:
            async for event in self._sub:
                if event.topic.endswith("/state"):
                    self.observe(event.payload)
        finally:
            self._sub.close()

    def drain(self) -> None:
        """At shutdown, before the writer's last flush: apply the events still queued, and
        end the pauses still open (the agents' sessions end with the process)."""
        sub = self._sub
        if sub is not None:
            with contextlib.suppress(asyncio.QueueEmpty):
                while True:
                    event = sub.queue.get_nowait()
                    if event.topic.endswith("/state"):
                        self.observe(event.payload)
        for extension, pause in list(self._open.items()):
            self._close(extension, pause)
