"""Write-behind persistence for the runtime: call and agent events become database writes
that survive a database outage.

The campaign loop never awaits the database for an event it has already seen: it queues
an idempotent write here. If the database is unreachable the writer keeps the queue in
order, reports `db_ok = False` (the campaign loop stops dialing on that), retries with
backoff, and flushes everything when the database is back. Writes must be idempotent
(upserts guarded by state) because a commit cut by a lost connection may or may not have
landed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

WriteOp = Callable[[AsyncSession], Awaitable[None]]


@dataclass
class _Pending:
    op: WriteOp
    label: str


def is_connection_error(exc: BaseException) -> bool:
    """True when the database could not be reached, as opposed to a rejected statement."""
    if isinstance(exc, OperationalError | ConnectionError | OSError | asyncio.TimeoutError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        name = type(exc.orig).__name__ if exc.orig is not None else ""
        return "Connection" in name or "CannotConnectNow" in name or "InterfaceError" in name
    return "Connection" in type(exc).__name__


class StoreWriter:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        batch_size: int = 200,
        max_backoff: float = 5.0,
    ) -> None:
        self._factory = session_factory
        self._queue: deque[_Pending] = deque()
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self.batch_size = batch_size
        self.max_backoff = max_backoff
        self.db_ok = True
        self.written = 0
        self.rejected: list[tuple[str, str]] = []  # (label, error): statements the DB refused
        self.outages = 0

    @property
    def pending(self) -> int:
        return len(self._queue)

    def submit(self, op: WriteOp, label: str = "") -> None:
        self._queue.append(_Pending(op, label or getattr(op, "__name__", "write")))
        self._idle.clear()
        self._wakeup.set()

    async def flush(self, within: float | None = None) -> bool:
        """Wait until everything queued so far is written; False on timeout."""
        try:
            async with asyncio.timeout(within):
                await self._idle.wait()
            return True
        except TimeoutError:
            return False

    async def run(self) -> None:
        backoff = 0.1
        while True:
            if not self._queue:
                self._idle.set()
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            batch = [self._queue[i] for i in range(min(self.batch_size, len(self._queue)))]
            try:
                await self._write(batch)
            except Exception as exc:
                if is_connection_error(exc):
                    if self.db_ok:
                        self.outages += 1
                        log.error("database unreachable (%s); holding %d writes", exc, self.pending)
                    self.db_ok = False
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self.max_backoff)
                    continue
                await self._write_one_by_one(batch)
            else:
                if not self.db_ok:
                    log.warning("database reachable again; flushing %d writes", self.pending)
                self.db_ok = True
                backoff = 0.1
            for _ in batch:
                self._queue.popleft()
            self.written += len(batch)

    async def _write(self, batch: list[_Pending]) -> None:
        async with self._factory() as session, session.begin():
            for item in batch:
                await item.op(session)

    async def _write_one_by_one(self, batch: list[_Pending]) -> None:
        """A batch the database refused: find the bad write, keep the good ones."""
        for item in batch:
            while True:
                try:
                    await self._write([item])
                    break
                except Exception as exc:
                    if is_connection_error(exc):
                        self.db_ok = False
                        await asyncio.sleep(self.max_backoff / 5)
                        continue
                    log.exception("database refused write %s", item.label)
                    self.rejected.append((item.label, f"{type(exc).__name__}: {exc}"))
                    break
