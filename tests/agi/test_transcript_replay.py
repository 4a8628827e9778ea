"""Replays Asterisk's side of every recorded FastAGI session against the server; the lab
handlers below issue the recorded commands through `AgiSession`, so the bytes we send
and the way we read each recorded reply are checked against real Asterisk."""

from __future__ import annotations

from pathlib import Path

import pytest

from agi.errors import AgiCommandError, AgiHangup
from agi.server import AgiServer
from agi.session import AgiSession
from tests.agi.conftest import AGI_TRANSCRIPTS, wait_idle
from tests.agi.fake_asterisk import AgiTranscript, replay_transcript


def test_every_transcript_with_agi_traffic_is_replayed(transcripts_dir: Path) -> None:
    with_agi = {
        p.name for p in transcripts_dir.glob("*.txt") if " AGI>" in p.read_text(encoding="utf-8")
    }
    assert with_agi == set(AGI_TRANSCRIPTS)


async def test_human_call_commands_and_replies(
    server: AgiServer, agi_transcripts: dict[str, AgiTranscript]
) -> None:
    seen: dict[str, object] = {}

    async def outbound(session: AgiSession) -> None:
        env = session.environment
        seen["path"], seen["query"] = env.script_path, dict(env.query)
        seen["accountcode"] = env.get("accountcode")
        await session.answer()
        seen["call_id"] = await session.get_variable("DIALER_CALL_ID")
        seen["channel"] = await session.get_full_variable("${CHANNEL}")
        await session.set_variable("DISPOSITION_HINT", "human")
        seen["exec"] = await session.exec_app("Playback", "beep")
        seen["stream"] = await session.stream_file("beep")
        seen["data"] = await session.get_data("beep", 2000, 1)
        await session.verbose("agi lab", 1)
        await session.noop("unknown-ish")
        with pytest.raises(AgiCommandError) as error:
            await session.command("BOGUS COMMAND")
        seen["error"] = (error.value.code, error.value.message)
        await session.hangup()

    server.add_route("outbound", outbound)
    transcript = agi_transcripts["03-originate-human-to-agi.txt"]
    result = await replay_transcript(server.port, transcript)

    assert result.commands == transcript.commands
    assert result.server_closed
    assert seen["path"] == "outbound" and seen["query"] == {"campaign": "7"}
    assert seen["accountcode"] == ""
    assert seen["call_id"] == "42"
    assert seen["channel"] == "Local/5551234@sim-pstn-00000000;1"
    assert seen["exec"] == 0
    assert seen["stream"].digit is None and seen["stream"].endpos == 3404
    assert seen["data"].digits == "" and seen["data"].timed_out
    assert seen["error"] == (510, "Invalid or unknown command")


async def test_customer_hangs_up_during_exec(
    server: AgiServer, agi_transcripts: dict[str, AgiTranscript]
) -> None:
    reasons: list[str] = []

    async def wait(session: AgiSession) -> None:
        await session.answer()
        with pytest.raises(AgiHangup) as during_exec:
            await session.exec_app("Wait", "30")
        reasons.append(during_exec.value.reason)
        with pytest.raises(AgiHangup) as next_command:
            await session.get_variable("DIALER_CALL_ID")
        reasons.append(next_command.value.reason)
        # After the HANGUP line nothing more goes to Asterisk.
        with pytest.raises(AgiHangup):
            await session.verbose("still there?")
        assert session.hung_up

    server.add_route("wait", wait)
    transcript = agi_transcripts["15-customer-hangs-up-during-agi.txt"]
    result = await replay_transcript(server.port, transcript)

    assert result.commands == transcript.commands
    assert result.trailing == b""
    assert reasons == ["EXEC: result=-1", "HANGUP"]
    await wait_idle(server)


async def test_mixmonitor_started_and_stopped(
    server: AgiServer, agi_transcripts: dict[str, AgiTranscript]
) -> None:
    async def record(session: AgiSession) -> None:
        assert await session.exec_app("MixMonitor", "lab-rec.wav", "b") == 0
        await session.exec_app("Wait", "3")
        await session.exec_app("StopMixMonitor")
        await session.hangup()

    server.add_route("record", record)
    transcript = agi_transcripts["16-mixmonitor-via-agi.txt"]
    result = await replay_transcript(server.port, transcript)

    assert result.commands == transcript.commands
    assert result.server_closed
