"""The dialer's contexts (docs/dialplan-contract.md) end to end over real sockets: customer
calls routed by the FastAGI decision, AMD, safe harbour, voicemail, patience, agents, wrap-up
by DTMF and login from a phone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pbxsim import CalleeBehaviour, PbxSim, PbxSimConfig, PopulationModel
from tests.pbxsim.peers import AgiConversation, RawAmiClient, ScriptedAgiServer

SCALE = 40.0


def person(ring: float = 2, talk: float = 10, patience: float = 5) -> CalleeBehaviour:
    return CalleeBehaviour(
        "human",
        ring_seconds=ring,
        talk_seconds=talk,
        patience_seconds=patience,
        amd_status="HUMAN",
        amd_cause="HUMAN-1000-1000",
        amd_seconds=1.5,
        digit=4,
        waits_for_agent=True,
    )


@asynccontextmanager
async def dialer_lab(
    script,
) -> AsyncIterator[  # type: ignore[no-untyped-def]
    tuple[PbxSim, RawAmiClient, ScriptedAgiServer]
]:
    async with ScriptedAgiServer(script) as agi:
        config = PbxSimConfig(
            time_scale=SCALE,
            default_agi=f"127.0.0.1:{agi.port}",
            population=PopulationModel("population"),
        )
        async with PbxSim(config) as sim:
            client = await RawAmiClient.connect(sim.ami_port)
            await client.login()
            try:
                yield sim, client, agi
            finally:
                await client.close()


def originate_customer(
    client: RawAmiClient, attempt: str, number: str, agi_port: int, amd: int = 0
) -> None:
    client.send(
        ("Action", "Originate"),
        ("ActionID", attempt),
        ("ChannelId", attempt),
        ("Channel", f"Local/{number}@sim-pstn"),
        ("Context", "dialer-outbound"),
        ("Exten", "s"),
        ("Priority", "1"),
        ("Async", "true"),
        ("Timeout", "25000"),
        ("CallerID", '"Acme" <8005550100>'),
        (
            "Variable",
            f"DIALER_ATTEMPT_ID={attempt},DIALER_CAMPAIGN_ID=7,DIALER_LEAD_ID=9,"
            f"DIALER_AMD={amd},DIALER_AGI=127.0.0.1:{agi_port}",
        ),
    )


async def login_agent(client: RawAmiClient, ext: str) -> None:
    client.send(
        ("Action", "Originate"),
        ("ActionID", f"agent-{ext}"),
        ("ChannelId", f"agent-{ext}-s1"),
        ("Channel", f"Local/{ext}@sim-agents"),
        ("Context", "dialer-agent"),
        ("Exten", ext),
        ("Priority", "1"),
        ("Async", "true"),
        ("Variable", f"DIALER_AGENT={ext}"),
    )
    await client.wait_for(
        lambda m: m.event == "ConfbridgeJoin" and m.get("Uniqueid") == f"agent-{ext}-s1"
    )


def of(uid: str, event: str):  # type: ignore[no-untyped-def]
    return lambda m: m.event == event and m.get("Uniqueid") == uid


def apps_of(client: RawAmiClient, uid: str) -> list[str]:
    return [
        m.get("Application")
        for m in client.messages
        if m.event == "Newexten" and m.get("Uniqueid") == uid and m.get("Application") != "AppDial2"
    ]


async def bridge_to(conv: AgiConversation, bridge: str) -> None:
    await conv.command("GET VARIABLE AMDSTATUS")
    await conv.command("SET VARIABLE DIALER_ACTION bridge")
    await conv.command(f"SET VARIABLE DIALER_BRIDGE {bridge}")


async def test_answered_customer_is_bridged_and_talks_from_the_join() -> None:
    async def script(conv: AgiConversation) -> None:
        await bridge_to(conv, "agent-1001")

    async with dialer_lab(script) as (sim, client, agi):
        await login_agent(client, "1001")
        sim.force_behaviour("5550001", person(talk=10))
        originate_customer(client, "att-1", "5550001", agi.port)
        response = await client.wait_for(
            lambda m: m.event == "OriginateResponse" and m.get("ActionID") == "att-1"
        )
        assert (response.get("Response"), response.get("Reason")) == ("Success", "4")
        await client.wait_for(of("att-1", "ConfbridgeJoin"))
        customer = sim.find("att-1")
        assert customer is not None and customer.connected_at is not None
        connected = customer.connected_at
        hangup = await client.wait_for(of("att-1;2", "Hangup"), 5)
        assert sim.clock.now() - connected >= 10  # talk time counts from meeting the agent
        assert hangup.get("Cause") == "16"
        await client.wait_for(of("att-1", "Hangup"))
        env = dict(agi.conversations[0].env)
        assert env["agi_network_script"] == "answered?attempt=att-1&campaign=7"
        assert env["agi_uniqueid"] == "att-1"
        assert agi.conversations[0].lines[1] == (">", "200 result=0")  # no AMD ran
        assert apps_of(client, "att-1") == ["NoOp", "GotoIf", "AGI", "GotoIf", "ConfBridge"]
        stats = sim.stats()
        assert stats["bridged"] == 1 and stats["answered"] == 2
        assert [c["uniqueid"] for c in sim.live_channels()] == ["agent-1001-s1", "agent-1001-s1;2"]


async def test_safe_harbor_message_then_hangup() -> None:
    async def script(conv: AgiConversation) -> None:
        await conv.command("SET VARIABLE DIALER_ACTION safeharbor")
        await conv.command("SET VARIABLE DIALER_MESSAGE dialer-safe-harbor")

    async with dialer_lab(script) as (sim, client, agi):
        sim.force_behaviour("5550002", person())
        originate_customer(client, "att-2", "5550002", agi.port)
        hangup = await client.wait_for(of("att-2", "Hangup"), 5)
        assert hangup.get("Cause") == "16"
        assert apps_of(client, "att-2")[-3:] == ["GotoIf", "Playback", "Hangup"]
        playback = next(
            m
            for m in client.messages
            if m.event == "Newexten"
            and m.get("Uniqueid") == "att-2"
            and m.get("Application") == "Playback"
        )
        assert playback.get("AppData") == "dialer-safe-harbor"


async def test_amd_machine_gets_the_voicemail_branch() -> None:
    seen: list[str] = []

    async def script(conv: AgiConversation) -> None:
        seen.append(await conv.command("GET VARIABLE AMDSTATUS"))
        await conv.command("SET VARIABLE DIALER_ACTION voicemail")
        await conv.command("SET VARIABLE DIALER_MESSAGE dialer-vm")

    machine = CalleeBehaviour(
        "machine",
        ring_seconds=2,
        talk_seconds=40,
        amd_status="MACHINE",
        amd_cause="LONGGREETING-1500-1500",
        amd_seconds=2.2,
        digit=2,
        greeting_seconds=4,
    )
    async with dialer_lab(script) as (sim, client, agi):
        sim.force_behaviour("5550003", machine)
        originate_customer(client, "att-3", "5550003", agi.port, amd=1)
        await client.wait_for(of("att-3", "Hangup"), 5)
        assert seen == ["200 result=1 (MACHINE)"]
        assert apps_of(client, "att-3") == [
            "NoOp",
            "GotoIf",
            "AMD",
            "NoOp",
            "AGI",
            "GotoIf",
            "GotoIf",
            "GotoIf",
            "WaitForSilence",
            "Playback",
            "Hangup",
        ]
        amd = [
            m.get("Value")
            for m in client.messages
            if m.event == "VarSet"
            and m.get("Uniqueid") == "att-3"
            and m.get("Variable").startswith("AMD")
        ]
        assert amd == ["MACHINE", "LONGGREETING-1500-1500"]


async def test_person_left_waiting_hangs_up_after_patience() -> None:
    async def script(conv: AgiConversation) -> None:
        await bridge_to(conv, "agent-2000")  # nobody there yet

    async with dialer_lab(script) as (sim, client, agi):
        sim.force_behaviour("5550004", person(patience=3))
        originate_customer(client, "att-4", "5550004", agi.port)
        await client.wait_for(of("att-4", "ConfbridgeJoin"))
        waited_from = sim.clock.now()
        await client.wait_for(of("att-4;2", "Hangup"), 5)
        assert 2.5 <= sim.clock.now() - waited_from < 20
        await client.wait_for(lambda m: m.event == "BridgeDestroy")


async def test_agent_hangs_the_customer_up() -> None:
    async def script(conv: AgiConversation) -> None:
        await bridge_to(conv, "agent-1001")

    async with dialer_lab(script) as (sim, client, agi):
        await login_agent(client, "1001")
        sim.force_behaviour("5550005", person(talk=600))
        originate_customer(client, "att-5", "5550005", agi.port)
        await client.wait_for(of("att-5", "ConfbridgeJoin"))
        assert sim.agent_hangup_customer("1001") == 1
        await client.wait_for(of("att-5;2", "Hangup"))
        leave = await client.wait_for(of("att-5", "ConfbridgeLeave"))
        assert leave.get("Conference") == "agent-1001"
        assert sim.find("agent-1001-s1") is not None


async def test_wrapup_by_dtmf_then_back_into_the_bridge() -> None:
    replies: list[str] = []

    async def script(conv: AgiConversation) -> None:
        replies.append(await conv.command("GET DATA dialer-disposition 5000 1"))

    async with dialer_lab(script) as (sim, client, agi):
        await login_agent(client, "1001")
        sim.queue_dtmf("1001", "3")
        reply = await client.action(
            ("Action", "Redirect"),
            ("ActionID", "wrap-1"),
            ("Channel", "agent-1001-s1"),
            ("Context", "dialer-wrapup"),
            ("Exten", "1001"),
            ("Priority", "1"),
        )
        assert reply.get("Message") == "Redirect successful"
        await client.wait_for(
            lambda m: (
                m.event == "ConfbridgeJoin"
                and m.get("Uniqueid") == "agent-1001-s1"
                and client.messages.index(m) > client.messages.index(reply)
            ),
            5,
        )
        assert replies == ["200 result=3"]
        env = dict(agi.conversations[0].env)
        assert env["agi_network_script"] == "wrapup?agent=1001"
        result = [
            m.get("Value")
            for m in client.messages
            if m.event == "VarSet" and m.get("Variable") == "CONFBRIDGE_RESULT"
        ]
        assert result == ["REDIRECT"]


async def test_agent_login_from_a_desk_phone() -> None:
    replies: list[str] = []

    async def script(conv: AgiConversation) -> None:
        replies.append(await conv.command("GET DATA agent-user 5000 4"))
        replies.append(await conv.command("GET DATA agent-pass 5000 4"))
        await conv.command("SET VARIABLE DIALER_AGENT 1001")

    async with dialer_lab(script) as (sim, client, agi):
        sim.queue_dtmf("1001", "1001", "1234")
        uid = sim.phone_dial("1001")
        join = await client.wait_for(of(uid, "ConfbridgeJoin"), 5)
        assert join.get("Conference") == "agent-1001"
        assert join.get("Channel").startswith("PJSIP/1001-")
        assert replies == ["200 result=1001", "200 result=1234"]
        assert dict(agi.conversations[0].env)["agi_type"] == "PJSIP"


async def test_pjsip_trunk_call_outcomes() -> None:
    async def script(conv: AgiConversation) -> None:
        await conv.command("SET VARIABLE DIALER_ACTION hangup")

    async with dialer_lab(script) as (sim, client, _agi):
        sim.force_behaviour("5550006", person())
        sim.force_behaviour("5550007", CalleeBehaviour("busy", digit=1))
        for attempt, number in (("att-6", "5550006"), ("att-7", "5550007")):
            client.send(
                ("Action", "Originate"),
                ("ActionID", attempt),
                ("ChannelId", attempt),
                ("Channel", f"PJSIP/{number}@trunk"),
                ("Context", "dialer-outbound"),
                ("Exten", "s"),
                ("Priority", "1"),
                ("Async", "true"),
                ("Variable", f"DIALER_ATTEMPT_ID={attempt}"),
            )
        ok = await client.wait_for(
            lambda m: m.event == "OriginateResponse" and m.get("ActionID") == "att-6", 5
        )
        busy = await client.wait_for(
            lambda m: m.event == "OriginateResponse" and m.get("ActionID") == "att-7", 5
        )
        assert ok.get("Reason") == "4" and ok.get("Channel").startswith("PJSIP/trunk-")
        assert busy.get("Reason") == "5" and busy.get("Response") == "Failure"
        hangup = await client.wait_for(of("att-7", "Hangup"))
        assert hangup.get("Cause") == "17"
        assert not any(";far" in m.get("Uniqueid") for m in client.messages)


async def test_several_clients_all_get_events() -> None:
    async def script(conv: AgiConversation) -> None:
        await conv.command("NOOP")

    async with dialer_lab(script) as (sim, client, agi):
        second = await RawAmiClient.connect(sim.ami_port)
        await second.login()
        quiet = await RawAmiClient.connect(sim.ami_port)
        quiet.send(
            ("Action", "Login"),
            ("Username", "dialer"),
            ("Secret", "dialer-secret"),
            ("Events", "off"),
            ("ActionID", "q"),
        )
        await quiet.wait_for(lambda m: m.response == "Success")
        calls_only = await RawAmiClient.connect(sim.ami_port)
        calls_only.send(
            ("Action", "Login"),
            ("Username", "dialer"),
            ("Secret", "dialer-secret"),
            ("Events", "call,agi"),
            ("ActionID", "c"),
        )
        await calls_only.wait_for(lambda m: m.response == "Success")
        originate_customer(client, "att-8", "5550008", agi.port)
        for c in (client, second, calls_only):
            await c.wait_for(of("att-8", "AGIExecEnd"))
        await asyncio.sleep(0.05)
        assert quiet.messages[-1].response == "Success"  # nothing after the login response
        classes = {m.get("Privilege") for m in calls_only.messages if m.event}
        assert classes == {"call,all", "agi,all"}  # no dialplan/system/security events
        assert {m.get("Privilege") for m in client.messages if m.event} >= {
            "dialplan,all",
            "system,all",
            "security,all",
        }
        for c in (second, quiet, calls_only):
            await c.close()


async def test_pjsip_agent_endpoint_answers_and_stays_in_its_bridge() -> None:
    async def script(conv: AgiConversation) -> None:
        await bridge_to(conv, "agent-1005")

    async with dialer_lab(script) as (sim, client, agi):
        client.send(
            ("Action", "Originate"),
            ("ActionID", "ag"),
            ("ChannelId", "agent-1005-s1"),
            ("Channel", "PJSIP/1005"),
            ("Context", "dialer-agent"),
            ("Exten", "1005"),
            ("Priority", "1"),
            ("Async", "true"),
            ("Variable", "DIALER_AGENT=1005"),
        )
        join = await client.wait_for(of("agent-1005-s1", "ConfbridgeJoin"))
        assert join.get("Channel").startswith("PJSIP/1005-")
        sim.force_behaviour("5550009", person(talk=3))
        originate_customer(client, "att-9", "5550009", agi.port)
        await client.wait_for(of("att-9", "Hangup"), 5)
        assert [c["uniqueid"] for c in sim.live_channels()] == ["agent-1005-s1"]


async def test_unreachable_agi_plays_the_fallback_message() -> None:
    async with ScriptedAgiServer(bridge_to_nowhere) as agi:
        port = agi.port
    config = PbxSimConfig(time_scale=SCALE, fallback_message="dialer-sorry")
    async with PbxSim(config) as sim:
        client = await RawAmiClient.connect(sim.ami_port)
        await client.login()
        sim.force_behaviour("5550010", person())
        originate_customer(client, "att-10", "5550010", port)  # nothing listens there now
        await client.wait_for(of("att-10", "Hangup"), 5)
        assert apps_of(client, "att-10")[-4:] == ["GotoIf", "Log", "Playback", "Hangup"]
        played = [
            m.get("AppData")
            for m in client.messages
            if m.event == "Newexten"
            and m.get("Application") == "Playback"
            and m.get("Uniqueid") == "att-10"
        ]
        assert played == ["dialer-sorry"]
        await client.close()


async def bridge_to_nowhere(conv: AgiConversation) -> None:
    return


async def test_failed_phone_login_plays_the_default_prompt() -> None:
    async def script(conv: AgiConversation) -> None:
        await conv.command("GET DATA agent-user 3000 4")  # no digits queued: timeout

    async with dialer_lab(script) as (sim, client, _agi):
        uid = sim.phone_dial("1009")
        await client.wait_for(of(uid, "Hangup"), 5)
        played = [
            m.get("AppData")
            for m in client.messages
            if m.event == "Newexten" and m.get("Application") == "Playback"
        ]
        assert played == ["agent-incorrect"]
