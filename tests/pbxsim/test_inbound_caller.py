"""Inbound callers on pbxsim: a caller dials a number into `dialer-inbound`, which answers and
asks the FastAGI `inbound` route; a caller who gives up while the script is idle makes
Asterisk send `HANGUP` on the socket at once (AGISIGHUP), then the channel's Hangup event."""

from __future__ import annotations

import asyncio

from tests.pbxsim.peers import AgiConversation
from tests.pbxsim.test_dialer_flows import dialer_lab


async def test_a_caller_who_gives_up_while_queued_is_reported_at_once() -> None:
    seen: dict[str, str] = {}

    async def queue_forever(conv: AgiConversation) -> None:
        seen.update(conv.env)
        assert await conv.command("SET MUSIC on default") == "200 result=0"
        # idle: the caller waits on hold until they hang up; Asterisk tells the script
        line = await asyncio.wait_for(conv.reader.readline(), 10)
        conv.lines.append((">", line.decode().rstrip("\n")))

    async with dialer_lab(queue_forever) as (sim, client, agi):
        uid = sim.inbound_call("4001", "13912345678", patience_s=20, talk_s=10)
        await asyncio.wait_for(agi.done.wait(), 10)
        hangup = await client.wait_for(
            lambda m: m.event == "Hangup" and m.get("Uniqueid") == uid, 10
        )
    (conv,) = agi.conversations
    assert conv.lines[-1] == (">", "HANGUP")
    assert seen["agi_network_script"] == "inbound?did=4001&server="
    assert (seen["agi_callerid"], seen["agi_extension"]) == ("13912345678", "4001")
    assert seen["agi_context"] == "dialer-inbound"
    assert hangup.get("Cause") == "16"
    assert sim.counters.inbound == 1
