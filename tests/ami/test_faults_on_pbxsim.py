"""`AmiClient` against the simulated PBX over real sockets: the faults a live Asterisk
produces, with calls that really exist on the far side.

The scripted server in `fake_server.py` answers CoreShowChannels from a recording; here the
listing comes from the simulator's live channels, so a test can check that the call the
connection dropped under is exactly what the caller finds when it reconciles.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Callable

import pytest

from ami import actions
from ami.backoff import ReconnectPolicy
from ami.client import AmiClient
from ami.errors import AmiLoginError, AmiTimeoutError, ConnectionLostError
from ami.events import AmiEvent, Hangup, OriginateOutcome, OriginateResponse
from ami.health import ConnectionState
from ami.parser import AmiParser
from pbxsim import CalleeBehaviour, PbxSim, PbxSimConfig

FAST_RECONNECT = ReconnectPolicy(initial_s=0.01, maximum_s=0.05, jitter=0.1)
NUMBER = "5551239"  # lab rule: last digit 4-9 is a person; forced to talk for long below


@pytest.fixture
async def sim() -> AsyncIterator[PbxSim]:
    async with PbxSim(PbxSimConfig(time_scale=20)) as pbx:
        pbx.force_behaviour(
            NUMBER, *[CalleeBehaviour("human", ring_seconds=1, talk_seconds=600, digit=9)] * 4
        )
        yield pbx


def make_client(port: int, secret: str = "dialer-secret", **options: object) -> AmiClient:
    options.setdefault("reconnect", FAST_RECONNECT)
    options.setdefault("action_timeout", 2.0)
    options.setdefault("rng", random.Random(3))
    return AmiClient("127.0.0.1", port, "dialer", secret, **options)  # type: ignore[arg-type]


def parked_call(attempt_id: str) -> actions.AmiAction:
    """A customer call that answers and then sits in `Wait(60)`: in flight for the test."""
    return actions.originate(
        attempt_id,
        channel=f"Local/{NUMBER}@sim-pstn",
        context="lab-park",
        exten="s",
        timeout_ms=30000,
        caller_id=actions.format_caller_id("Acme", "8005550100"),
        variables={"DIALER_ATTEMPT_ID": attempt_id, "DIALER_CAMPAIGN_ID": "1"},
    )


async def until(condition: Callable[[], object], limit_s: float = 3.0) -> None:
    """Poll a state the client reaches through its own background tasks."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {limit_s} s")
        await asyncio.sleep(0.005)


class Reconciler:
    """The caller's `on_connected` hook: what CoreShowChannels listed after each login."""

    def __init__(self) -> None:
        self.listings: list[set[str]] = []

    async def __call__(self, client: AmiClient) -> None:
        self.listings.append({c.uniqueid for c in await client.core_show_channels()})


class CuttingProxy:
    """A TCP relay to the simulator that, once armed, passes one Originate on and then cuts
    both sockets before the response can come back: Asterisk got the action (the call
    starts) and the client never learns it was queued."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.armed = False
        self.originates_seen = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    async def __aenter__(self) -> CuttingProxy:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        down = asyncio.create_task(self._pump(up_reader, writer))
        self._tasks.add(down)
        parser = AmiParser()
        try:
            while data := await reader.read(65536):
                names = [m.name for m in parser.feed(data)]
                self.originates_seen += names.count("Originate")
                if self.armed and "Originate" in names:
                    self.armed = False
                    writer.transport.abort()  # the client side goes first: no reply gets back
                    up_writer.write(data)
                    await up_writer.drain()
                    break
                up_writer.write(data)
                await up_writer.drain()
        except ConnectionError:
            pass
        finally:
            up_writer.close()
            writer.close()
            down.cancel()
            with contextlib.suppress(BaseException):
                await down
            self._tasks.discard(down)

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                if writer.is_closing():
                    return
                writer.write(data)
                await writer.drain()


async def test_drop_mid_call_reconnects_and_the_call_is_there_to_reconcile(
    sim: PbxSim, caplog: pytest.LogCaptureFixture
) -> None:
    reconcile = Reconciler()
    client = make_client(sim.ami_port)
    client.on_connected(reconcile)
    outcomes = client.subscribe("OriginateResponse")
    hangups = client.subscribe("Hangup")
    async with client:
        await client.originate(parked_call("att-1"))
        async with asyncio.timeout(3):
            outcome = await outcomes.get()
        assert isinstance(outcome, OriginateResponse)
        assert outcome.outcome is OriginateOutcome.ANSWERED and outcome.action_id == "att-1"

        with caplog.at_level(logging.WARNING, logger="ami.client"):
            assert await sim.drop_ami_connections() == 1
            await until(lambda: len(reconcile.listings) == 2)
        assert "connection closed by peer" in caplog.text
        assert client.health().logged_in and client.health().reconnects == 1

        # What the caller reconciles against: the call it was tracking is still live ...
        assert reconcile.listings == [set(), {"att-1", "att-1;2"}]
        # ... and nothing was dialled again behind its back.
        assert sim.stats()["originated"] == 1

        # The reconciled call is fully usable on the new connection: its events still come.
        await client.hangup("att-1")
        async with asyncio.timeout(3):
            while True:
                event = await hangups.get()
                if isinstance(event, Hangup) and event.uniqueid == "att-1":
                    break
        assert sim.live_channels() == []


async def test_drop_while_an_originate_waits_for_its_answer_is_never_resent(
    sim: PbxSim, caplog: pytest.LogCaptureFixture
) -> None:
    async with CuttingProxy(sim.ami_port) as proxy:
        reconcile = Reconciler()
        client = make_client(proxy.port)
        client.on_connected(reconcile)
        async with client:
            proxy.armed = True
            with (
                caplog.at_level(logging.WARNING, logger="ami.client"),
                pytest.raises(ConnectionLostError, match="reconcile") as lost,
            ):
                await client.originate(parked_call("att-2"))
            assert lost.value.action_id == "att-2"
            await until(lambda: len(reconcile.listings) == 2)
            assert "AMI pbx1: connection" in caplog.text  # the drop is logged

            # Asterisk had queued it: the reconciliation finds the call by its attempt id.
            assert "att-2" in reconcile.listings[1]
            assert client.health().reconnects == 1 and proxy.connections == 2
            await client.ping()  # room for a wrongful re-send to reach the proxy first
            assert proxy.originates_seen == 1
            assert sim.stats()["originated"] == 1
            await client.hangup("att-2")


async def test_bad_login_raises_is_logged_and_the_pbx_still_serves(
    sim: PbxSim, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(sim.ami_port, secret="wrong")
    with (
        caplog.at_level(logging.ERROR, logger="ami.client"),
        pytest.raises(AmiLoginError, match="Authentication failed"),
    ):
        await client.connect()
    health = client.health()
    assert health.state is ConnectionState.LOGIN_FAILED and not health.logged_in
    assert "login refused" in caplog.text and "Authentication failed" in caplog.text
    await client.close()

    async with make_client(sim.ami_port) as good:
        assert good.health().logged_in
        assert await good.ping() > 0


async def test_background_client_reports_a_bad_login_instead_of_going_silent(
    sim: PbxSim,
) -> None:
    client = make_client(sim.ami_port, secret="wrong")
    client.start()
    await until(lambda: client.state is ConnectionState.LOGIN_FAILED)
    assert client.health().last_error == "login refused by pbx1: Authentication failed"
    await client.close()


async def test_slow_server_times_actions_out_cleanly_and_loses_nothing(sim: PbxSim) -> None:
    async with make_client(sim.ami_port) as client:
        events: list[AmiEvent] = []
        client.on_event("OriginateResponse", events.append)
        client.on_event("Hangup", events.append)
        sim.set_response_delay(0.1)

        with pytest.raises(AmiTimeoutError, match="Ping"):
            await client.send_action(actions.ping(), response_timeout=0.05)
        assert client.health().state is ConnectionState.READY

        # Everything sent while the server is slow completes; the late answer to the Ping
        # that timed out is not taken for any of these replies.
        pong, queued, listing = await asyncio.gather(
            client.send_action(actions.ping(action_id="slow-ping")),
            client.originate(parked_call("att-3")),
            client.core_show_channels(),
        )
        assert pong.response.action_id == "slow-ping" and pong.response.get("Ping") == "Pong"
        assert queued.action_id == "att-3"
        assert queued.get("Message") == "Originate successfully queued"
        assert {c.uniqueid for c in listing} == {"att-3", "att-3;2"}

        sim.set_response_delay(0)
        await client.hangup("att-3")
        await until(lambda: any(isinstance(e, Hangup) and e.uniqueid == "att-3" for e in events))
        (outcome,) = [e for e in events if isinstance(e, OriginateResponse)]
        assert outcome.outcome is OriginateOutcome.ANSWERED
        assert {e.uniqueid for e in events if isinstance(e, Hangup)} == {"att-3", "att-3;2"}
        health = client.health()
        assert health.reconnects == 0 and health.garbage_skipped == 0
        assert sim.stats()["originated"] == 1


async def test_on_demand_mixmonitor_records_a_live_call(sim: PbxSim) -> None:
    from dialer.runtime.ami_port import AmiPbx
    from dialer.runtime.pbx import PbxRefused

    client = make_client(sim.ami_port)
    started: list[AmiEvent] = []
    client.on_event("MixMonitorStart", started.append)
    await client.connect()
    try:
        await client.originate(parked_call("att-rec"))
        await until(lambda: any(c["uniqueid"] == "att-rec" for c in sim.live_channels()))
        name = next(c["channel"] for c in sim.live_channels() if c["uniqueid"] == "att-rec")
        await AmiPbx(client).record(name, "dialer/1/20260302/att-rec.wav")
        await until(lambda: started)
        assert started[0].get("Channel") == name
        with pytest.raises(PbxRefused):
            await AmiPbx(client).record("PJSIP/none-00000000", "x.wav")
    finally:
        await client.close()
