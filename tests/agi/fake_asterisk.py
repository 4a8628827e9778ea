"""A small fake Asterisk FastAGI client for the tests: it connects to our server the way
Asterisk does, sends an `agi_*` environment and answers commands, either replaying the
`AGI>` side of a recorded transcript or simulating a channel (variables and DTMF input).

It deliberately shares no code with `agi/`: command lines are split here with a port of
Asterisk's own argument parser (res_agi.c `parse_args`), so quoting is checked
independently.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

_TRANSCRIPT_LINE = re.compile(r"\s*(?P<t>[\d.]+) (?P<dir>AGI[<>!])(?: (?P<text>.*))?")
IO_TIMEOUT = 3.0


# ---------------------------------------------------------------- transcripts


@dataclass
class AgiTranscript:
    """The AGI part of a recording: the environment, then (command, reply lines) pairs."""

    environment: list[str]
    exchanges: list[tuple[str, list[str]]]

    @property
    def commands(self) -> list[str]:
        return [command for command, _ in self.exchanges]


def load_agi_transcript(path: Path) -> AgiTranscript:
    environment: list[str] = []
    exchanges: list[tuple[str, list[str]]] = []
    in_environment = True
    for raw in path.read_text(encoding="utf-8").splitlines():
        match = _TRANSCRIPT_LINE.fullmatch(raw)
        if match is None:
            continue
        direction, text = match["dir"], match["text"] or ""
        if direction == "AGI!":
            continue
        if in_environment:
            if direction != "AGI>":
                raise ValueError(f"{path.name}: command before the end of the environment")
            if text == "":
                in_environment = False
            else:
                environment.append(text)
        elif direction == "AGI<":
            exchanges.append((text, []))
        else:
            exchanges[-1][1].append(text)
    return AgiTranscript(environment, exchanges)


def environment_for(template: list[str], script: str, **overrides: str) -> list[str]:
    """A recorded environment re-pointed at another script path, with values replaced."""
    values: dict[str, str] = {}
    for line in template:
        name, _, value = line.partition(": ")
        values[name] = value
    request_base = values["agi_request"].rsplit("/", 1)[0]
    values["agi_network_script"] = script
    values["agi_request"] = f"{request_base}/{script}"
    for name, value in overrides.items():
        values[f"agi_{name}"] = value
    return [f"{name}: {value}" for name, value in values.items()]


# ---------------------------------------------------------------- Asterisk's argument split


def asterisk_parse_args(line: str) -> list[str]:
    """res_agi.c parse_args: blanks split, double quotes group, backslash escapes one char."""
    args: list[str] = []
    current: list[str] | None = None
    quoted = escaped = False
    whitespace = True
    for char in line:
        if char == '"' and not escaped:
            quoted = not quoted
            if quoted and whitespace:
                current = []
                args.append("")
                whitespace = False
            continue
        if char in " \t" and not quoted and not escaped:
            whitespace = True
            continue
        if char == "\\" and not escaped:
            escaped = True
            continue
        if whitespace:
            current = []
            args.append("")
            whitespace = False
        assert current is not None
        args[-1] += char
        escaped = False
    return args


# ---------------------------------------------------------------- the client


@dataclass
class FakeCallResult:
    commands: list[str] = field(default_factory=list)
    trailing: bytes = b""
    server_closed: bool = False


async def _send_environment(writer: asyncio.StreamWriter, environment: list[str]) -> None:
    writer.write(("".join(f"{line}\n" for line in environment) + "\n").encode())
    await writer.drain()


async def replay_transcript(port: int, transcript: AgiTranscript) -> FakeCallResult:
    """Play Asterisk's side of a transcript; collect what the server sends."""
    replies = iter([r for _, r in transcript.exchanges])

    def answer(_command: str) -> list[str] | None:
        return next(replies, None)

    return await run_fake_call(port, transcript.environment, answer)


async def run_fake_call(
    port: int,
    environment: list[str],
    answer: Callable[[str], list[str] | None],
    *,
    close_after: int | None = None,
) -> FakeCallResult:
    """Send the environment, then answer each command with `answer(command)`'s lines until
    the server closes the socket. `answer` returning None stops answering (as Asterisk does
    after a HANGUP line); `close_after` closes our socket after that many commands."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    result = FakeCallResult()
    try:
        await _send_environment(writer, environment)
        while True:
            raw = await asyncio.wait_for(reader.readline(), IO_TIMEOUT)
            if not raw:
                result.server_closed = True
                return result
            command = raw.decode().rstrip("\n")
            result.commands.append(command)
            if close_after is not None and len(result.commands) >= close_after:
                return result
            lines = answer(command)
            if lines is None:
                # Like Asterisk after a HANGUP line: stop answering, see if anything follows.
                result.trailing = await asyncio.wait_for(reader.read(), IO_TIMEOUT)
                result.server_closed = True
                return result
            writer.write("".join(f"{line}\n" for line in lines).encode())
            await writer.drain()
    finally:
        writer.close()


@dataclass
class FakeChannel:
    """A simulated channel answering AGI commands like Asterisk 20 does.

    `dtmf` is consumed by GET DATA (an empty string is a timeout); `hangup_on` names a
    command verb (e.g. "SET VARIABLE") that gets a bare `HANGUP` line instead of a reply.
    """

    variables: dict[str, str] = field(default_factory=dict)
    dtmf: list[str] = field(default_factory=list)
    hangup_on: str | None = None
    played: list[str] = field(default_factory=list)
    music: list[str] = field(default_factory=list)  # SET MUSIC on/off, in order
    hung_up: bool = False

    def answer(self, command: str) -> list[str] | None:
        if self.hung_up:
            return None
        args = asterisk_parse_args(command)
        verb = " ".join(args[:2]) if args[0] in {"GET", "SET", "STREAM", "SAY"} else args[0]
        if self.hangup_on is not None and verb == self.hangup_on:
            self.hung_up = True
            return ["HANGUP"]
        if verb == "ANSWER":
            return ["200 result=0"]
        if verb == "GET VARIABLE":
            value = self.variables.get(args[2])
            return ["200 result=0"] if value is None else [f"200 result=1 ({value})"]
        if verb == "SET VARIABLE":
            self.variables[args[2]] = args[3]
            return ["200 result=1"]
        if verb == "GET DATA":
            self.played.append(args[2])
            digits = self.dtmf.pop(0) if self.dtmf else ""
            return ["200 result= (timeout)"] if digits == "" else [f"200 result={digits}"]
        if verb == "STREAM FILE":
            self.played.append(args[2])
            return ["200 result=0 endpos=8000"]
        if verb == "HANGUP":
            return ["200 result=1"]
        if verb == "SET MUSIC":
            self.music.append(args[2].lower())
            return ["200 result=0"]
        if verb == "EXEC":
            return ["200 result=0"]
        return ["510 Invalid or unknown command"]
