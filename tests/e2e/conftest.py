"""End-to-end tests create users over and over: a cheap password hash keeps them fast."""

import asyncio
import io
from typing import Any

import pytest

from dialer.services import users


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "SCRYPT_N", 2**8)


@pytest.fixture(autouse=True)
async def no_task_left_behind() -> Any:
    """After each test, whatever is still running is cancelled and must end within 5 s; one
    that does not fails the test with its stack instead of hanging the event loop's close."""
    yield
    current = asyncio.current_task()
    pending = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    for task in pending:
        task.cancel()
    if not pending:
        return
    _, stuck = await asyncio.wait(pending, timeout=5)
    if stuck:
        stacks = io.StringIO()
        for task in stuck:
            task.print_stack(file=stacks)
        pytest.fail(f"{len(stuck)} tasks ignored cancellation:\n{stacks.getvalue()}")
