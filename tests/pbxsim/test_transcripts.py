"""The simulator against the recordings: each scenario is driven over real sockets exactly as
it was recorded, and the output is compared with `transcript.compare_events` (see its module
docstring for what is strict and what is tolerated)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from pbxsim import CalleeBehaviour, PbxSim, PbxSimConfig
from tests.pbxsim.peers import AgiConversation, AmiMessage, RawAmiClient, ScriptedAgiServer
from tests.pbxsim.transcript import (
    Recording,
    compare_events,
    compare_responses,
    load,
    shape,
    stream_key,
)

SCALE = 20.0


def _human(ring: float, talk: float, digit: int) -> CalleeBehaviour:
    return CalleeBehaviour(
        "human",
        ring_seconds=ring,
        talk_seconds=talk,
        digit=digit,
        amd_status="NOTSURE",
        amd_cause="TOOLONG-4901",
    )


def _headers(messages: list[AmiMessage]) -> list[list[tuple[str, str]]]:
    return [m.headers for m in messages]


def _replay_agi(recording: Recording) -> list[str]:
    return [text for direction, text in recording.agi_lines if direction == "<"]


def _normalise_reply(reply: str) -> str:
    return re.sub(r"endpos=\d+", "endpos=N", reply)


@asynccontextmanager
async def lab(
    agi_commands: list[str] | None = None,
) -> AsyncIterator[tuple[PbxSim, RawAmiClient, ScriptedAgiServer]]:
    async def script(conv: AgiConversation) -> None:
        for command in agi_commands or []:
            await conv.command(command)

    async with ScriptedAgiServer(script) as agi:
        config = PbxSimConfig(time_scale=SCALE, default_agi=f"127.0.0.1:{agi.port}")
        async with PbxSim(config) as sim:
            client = await RawAmiClient.connect(sim.ami_port)
            assert (await client.login()).response == "Success"
            try:
                yield sim, client, agi
            finally:
                await client.close()


def _originate(client: RawAmiClient, recording: Recording, action_id: str) -> None:
    action = next(h for h in recording.sent if ("ActionID", action_id) in h)
    client.send(*action)


def _hangup_of(uid: str):  # type: ignore[no-untyped-def]
    return lambda m: m.event == "Hangup" and m.get("Uniqueid") == uid


def _check(
    recording: Recording, client: RawAmiClient, action_ids: list[str], keys: set[str] | None = None
) -> None:
    sim_msgs = _headers(client.messages)
    problems = compare_responses(recording.received, sim_msgs, action_ids)
    problems += compare_events(recording.received, sim_msgs, keys)
    assert not problems, "\n".join(problems)


def _check_agi(recording: Recording, agi: ScriptedAgiServer) -> None:
    conv = agi.conversations[0]
    assert [k for k, _ in conv.env] == [k for k, _ in recording.agi_env]
    rec_env, sim_env = dict(recording.agi_env), dict(conv.env)
    for key in (
        "agi_network",
        "agi_network_script",
        "agi_language",
        "agi_type",
        "agi_uniqueid",
        "agi_version",
        "agi_callerid",
        "agi_calleridname",
        "agi_dnid",
        "agi_context",
        "agi_extension",
        "agi_priority",
        "agi_enhanced",
        "agi_accountcode",
    ):
        assert sim_env[key] == rec_env[key], key
    assert shape(sim_env["agi_channel"]) == shape(rec_env["agi_channel"])
    assert sim_env["agi_request"].split("/", 3)[3] == rec_env["agi_request"].split("/", 3)[3]
    assert [_normalise_reply(t) for _, t in conv.lines] == [
        _normalise_reply(t) for _, t in recording.agi_lines
    ]


async def test_01_bad_login_then_good(transcripts_dir: Path) -> None:
    rec = load(transcripts_dir / "01-login-bad-secret.txt")
    async with PbxSim(PbxSimConfig(time_scale=SCALE)) as sim:
        client = await RawAmiClient.connect(sim.ami_port)
        assert client.banner == rec.banner
        reply = await client.login(secret="wrong")
        await asyncio.wait_for(client.closed.wait(), 2)
        assert rec.closed_by_server
        assert not compare_responses(rec.received, [reply.headers], ["login-1"])
        good = await RawAmiClient.connect(sim.ami_port)
        assert (await good.login()).response == "Success"
        await good.close()


async def test_02_login_ok_events(transcripts_dir: Path) -> None:
    rec = load(transcripts_dir / "02-login-ok.txt")
    async with PbxSim(PbxSimConfig(time_scale=SCALE)) as sim:
        client = await RawAmiClient.connect(sim.ami_port)
        await client.login()
        await client.wait_for(lambda m: m.event == "SuccessfulAuth")
        assert client.banner == rec.banner
        assert not compare_responses(rec.received, _headers(client.messages), ["login-1"])
        for name in ("FullyBooted", "SuccessfulAuth"):
            recorded = next(h for h in rec.received if ("Event", name) in h)
            simulated = next(m.headers for m in client.messages if m.event == name)
            assert [k for k, _ in simulated] == [k for k, _ in recorded]
        kinds = [m.event or m.response for m in client.messages]
        assert kinds == [dict(h).get("Event") or dict(h).get("Response") for h in rec.received]
        auth = next(m for m in client.messages if m.event == "SuccessfulAuth")
        assert auth.get("AccountID") == "dialer"
        assert auth.get("Severity") == "Informational"
        await client.close()


async def test_03_originate_human_to_agi(transcripts_dir: Path) -> None:
    rec = load(transcripts_dir / "03-originate-human-to-agi.txt")
    async with lab(_replay_agi(rec)) as (sim, client, agi):
        sim.force_behaviour("5551234", _human(4, 7, 4))
        _originate(client, rec, "call-human")
        await client.wait_for(_hangup_of("dialer-call-human;2"), 10)
        _check(rec, client, ["call-human"])
        _check_agi(rec, agi)


@pytest.mark.parametrize(
    ("file", "action_id", "uid"),
    [
        ("04-originate-no-answer-timeout.txt", "call-noanswer", "dialer-call-noanswer;2"),
        ("05-originate-busy.txt", "call-busy", "dialer-call-busy"),
        ("06-originate-congestion.txt", "call-congestion", "dialer-call-congestion;2"),
        ("07-amd-machine.txt", "call-machine", "dialer-call-machine;2"),
    ],
)
async def test_04_to_07_outcomes(
    transcripts_dir: Path, file: str, action_id: str, uid: str
) -> None:
    rec = load(transcripts_dir / file)
    async with lab() as (_sim, client, _agi):
        _originate(client, rec, action_id)
        await client.wait_for(_hangup_of(uid), 10)
        await client.wait_for(
            lambda m: (
                m.event == "Hangup"
                and m.get("Uniqueid") in (uid.removesuffix(";2"), uid.removesuffix(";2") + ";2")
                and m.get("Uniqueid") != uid
            ),
            10,
        )
        _check(rec, client, [action_id])


async def test_08_amd_human_notsure(transcripts_dir: Path) -> None:
    rec = load(transcripts_dir / "08-amd-human.txt")
    async with lab() as (sim, client, _agi):
        sim.force_behaviour("5551235", _human(4, 12, 5))
        _originate(client, rec, "call-amdhuman")
        await client.wait_for(_hangup_of("dialer-call-amdhuman;2"), 10)
        _check(rec, client, ["call-amdhuman"])
        amd = next(m for m in client.messages if m.event == "UserEvent")
        assert amd.get("Status") == "NOTSURE"


async def test_09_10_11_agent_conference_show_channels_hangup_regex(transcripts_dir: Path) -> None:
    rec09 = load(transcripts_dir / "09-agent-conference-and-customer.txt")
    rec10 = load(transcripts_dir / "10-core-show-channels.txt")
    rec11 = load(transcripts_dir / "11-hangup-by-regex.txt")
    async with lab() as (sim, client, _agi):
        sim.force_behaviour("5551236", _human(4, 5, 6))
        _originate(client, rec09, "agent-login")
        await client.wait_for(lambda m: m.event == "ConfbridgeJoin", 5)
        _originate(client, rec09, "call-to-agent")
        await client.wait_for(_hangup_of("dialer-call-to-agent"), 10)
        _check(rec09, client, ["agent-login", "call-to-agent"])

        mark = len(client.messages)
        client.send(*rec10.sent[0])
        await client.wait_for(lambda m: m.event == "CoreShowChannelsComplete", 5)
        sim_msgs = _headers(client.messages[mark:])
        problems = compare_responses(rec10.received, sim_msgs, ["show-1"])
        problems += compare_events(rec10.received, sim_msgs)
        assert not problems, "\n".join(problems)
        bridge_id = next(
            m.get("BridgeId")
            for m in client.messages[mark:]
            if m.event == "CoreShowChannel" and m.get("Uniqueid") == "agent-1001"
        )
        assert bridge_id == next(
            m.get("BridgeUniqueid") for m in client.messages if m.event == "BridgeCreate"
        )

        mark = len(client.messages)
        client.send(*rec11.sent[0])
        await client.wait_for(lambda m: m.event == "BridgeDestroy", 5)
        await client.wait_for(_hangup_of("agent-1001"), 5)
        sim_msgs = _headers(client.messages[mark:])
        problems = compare_responses(rec11.received, sim_msgs, ["hup-1"])
        problems += compare_events(rec11.received, sim_msgs)
        assert not problems, "\n".join(problems)
        assert sim.live_channels() == []


async def test_12_errors_and_ping(transcripts_dir: Path) -> None:
    rec = load(transcripts_dir / "12-errors-and-ping.txt")
    async with lab() as (_sim, client, _agi):
        for action in rec.sent:
            client.send(*action)
        await client.wait_for(lambda m: m.event == "OriginateResponse", 5)
        await client.wait_for(lambda m: m.get("ActionID") == "ping-1", 5)
        _check(rec, client, ["bad-tech", "bad-action", "hup-missing", "ping-1"])
        recorded = next(h for h in rec.received if ("Event", "RequestBadFormat") in h)
        simulated = next(m for m in client.messages if m.event == "RequestBadFormat")
        assert [k for k, _ in simulated.headers] == [k for k, _ in recorded]
        assert simulated.get("RequestType") == "Action: NoSuchAction"
        order = [m.get("ActionID") for m in client.messages if m.response and not m.event]
        assert order[-4:] == ["bad-tech", "bad-action", "hup-missing", "ping-1"]


async def test_13_command_and_status(transcripts_dir: Path) -> None:
    rec = load(transcripts_dir / "13-command-and-status.txt")
    async with lab() as (_sim, client, _agi):
        for action in rec.sent:
            client.send(*action)
        await client.wait_for(lambda m: m.event == "StatusComplete", 5)
        _check(rec, client, ["cmd-1", "status-1"])


async def test_14_logoff(transcripts_dir: Path) -> None:
    rec = load(transcripts_dir / "14-logoff.txt")
    async with lab() as (_sim, client, _agi):
        client.send(*rec.sent[0])
        await asyncio.wait_for(client.closed.wait(), 2)
        assert rec.closed_by_server
        _check(rec, client, ["bye"])


async def test_15_customer_hangs_up_during_agi(transcripts_dir: Path) -> None:
    rec = load(transcripts_dir / "15-customer-hangs-up-during-agi.txt")
    async with lab(_replay_agi(rec)) as (sim, client, agi):
        sim.force_behaviour("5551237", _human(4, 8, 7))
        _originate(client, rec, "call-agi-wait")
        await client.wait_for(_hangup_of("dialer-call-agi-wait"), 10)
        _check(rec, client, ["call-agi-wait"])
        _check_agi(rec, agi)


async def test_16_mixmonitor_via_agi(transcripts_dir: Path) -> None:
    rec = load(transcripts_dir / "16-mixmonitor-via-agi.txt")
    async with lab(_replay_agi(rec)) as (sim, client, agi):
        sim.force_behaviour("5551238", _human(4, 5, 8))
        _originate(client, rec, "call-record")
        await client.wait_for(_hangup_of("dialer-call-record;2"), 10)
        _check(rec, client, ["call-record"])
        _check_agi(rec, agi)


async def test_17_redirect_into_agent_bridge(transcripts_dir: Path) -> None:
    rec = load(transcripts_dir / "17-redirect-into-agent-bridge.txt")
    async with lab() as (sim, client, _agi):
        sim.force_behaviour("5551239", _human(4, 9, 9))
        _originate(client, rec, "call-park")
        await client.wait_for(
            lambda m: (
                m.event == "Newexten"
                and m.get("Application") == "Wait"
                and m.get("Uniqueid") == "dialer-call-park"
            ),
            10,
        )
        redirect = next(h for h in rec.sent if ("Action", "Redirect") in h)
        client.send(*redirect)
        await client.wait_for(lambda m: m.event == "ConfbridgeJoin", 5)
        _originate(client, rec, "agent-1002")
        await client.wait_for(_hangup_of("dialer-call-park"), 10)
        await client.wait_for(lambda m: m.event == "ConfbridgeLeave", 5)
        _check(rec, client, ["call-park", "redir-1", "agent-1002"])


def test_every_recording_is_covered(transcripts_dir: Path) -> None:
    """Each recording is named by a scenario test above: a new one fails until it has one."""
    named = set(re.findall(r'"(\d\d-[a-z0-9-]+\.txt)"', Path(__file__).read_text("utf-8")))
    recorded = {p.name for p in transcripts_dir.glob("[0-9][0-9]-*.txt")}
    assert recorded == named


def test_stream_keys_follow_channels() -> None:
    assert stream_key([("Event", "DialEnd"), ("DestUniqueid", "x")]) == "x"
    assert stream_key([("Event", "OriginateResponse"), ("ActionID", "a")]) == "originate:a"
    assert stream_key([("Event", "DeviceStateChange")]) is None
