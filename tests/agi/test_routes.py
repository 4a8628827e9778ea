"""The three routes over a real socket, with a simulated channel on the Asterisk side."""

from __future__ import annotations

import asyncio
import logging

import pytest

from agi.metrics import DecisionLatencies
from agi.router import (
    AmdStatus,
    AnsweredCall,
    AnsweredDecision,
    InboundCall,
    LoginResult,
    WrapupPrompt,
)
from agi.server import AgiServer
from tests.agi.conftest import ScriptedRouter, wait_idle
from tests.agi.fake_asterisk import FakeChannel, environment_for, run_fake_call

ANSWERED = "answered?attempt=att-00000042&campaign=7"


async def _call(server: AgiServer, environment: list[str], channel: FakeChannel) -> list[str]:
    result = await run_fake_call(server.port, environment, channel.answer)
    assert result.server_closed
    await wait_idle(server)
    return result.commands


# ---------------------------------------------------------------- answered


async def test_answered_bridges_to_the_agent(
    server: AgiServer,
    router: ScriptedRouter,
    recorded_environment: list[str],
    latencies: DecisionLatencies,
) -> None:
    channel = FakeChannel(variables={"AMDSTATUS": "HUMAN", "AMDCAUSE": "HUMAN-1-1"})
    env = environment_for(recorded_environment, ANSWERED, uniqueid="att-00000042")

    commands = await _call(server, env, channel)

    assert commands == [
        "GET VARIABLE AMDSTATUS",
        "GET VARIABLE AMDCAUSE",
        "SET VARIABLE DIALER_BRIDGE agent-1001",
        "SET VARIABLE DIALER_ACTION bridge",
    ]
    (call,) = router.answered
    assert call.attempt_id == "att-00000042"
    assert call.campaign_id == "7"
    assert call.channel == "Local/5551234@sim-pstn-00000000;1"
    assert call.amd_status is AmdStatus.HUMAN and call.amd_cause == "HUMAN-1-1"
    assert len(latencies.samples("answered")) == 1
    assert 0 <= latencies.samples("answered")[0] < 1.0


@pytest.mark.parametrize(
    ("decision", "expected"),
    [
        (
            AnsweredDecision.safe_harbor("campaign-7-safeharbor"),
            {"DIALER_ACTION": "safeharbor", "DIALER_MESSAGE": "campaign-7-safeharbor"},
        ),
        (
            AnsweredDecision.voicemail("campaign-7-vm"),
            {"DIALER_ACTION": "voicemail", "DIALER_MESSAGE": "campaign-7-vm"},
        ),
        (AnsweredDecision.hang_up(), {"DIALER_ACTION": "hangup"}),
        (
            AnsweredDecision.bridge_to("2002", "custom-bridge"),
            {"DIALER_ACTION": "bridge", "DIALER_BRIDGE": "custom-bridge"},
        ),
    ],
)
async def test_answered_sets_the_contract_variables(
    server: AgiServer,
    router: ScriptedRouter,
    recorded_environment: list[str],
    decision: AnsweredDecision,
    expected: dict[str, str],
) -> None:
    async def decide(_call: AnsweredCall) -> AnsweredDecision:
        return decision

    router.decide = decide
    channel = FakeChannel(variables={"AMDSTATUS": "MACHINE", "AMDCAUSE": "LONGGREETING-2000-2000"})
    await _call(server, environment_for(recorded_environment, ANSWERED), channel)

    set_by_us = {k: v for k, v in channel.variables.items() if k.startswith("DIALER_")}
    assert set_by_us == expected
    assert router.answered[0].amd_status is AmdStatus.MACHINE


async def test_answered_bridge_with_recording_starts_mixmonitor_after_the_decision(
    server: AgiServer, router: ScriptedRouter, recorded_environment: list[str]
) -> None:
    async def decide(_call: AnsweredCall) -> AnsweredDecision:
        return AnsweredDecision.bridge_to("1001", record_file="dialer/7/20260302/att-1.wav")

    router.decide = decide
    commands = await _call(server, environment_for(recorded_environment, ANSWERED), FakeChannel())
    assert commands[-2:] == [
        "SET VARIABLE DIALER_ACTION bridge",
        "EXEC MixMonitor dialer/7/20260302/att-1.wav,b",  # as in the recording
    ]


def test_a_recording_file_name_cannot_escape_the_monitor_directory() -> None:
    with pytest.raises(ValueError):
        AnsweredDecision.bridge_to("1001", record_file="../../etc/passwd")
    with pytest.raises(ValueError):
        AnsweredDecision.bridge_to("1001", record_file="a b\nc")


async def test_answered_without_amd_and_without_query_uses_uniqueid(
    server: AgiServer, router: ScriptedRouter, recorded_environment: list[str]
) -> None:
    env = environment_for(recorded_environment, "answered", uniqueid="att-7")
    await _call(server, env, FakeChannel())
    (call,) = router.answered
    assert call.attempt_id == "att-7"
    assert call.amd_status is None and call.amd_cause is None


async def test_answered_keeps_an_unknown_amd_status_as_text(
    server: AgiServer, router: ScriptedRouter, recorded_environment: list[str]
) -> None:
    channel = FakeChannel(variables={"AMDSTATUS": "WEIRD", "AMDCAUSE": "X-1"})
    await _call(server, environment_for(recorded_environment, ANSWERED), channel)
    (call,) = router.answered
    assert call.amd_status is None and call.amd_cause == "WEIRD/X-1"


async def test_customer_gone_before_the_decision_is_set(
    server: AgiServer,
    recorded_environment: list[str],
    latencies: DecisionLatencies,
    caplog: pytest.LogCaptureFixture,
) -> None:
    channel = FakeChannel(hangup_on="SET VARIABLE")
    with caplog.at_level(logging.INFO, logger="agi"):
        result = await run_fake_call(
            server.port, environment_for(recorded_environment, ANSWERED), channel.answer
        )
    await wait_idle(server)
    assert result.commands[-1] == "SET VARIABLE DIALER_BRIDGE agent-1001"
    assert result.trailing == b""  # nothing sent after the HANGUP line
    assert latencies.samples("answered") == []
    assert "HANGUP" in caplog.text


# ---------------------------------------------------------------- wrapup


async def test_wrapup_retries_invalid_codes_then_submits(
    server: AgiServer, router: ScriptedRouter, recorded_environment: list[str]
) -> None:
    channel = FakeChannel(dtmf=["", "9", "31"])
    env = environment_for(recorded_environment, "wrapup?agent=1001", extension="1001")

    commands = await _call(server, env, channel)

    assert commands == [
        "GET DATA dialer-wrapup 5000 2",
        'STREAM FILE invalid ""',
        "GET DATA dialer-wrapup 5000 2",
        'STREAM FILE invalid ""',
        "GET DATA dialer-wrapup 5000 2",
        'STREAM FILE auth-thankyou ""',
    ]
    assert router.dispositions == [("1001", "31")]


async def test_wrapup_refused_code_counts_as_an_attempt(
    server: AgiServer, router: ScriptedRouter, recorded_environment: list[str]
) -> None:
    router.accept_codes = frozenset()
    router.prompt = WrapupPrompt(sound="wrap", valid_codes=frozenset({"1"}), max_attempts=2)
    channel = FakeChannel(dtmf=["1", "1"])
    await _call(server, environment_for(recorded_environment, "wrapup?agent=1001"), channel)
    assert router.dispositions == [("1001", "1"), ("1001", "1")]
    assert channel.played == ["wrap", "invalid", "wrap", "invalid"]


async def test_wrapup_falls_back_to_the_extension(
    server: AgiServer, router: ScriptedRouter, recorded_environment: list[str]
) -> None:
    env = environment_for(recorded_environment, "wrapup", extension="1005")
    await _call(server, env, FakeChannel(dtmf=["2"]))
    assert router.dispositions == [("1005", "2")]


# ---------------------------------------------------------------- agent-login


async def test_agent_login_success_sets_dialer_agent(
    server: AgiServer, router: ScriptedRouter, recorded_environment: list[str]
) -> None:
    router.logins[("501", "1234")] = "1001"
    channel = FakeChannel(dtmf=["501", "1234"])
    commands = await _call(server, environment_for(recorded_environment, "agent-login"), channel)
    assert commands == [
        "GET DATA agent-user 6000 12",
        "GET DATA agent-pass 6000 12",
        "SET VARIABLE DIALER_AGENT 1001",
    ]
    assert router.login_attempts == [("501", "1234", "Local/5551234@sim-pstn-00000000;1")]


async def test_agent_login_retries_then_succeeds(
    server: AgiServer, router: ScriptedRouter, recorded_environment: list[str]
) -> None:
    router.logins[("501", "1234")] = "1001"
    channel = FakeChannel(dtmf=["501", "9999", "", "501", "1234"])
    await _call(server, environment_for(recorded_environment, "agent-login"), channel)
    assert channel.variables == {"DIALER_AGENT": "1001"}
    assert channel.played == [
        "agent-user", "agent-pass", "agent-incorrect", "agent-user",
        "agent-incorrect", "agent-user", "agent-pass",
    ]  # fmt: skip


async def test_agent_login_failure_sets_the_message(
    server: AgiServer, router: ScriptedRouter, recorded_environment: list[str]
) -> None:
    async def refuse(number: str, pin: str, channel: str) -> LoginResult:
        router.login_attempts.append((number, pin, channel))
        return LoginResult(ok=False, message="agent-alreadyon")

    router.agent_login = refuse  # type: ignore[method-assign]
    channel = FakeChannel(dtmf=["501", "1", "501", "2", "501", "3"])
    await _call(server, environment_for(recorded_environment, "agent-login"), channel)
    assert len(router.login_attempts) == 3
    assert channel.variables == {"DIALER_MESSAGE": "agent-alreadyon"}
    assert "DIALER_AGENT" not in channel.variables


# ---------------------------------------------------------------- unknown paths


async def test_unknown_path_gets_a_clean_hangup_and_a_log_line(
    server: AgiServer,
    router: ScriptedRouter,
    recorded_environment: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="agi"):
        commands = await _call(
            server, environment_for(recorded_environment, "nowhere?x=1"), FakeChannel()
        )
    assert commands == ["HANGUP"]
    assert "unknown AGI path 'nowhere?x=1'" in caplog.text
    assert router.answered == []


async def test_routes_served(server: AgiServer) -> None:
    assert server.routes == {"answered", "inbound", "wrapup", "agent-login"}
    with pytest.raises(ValueError, match="already exists"):
        server.add_route("/answered", lambda session: asyncio.sleep(0))


# ---------------------------------------------------------------- inbound

INBOUND = "inbound?did=4001&server=pbx1"


async def test_inbound_holds_with_music_then_bridges(
    server: AgiServer,
    router: ScriptedRouter,
    recorded_environment: list[str],
    latencies: DecisionLatencies,
) -> None:
    async def decide(_call: InboundCall) -> AnsweredDecision:
        await asyncio.sleep(0.05)  # queued for a moment
        return AnsweredDecision.bridge_to("1002", record_file="dialer/7/20260302/in-1.wav")

    router.decide_inbound = decide
    channel = FakeChannel()
    env = environment_for(recorded_environment, INBOUND, uniqueid="1700000000.77")
    commands = await _call(server, env, channel)

    assert commands == [
        "SET MUSIC on default",
        "SET MUSIC off",
        "SET VARIABLE DIALER_BRIDGE agent-1002",
        "SET VARIABLE DIALER_ACTION bridge",
        "EXEC MixMonitor dialer/7/20260302/in-1.wav,b",
    ]
    assert channel.music == ["on", "off"]
    (call,) = router.inbound
    assert (call.did, call.server, call.uniqueid) == ("4001", "pbx1", "1700000000.77")
    assert latencies.samples("inbound")[0] >= 0.05


async def test_inbound_overflow_plays_the_message(
    server: AgiServer, router: ScriptedRouter, recorded_environment: list[str]
) -> None:
    async def decide(_call: InboundCall) -> AnsweredDecision:
        return AnsweredDecision.play_message("dialer-inbound-overflow")

    router.decide_inbound = decide
    channel = FakeChannel()
    await _call(server, environment_for(recorded_environment, INBOUND), channel)
    set_by_us = {k: v for k, v in channel.variables.items() if k.startswith("DIALER_")}
    assert set_by_us == {"DIALER_ACTION": "message", "DIALER_MESSAGE": "dialer-inbound-overflow"}


async def test_inbound_did_defaults_to_the_extension(
    server: AgiServer, router: ScriptedRouter, recorded_environment: list[str]
) -> None:
    env = environment_for(recorded_environment, "inbound")
    await _call(server, env, FakeChannel())
    (call,) = router.inbound
    extension = next(line for line in env if line.startswith("agi_extension:"))
    assert call.did == extension.split(": ", 1)[1]
    assert call.server == ""


async def test_inbound_caller_gone_while_queued_cancels_the_router(
    server: AgiServer, router: ScriptedRouter, recorded_environment: list[str]
) -> None:
    cancelled = asyncio.Event()

    async def decide(_call: InboundCall) -> AnsweredDecision:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return AnsweredDecision.hang_up()

    router.decide_inbound = decide
    # the caller hangs up while queued: Asterisk sends HANGUP between commands (AGISIGHUP)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    env = environment_for(recorded_environment, INBOUND)
    writer.write(("".join(f"{line}\n" for line in env) + "\n").encode())
    assert (await asyncio.wait_for(reader.readline(), 5)) == b"SET MUSIC on default\n"
    writer.write(b"200 result=0\n")
    await asyncio.wait_for(_until_called(router), 5)
    writer.write(b"HANGUP\n")
    await writer.drain()
    await asyncio.wait_for(cancelled.wait(), 5)
    writer.close()
    await wait_idle(server)


async def _until_called(router: ScriptedRouter) -> None:
    while not router.inbound:  # noqa: ASYNC110 - the server's task fills it
        await asyncio.sleep(0.005)
