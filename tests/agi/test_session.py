"""`AgiSession` over a socket pair: every reply kind maps to a result or a clear error."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from agi.errors import AgiCommandError, AgiHangup, AgiProtocolError, AgiTimeout
from agi.protocol import parse_environment
from agi.session import AgiSession

USAGE = [
    "520-Invalid command syntax.  Proper usage follows:",
    " Usage: GET DATA <file to be streamed> [timeout] [maxdigits]",
    "        Stream the given file, and receive DTMF data.",
    "520 End of proper usage.",
]


@dataclass
class Peer:
    """Asterisk's end of the socket, driven by hand."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def expect(self, command: str, *replies: str) -> None:
        line = await asyncio.wait_for(self.reader.readline(), 2.0)
        assert line.decode() == command + "\n"
        self.writer.write("".join(f"{r}\n" for r in replies).encode())
        await self.writer.drain()


@pytest.fixture
async def pair() -> AsyncIterator[tuple[AgiSession, Peer]]:
    ours, theirs = socket.socketpair()
    reader, writer = await asyncio.open_connection(sock=ours)
    peer_reader, peer_writer = await asyncio.open_connection(sock=theirs)
    env = parse_environment(["agi_network_script: test", "agi_channel: PJSIP/100-1"])
    session = AgiSession(reader, writer, env, command_timeout=1.0)
    yield session, Peer(peer_reader, peer_writer)
    await session.close()
    peer_writer.close()


async def _both(command: asyncio.Future | object, peer_step: object) -> object:
    results = await asyncio.gather(command, peer_step)  # type: ignore[arg-type]
    return results[0]


async def test_multi_line_usage_raises_command_error(pair: tuple[AgiSession, Peer]) -> None:
    session, peer = pair
    with pytest.raises(AgiCommandError) as error:
        await _both(session.command("GET DATA"), peer.expect("GET DATA", *USAGE))
    assert error.value.code == 520
    assert error.value.usage == tuple(USAGE[1:3])
    # The session stays usable: the whole usage block was consumed.
    value = await _both(
        session.get_variable("X"), peer.expect("GET VARIABLE X", "200 result=1 (v)")
    )
    assert value == "v"


async def test_trying_line_is_skipped(pair: tuple[AgiSession, Peer]) -> None:
    session, peer = pair
    reply = await _both(
        session.exec_app("Dial", "PJSIP/100", "20"),
        peer.expect("EXEC Dial PJSIP/100,20", "100 result=0 Trying...", "200 result=0"),
    )
    assert reply == 0


async def test_dead_channel_reply_is_a_hangup(pair: tuple[AgiSession, Peer]) -> None:
    session, peer = pair
    with pytest.raises(AgiHangup):
        await _both(
            session.answer(),
            peer.expect(
                "ANSWER", "511 Command Not Permitted on a dead channel or intercept routine"
            ),
        )
    assert session.hung_up


async def test_missing_application(pair: tuple[AgiSession, Peer]) -> None:
    session, peer = pair
    with pytest.raises(AgiCommandError, match="not found"):
        await _both(session.exec_app("Nope"), peer.expect("EXEC Nope", "200 result=-2"))


async def test_digits_and_playback(pair: tuple[AgiSession, Peer]) -> None:
    session, peer = pair
    stream = await _both(
        session.stream_file("welcome", "#*"),
        peer.expect("STREAM FILE welcome #*", "200 result=35 endpos=1200"),
    )
    assert stream.digit == "#" and stream.endpos == 1200
    data = await _both(
        session.get_data("enter-code", 3000, 4),
        peer.expect("GET DATA enter-code 3000 4", "200 result=0042"),
    )
    assert data.digits == "0042" and not data.timed_out
    digit = await _both(
        session.wait_for_digit(500), peer.expect("WAIT FOR DIGIT 500", "200 result=0")
    )
    assert digit is None
    said = await _both(session.say_digits("123"), peer.expect('SAY DIGITS 123 ""', "200 result=0"))
    assert said.digit is None
    unset = await _both(
        session.get_variable("NOPE"), peer.expect("GET VARIABLE NOPE", "200 result=0")
    )
    assert unset is None


async def test_injection_is_refused_before_anything_is_sent(
    pair: tuple[AgiSession, Peer],
) -> None:
    session, peer = pair
    with pytest.raises(ValueError):
        await session.set_variable("NAME", "Bob\nEXEC System rm")
    with pytest.raises(ValueError):
        await session.set_variable("A\nB", "x")
    with pytest.raises(ValueError):
        await session.exec_app("Playback", "x\r\n")
    with pytest.raises(ValueError):
        await session.exec_app("System;", "x")
    with pytest.raises(ValueError):
        await session.stream_file("has space")
    with pytest.raises(ValueError):
        await session.say_digits("12a")
    await _both(session.noop("ok"), peer.expect("NOOP ok", "200 result=0"))  # first line sent


async def test_closed_socket_is_a_hangup(pair: tuple[AgiSession, Peer]) -> None:
    session, peer = pair

    async def read_then_close() -> None:
        await peer.reader.readline()
        peer.writer.close()

    with pytest.raises(AgiHangup, match="socket closed"):
        await _both(session.answer(), read_then_close())
    with pytest.raises(AgiHangup):
        await session.answer()


async def test_silence_times_out_and_ends_the_session(pair: tuple[AgiSession, Peer]) -> None:
    session, _ = pair
    with pytest.raises(AgiTimeout):
        await session.command("ANSWER", reply_timeout_s=0.05)
    assert session.hung_up
    with pytest.raises(AgiHangup):
        await session.answer()


async def test_garbage_reply_ends_the_session(pair: tuple[AgiSession, Peer]) -> None:
    session, peer = pair
    with pytest.raises(AgiProtocolError):
        await _both(session.answer(), peer.expect("ANSWER", "garbage"))
    with pytest.raises(AgiHangup):
        await session.answer()


async def test_hangup_by_us_ends_the_session(pair: tuple[AgiSession, Peer]) -> None:
    session, peer = pair
    await _both(session.hangup(), peer.expect("HANGUP", "200 result=1"))
    with pytest.raises(AgiHangup, match="hung up by us"):
        await session.verbose("late")


async def test_concurrent_commands_are_serialised(pair: tuple[AgiSession, Peer]) -> None:
    session, peer = pair

    async def asterisk() -> None:
        await peer.expect("GET VARIABLE A", "200 result=1 (1)")
        await peer.expect("GET VARIABLE B", "200 result=1 (2)")

    a, b, _ = await asyncio.gather(session.get_variable("A"), session.get_variable("B"), asterisk())
    assert (a, b) == ("1", "2")
