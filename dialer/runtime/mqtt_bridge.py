"""Forwards bus events to MQTT under `dialer/v1/...` when a broker is configured.

Runs as its own task with its own bounded queue: a slow or absent broker drops events
(counted) and reconnects with backoff, and never slows the campaign loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from urllib.parse import urlparse

import aiomqtt

from dialer.runtime.bus import EventBus

log = logging.getLogger(__name__)


def broker_address(url: str) -> tuple[str, int, str | None, str | None]:
    parsed = urlparse(url if "://" in url else f"mqtt://{url}")
    if parsed.scheme not in ("mqtt", "tcp"):
        raise ValueError(f"unsupported MQTT URL scheme {parsed.scheme!r} (use mqtt://host:port)")
    return parsed.hostname or "127.0.0.1", parsed.port or 1883, parsed.username, parsed.password


class MqttBridge:
    def __init__(self, bus: EventBus, url: str, prefix: str = "dialer/v1") -> None:
        self.host, self.port, self._user, self._password = broker_address(url)
        self.prefix = prefix.rstrip("/")
        self._sub = bus.subscribe(maxsize=10_000)
        self.sent = 0
        self.connected = False
        self.last_error: str | None = None

    @property
    def dropped(self) -> int:
        return self._sub.dropped

    async def run(self) -> None:
        delay = 0.5
        while True:
            try:
                async with aiomqtt.Client(
                    self.host,
                    self.port,
                    username=self._user,
                    password=self._password,
                    identifier=f"dialer-{random.getrandbits(32):08x}",
                ) as client:
                    self.connected, self.last_error, delay = True, None, 0.5
                    log.info("mqtt connected to %s:%s", self.host, self.port)
                    while True:
                        event = await self._sub.get()
                        await client.publish(
                            f"{self.prefix}/{event.topic}",
                            json.dumps(event.payload, separators=(",", ":"), default=str),
                            qos=0,
                            retain=event.retain,
                        )
                        self.sent += 1
            except asyncio.CancelledError:
                self.connected = False
                raise
            except aiomqtt.MqttError as exc:
                self.connected = False
                self.last_error = str(exc)
                log.warning("mqtt: %s; retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    def close(self) -> None:
        self._sub.close()
