"""Supervisor monitoring on the simulator over real sockets: a supervisor's phone originated
into `[dialer-monitor]` runs ChanSpy on an agent's nailed-up leg while the agent talks to a
customer, with the events Asterisk sends (ChanSpyStart / ChanSpyStop, Spyer and Spyee
channel headers)."""

from __future__ import annotations

from tests.pbxsim.peers import AgiConversation, AmiMessage, RawAmiClient
from tests.pbxsim.test_dialer_flows import (
    bridge_to,
    dialer_lab,
    login_agent,
    of,
    originate_customer,
    person,
)

CHANNEL_FIELDS = (
    "Channel",
    "ChannelState",
    "ChannelStateDesc",
    "CallerIDNum",
    "CallerIDName",
    "ConnectedLineNum",
    "ConnectedLineName",
    "Language",
    "AccountCode",
    "Context",
    "Exten",
    "Priority",
    "Uniqueid",
    "Linkedid",
)


def originate_supervisor(
    client: RawAmiClient, spy_id: str, ext: str, mode: str, spied: str
) -> None:
    client.send(
        ("Action", "Originate"),
        ("ActionID", spy_id),
        ("ChannelId", spy_id),
        ("Channel", f"PJSIP/{ext}"),
        ("Context", "dialer-monitor"),
        ("Exten", mode),
        ("Priority", "1"),
        ("Async", "true"),
        ("Timeout", "25000"),
        ("CallerID", f'"{mode} 1001" <1001>'),
        ("Variable", f"DIALER_SPY_CHANNEL={spied}"),
    )


def spy_event(name: str, spy_id: str):  # type: ignore[no-untyped-def]
    return lambda m: m.event == name and m.get("SpyerUniqueid") == spy_id


def header_names(message: AmiMessage) -> list[str]:
    return [k for k, _ in message.headers if k.startswith(("Spyer", "Spyee"))]


async def test_whisper_spies_on_the_agent_leg_until_the_supervisor_hangs_up() -> None:
    async def script(conv: AgiConversation) -> None:
        await bridge_to(conv, "agent-1001")

    async with dialer_lab(script) as (sim, client, agi):
        await login_agent(client, "1001")
        sim.force_behaviour("5550001", person(talk=600))
        originate_customer(client, "att-1", "5550001", agi.port)
        await client.wait_for(of("att-1", "ConfbridgeJoin"))
        agent_leg = sim.find("agent-1001-s1")
        assert agent_leg is not None

        originate_supervisor(client, "spy-2001-a", "2001", "whisper", agent_leg.name)
        answered = await client.wait_for(
            lambda m: m.event == "OriginateResponse" and m.get("ActionID") == "spy-2001-a"
        )
        assert (answered.get("Response"), answered.get("Reason")) == ("Success", "4")
        start = await client.wait_for(spy_event("ChanSpyStart", "spy-2001-a"))
        assert start.get("Privilege") == "call,all"
        assert header_names(start) == [f"Spyer{f}" for f in CHANNEL_FIELDS] + [
            f"Spyee{f}" for f in CHANNEL_FIELDS
        ]
        assert start.get("SpyeeChannel") == agent_leg.name
        assert start.get("SpyeeUniqueid") == "agent-1001-s1"
        assert start.get("SpyerChannel").startswith("PJSIP/2001-")
        assert (start.get("SpyerContext"), start.get("SpyerExten")) == ("dialer-monitor", "whisper")
        chanspy = next(
            m
            for m in client.messages
            if m.event == "Newexten" and m.get("Uniqueid") == "spy-2001-a"
        )
        assert (chanspy.get("Application"), chanspy.get("AppData")) == (
            "ChanSpy",
            f"{agent_leg.name},qESw",
        )
        assert sim.spies() == [
            {
                "spyer": start.get("SpyerChannel"),
                "spyer_uniqueid": "spy-2001-a",
                "spyee": agent_leg.name,
                "spyee_uniqueid": "agent-1001-s1",
                "mode": "whisper",
            }
        ]
        spy_channel = next(c for c in sim.live_channels() if c["uniqueid"] == "spy-2001-a")
        assert spy_channel["application"] == "ChanSpy"

        # the supervisor hangs up: ChanSpyStop, then the spy's Hangup; the call goes on
        reply = await client.action(
            ("Action", "Hangup"), ("Channel", "spy-2001-a"), ("ActionID", "h1")
        )
        assert reply.response == "Success"
        stop = await client.wait_for(spy_event("ChanSpyStop", "spy-2001-a"))
        hangup = await client.wait_for(of("spy-2001-a", "Hangup"))
        assert client.messages.index(stop) < client.messages.index(hangup)
        assert sim.spies() == []
        assert sim.find("att-1") is not None and sim.find("agent-1001-s1") is not None


async def test_barge_ends_when_the_agent_leg_goes() -> None:
    async def script(conv: AgiConversation) -> None:
        await bridge_to(conv, "agent-1002")

    async with dialer_lab(script) as (sim, client, agi):
        await login_agent(client, "1002")
        sim.force_behaviour("5550002", person(talk=600))
        originate_customer(client, "att-2", "5550002", agi.port)
        await client.wait_for(of("att-2", "ConfbridgeJoin"))
        agent_leg = sim.find("agent-1002-s1")
        assert agent_leg is not None
        originate_supervisor(client, "spy-2002-b", "2002", "barge", agent_leg.name)
        await client.wait_for(spy_event("ChanSpyStart", "spy-2002-b"))
        assert [s["mode"] for s in sim.spies()] == ["barge"]

        # the agent logs out (its leg is hung up): E ends the spy, the dialplan hangs up
        await client.action(("Action", "Hangup"), ("Channel", "agent-1002-s1"), ("ActionID", "h2"))
        stop = await client.wait_for(spy_event("ChanSpyStop", "spy-2002-b"))
        assert stop.get("SpyeeUniqueid") == "agent-1002-s1"
        await client.wait_for(of("spy-2002-b", "Hangup"))
        apps = [
            m.get("Application")
            for m in client.messages
            if m.event == "Newexten" and m.get("Uniqueid") == "spy-2002-b"
        ]
        assert apps == ["ChanSpy", "Hangup"]


async def test_listen_to_a_channel_that_is_gone_hangs_up_at_once() -> None:
    async def script(conv: AgiConversation) -> None:
        return None

    async with dialer_lab(script) as (sim, client, _agi):
        assert sim.spies() == []
        originate_supervisor(client, "spy-2003-c", "2003", "listen", "PJSIP/9999-000000ff")
        await client.wait_for(of("spy-2003-c", "Hangup"))
        assert not any(m.event.startswith("ChanSpy") for m in client.messages)
        chanspy = next(
            m
            for m in client.messages
            if m.event == "Newexten"
            and m.get("Uniqueid") == "spy-2003-c"
            and m.get("Application") == "ChanSpy"
        )
        assert chanspy.get("AppData") == "PJSIP/9999-000000ff,qES"
