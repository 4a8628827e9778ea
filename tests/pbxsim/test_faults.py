"""Faults the dialer must survive, produced by the simulator: dropped AMI connections, a slow
server, garbage on the socket, AGI sockets closed by the far end or unreachable, and protocol
errors answered like Asterisk does."""

from __future__ import annotations

import asyncio
import time

from pbxsim import CalleeBehaviour, PbxSim, PbxSimConfig
from tests.pbxsim.peers import AgiConversation, RawAmiClient, ScriptedAgiServer


def park(client: RawAmiClient, uid: str, number: str = "5551239") -> None:
    client.send(
        ("Action", "Originate"),
        ("ActionID", uid),
        ("ChannelId", uid),
        ("Channel", f"Local/{number}@sim-pstn"),
        ("Context", "lab-park"),
        ("Exten", "s"),
        ("Priority", "1"),
        ("Async", "true"),
    )


def talker() -> CalleeBehaviour:
    return CalleeBehaviour("human", ring_seconds=1, talk_seconds=600, digit=9)


async def test_dropped_connections_keep_calls_which_core_show_channels_reports() -> None:
    async with PbxSim(PbxSimConfig(time_scale=20)) as sim:
        sim.force_behaviour("5551239", talker())
        client = await RawAmiClient.connect(sim.ami_port)
        await client.login()
        park(client, "att-1")
        await client.wait_for(lambda m: m.event == "OriginateResponse")
        assert await sim.drop_ami_connections() == 1
        await asyncio.wait_for(client.closed.wait(), 2)
        again = await RawAmiClient.connect(sim.ami_port)
        await again.login()
        await again.action(("Action", "CoreShowChannels"), ("ActionID", "show"))
        done = await again.wait_for(lambda m: m.event == "CoreShowChannelsComplete")
        uids = {m.get("Uniqueid") for m in again.messages if m.event == "CoreShowChannel"}
        assert done.get("ListItems") == "2" and uids == {"att-1", "att-1;2"}
        assert sim.stats()["originated"] == 1
        await again.close()


async def test_slow_server_delays_responses() -> None:
    async with PbxSim(PbxSimConfig()) as sim:
        client = await RawAmiClient.connect(sim.ami_port)
        await client.login()
        sim.set_response_delay(0.3)
        started = time.monotonic()
        pong = await client.action(("Action", "Ping"), ("ActionID", "p"))
        assert pong.get("Ping") == "Pong"
        assert time.monotonic() - started >= 0.3
        await client.close()


async def test_garbage_and_errors_do_not_kill_the_server() -> None:
    async with PbxSim(PbxSimConfig(time_scale=20)) as sim:
        client = await RawAmiClient.connect(sim.ami_port)
        denied = await client.action(("Action", "Ping"), ("ActionID", "early"))
        assert denied.get("Message") == "Authentication Required"
        client.writer.write(b"\x00\xff garbage without colon\r\n" + b"x" * 70000 + b"\r\n\r\n")
        client.writer.write(b"NoAction: here\r\n\r\n")
        await client.wait_for(lambda m: m.get("Message") == "Missing action in request")
        await client.login()
        bad = await client.action(("Action", "Hangup"), ("ActionID", "h"))
        assert bad.get("Message") == "No channel specified"
        pong = await client.action(("Action", "Ping"), ("ActionID", "p"))
        assert pong.response == "Success"
        await client.close()


async def test_redirect_refuses_a_regex_and_duplicate_channel_id_fails() -> None:
    async with PbxSim(PbxSimConfig(time_scale=20)) as sim:
        sim.force_behaviour("5551239", talker())
        client = await RawAmiClient.connect(sim.ami_port)
        await client.login()
        park(client, "att-1")
        await client.wait_for(lambda m: m.event == "OriginateResponse")
        reply = await client.action(
            ("Action", "Redirect"),
            ("ActionID", "r"),
            ("Channel", "/^Local/.*/"),
            ("Context", "lab-to-agent"),
            ("Exten", "1002"),
            ("Priority", "1"),
        )
        assert (reply.response, reply.get("Message")) == (
            "Error",
            "Channel does not exist: /^Local/.*/",
        )
        park(client, "att-1")
        failed = await client.wait_for(
            lambda m: m.event == "OriginateResponse" and m.get("Response") == "Failure"
        )
        assert (failed.get("Reason"), failed.get("Uniqueid")) == ("0", "<unknown>")
        assert len(sim.live_channels()) == 2
        hup = await client.action(
            ("Action", "Hangup"), ("ActionID", "h"), ("Channel", "att-1"), ("Cause", "21")
        )
        assert hup.get("Message") == "Channel Hungup"
        gone = await client.wait_for(lambda m: m.event == "Hangup" and m.get("Uniqueid") == "att-1")
        assert (gone.get("Cause"), gone.get("Cause-txt")) == ("21", "Call Rejected")
        await client.close()


async def test_hanging_up_a_ringing_call_cancels_it() -> None:
    async with PbxSim(PbxSimConfig(time_scale=20)) as sim:
        sim.force_behaviour("5551230", CalleeBehaviour("no_answer", ring_seconds=120, digit=0))
        client = await RawAmiClient.connect(sim.ami_port)
        await client.login()
        park(client, "att-2", "5551230")
        await client.wait_for(lambda m: m.event == "DialState")
        await client.action(("Action", "Hangup"), ("ActionID", "h"), ("Channel", "att-2"))
        response = await client.wait_for(lambda m: m.event == "OriginateResponse")
        assert response.get("Response") == "Failure"
        await client.wait_for(lambda m: m.event == "Hangup" and m.get("Uniqueid") == "att-2;2")
        assert sim.live_channels() == []
        await client.close()


async def test_status_and_core_show_channels_list_live_calls() -> None:
    async with PbxSim(PbxSimConfig(time_scale=20)) as sim:
        sim.force_behaviour("5551239", talker())
        client = await RawAmiClient.connect(sim.ami_port)
        await client.login()
        park(client, "att-1")
        await client.wait_for(lambda m: m.event == "OriginateResponse")
        status = await client.action(("Action", "Status"), ("ActionID", "s"))
        assert status.get("EventList") == "start"
        done = await client.wait_for(lambda m: m.event == "StatusComplete")
        assert done.get("Items") == "2"
        one = next(
            m for m in client.messages if m.event == "Status" and m.get("Uniqueid") == "att-1"
        )
        assert one.get("Application") == "Wait" and one.get("ActionID") == "s"
        out = await client.action(
            ("Action", "Command"), ("ActionID", "c"), ("Command", "core show channels")
        )
        lines = [v for k, v in out.headers if k == "Output"]
        assert lines[0].startswith("Channel              Location")
        assert any(line.startswith("Local/5551239@sim-ps") and "Wait(60)" in line for line in lines)
        assert lines[-3:] == ["2 active channels", "1 active call", "1 call processed"]
        nope = await client.action(("Action", "Command"), ("ActionID", "n"), ("Command", "xyz"))
        assert nope.response == "Error"
        await client.close()


async def test_agi_socket_closed_by_far_end_and_unreachable_agi() -> None:
    async def closes_at_once(conv: AgiConversation) -> None:
        return

    async with ScriptedAgiServer(closes_at_once) as agi:
        # first call: the AGI server closes at once; second: nothing listens any more
        config = PbxSimConfig(time_scale=20, default_agi=f"127.0.0.1:{agi.port}")
        async with PbxSim(config) as sim:
            sim.force_behaviour("5551237", talker(), talker())
            client = await RawAmiClient.connect(sim.ami_port)
            await client.login()
            for uid in ("att-1", "att-2"):
                if uid == "att-2":
                    await agi.__aexit__()
                client.send(
                    ("Action", "Originate"),
                    ("ActionID", uid),
                    ("ChannelId", uid),
                    ("Channel", "Local/5551237@sim-pstn"),
                    ("Context", "lab-agi-wait"),
                    ("Exten", "s"),
                    ("Priority", "1"),
                    ("Async", "true"),
                )
                await client.wait_for(
                    lambda m, u=uid: m.event == "Hangup" and m.get("Uniqueid") == u, 5
                )
            status = {
                m.get("Uniqueid"): m.get("Value")
                for m in client.messages
                if m.event == "VarSet" and m.get("Variable") == "AGISTATUS"
            }
            assert status == {"att-1": "SUCCESS", "att-2": "FAILURE"}
            await client.close()


async def test_agi_usage_errors_and_dead_channel_rules() -> None:
    replies: list[str] = []

    async def script(conv: AgiConversation) -> None:
        replies.append(await conv.command("GET VARIABLE"))
        replies.append(await conv.command("EXEC NoSuchApp x"))
        replies.append(await conv.command("HANGUP"))
        replies.append(await conv.command("NOOP"))
        replies.append(await conv.command('STREAM FILE beep ""'))
        replies.append(await conv.command("GET VARIABLE LAST_SEEN"))

    async with ScriptedAgiServer(script) as agi:
        config = PbxSimConfig(time_scale=20, default_agi=f"127.0.0.1:{agi.port}")
        async with PbxSim(config) as sim:
            sim.force_behaviour("5551237", talker())
            client = await RawAmiClient.connect(sim.ami_port)
            await client.login()
            client.send(
                ("Action", "Originate"),
                ("ActionID", "a"),
                ("ChannelId", "a"),
                ("Channel", "Local/5551237@sim-pstn"),
                ("Context", "lab-agi-wait"),
                ("Exten", "s"),
                ("Priority", "1"),
                ("Async", "true"),
            )
            await client.wait_for(lambda m: m.event == "Hangup" and m.get("Uniqueid") == "a", 5)
            await client.close()
    assert replies == [
        "520-Invalid command syntax.  Proper usage follows:\n"
        "Usage: GET VARIABLE <variablename>\n520 End of proper usage.",
        "200 result=-2",
        "200 result=1",
        "HANGUP",
        "511 Command Not Permitted on a dead channel or intercepted",
        "200 result=0",
    ]


async def test_synchronous_originate_answers_after_the_outcome() -> None:
    async with PbxSim(PbxSimConfig(time_scale=20)) as sim:
        sim.force_behaviour("5551239", talker())
        client = await RawAmiClient.connect(sim.ami_port)
        await client.login()
        busy = await client.action(
            ("Action", "Originate"),
            ("ActionID", "s1"),
            ("Channel", "Local/5551231@sim-pstn"),
            ("Context", "lab-park"),
            ("Exten", "s"),
            ("Priority", "1"),
        )
        assert (busy.response, busy.get("Message")) == ("Error", "Originate failed")
        ok = await client.action(
            ("Action", "Originate"),
            ("ActionID", "s2"),
            ("Channel", "Local/5551239@sim-pstn"),
            ("Context", "lab-park"),
            ("Exten", "s"),
            ("Priority", "1"),
            ("Async", "false"),
        )
        assert ok.response == "Success"
        answered = next(
            i
            for i, m in enumerate(client.messages)
            if m.event == "DialEnd" and m.get("DialStatus") == "ANSWER"
        )
        assert answered < client.messages.index(ok)
        await client.close()
