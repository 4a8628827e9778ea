"""`/v1/live`: a WebSocket of bus events (campaign stats, agent states).

Auth by `?token=` or an `Authorization: Bearer` header (browsers cannot set headers on a
WebSocket). Agents get only their own agent's events."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from api.state import ws_context
from dialer.db.enums import Role
from dialer.db.models import Agent
from dialer.services.users import resolve_key

router = APIRouter(tags=["live"])

SUPERVISOR_TOPICS = ("campaign/", "agent/")


def _token(websocket: WebSocket) -> str | None:
    token = websocket.query_params.get("token")
    if token:
        return token
    header = websocket.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value if scheme.lower() == "bearer" and value else None


@router.websocket("/v1/live")
async def live(websocket: WebSocket) -> None:
    ctx = ws_context(websocket)
    token = _token(websocket)
    principal = await resolve_key(ctx.session_factory, token) if token else None
    if principal is None:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason="invalid token")
        return
    if ctx.runtime is None:
        await websocket.close(code=status.WS_1013_TRY_AGAIN_LATER, reason="runtime not running")
        return
    if principal.role == Role.AGENT:
        async with ctx.session_factory() as session:
            agent = await session.get(Agent, principal.agent_id or 0)
        # Agent topics are keyed by extension (`agent/<ext>/state`).
        topics: tuple[str, ...] = (f"agent/{agent.extension}/" if agent else "agent/-/",)
    else:
        topics = SUPERVISOR_TOPICS
    await websocket.accept()
    subscription = ctx.runtime.bus.subscribe(*topics)
    closed = asyncio.create_task(_wait_closed(websocket))
    try:
        while not closed.done():
            getter = asyncio.create_task(subscription.get())
            done, _ = await asyncio.wait({getter, closed}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break
            event = getter.result()
            await websocket.send_json(
                {"topic": event.topic, "at": event.at, "payload": event.payload}
            )
    except WebSocketDisconnect:
        pass
    finally:
        subscription.close()
        closed.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await closed


async def _wait_closed(websocket: WebSocket) -> None:
    """Read (and ignore) client messages until the client goes away."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
