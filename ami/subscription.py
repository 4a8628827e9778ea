"""A queue of events for one consumer, readable with `async for`.

Events are pushed from the connection's reader without awaiting, so a slow consumer can never
stall AMI reading; if its queue fills, new events are dropped and counted (and logged once)
instead of growing memory without bound.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ami.events import AmiEvent

log = logging.getLogger(__name__)

_CLOSED = object()


class EventSubscription(AsyncIterator["AmiEvent"]):
    def __init__(
        self,
        names: frozenset[str] | None,
        maxsize: int,
        on_close: Callable[[EventSubscription], None],
    ) -> None:
        self.names = names  # None: every event
        self.dropped = 0
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize + 1)  # +1: close marker
        self._maxsize = maxsize
        self._on_close = on_close
        self._closed = False

    def wants(self, name: str) -> bool:
        return self.names is None or name in self.names

    def push(self, event: AmiEvent) -> None:
        if self._closed:
            return
        if self._queue.qsize() >= self._maxsize:
            if self.dropped == 0:
                log.warning("AMI event queue full (%d): dropping events", self._maxsize)
            self.dropped += 1
            return
        self._queue.put_nowait(event)

    async def get(self) -> AmiEvent:
        """The next event (bound the wait with `asyncio.timeout`); `StopAsyncIteration` once
        the subscription is closed and drained."""
        item = await self._queue.get()
        if item is _CLOSED:
            self._queue.put_nowait(_CLOSED)  # keep later readers from blocking
            raise StopAsyncIteration
        return item  # type: ignore[return-value]

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put_nowait(_CLOSED)
        self._on_close(self)

    def __aiter__(self) -> EventSubscription:
        return self

    async def __anext__(self) -> AmiEvent:
        return await self.get()

    async def __aenter__(self) -> EventSubscription:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()
