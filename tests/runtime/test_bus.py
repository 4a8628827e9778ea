import asyncio
import json
import uuid

import aiomqtt
import pytest

from dialer.runtime.bus import EventBus
from dialer.runtime.mqtt_bridge import MqttBridge, broker_address


async def test_retained_replay_prefix_filter_and_drop_oldest():
    bus = EventBus()
    bus.publish("campaign/1/stats", {"dials": 1}, retain=True)
    bus.publish("campaign/1/stats", {"dials": 2}, retain=True)
    bus.publish("agent/1001/state", {"state": "ready"}, retain=True)
    sub = bus.subscribe("campaign/", maxsize=2)
    first = await sub.get()
    assert first.payload == {"dials": 2}  # only the latest retained value
    for i in range(5):
        bus.publish("campaign/1/call", {"n": i})
        bus.publish("agent/1001/state", {"n": i})
    got = [(await sub.get()).payload["n"] for _ in range(2)]
    assert got == [3, 4]
    assert sub.dropped == 3
    sub.close()
    bus.publish("campaign/1/call", {"n": 99})
    assert sub.queue.empty()


def test_broker_url_parsing():
    assert broker_address("mqtt://u:p@h:1884") == ("h", 1884, "u", "p")
    assert broker_address("127.0.0.1") == ("127.0.0.1", 1883, None, None)
    with pytest.raises(ValueError):
        broker_address("http://x")


async def test_bridge_publishes_to_real_broker(mqtt_server):
    host, port = mqtt_server
    prefix = f"dialer-test/{uuid.uuid4().hex[:8]}"
    bus = EventBus()
    bridge = MqttBridge(bus, f"mqtt://{host}:{port}", prefix=prefix)
    task = asyncio.create_task(bridge.run())
    try:
        async with aiomqtt.Client(host, port) as listener:
            await listener.subscribe(f"{prefix}/#")
            for _ in range(100):
                if bridge.connected:
                    break
                await asyncio.sleep(0.02)
            assert bridge.connected
            bus.publish("campaign/7/stats", {"dials": 3, "name": "测试"}, retain=True)
            async with asyncio.timeout(5):
                async for message in listener.messages:
                    assert str(message.topic) == f"{prefix}/campaign/7/stats"
                    assert json.loads(message.payload) == {"dials": 3, "name": "测试"}
                    break
        # clear the retained message we left on the shared broker
        async with aiomqtt.Client(host, port) as cleaner:
            await cleaner.publish(f"{prefix}/campaign/7/stats", b"", retain=True)
    finally:
        task.cancel()
        bridge.close()
