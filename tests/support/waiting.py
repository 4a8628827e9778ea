"""Polling for a condition that has no event to wait on (state owned by another component)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def wait_until(condition: Callable[[], T], within: float = 20.0, every: float = 0.01) -> T:
    """Return `condition()`'s value once it is truthy; TimeoutError after `within` real
    seconds."""
    async with asyncio.timeout(within):
        while True:
            if found := condition():
                return found
            await asyncio.sleep(every)
