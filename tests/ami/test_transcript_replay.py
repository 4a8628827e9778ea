"""Every recorded transcript streamed to `AmiClient` over a real socket: each event Asterisk
sent reaches the subscribers, in order, with every header (repeated ones included) intact.

The parser tests check the bytes; this checks the path a live connection takes (protocol,
pending-action matching, dispatch, typed views), so a recorded event that the client
swallowed or mistook for a reply to one of its own actions would show up here.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from ami.client import AmiClient
from ami.events import EVENT_TYPES, AmiEvent
from ami.parser import AmiMessage, AmiParser
from ami.recordings import received_ami_lines, recording_files, wire_bytes
from tests.ami.fake_server import BANNER, recorded_messages, with_action_id

from .test_parser import TRANSCRIPT_NAMES

END = b"Event: ReplayEnd\r\n\r\n"


def _recorded_stream(path: Path) -> bytes:
    lines = [t for t in received_ami_lines(path) if not t.startswith("Asterisk Call Manager/")]
    return wire_bytes(lines)


async def _replaying_server(
    login_ok: list[AmiMessage], goodbye: AmiMessage, stream: bytes
) -> tuple[asyncio.Server, asyncio.Event]:
    """Banner, the recorded login answer, then `stream` cut into uneven TCP writes."""
    finished = asyncio.Event()
    cuts = random.Random(len(stream))

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(BANNER)
        parser = AmiParser()
        try:
            while not (actions := parser.feed(await reader.read(4096))):
                pass
            (login,) = actions
            answer = [with_action_id(m, login.action_id or "") for m in login_ok]
            writer.write(b"".join(m.encode() for m in answer))
            position = 0
            while position < len(stream):
                step = cuts.randint(1, 1500)
                writer.write(stream[position : position + step])
                await writer.drain()
                position += step
            writer.write(END)
            await writer.drain()
            while data := await reader.read(4096):  # answer the Logoff, as Asterisk does
                for action in parser.feed(data):
                    if action.name == "Logoff":
                        writer.write(with_action_id(goodbye, action.action_id or "").encode())
                        return
        finally:
            writer.close()
            finished.set()

    return await asyncio.start_server(serve, "127.0.0.1", 0), finished


@pytest.mark.parametrize("name", TRANSCRIPT_NAMES)
async def test_client_delivers_every_recorded_event(transcripts_dir: Path, name: str) -> None:
    path = transcripts_dir / f"{name}.txt"
    stream = _recorded_stream(path)
    expected = [m for m in AmiParser().feed(stream) if m.kind == "event"]
    login_ok = recorded_messages(transcripts_dir, "02")
    goodbye = recorded_messages(transcripts_dir, "14")[0]
    server, finished = await _replaying_server(login_ok, goodbye, stream)
    port = server.sockets[0].getsockname()[1]

    seen: list[AmiEvent] = []
    done = asyncio.Event()

    def collect(event: AmiEvent) -> None:
        if event.name == "ReplayEnd":
            done.set()
        else:
            seen.append(event)

    client = AmiClient("127.0.0.1", port, "dialer", "dialer-secret", ping_interval=3600)
    client.on_event("*", collect)
    try:
        async with client:
            async with asyncio.timeout(3):
                await done.wait()
            health = client.health()
            assert health.logged_in and health.garbage_skipped == 0
    finally:
        server.close()
    async with asyncio.timeout(3):
        await finished.wait()

    login_events = [m.name for m in login_ok if m.kind == "event"]
    assert [e.name for e in seen[: len(login_events)]] == login_events
    replayed = seen[len(login_events) :]
    assert [e.message.headers for e in replayed] == [m.headers for m in expected]
    # every recorded event is well formed: each known one gets its typed view
    assert [type(e) for e in replayed] == [EVENT_TYPES.get(e.name, AmiEvent) for e in replayed]


def test_every_recording_is_replayed_through_the_client(transcripts_dir: Path) -> None:
    assert [p.stem for p in recording_files(transcripts_dir)] == TRANSCRIPT_NAMES
