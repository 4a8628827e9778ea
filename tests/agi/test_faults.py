"""Faults over real sockets: nothing a peer or the router does stops the server, the
customer never hears silence when a decision is still possible, and each fault is logged."""

from __future__ import annotations

import asyncio
import logging

import pytest

from agi.metrics import DecisionLatencies
from agi.router import AnsweredCall, AnsweredDecision
from agi.server import AgiServer, AgiServerConfig
from agi.session import AgiSession
from tests.agi.conftest import ScriptedRouter, wait_idle
from tests.agi.fake_asterisk import FakeChannel, environment_for, run_fake_call

ANSWERED = "answered?attempt=att-1&campaign=3"
SAFE_HARBOR = {"DIALER_ACTION": "safeharbor", "DIALER_MESSAGE": "dialer-safe-harbor"}


async def _still_serves(server: AgiServer, environment: list[str]) -> None:
    channel = FakeChannel()
    await run_fake_call(server.port, environment_for(environment, ANSWERED), channel.answer)
    assert channel.variables["DIALER_ACTION"] == "bridge"


def _no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def _dialer_variables(channel: FakeChannel) -> dict[str, str]:
    return {k: v for k, v in channel.variables.items() if k.startswith("DIALER_")}


# ---------------------------------------------------------------- router faults


async def test_router_failure_gets_safe_harbor(
    server: AgiServer,
    router: ScriptedRouter,
    recorded_environment: list[str],
    latencies: DecisionLatencies,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(_call: AnsweredCall) -> AnsweredDecision:
        raise RuntimeError("database is down")

    router.decide = broken
    channel = FakeChannel()
    with caplog.at_level(logging.ERROR, logger="agi"):
        await run_fake_call(
            server.port, environment_for(recorded_environment, ANSWERED), channel.answer
        )
    assert _dialer_variables(channel) == SAFE_HARBOR
    assert "att-1: router failed; safe-harbor" in caplog.text
    assert "database is down" in caplog.text
    assert len(latencies.samples("answered")) == 1


async def test_router_too_slow_gets_safe_harbor(
    router: ScriptedRouter,
    recorded_environment: list[str],
    latencies: DecisionLatencies,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def stuck(_call: AnsweredCall) -> AnsweredDecision:
        await asyncio.sleep(30)
        raise AssertionError("not reached")

    router.decide = stuck
    config = AgiServerConfig(
        answered=AgiServerConfig().answered.__class__(
            decision_timeout_s=0.05, fallback_message="acme-safe-harbor"
        )
    )
    channel = FakeChannel()
    async with AgiServer(router, port=0, config=config, latencies=latencies) as server:
        with caplog.at_level(logging.ERROR, logger="agi"):
            await run_fake_call(
                server.port, environment_for(recorded_environment, ANSWERED), channel.answer
            )
    assert _dialer_variables(channel) == {
        "DIALER_ACTION": "safeharbor",
        "DIALER_MESSAGE": "acme-safe-harbor",
    }
    assert "no decision within 0.1 s" in caplog.text
    (elapsed,) = latencies.samples("answered")
    assert elapsed >= 0.05


async def test_router_returning_garbage_gets_safe_harbor(
    server: AgiServer, router: ScriptedRouter, recorded_environment: list[str]
) -> None:
    async def nonsense(_call: AnsweredCall) -> AnsweredDecision:
        return "bridge to 1001"  # type: ignore[return-value]

    router.decide = nonsense
    channel = FakeChannel()
    await run_fake_call(
        server.port, environment_for(recorded_environment, ANSWERED), channel.answer
    )
    assert _dialer_variables(channel) == SAFE_HARBOR


async def test_router_failures_in_wrapup_and_login_end_the_session_cleanly(
    server: AgiServer,
    router: ScriptedRouter,
    recorded_environment: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(*_args: object) -> None:
        raise RuntimeError("boom")

    router.wrapup_prompt = broken  # type: ignore[method-assign,assignment]
    router.agent_login = broken  # type: ignore[method-assign,assignment]
    login_channel = FakeChannel(dtmf=["501", "1234"])
    with caplog.at_level(logging.ERROR, logger="agi"):
        wrapup = await run_fake_call(
            server.port,
            environment_for(recorded_environment, "wrapup?agent=1001"),
            FakeChannel().answer,
        )
        await run_fake_call(
            server.port,
            environment_for(recorded_environment, "agent-login"),
            login_channel.answer,
        )
    assert wrapup.commands == [] and wrapup.server_closed
    assert login_channel.variables == {"DIALER_MESSAGE": "agent-incorrect"}
    assert "no wrap-up prompt" in caplog.text
    assert "failed to check the login" in caplog.text
    await _still_serves(server, recorded_environment)


# ---------------------------------------------------------------- socket faults


async def test_socket_closed_by_asterisk_mid_session(
    server: AgiServer, recorded_environment: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="agi"):
        result = await run_fake_call(
            server.port,
            environment_for(recorded_environment, ANSWERED),
            FakeChannel().answer,
            close_after=1,
        )
        await wait_idle(server)
    assert result.commands == ["GET VARIABLE AMDSTATUS"]
    assert "ended: channel hung up: socket closed" in caplog.text
    _no_errors_logged(caplog)  # a clean end (Asterisk hung up), not a crash
    await _still_serves(server, recorded_environment)


async def test_socket_closed_in_the_middle_of_a_reply_line(
    server: AgiServer, recorded_environment: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    env = environment_for(recorded_environment, ANSWERED)
    writer.write(("\n".join(env) + "\n\n").encode())
    assert await reader.readline() == b"GET VARIABLE AMDSTATUS\n"
    with caplog.at_level(logging.INFO, logger="agi"):
        writer.write(b"200 resu")
        writer.close()
        await wait_idle(server)
    assert "ended: channel hung up: socket closed" in caplog.text
    _no_errors_logged(caplog)
    await _still_serves(server, recorded_environment)


@pytest.mark.parametrize(
    "payload",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x00\xff\xfe garbage \x01\x02\n\n",
        b"agi_network_script answered\n\n",
        b"agi_channel: SIP/1\n\n",  # no script at all
        b"agi_network: yes\n" * 300 + b"\n",
        b"agi_network_script: " + b"x" * 20_000 + b"\n\n",
        b"agi_network: yes\nagi_network_scr",  # closed mid-environment
    ],
)
async def test_garbage_instead_of_an_environment(
    server: AgiServer,
    recorded_environment: list[str],
    caplog: pytest.LogCaptureFixture,
    payload: bytes,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    with caplog.at_level(logging.WARNING, logger="agi"):
        writer.write(payload)
        writer.write_eof()
        assert await asyncio.wait_for(reader.read(), 2.0) == b""  # closed, no command sent
        writer.close()
        await wait_idle(server)
    assert "dropped" in caplog.text
    await _still_serves(server, recorded_environment)


async def test_garbage_instead_of_a_reply(
    server: AgiServer,
    router: ScriptedRouter,
    recorded_environment: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="agi"):
        result = await run_fake_call(
            server.port,
            environment_for(recorded_environment, ANSWERED),
            lambda _c: ["<html>not asterisk</html>"],
        )
        await wait_idle(server)
    assert result.commands == ["GET VARIABLE AMDSTATUS"] and result.server_closed
    assert "unexpected AGI reply line" in caplog.text
    assert router.answered == []
    await _still_serves(server, recorded_environment)


async def test_silent_connection_is_dropped_after_the_environment_timeout(
    server: AgiServer, recorded_environment: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    with caplog.at_level(logging.WARNING, logger="agi"):
        writer.write(b"agi_network: yes\n")
        assert await asyncio.wait_for(reader.read(), 3.0) == b""
        writer.close()
        await wait_idle(server)
    assert "timeout" in caplog.text


async def test_silent_asterisk_during_a_command_times_out(
    router: ScriptedRouter, recorded_environment: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    config = AgiServerConfig(command_timeout_s=0.1)
    async with AgiServer(router, port=0, config=config) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        env = environment_for(recorded_environment, ANSWERED)
        with caplog.at_level(logging.WARNING, logger="agi"):
            writer.write(("\n".join(env) + "\n\n").encode())
            assert await reader.readline() == b"GET VARIABLE AMDSTATUS\n"
            assert await asyncio.wait_for(reader.read(), 3.0) == b""
            writer.close()
            await wait_idle(server)
    assert "no reply to GET VARIABLE within 0.1 s" in caplog.text


async def test_handler_crash_is_logged_and_contained(
    server: AgiServer, recorded_environment: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    async def crash(session: AgiSession) -> None:
        await session.answer()
        raise KeyError("bug")

    server.add_route("crash", crash)
    with caplog.at_level(logging.ERROR, logger="agi"):
        result = await run_fake_call(
            server.port, environment_for(recorded_environment, "crash"), FakeChannel().answer
        )
        await wait_idle(server)
    assert result.commands == ["ANSWER"] and result.server_closed
    assert "AGI handler crash crashed" in caplog.text
    await _still_serves(server, recorded_environment)


async def test_close_cancels_sessions_that_outlive_the_grace_period(
    router: ScriptedRouter, recorded_environment: list[str]
) -> None:
    config = AgiServerConfig(shutdown_grace_s=0.05)
    server = AgiServer(router, port=0, config=config)
    await server.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    env = environment_for(recorded_environment, ANSWERED)
    writer.write(("\n".join(env) + "\n\n").encode())
    assert await reader.readline() == b"GET VARIABLE AMDSTATUS\n"
    assert server.active_sessions == 1
    await asyncio.wait_for(server.close(), 2.0)
    assert server.active_sessions == 0
    assert await asyncio.wait_for(reader.read(), 2.0) == b""
    writer.close()


@pytest.mark.parametrize("how", ["HANGUP line", "socket closed"])
async def test_customer_gone_while_the_router_decides(
    server: AgiServer,
    router: ScriptedRouter,
    recorded_environment: list[str],
    latencies: DecisionLatencies,
    caplog: pytest.LogCaptureFixture,
    how: str,
) -> None:
    router_started = asyncio.Event()
    router_cancelled = asyncio.Event()

    async def wait_for_an_agent(_call: AnsweredCall) -> AnsweredDecision:
        router_started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            router_cancelled.set()  # the runtime releases the agent it was holding here
            raise
        raise AssertionError("not reached")

    router.decide = wait_for_an_agent
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    env = environment_for(recorded_environment, ANSWERED)
    with caplog.at_level(logging.INFO, logger="agi"):
        writer.write(("\n".join(env) + "\n\n").encode())
        for reply in ("200 result=1 (HUMAN)", "200 result=1 (HUMAN-1-1)"):
            assert (await reader.readline()).startswith(b"GET VARIABLE")
            writer.write(f"{reply}\n".encode())
        await asyncio.wait_for(router_started.wait(), 2.0)
        if how == "HANGUP line":
            writer.write(b"HANGUP\n")
        else:
            writer.close()
        await asyncio.wait_for(router_cancelled.wait(), 2.0)
        await wait_idle(server)
    if how == "HANGUP line":
        assert await asyncio.wait_for(reader.read(), 2.0) == b""  # no SET VARIABLE sent
        writer.close()
    assert latencies.samples("answered") == []
    assert "while the router decided" in caplog.text


async def test_overload_answers_safe_harbor_without_the_router(
    router: ScriptedRouter, recorded_environment: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    release = asyncio.Event()
    first_asked = asyncio.Event()

    async def slow(_call: AnsweredCall) -> AnsweredDecision:
        first_asked.set()
        await release.wait()
        return AnsweredDecision.bridge_to("1001")

    router.decide = slow
    config = AgiServerConfig(max_sessions=1)
    async with AgiServer(router, port=0, config=config) as server:
        first_channel = FakeChannel()
        first = asyncio.create_task(
            run_fake_call(
                server.port, environment_for(recorded_environment, ANSWERED), first_channel.answer
            )
        )
        await asyncio.wait_for(first_asked.wait(), 2.0)
        second_channel = FakeChannel()
        with caplog.at_level(logging.WARNING, logger="agi"):
            second = await run_fake_call(
                server.port,
                environment_for(recorded_environment, "answered?attempt=att-2"),
                second_channel.answer,
            )
            login = await run_fake_call(
                server.port,
                environment_for(recorded_environment, "agent-login"),
                FakeChannel().answer,
            )
        release.set()
        await first
    assert second.commands == [
        "SET VARIABLE DIALER_MESSAGE dialer-safe-harbor",
        "SET VARIABLE DIALER_ACTION safeharbor",
    ]
    assert login.commands == ["HANGUP"]
    assert len(router.answered) == 1  # the router was not asked about the second call
    assert first_channel.variables["DIALER_ACTION"] == "bridge"
    assert "AGI overload" in caplog.text
