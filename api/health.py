"""Liveness, readiness and Prometheus metrics (no auth: they are for probes and scrapers)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from api.security import Ctx

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and serving."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(ctx: Ctx) -> JSONResponse:
    """Ready when the database answers and every runtime component (AMI per server, MQTT)
    is healthy; without a runtime only the database is checked."""
    checks: list[dict[str, Any]] = []
    try:
        async with ctx.session_factory() as session:
            await session.execute(text("SELECT 1"))
        checks.append({"name": "database", "ok": True, "detail": {}})
    except Exception as exc:  # any failure means "not ready", never a 500
        checks.append({"name": "database", "ok": False, "detail": {"error": str(exc)[:300]}})
    if ctx.runtime is not None:
        try:
            checks.extend(asdict(c) for c in ctx.runtime.health())
        except Exception as exc:
            checks.append({"name": "runtime", "ok": False, "detail": {"error": str(exc)[:300]}})
    ready = all(c["ok"] for c in checks)
    return JSONResponse(
        {"ready": ready, "runtime": ctx.runtime is not None, "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics")
async def metrics(ctx: Ctx) -> Response:
    return Response(generate_latest(ctx.metrics_registry), media_type=CONTENT_TYPE_LATEST)
