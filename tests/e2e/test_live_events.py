"""What a running campaign tells the outside: retained per-campaign stats at 1 Hz, agent
states and call events on MQTT (a real broker), and Prometheus metrics."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import aiomqtt
import pytest
from prometheus_client import generate_latest

from dialer.db.migrate import upgrade
from dialer.demo import DemoOptions, start_demo, stop_demo
from dialer.settings import Settings

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.mark.mqtt
async def test_campaign_publishes_stats_agents_and_calls_to_mqtt(mqtt_server, tmp_path):
    host, port = mqtt_server
    prefix = f"dialer-test-{uuid.uuid4().hex[:8]}"
    url = f"sqlite+aiosqlite:///{tmp_path / 'd.db'}"
    await upgrade(url)
    settings = Settings(
        database_url=url,
        data_dir=tmp_path,
        mqtt_url=f"mqtt://{host}:{port}",
        mqtt_topic_prefix=prefix,
    )
    options = DemoOptions(
        speed=30, agents=4, leads=300, live_view=False, serve_http=False, start_wall=START
    )
    live: list[str] = []
    subscribed = asyncio.Event()

    async def listen() -> None:
        async with aiomqtt.Client(host, port) as client:
            await client.subscribe(f"{prefix}/call/#")
            subscribed.set()
            async for message in client.messages:
                live.append(json.loads(message.payload)["state"])

    listener = asyncio.create_task(listen())
    await subscribed.wait()
    world = await start_demo(settings, options)
    await asyncio.sleep(4)  # two simulated minutes
    await stop_demo(world)
    listener.cancel()
    assert {"ringing", "completed"} <= set(live)  # call events as they happen

    seen: dict[str, list[dict]] = {}
    async with aiomqtt.Client(host, port) as client:
        await client.subscribe(f"{prefix}/#")
        try:
            async with asyncio.timeout(1.0):
                async for message in client.messages:
                    topic = str(message.topic).removeprefix(prefix + "/")
                    seen.setdefault(topic, []).append(json.loads(message.payload))
        except TimeoutError:
            pass
        # retained: a late subscriber still gets the last stats and each agent's state
        stats = seen[f"campaign/{world.campaign_id}/stats"][-1]
        assert stats["dials"] > 0 and stats["campaign_id"] == world.campaign_id
        assert {"answered", "abandon_rate", "occupancy", "agents", "pacers"} <= set(stats)
        agents = [t for t in seen if t.startswith("agent/")]
        assert len(agents) == 4
        assert not [t for t in seen if t.startswith("call/")]  # call events are not retained
        for topic in list(seen):  # leave the broker clean
            await client.publish(f"{prefix}/{topic}", b"", retain=True)

    metrics = generate_latest(world.service.registry).decode()
    assert 'dialer_dials_total{campaign="1",server="sim"}' in metrics
    assert "dialer_answer_to_bridge_seconds_bucket" in metrics
    assert "dialer_pacing_tick_seconds_count" in metrics
    assert world.service.mqtt is not None and world.service.mqtt.sent > 0
