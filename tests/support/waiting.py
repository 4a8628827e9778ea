"""Polling for a condition that has no event to wait on (state owned by another component)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def wait_until(condition: Callable[[], bool], within: float, every: float = 0.01) -> None:
    """Return once `condition()` holds; TimeoutError after `within` real seconds."""
    async with asyncio.timeout(within):
        while True:
            if condition():
                return
            await asyncio.sleep(every)
