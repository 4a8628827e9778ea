"""AmiClient over real loopback sockets against the scripted server, faults included."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from ami import actions
from ami.backoff import ReconnectPolicy
from ami.client import AmiClient
from ami.errors import (
    AmiActionError,
    AmiConnectError,
    AmiLoginError,
    AmiTimeoutError,
    ConnectionLostError,
    NotConnectedError,
)
from ami.events import AmiEvent, FullyBooted, OriginateOutcome, OriginateResponse, VarSet
from ami.health import ConnectionState

from .fake_server import FakeAmiServer

FAST_RECONNECT = ReconnectPolicy(initial_s=0.01, maximum_s=0.05, jitter=0.1)


@pytest.fixture
async def server(transcripts_dir: Path) -> AsyncIterator[FakeAmiServer]:
    fake = await FakeAmiServer(transcripts_dir).start()
    yield fake
    await fake.stop()


def make_client(server: FakeAmiServer, **options: object) -> AmiClient:
    options.setdefault("reconnect", FAST_RECONNECT)
    options.setdefault("action_timeout", 2.0)
    options.setdefault("rng", random.Random(7))
    return AmiClient("127.0.0.1", server.port, "dialer", "dialer-secret", **options)  # type: ignore[arg-type]


def originate(attempt_id: str) -> actions.AmiAction:
    return actions.originate(
        attempt_id,
        channel="Local/5551234@sim-pstn",
        context="dialer-outbound",
        exten="s",
        timeout_ms=30000,
        caller_id='"Acme" <8005550100>',
        variables={"DIALER_ATTEMPT_ID": attempt_id, "DIALER_CAMPAIGN_ID": "1"},
    )


async def until(condition: Callable[[], object], limit_s: float = 3.0) -> None:
    """Poll a condition the client reaches through its own background tasks."""
    for _ in range(int(limit_s / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"not reached within {limit_s} s")


async def test_connects_logs_in_and_reports_health(server: FakeAmiServer) -> None:
    client = make_client(server)
    booted: list[AmiEvent] = []
    client.on_event("FullyBooted", booted.append)
    async with client:
        health = client.health()
        assert health.state is ConnectionState.READY
        assert health.connected and health.logged_in
        assert health.asterisk_banner == "Asterisk Call Manager/13.0.0"
        login = server.actions_named("Login")[0]
        assert login.get("Username") == "dialer" and login.get("Events") == "on"
        rtt = await client.ping()
        assert 0 < rtt < 1 and client.health().ping_rtt_s == rtt
        await until(lambda: booted)
        assert isinstance(booted[0], FullyBooted) and booted[0].status == "Fully Booted"
        assert client.health().last_event_age_s is not None
    assert client.state is ConnectionState.CLOSED
    assert server.actions_named("Logoff"), "a clean close logs off"


async def test_bad_login_is_an_error_and_health_says_so(server: FakeAmiServer) -> None:
    server.behaviour.secret = "something-else"
    client = make_client(server)
    with pytest.raises(AmiLoginError, match="Authentication failed"):
        await client.connect()
    health = client.health()
    assert health.state is ConnectionState.LOGIN_FAILED
    assert not health.logged_in
    assert health.last_error is not None and "Authentication failed" in health.last_error
    await client.close()


async def test_background_start_retries_a_refused_login_until_it_is_fixed(
    server: FakeAmiServer,
) -> None:
    server.behaviour.secret = "not-yet"
    client = make_client(server)
    client.start()
    await until(lambda: client.state is ConnectionState.LOGIN_FAILED)
    server.behaviour.secret = "dialer-secret"
    async with asyncio.timeout(3):
        await client.wait_ready()
    assert client.health().logged_in
    await client.close()


async def test_connect_to_a_closed_port_is_a_connect_error() -> None:
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    client = AmiClient("127.0.0.1", port, "dialer", "x", connect_timeout=1.0)
    with pytest.raises(AmiConnectError):
        await client.connect()
    assert client.state is ConnectionState.DISCONNECTED
    await client.close()


async def test_actions_before_connect_raise_not_connected(server: FakeAmiServer) -> None:
    client = make_client(server)
    with pytest.raises(NotConnectedError, match="not connected"):
        await client.send_action(actions.ping())
    with pytest.raises(NotConnectedError):
        await client.originate(originate("att-1"))
    with pytest.raises(NotConnectedError):
        await client.core_show_channels()
    assert server.received == []
    await client.close()


async def test_originate_returns_when_queued_and_outcome_comes_as_event(
    server: FakeAmiServer,
) -> None:
    server.behaviour.replay_call_after_originate = True
    async with make_client(server) as client:
        outcomes = client.subscribe("OriginateResponse")
        amd: list[VarSet] = []
        everything: list[AmiEvent] = []
        client.on_event("VarSet", amd.append)  # type: ignore[arg-type]

        async def collect(event: AmiEvent) -> None:
            everything.append(event)

        client.on_event("*", collect)
        queued = await client.originate(originate("att-00000042"))
        assert queued.get("Message") == "Originate successfully queued"
        assert queued.action_id == "att-00000042"
        async with asyncio.timeout(3):
            outcome = await outcomes.get()
        assert isinstance(outcome, OriginateResponse)
        assert outcome.action_id == "att-00000042"
        assert outcome.outcome is OriginateOutcome.ANSWERED and outcome.reason == 4
        await until(lambda: any(e.name == "Hangup" for e in everything))
        assert ("AGISTATUS", "HANGUP") in {(e.variable, e.value) for e in amd}
        sent = server.actions_named("Originate")[0]
        assert sent.get("ChannelId") == sent.action_id == "att-00000042"
        assert sent.get("Async") == "true"
        assert sent.get_all("Variable") == [
            "DIALER_ATTEMPT_ID=att-00000042",
            "DIALER_CAMPAIGN_ID=1",
        ]


async def test_drop_mid_call_fails_the_originate_never_resends_and_reconnects(
    server: FakeAmiServer,
) -> None:
    connected: list[int] = []

    async def reconcile(client: AmiClient) -> None:
        channels = await client.core_show_channels()
        connected.append(len(channels))

    client = make_client(server)
    client.on_connected(reconcile)
    await client.connect()
    assert connected == [2]

    server.behaviour.drop_on = {"Originate"}
    with pytest.raises(ConnectionLostError, match="connection lost; reconcile"):
        await client.originate(originate("att-7"))
    server.behaviour.drop_on = set()

    await until(lambda: len(connected) == 2)  # reconnected, hook ran again
    assert client.health().logged_in and client.health().reconnects == 1
    channels = await client.core_show_channels()
    assert [c.uniqueid for c in channels] == ["agent-1001;2", "agent-1001"]
    assert channels[1].application == "ConfBridge" and channels[1].duration_seconds == 22
    await asyncio.sleep(0.1)  # room for a wrongful re-send to show up
    assert len(server.actions_named("Originate")) == 1
    assert server.connections == 2
    await client.close()


async def test_every_pending_action_fails_on_drop_and_none_is_resent(
    server: FakeAmiServer,
) -> None:
    async with make_client(server) as client:
        server.behaviour.silent = {"Ping", "Originate"}
        pings = asyncio.ensure_future(client.send_action(actions.ping(action_id="p-1")))
        calls = asyncio.ensure_future(client.originate(originate("att-8")))
        await until(lambda: len(server.actions_named("Originate")) == 1)
        server.behaviour.silent = set()
        server.drop_connections()
        for pending in (pings, calls):
            with pytest.raises(ConnectionLostError):
                await pending
        async with asyncio.timeout(3):
            await client.wait_ready()
        await client.ping()
        assert len(server.actions_named("Originate")) == 1
        ping_ids = [m.action_id for m in server.actions_named("Ping")]
        assert ping_ids[0] == "p-1" and "p-1" not in ping_ids[1:]


async def test_slow_server_times_out_the_action_and_the_client_carries_on(
    server: FakeAmiServer,
) -> None:
    async with make_client(server, action_timeout=0.2) as client:
        server.behaviour.silent = {"Command"}
        with pytest.raises(AmiTimeoutError, match="Command"):
            await client.command("core show version")
        server.behaviour.silent = set()
        assert (await client.command("core show version")).startswith("Asterisk GIT-master")
        assert client.health().logged_in


async def test_unanswered_keepalive_pings_drop_a_dead_connection(server: FakeAmiServer) -> None:
    async with make_client(server, action_timeout=0.1, ping_interval=0.05) as client:
        server.behaviour.silent = {"Ping"}
        await until(lambda: server.connections >= 2)
        server.behaviour.silent = set()
        async with asyncio.timeout(3):
            await client.wait_ready()
        assert client.health().reconnects >= 1


async def test_garbage_is_logged_skipped_and_the_client_survives(
    server: FakeAmiServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with make_client(server) as client:
        events = client.subscribe("UserEvent")
        with caplog.at_level(logging.WARNING, logger="ami.client"):
            await server.send_raw(
                b"\x00\xff\xfe binary junk\r\nno colon here\r\n\r\n"
                b"Event: UserEvent\r\nbroken line\r\nUserEvent: AfterGarbage\r\n\r\n"
            )
            async with asyncio.timeout(3):
                event = await events.get()
        assert event.get("UserEvent") == "AfterGarbage"
        assert client.health().garbage_skipped >= 2
        assert "unparseable" in caplog.text
        assert (await client.ping()) > 0


async def test_errors_come_back_as_action_errors(server: FakeAmiServer) -> None:
    async with make_client(server) as client:
        with pytest.raises(AmiActionError, match="No such channel"):
            await client.hangup("att-missing")
        reply = await client.send_action(actions.action("NoSuchAction"), check=False)
        assert not reply.ok and "Invalid/unknown command" in reply.message
        hung = await client.hangup("/^Local\\/1001@sim-agents-.*/")
        assert [m.get("Channel") for m in hung.events] == [
            "Local/1001@sim-agents-00000006;2",
            "Local/1001@sim-agents-00000006;1",
        ]
        moved = await client.redirect("att-1", context="dialer-agent", exten="1001")
        assert moved.message == "Redirect successful"
        assert await client.status() == []


async def test_subscription_ends_on_close(server: FakeAmiServer) -> None:
    client = make_client(server)
    await client.connect()
    subscription = client.subscribe()
    await client.close()
    seen = [event async for event in subscription]
    assert all(isinstance(e, AmiEvent) for e in seen)
    with pytest.raises(NotConnectedError):
        await client.send_action(actions.ping())


async def test_gives_up_after_max_attempts_when_the_server_is_gone(
    server: FakeAmiServer,
) -> None:
    policy = ReconnectPolicy(initial_s=0.01, maximum_s=0.02, max_attempts=2)
    client = make_client(server, reconnect=policy)
    await client.connect()
    await server.stop()
    await until(lambda: client._supervisor is not None and client._supervisor.done())
    assert client.state is ConnectionState.DISCONNECTED
    assert client.health().last_error
    await client.close()


async def test_an_event_naming_a_pending_action_before_its_response_is_dispatched(
    server: FakeAmiServer,
) -> None:
    async with make_client(server) as client:
        user_events = client.subscribe("UserEvent")
        server.behaviour.silent = {"Ping"}
        ping = asyncio.ensure_future(client.send_action(actions.ping(action_id="p-42")))
        await until(lambda: server.actions_named("Ping"))
        await server.send_raw(b"Event: UserEvent\r\nActionID: p-42\r\nUserEvent: Early\r\n\r\n")
        async with asyncio.timeout(3):
            early = await user_events.get()
        assert early.get("UserEvent") == "Early" and not ping.done()
        await server.send_raw(b"Response: Success\r\nActionID: p-42\r\nPing: Pong\r\n\r\n")
        reply = await ping
        assert reply.response.get("Ping") == "Pong" and reply.events == []


async def test_a_full_subscription_drops_and_counts_instead_of_growing(
    server: FakeAmiServer,
) -> None:
    async with make_client(server) as client:
        small = client.subscribe("UserEvent", maxsize=2)
        await server.send_raw(b"Event: UserEvent\r\nUserEvent: N\r\n\r\n" * 5)
        await until(lambda: client.health().events_received >= 7)  # + login's two events
        assert small.pending() == 2 and small.dropped == 3


async def test_built_from_settings(server: FakeAmiServer) -> None:
    from dialer.settings import AsteriskServer

    settings = AsteriskServer(name="lab", ami_host="127.0.0.1", ami_port=server.port)
    client = AmiClient.from_settings(settings, reconnect=FAST_RECONNECT)
    async with client:
        assert client.name == "lab" and client.health().server == "lab"
        assert server.actions_named("Login")[0].get("Secret") == "dialer-secret"


async def test_a_failing_callback_is_logged_and_does_not_stop_the_stream(
    server: FakeAmiServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with make_client(server) as client:
        seen: list[str] = []

        def broken(event: AmiEvent) -> None:
            raise RuntimeError("bug in a consumer")

        async def broken_async(event: AmiEvent) -> None:
            raise RuntimeError("bug in an async consumer")

        client.on_event("UserEvent", broken)
        client.on_event("UserEvent", broken_async)
        stop = client.on_event("UserEvent", lambda e: seen.append(e.get("UserEvent") or ""))
        with caplog.at_level(logging.ERROR, logger="ami.client"):
            await server.send_raw(b"Event: UserEvent\r\nUserEvent: One\r\n\r\n")
            await until(lambda: seen == ["One"] and "async consumer" in caplog.text)
        assert "bug in a consumer" in caplog.text
        stop()
        await server.send_raw(b"Event: UserEvent\r\nUserEvent: Two\r\n\r\n")
        assert (await client.ping()) > 0
        assert seen == ["One"] and client.health().logged_in
