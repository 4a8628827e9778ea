"""`dialer run`: one process serving the campaign engine, the FastAGI server and the API.

`DialerService` wires the parts together; it holds no business logic of its own. The
engine decides, the AMI clients and the AGI server feed it, the loops here give it time
(pacing ticks, leases, 1 Hz stats) and the API reaches it through `LiveControl`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry

from agi.server import AgiServer
from ami.client import AmiClient
from ami.health import ConnectionState
from dialer.db.engine import create_engine, make_session_factory
from dialer.runtime import store
from dialer.runtime.agent_state import AgentSession, AgentState
from dialer.runtime.agi_router import EngineRouter
from dialer.runtime.ami_port import AmiPbx
from dialer.runtime.bus import EventBus
from dialer.runtime.caller_ids import CallerIdMonitor
from dialer.runtime.clock import Clock
from dialer.runtime.control import (
    AgentView,
    ComponentHealth,
    ControlError,
    CurrentCall,
    MonitorMode,
    MonitorSession,
    PreviewLead,
)
from dialer.runtime.engine import DialerEngine
from dialer.runtime.gate import ComplianceGate
from dialer.runtime.leases import CampaignLeases
from dialer.runtime.metrics import RuntimeMetrics
from dialer.runtime.monitor import MonitorRefused, start_monitor
from dialer.runtime.mqtt_bridge import MqttBridge
from dialer.runtime.pause_log import PauseLog
from dialer.runtime.pbx import PbxNotConnected, PbxPort, PbxRefused
from dialer.runtime.store_writer import StoreWriter
from dialer.runtime.webhooks import WebhookDispatcher
from dialer.services.recordings import PurgeResult, purge_recordings
from dialer.settings import Settings

log = logging.getLogger(__name__)


class DialerService:
    """The running dialer. `start()` brings everything up (Asterisk may still be down: its
    pool stays paused until the AMI login succeeds); `stop()` ends it cleanly."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        pbx: dict[str, PbxPort] | None = None,
        serve_http: bool = True,
        tick_interval_s: float = 0.5,
        owner: str | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or Clock()
        self.serve_http = serve_http
        self.tick_interval_s = tick_interval_s  # simulated seconds between pacing ticks
        self.lease_interval_s = 2.0  # real seconds between lease renewals
        self.registry = CollectorRegistry()
        self.metrics = RuntimeMetrics(self.registry)
        self.bus = EventBus()
        self.db_engine = create_engine(settings.database_url)
        self.sessions = make_session_factory(self.db_engine)
        self.writer = StoreWriter(self.sessions)
        self.gate = ComplianceGate(
            self.sessions, writer=self.writer, default_region=settings.default_region
        )
        self.ami: dict[str, AmiClient] = {}
        if pbx is None:
            pbx = {}
            for server in settings.asterisk_servers:
                client = AmiClient.from_settings(server)
                self.ami[server.name] = client
                pbx[server.name] = AmiPbx(client)
        self.engine = DialerEngine(
            settings,
            self.sessions,
            pbx=pbx,
            writer=self.writer,
            gate=self.gate,
            clock=self.clock,
            bus=self.bus,
            metrics=self.metrics,
            owner=owner,
        )
        self.leases = CampaignLeases(settings.database_url)
        self.agi: list[AgiServer] = []
        self.last_purge: list[PurgeResult] = []  # the retention job's last run
        self.mqtt: MqttBridge | None = None
        self.http_server: Any = None
        self.pause_log = PauseLog(self.bus, self.writer, self.clock)  # pauses for reports
        self.webhooks = WebhookDispatcher(self.sessions, self.bus, now=self.clock.now)
        self.caller_ids = CallerIdMonitor(  # rests caller IDs labelled as spam, applies caps
            self.sessions,
            lambda: self.engine.campaigns,
            lambda: self.leases.owned,
            now=self.clock.now,
            zone=settings.default_timezone,
        )
        self.control = LiveControl(self)
        self._tasks: list[asyncio.Task[Any]] = []
        self._wake = asyncio.Event()
        self._tick_failures = 0
        self.started = asyncio.Event()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._spawn(self.writer.run(), "store-writer")
        self._spawn(self.pause_log.run(), "pause-log")
        self.webhooks.start()  # result callbacks, fed from the bus, never in the dial path
        await self.engine.load()
        await self.caller_ids.start()
        self.engine.on_agent_ready.append(lambda _agent: self._wake.set())
        for name, client in self.ami.items():
            client.on_event("*", _event_handler(self.engine, name))
            client.on_connected(_reconciler(self.engine, name))
            client.start()
        binds = {(s.agi_bind_host, s.agi_bind_port) for s in self.settings.asterisk_servers}
        router = EngineRouter(self.engine)
        for host, port in sorted(binds):
            server = AgiServer(router, host=host, port=port)
            await server.start()
            self.agi.append(server)
        if self.settings.mqtt_url:
            prefix = self.settings.mqtt_topic_prefix
            self.mqtt = MqttBridge(self.bus, self.settings.mqtt_url, prefix)
            self._spawn(self.mqtt.run(), "mqtt")
        await self.renew_leases()
        self._spawn(self._lease_loop(), "leases")
        self._spawn(self._tick_loop(), "pacing")
        self._spawn(self._stats_loop(), "stats")
        if self.settings.recordings_purge_every_h > 0:
            self._spawn(self._purge_loop(), "recording-retention")
        if self.serve_http:
            await self._start_http()
        self.started.set()
        log.info(
            "dialer running: %d Asterisk server(s), AGI on %s, campaigns owned %s",
            len(self.engine.pbx),
            ", ".join(str(s.port) for s in self.agi),
            sorted(self.leases.owned),
        )

    async def stop(self) -> None:
        if self.http_server is not None:
            self.http_server.should_exit = True
        for task in self._tasks:
            if task.get_name() != "store-writer":
                task.cancel()
        for server in self.agi:
            await server.close()
        for client in self.ami.values():
            await client.close()
        if self.mqtt is not None:
            self.mqtt.close()
        self.pause_log.drain()
        await self.webhooks.stop()  # queues what the bus still holds
        await self.caller_ids.stop()
        await self.writer.flush(within=10)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.leases.close()
        await self.db_engine.dispose()

    def _spawn(self, coro: Awaitable[Any], name: str) -> None:
        self._tasks.append(asyncio.ensure_future(coro))
        self._tasks[-1].set_name(name)

    async def _start_http(self) -> None:
        import uvicorn

        from api.app import create_app

        app = create_app(
            self.settings,
            session_factory=self.sessions,
            runtime=self.control,
            metrics_registry=self.registry,
            compliance_check=self.compliance_check,
        )
        config = uvicorn.Config(
            app,
            host=self.settings.http.host,
            port=self.settings.http.port,
            log_level="warning",
            lifespan="off",
        )
        self.http_server = uvicorn.Server(config)
        self.http_server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._spawn(self.http_server.serve(), "http")

    async def compliance_check(
        self, number: str, campaign_id: int, at: datetime | None
    ) -> dict[str, Any]:
        """The API's `POST /v1/compliance/check`: the same gate the dialer uses."""
        try:
            decision = await self.gate.check(
                number, campaign_id, at or self.clock.now(), log_decision=False
            )
        except LookupError as exc:
            from fastapi import HTTPException

            raise HTTPException(404, str(exc)) from exc
        return {
            "allowed": decision.allowed,
            "reasons": [{"rule": r.rule, "detail": r.detail} for r in decision.reasons],
            "next_allowed_at": decision.next_allowed_at,
        }

    # ------------------------------------------------------------------ loops

    async def renew_leases(self) -> set[int]:
        wanted = {
            cid for cid, run in self.engine.campaigns.items() if run.config.dials_automatically
        }
        before = set(self.leases.owned)
        owned = await self.leases.renew(wanted)
        taken = owned - before
        for cid in taken:
            await self.engine.reload_campaign(cid)  # settings may have changed meanwhile
            async with self.sessions() as session, session.begin():
                released = await store.release_stale_claims(session, cid, self.engine.owner)
            if released:
                log.warning("campaign %s: released %d leads of a gone process", cid, released)
        if taken and await self.engine.adopt_open_attempts(taken):
            # servers already connected reconcile now; the others do when they connect
            for name, port in self.engine.pbx.items():
                if port.connected:
                    await _reconciler(self.engine, name)(None)
        return owned

    async def _lease_loop(self) -> None:
        while True:
            await asyncio.sleep(self.lease_interval_s)
            try:
                await self.renew_leases()
            except Exception:
                log.exception("lease renewal failed")

    async def _tick_loop(self) -> None:
        """Pace every owned campaign; wake early when an agent becomes ready."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.clock.real_seconds(self.tick_interval_s)):
                    await self._wake.wait()
            self._wake.clear()
            await self.tick_once()

    async def tick_once(self) -> int:
        placed = 0
        for cid in sorted(self.leases.owned):
            started = time.perf_counter()
            try:
                placed += await self.engine.tick(cid)
                self._tick_failures = 0
            except Exception as exc:
                # a database or AMI hiccup: this tick dials nothing, the next one retries
                self._tick_failures += 1
                level = logging.ERROR if self._tick_failures == 1 else logging.DEBUG
                log.log(level, "pacing tick of campaign %s failed: %s", cid, exc, exc_info=True)
            self.metrics.pacing_tick.observe(time.perf_counter() - started)
        return placed

    async def _purge_loop(self) -> None:
        """The recording retention job: expired recordings of every campaign are deleted
        (legal holds kept, legal minimums honoured); the outcome is logged and audited."""
        every = self.settings.recordings_purge_every_h * 3600
        await asyncio.sleep(self.settings.recordings_purge_first_s)
        while True:
            try:
                results = await purge_recordings(
                    self.sessions,
                    self.settings.recordings_path,
                    now=self.clock.now(),
                    default_days=self.settings.recordings_retention_days,
                )
                deleted = sum(r.deleted for r in results)
                self.last_purge = results
                for r in results:
                    if r.error:
                        log.error("campaign %s recordings not purged: %s", r.campaign_id, r.error)
                log.info("recording retention: %d files deleted", deleted)
            except Exception:
                log.exception("recording retention run failed; retried next time")
            await asyncio.sleep(every)

    async def _stats_loop(self) -> None:
        last = self.clock.monotonic()
        while True:
            await asyncio.sleep(1.0)
            now = self.clock.monotonic()
            self.publish_stats(now - last)
            last = now

    def publish_stats(self, elapsed: float) -> None:
        """Once a second: occupancy time, gauges, and retained `campaign/<id>/stats`."""
        board = self.engine.board
        for cid, run in self.engine.campaigns.items():
            counts: dict[str, int] = dict.fromkeys((s.value for s in AgentState), 0)
            for agent in board.in_campaign(cid):
                counts[agent.state.value] += 1
            working = counts["ready"] + counts["talking"] + counts["wrapup"]
            run.stats.agent_seconds += working * elapsed
            for state, n in counts.items():
                self.metrics.agents.labels(str(cid), state).set(n)
            stats = self.engine.campaign_stats(cid)
            if stats is not None:
                stats["owned"] = cid in self.leases.owned
                self.bus.publish(f"campaign/{cid}/stats", stats, retain=True)
        for name, client in self.ami.items():
            health = client.health()
            self.metrics.ami_connected.labels(name).set(
                1 if health.state is ConnectionState.READY else 0
            )
            if health.last_event_age_s is not None:
                self.metrics.ami_event_age.labels(name).set(health.last_event_age_s)
        self.metrics.db_ok.set(1 if self.writer.db_ok else 0)
        self.metrics.pending_writes.set(self.writer.pending)


def _event_handler(engine: DialerEngine, server: str) -> Callable[[Any], None]:
    def handle(event: Any) -> None:
        engine.handle_event(server, event)

    return handle


def _reconciler(engine: DialerEngine, server: str) -> Callable[[Any], Awaitable[None]]:
    async def reconcile(_client: Any) -> None:
        try:
            await engine.reconcile(server)
            engine.close_orphans()
        except Exception:
            log.exception("reconciliation with %s failed", server)

    return reconcile


class LiveControl:
    """The API's handle on the running engine (`dialer.runtime.control.RuntimeControl`)."""

    def __init__(self, service: DialerService) -> None:
        self.service = service
        self.engine = service.engine
        self.bus: EventBus = service.bus

    async def campaign_changed(self, campaign_id: int) -> None:
        await self.engine.reload_campaign(campaign_id)
        await self.service.renew_leases()
        self.service._wake.set()

    def campaign_stats(self, campaign_id: int) -> dict[str, Any] | None:
        return self.engine.campaign_stats(campaign_id)

    def _session(self, agent_id: int) -> AgentSession:
        for agent in self.engine.board:
            if agent.agent_id == agent_id:
                return agent
        raise ControlError(f"agent {agent_id} is not logged in")

    def _view(self, agent: AgentSession) -> AgentView:
        clock = self.engine.clock
        row = self.engine.agent_rows.get(agent.agent_id)
        since = clock.now().timestamp() - (clock.monotonic() - agent.since)
        return AgentView(
            agent_id=agent.agent_id,
            extension=agent.extension,
            name=row.name if row is not None else "",
            server=agent.server,
            state=agent.state.value,
            since=datetime.fromtimestamp(since, tz=clock.now().tzinfo),
            pause_reason=agent.pause_reason,
            attempt_id=agent.attempt_id,
            campaign_ids=sorted(agent.campaign_ids),
            calls_today=agent.calls_today,
            daily_cap=agent.daily_cap,
        )

    def agents(self) -> list[AgentView]:
        return [self._view(a) for a in self.engine.board]

    async def agent_login(self, agent_id: int) -> AgentView:
        try:
            agent = await self.engine.agent_login(agent_id)
        except (LookupError, ConnectionError) as exc:
            raise ControlError(str(exc)) from exc
        return self._view(agent)

    async def agent_logout(self, agent_id: int) -> None:
        await self.engine.agent_logout(self._session(agent_id))

    async def agent_pause(self, agent_id: int, reason: str) -> AgentView:
        agent = self._session(agent_id)
        try:
            self.engine.agent_pause(agent, reason)
        except ValueError as exc:
            raise ControlError(str(exc)) from exc
        return self._view(agent)

    async def agent_ready(self, agent_id: int) -> AgentView:
        agent = self._session(agent_id)
        try:
            self.engine.agent_ready(agent)
        except ValueError as exc:
            raise ControlError(str(exc)) from exc
        return self._view(agent)

    def current_call(self, agent_id: int) -> CurrentCall | None:
        try:
            agent = self._session(agent_id)
        except ControlError:
            return None
        attempt = self.engine.calls.get(agent.attempt_id or "")
        if attempt is None:
            return None
        clock = self.engine.clock
        connected = None
        if attempt.connected is not None:
            ts = clock.now().timestamp() - (clock.monotonic() - attempt.connected)
            connected = datetime.fromtimestamp(ts, tz=clock.now().tzinfo)
        return CurrentCall(
            attempt_id=attempt.id,
            campaign_id=attempt.campaign_id,
            lead_id=attempt.lead_id,
            state=attempt.state.value,
            connected_at=connected,
            direction="inbound" if attempt.inbound else "outbound",
            number=attempt.number,
            did=attempt.did,
        )

    async def submit_disposition(
        self,
        agent_id: int,
        code: str,
        *,
        notes: str = "",
        callback_at: datetime | None = None,
        callback_agent_only: bool = False,
        pause_after: str | None = None,
    ) -> None:
        agent = self._session(agent_id)
        try:
            self.engine.dispose(
                agent,
                code,
                notes=notes,
                callback_at=callback_at,
                callback_agent_only=callback_agent_only,
                pause_after=pause_after,
            )
        except (LookupError, ValueError) as exc:
            raise ControlError(str(exc)) from exc

    async def preview_next(self, agent_id: int) -> PreviewLead | None:
        agent = self._session(agent_id)
        try:
            lead = await self.engine.preview_next(agent)
        except LookupError as exc:
            raise ControlError(str(exc)) from exc
        return None if lead is None else PreviewLead(lead.id, lead.campaign_id)

    async def preview_dial(self, agent_id: int) -> CurrentCall:
        agent = self._session(agent_id)
        try:
            await self.engine.preview_dial(agent)
        except (LookupError, ConnectionError) as exc:
            raise ControlError(str(exc)) from exc
        return self._call_of(agent_id)

    async def preview_skip(self, agent_id: int) -> None:
        try:
            self.engine.preview_skip(self._session(agent_id))
        except LookupError as exc:
            raise ControlError(str(exc)) from exc

    async def manual_dial(
        self, agent_id: int, number: str, campaign_id: int | None = None
    ) -> CurrentCall:
        agent = self._session(agent_id)
        try:
            await self.engine.manual_dial(agent, number, campaign_id)
        except (LookupError, ConnectionError, PermissionError, ValueError) as exc:
            raise ControlError(str(exc)) from exc
        return self._call_of(agent_id)

    async def start_recording(self, agent_id: int) -> str:
        agent = self._session(agent_id)
        try:
            return await self.engine.start_recording(agent)
        except (LookupError, PermissionError, PbxNotConnected, PbxRefused) as exc:
            raise ControlError(str(exc)) from exc

    async def monitor_agent(
        self, agent_id: int, mode: MonitorMode, supervisor_extension: str
    ) -> MonitorSession:
        agent = self._session(agent_id)
        try:
            return await start_monitor(self.engine, agent, mode, supervisor_extension)
        except MonitorRefused as exc:
            raise ControlError(str(exc)) from exc

    def _call_of(self, agent_id: int) -> CurrentCall:
        call = self.current_call(agent_id)
        if call is None:  # ended at once (e.g. the trunk refused it)
            raise ControlError("the call ended before it could ring")
        return call

    def health(self) -> list[ComponentHealth]:
        service = self.service
        checks = [
            ComponentHealth(
                "database-writes",
                service.writer.db_ok,
                {"pending": service.writer.pending, "outages": service.writer.outages},
            )
        ]
        for name, client in service.ami.items():
            h = client.health()
            checks.append(
                ComponentHealth(
                    f"ami:{name}",
                    h.state is ConnectionState.READY,
                    {
                        "state": h.state.value,
                        "last_event_age_s": h.last_event_age_s,
                        "ping_rtt_s": h.ping_rtt_s,
                        "last_error": h.last_error,
                    },
                )
            )
        if service.mqtt is not None:
            checks.append(
                ComponentHealth(
                    "mqtt",
                    service.mqtt.connected,
                    {"sent": service.mqtt.sent, "error": service.mqtt.last_error},
                )
            )
        return checks


async def run_until_stopped(service: DialerService, minutes: float | None = None) -> None:
    """Run until SIGINT/SIGTERM (or for `minutes`), then stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await service.start()
    try:
        if minutes is None:
            await stop.wait()
        else:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(minutes * 60):
                    await stop.wait()
    finally:
        await service.stop()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="dialer run", description=__doc__)
    parser.add_argument("--minutes", type=float, default=None, help="stop after N minutes")
    args = parser.parse_args(argv)
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    log.info("settings: %s", settings.redacted())
    asyncio.run(run_until_stopped(DialerService(settings), args.minutes))
    return 0
