"""The live WebSocket streams bus events to authenticated clients."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.api.sync_app import build_sync_app


def test_websocket_receives_bus_events(tmp_path: Path) -> None:
    built = build_sync_app(tmp_path)
    bus = built.runtime.bus
    bus.publish("campaign/1/stats", {"dials": 7, "abandon_rate": 0.01}, retain=True)
    with TestClient(built.app) as client:
        token = built.tokens["supervisor"]
        with client.websocket_connect(f"/v1/live?token={token}") as ws:
            retained = ws.receive_json()
            assert retained["topic"] == "campaign/1/stats"
            assert retained["payload"]["dials"] == 7
            client.portal.call(bus.publish, "agent/3001/state", {"state": "ready"})
            client.portal.call(bus.publish, "call/1/att-9", {"state": "ringing"})  # not streamed
            client.portal.call(bus.publish, "campaign/1/stats", {"dials": 8})
            assert ws.receive_json()["payload"] == {"state": "ready"}
            assert ws.receive_json()["payload"] == {"dials": 8}


def test_agent_stream_carries_only_its_own_events(tmp_path: Path) -> None:
    built = build_sync_app(tmp_path)
    bus = built.runtime.bus
    with TestClient(built.app) as client:
        headers = {"Authorization": f"Bearer {built.tokens['agent']}"}
        with client.websocket_connect("/v1/live", headers=headers) as ws:
            client.portal.call(bus.publish, "agent/9999/state", {"state": "talking"})
            client.portal.call(bus.publish, "campaign/1/stats", {"dials": 1})
            client.portal.call(
                bus.publish, f"agent/{built.agent_extension}/state", {"state": "paused"}
            )
            assert ws.receive_json()["payload"] == {"state": "paused"}


def test_websocket_refuses_bad_tokens(tmp_path: Path) -> None:
    built = build_sync_app(tmp_path)
    with (
        TestClient(built.app) as client,
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/v1/live?token=nope") as ws,
    ):
        ws.receive_json()
    assert refused.value.code == 1008
