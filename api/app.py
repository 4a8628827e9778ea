"""The control-plane app factory: no global state, everything comes in as arguments."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry

from api import (
    agents,
    audit,
    auth,
    callbacks,
    caller_ids,
    campaigns,
    complaints,
    compliance,
    dispositions,
    dnc,
    exports,
    health,
    leads,
    live,
    quality,
    recordings,
    reports,
    webhooks,
    whatif,
)
from api.errors import install_error_handlers
from api.limits import BodySizeLimit
from api.state import AppContext, ComplianceCheck
from dialer.db.engine import SessionFactory, create_engine, make_session_factory
from dialer.runtime.control import RuntimeControl
from dialer.settings import Settings

STATIC_DIR = Path(__file__).parent / "static"
ROUTERS = (
    auth.router,
    # before campaigns: its `POST /v1/campaigns/{id}/{action}` would take these paths
    webhooks.router,
    caller_ids.router,
    campaigns.router,
    whatif.router,
    leads.router,
    exports.router,
    agents.router,
    dispositions.router,
    dnc.router,
    complaints.router,
    callbacks.router,
    quality.router,
    reports.router,
    recordings.router,
    compliance.router,
    live.router,
    health.router,
    audit.router,
)


def create_app(
    settings: Settings,
    *,
    session_factory: SessionFactory | None = None,
    runtime: RuntimeControl | None = None,
    metrics_registry: CollectorRegistry | None = None,
    compliance_check: ComplianceCheck | None = None,
) -> FastAPI:
    """Build the API. Without `session_factory` an engine is made from the settings; without
    `runtime` live endpoints answer 503 and the stored data still works."""
    if session_factory is None:
        session_factory = make_session_factory(create_engine(settings.database_url))
    app = FastAPI(
        title="Predictive dialer control plane",
        version="1",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.ctx = AppContext(
        settings=settings,
        session_factory=session_factory,
        runtime=runtime,
        metrics_registry=metrics_registry or CollectorRegistry(),
        compliance_check=compliance_check,
    )
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.webhooks.include_router(webhooks.outgoing)  # the result callbacks' payloads, documented
    app.mount("/ui", StaticFiles(directory=STATIC_DIR, html=True), name="ui")

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/ui/dashboard.html")

    app.add_middleware(BodySizeLimit, upload_limit=settings.http.max_upload_mb * 1024 * 1024)
    if settings.http.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.http.cors_origins,
            allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type"],
        )
    return app
