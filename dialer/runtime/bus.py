"""In-process event bus: the runtime publishes, the WebSocket and MQTT bridges subscribe.

Publishing never blocks and never fails: a subscriber that falls behind loses its oldest
events (counted in `dropped`), so a slow browser tab cannot slow dialing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class BusEvent:
    """`topic` is relative, e.g. `campaign/3/stats`, `agent/1001/state`, `call/att-42`."""

    topic: str
    payload: dict[str, Any]
    retain: bool = False  # the latest value matters more than the history (stats, states)
    at: float = field(default_factory=time.time)


class Subscription:
    def __init__(self, bus: EventBus, prefixes: tuple[str, ...], maxsize: int) -> None:
        self._bus = bus
        self.prefixes = prefixes
        self.queue: asyncio.Queue[BusEvent] = asyncio.Queue(maxsize)
        self.dropped = 0

    def wants(self, topic: str) -> bool:
        return not self.prefixes or topic.startswith(self.prefixes)

    def offer(self, event: BusEvent) -> None:
        while True:
            try:
                self.queue.put_nowait(event)
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()
                self.dropped += 1

    async def get(self) -> BusEvent:
        return await self.queue.get()

    def close(self) -> None:
        self._bus.unsubscribe(self)

    async def __aiter__(self) -> AsyncIterator[BusEvent]:
        while True:
            yield await self.queue.get()


class EventBus:
    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._retained: dict[str, BusEvent] = {}
        self.published = 0

    def publish(self, topic: str, payload: dict[str, Any], *, retain: bool = False) -> None:
        event = BusEvent(topic, payload, retain)
        self.published += 1
        if retain:
            self._retained[topic] = event
        for sub in self._subs:
            if sub.wants(topic):
                sub.offer(event)

    def subscribe(self, *prefixes: str, maxsize: int = 1000, replay: bool = True) -> Subscription:
        """A new subscriber first gets the retained events (latest stats and states)."""
        sub = Subscription(self, prefixes, maxsize)
        if replay:
            for event in list(self._retained.values()):
                if sub.wants(event.topic):
                    sub.offer(event)
        self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    def retained(self, prefix: str = "") -> dict[str, BusEvent]:
        return {t: e for t, e in self._retained.items() if t.startswith(prefix)}
