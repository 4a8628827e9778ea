"""HTTP behaviour: readable 422s, closed CORS, size limits, health, metrics, standalone mode."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry, Counter

from api.app import create_app
from dialer.db.engine import create_engine, make_session_factory
from dialer.db.migrate import upgrade
from dialer.settings import HttpSettings, Settings
from tests.api.conftest import Harness


async def test_bad_json_is_a_readable_422(sqlite_harness: Harness) -> None:
    c, h = sqlite_harness.client, sqlite_harness.supervisor
    broken = await c.post(
        "/v1/campaigns", content=b"{not json", headers={**h, "Content-Type": "application/json"}
    )
    assert broken.status_code == 422
    assert "detail" in broken.json()
    wrong_type = await c.post(
        "/v1/campaigns", json={"name": "x", "max_attempts": "many"}, headers=h
    )
    assert wrong_type.status_code == 422
    assert "max_attempts" in wrong_type.json()["detail"]
    unknown = await c.post("/v1/campaigns", json={"name": "x", "colour": "red"}, headers=h)
    assert unknown.status_code == 422
    naive = await c.post(
        "/v1/callbacks", json={"lead_id": 1, "due_at": "2030-01-01T10:00:00"}, headers=h
    )
    assert naive.status_code == 422
    huge_id = await c.get("/v1/campaigns/99999999999999999999999", headers=h)
    assert huge_id.status_code in (404, 422)


async def test_cors_is_closed_by_default(sqlite_harness: Harness) -> None:
    response = await sqlite_harness.client.options(
        "/v1/campaigns",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in response.headers


async def test_cors_opens_only_to_configured_origins(tmp_path: Path, sqlite_url: str) -> None:
    settings = Settings(data_dir=tmp_path, http=HttpSettings(cors_origins=["http://ok.example"]))
    engine = create_engine(sqlite_url)
    app = create_app(settings, session_factory=make_session_factory(engine))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        ok = await c.get("/healthz", headers={"Origin": "http://ok.example"})
        evil = await c.get("/healthz", headers={"Origin": "http://evil.example"})
    await engine.dispose()
    assert ok.headers["access-control-allow-origin"] == "http://ok.example"
    assert "access-control-allow-origin" not in evil.headers


async def test_request_size_limits(sqlite_harness: Harness) -> None:
    c, h = sqlite_harness.client, sqlite_harness.supervisor
    big_json = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = await c.post(
        "/v1/campaigns", content=big_json, headers={**h, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    big_file = b"phone\n" + b"13812345678\n" * 120_000  # ~1.4 MB > max_upload_mb=1
    upload = await c.post(
        "/v1/leads/upload",
        data={"campaign_id": "1"},
        files={"file": ("big.csv", big_file, "text/csv")},
        headers=h,
    )
    assert upload.status_code == 413


async def test_health_and_readiness_with_a_runtime(sqlite_harness: Harness) -> None:
    c = sqlite_harness.client
    assert (await c.get("/healthz")).json() == {"status": "ok"}
    ready = await c.get("/readyz")
    assert ready.status_code == 200
    assert {x["name"] for x in ready.json()["checks"]} == {"database", "ami:pbx1", "mqtt"}
    sqlite_harness.runtime.healthy = False
    not_ready = await c.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["ready"] is False


async def test_standalone_control_plane(tmp_path: Path, sqlite_url: str) -> None:
    """No runtime: stored data works, live endpoints say why they cannot."""
    await upgrade(sqlite_url)
    engine = create_engine(sqlite_url)
    factory = make_session_factory(engine)
    registry = CollectorRegistry()
    Counter("dialer_test_dials", "dials", registry=registry).inc(3)
    app = create_app(
        Settings(data_dir=tmp_path), session_factory=factory, metrics_registry=registry
    )
    from dialer.services.users import ensure_admin

    await ensure_admin(factory, "root", "long password")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        token = (
            await c.post("/v1/auth/token", json={"username": "root", "password": "long password"})
        ).json()["access_token"]
        h = {"Authorization": f"Bearer {token}"}
        created = await c.post("/v1/campaigns", json={"name": "alone"}, headers=h)
        assert created.status_code == 201
        started = await c.post(f"/v1/campaigns/{created.json()['id']}/start", headers=h)
        assert started.json()["status"] == "active"
        board = await c.get("/v1/agents/board", headers=h)
        assert board.status_code == 503
        assert "runtime is not running" in board.json()["detail"]
        check = await c.post(
            "/v1/compliance/check", json={"number": "+13055550123", "campaign_id": 1}, headers=h
        )
        assert check.status_code == 503
        ready = await c.get("/readyz")
        assert ready.status_code == 200 and ready.json()["runtime"] is False
        metrics = await c.get("/metrics")
        assert "dialer_test_dials_total 3.0" in metrics.text
        assert (await c.get("/openapi.json")).json()["info"]["version"] == "1"
        page = await c.get("/ui/dashboard.html")
        assert page.status_code == 200 and "<canvas" in page.text
    await engine.dispose()


async def test_compliance_check_contract(tmp_path: Path, sqlite_harness: Harness) -> None:
    calls = []

    async def check(number: str, campaign_id: int, at: object) -> dict:
        calls.append((number, campaign_id, at))
        return {
            "allowed": False,
            "reasons": [{"rule": "CN.hours", "detail": "outside 09:00-20:00"}],
            "next_allowed_at": "2026-01-02T01:00:00Z",
        }

    sqlite_harness.app.state.ctx.compliance_check = check
    response = await sqlite_harness.client.post(
        "/v1/compliance/check",
        json={"number": "+13055550123", "campaign_id": 1, "at": "2026-01-01T23:00:00Z"},
        headers=sqlite_harness.supervisor,
    )
    assert response.status_code == 200
    assert response.json() == {
        "allowed": False,
        "reasons": [{"rule": "CN.hours", "detail": "outside 09:00-20:00"}],
        "next_allowed_at": "2026-01-02T01:00:00Z",
    }
    assert calls[0][0] == "+13055550123" and calls[0][2] is not None
