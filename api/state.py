"""What each request can reach: the app's settings, database, runtime and injected checks.
Kept on `app.state.ctx`, so several apps (tests) never share anything."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import HTTPException, Request, WebSocket
from prometheus_client import CollectorRegistry

from dialer.db.engine import SessionFactory
from dialer.runtime.control import RuntimeControl
from dialer.settings import Settings

ComplianceCheck = Callable[[str, int, datetime | None], Awaitable[dict[str, Any]]]


@dataclass
class AppContext:
    settings: Settings
    session_factory: SessionFactory
    runtime: RuntimeControl | None
    metrics_registry: CollectorRegistry
    compliance_check: ComplianceCheck | None

    def require_runtime(self) -> RuntimeControl:
        """The live runtime, or a 503 saying the control plane runs standalone."""
        if self.runtime is None:
            raise HTTPException(
                status_code=503,
                detail="the dialer runtime is not running: live data and agent sessions are "
                "unavailable (stored data still works)",
            )
        return self.runtime


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def ws_context(websocket: WebSocket) -> AppContext:
    ctx: AppContext = websocket.app.state.ctx
    return ctx
