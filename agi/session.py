"""One FastAGI conversation: typed async commands over the socket Asterisk opened.

Every command either returns its parsed reply or raises: `AgiHangup` once the channel is
gone (`200 result=-1`, a bare `HANGUP` line, `511` dead channel, the socket closed),
`AgiCommandError` on `510`/`520`, `AgiTimeout` when Asterisk stays silent, `AgiProtocolError`
on garbage. After a `HANGUP` line nothing more is sent: the recordings show that Asterisk
does not answer further commands then.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass

from agi.errors import AgiCommandError, AgiHangup, AgiProtocolError, AgiTimeout
from agi.protocol import (
    AgiEnvironment,
    AgiFailure,
    AgiHangupNotice,
    AgiResult,
    ReplyParser,
    check_value,
    check_variable_name,
    format_command,
    parse_environment,
)

_APPLICATION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_DTMF = re.compile(r"[0-9*#A-D]*")
_DEAD_CHANNEL = 511


@dataclass(frozen=True, slots=True)
class StreamResult:
    """STREAM FILE outcome: the escape digit pressed (if any) and where playback stopped."""

    digit: str | None
    endpos: int | None


@dataclass(frozen=True, slots=True)
class DigitInput:
    """GET DATA outcome: the digits typed, and whether input ended by timeout."""

    digits: str
    timed_out: bool


async def read_line(reader: asyncio.StreamReader) -> str | None:
    """One line without its terminator, or None at end of stream; over-long lines are garbage."""
    try:
        raw = await reader.readline()
    except (asyncio.LimitOverrunError, ValueError) as exc:
        raise AgiProtocolError("line too long") from exc
    except ConnectionError:
        return None
    if not raw:
        return None
    if not raw.endswith(b"\n"):
        return None  # the peer closed in the middle of a line
    return raw.decode("utf-8", errors="replace").rstrip("\r\n")


async def read_environment(reader: asyncio.StreamReader) -> AgiEnvironment:
    """The `agi_*` lines up to the empty line, read in one go; anything else is garbage."""
    try:
        raw = await reader.readuntil(b"\n\n")
    except asyncio.IncompleteReadError as exc:
        raise AgiProtocolError(f"socket closed after {len(exc.partial)} environment bytes") from exc
    except asyncio.LimitOverrunError as exc:
        raise AgiProtocolError("AGI environment too long") from exc
    except ConnectionError as exc:
        raise AgiProtocolError("socket closed during the environment") from exc
    text = raw.decode("utf-8", errors="replace")
    return parse_environment(text[:-2].split("\n"))


class AgiSession:
    """The command side of one AGI call; one command in flight at a time."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        environment: AgiEnvironment,
        *,
        command_timeout: float | None = 120.0,
        received_at: float = 0.0,
    ) -> None:
        self.environment = environment
        # Event loop time at the end of the environment: decision latency starts here.
        self.received_at = received_at
        self._reader = reader
        self._writer = writer
        self._command_timeout = command_timeout
        self._parser = ReplyParser()
        self._lock = asyncio.Lock()
        self._gone_reason: str | None = None

    @property
    def hung_up(self) -> bool:
        """True once the channel or the socket is known to be gone."""
        return self._gone_reason is not None

    # ------------------------------------------------------------ raw command

    async def command(
        self, words: str, *arguments: str, reply_timeout_s: float | None = None
    ) -> AgiResult:
        """Send one command and wait for its reply; `reply_timeout_s` overrides the default."""
        line = format_command(words, *arguments)  # ValueError before anything is sent
        async with self._lock:
            if self._gone_reason is not None:
                raise AgiHangup(self._gone_reason)
            limit = self._command_timeout if reply_timeout_s is None else reply_timeout_s
            try:
                self._writer.write(line)
                await self._writer.drain()
                async with asyncio.timeout(limit):
                    reply = await self._read_reply()
            except TimeoutError as exc:
                self._mark_gone(f"no reply to {words} within {limit} s")
                raise AgiTimeout(f"no reply to {words} within {limit} s") from exc
            except ConnectionError as exc:
                self._mark_gone("socket closed")
                raise AgiHangup("socket closed") from exc
            except AgiProtocolError:
                self._mark_gone("protocol error")
                raise
            except asyncio.CancelledError:
                self._mark_gone(f"cancelled during {words}")  # its reply would desync us
                raise
        if isinstance(reply, AgiHangupNotice):
            self._mark_gone("HANGUP")
            raise AgiHangup("HANGUP")
        if isinstance(reply, AgiFailure):
            if reply.code == _DEAD_CHANNEL:
                self._mark_gone(f"{reply.code} {reply.message}")
                raise AgiHangup(f"{reply.code} {reply.message}")
            raise AgiCommandError(reply.code, reply.message, reply.usage)
        if reply.result == "-1":
            raise AgiHangup(f"{words}: result=-1")
        return reply

    async def _read_reply(self) -> AgiResult | AgiHangupNotice | AgiFailure:
        while True:
            line = await read_line(self._reader)
            if line is None:
                self._mark_gone("socket closed")
                raise AgiHangup("socket closed")
            reply = self._parser.feed(line)
            if reply is not None:
                return reply

    async def watch_for_hangup(self) -> str:
        """Wait, while no command is in flight, until Asterisk reports the channel gone (a
        `HANGUP` line or the socket closing); returns why. Cancel it before the next command:
        a partly read line stays buffered, so cancelling loses nothing."""
        async with self._lock:
            while self._gone_reason is None:
                line = await read_line(self._reader)
                if line is None:
                    self._mark_gone("socket closed")
                elif line == "HANGUP":
                    self._mark_gone("HANGUP")
                else:
                    self._mark_gone(f"unexpected line between commands: {line[:80]!r}")
            return self._gone_reason

    def _mark_gone(self, reason: str) -> None:
        if self._gone_reason is None:
            self._gone_reason = reason

    async def close(self) -> None:
        """Close the socket: this ends the AGI() application and the dialplan continues."""
        self._mark_gone("session closed")
        if self._writer.is_closing():
            return
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()

    # ------------------------------------------------------------ typed commands

    async def answer(self) -> None:
        await self.command("ANSWER")

    async def hangup(self) -> None:
        """Hang up the channel; the session is finished afterwards."""
        await self.command("HANGUP")
        self._mark_gone("hung up by us")

    async def get_variable(self, name: str) -> str | None:
        """A channel variable, or None when it is not set."""
        reply = await self.command("GET VARIABLE", check_variable_name(name))
        return reply.data if reply.result == "1" else None

    async def get_full_variable(self, expression: str) -> str | None:
        """An expression with `${...}` substitutions, evaluated on the channel."""
        reply = await self.command("GET FULL VARIABLE", check_value(expression, "expression"))
        return reply.data if reply.result == "1" else None

    async def set_variable(self, name: str, value: str) -> None:
        await self.command(
            "SET VARIABLE", check_variable_name(name), check_value(value, f"value of {name}")
        )

    async def exec_app(
        self, application: str, *arguments: str, reply_timeout_s: float | None = None
    ) -> int:
        """Run a dialplan application; its arguments are joined by commas as in the dialplan."""
        if not _APPLICATION_NAME.fullmatch(application):
            raise ValueError(f"not a dialplan application name: {application!r}")
        options = ",".join(check_value(a, f"{application} argument") for a in arguments)
        args = (application, options) if arguments else (application,)
        reply = await self.command("EXEC", *args, reply_timeout_s=reply_timeout_s)
        if reply.result == "-2":
            raise AgiCommandError(-2, f"application {application} not found")
        return reply.code

    async def stream_file(
        self, filename: str, escape_digits: str = "", *, reply_timeout_s: float | None = None
    ) -> StreamResult:
        """Play a sound file; stops early on one of `escape_digits`."""
        _check_dtmf(escape_digits)
        reply = await self.command(
            "STREAM FILE", _check_sound(filename), escape_digits, reply_timeout_s=reply_timeout_s
        )
        digit = chr(reply.code) if reply.code > 0 else None
        return StreamResult(digit=digit, endpos=reply.endpos)

    async def get_data(
        self,
        filename: str,
        timeout_ms: int | None = None,
        max_digits: int | None = None,
        *,
        reply_timeout_s: float | None = None,
    ) -> DigitInput:
        """Play a prompt and collect DTMF digits (ended by `#`, `max_digits` or the timeout)."""
        arguments = [_check_sound(filename)]
        if timeout_ms is not None:
            arguments.append(str(int(timeout_ms)))
            if max_digits is not None:
                arguments.append(str(int(max_digits)))
        reply = await self.command("GET DATA", *arguments, reply_timeout_s=reply_timeout_s)
        return DigitInput(digits=reply.result, timed_out=reply.data == "timeout")

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        """One DTMF digit, or None on timeout."""
        reply = await self.command("WAIT FOR DIGIT", str(int(timeout_ms)))
        return chr(reply.code) if reply.code > 0 else None

    async def say_digits(self, digits: str, escape_digits: str = "") -> StreamResult:
        if not digits or not re.fullmatch(r"[0-9*#]+", digits):
            raise ValueError(f"SAY DIGITS takes digits only: {digits!r}")
        _check_dtmf(escape_digits)
        reply = await self.command("SAY DIGITS", digits, escape_digits)
        return StreamResult(digit=chr(reply.code) if reply.code > 0 else None, endpos=None)

    async def verbose(self, message: str, level: int = 1) -> None:
        """A line in the Asterisk console/log at `level` (1-4)."""
        await self.command("VERBOSE", check_value(message, "message"), str(int(level)))

    async def noop(self, text: str = "") -> None:
        await self.command("NOOP", *((check_value(text, "text"),) if text else ()))


def _check_dtmf(digits: str) -> str:
    if not _DTMF.fullmatch(digits):
        raise ValueError(f"not DTMF digits: {digits!r}")
    return digits


def _check_sound(filename: str) -> str:
    check_value(filename, "sound file")
    if not filename or " " in filename:
        raise ValueError(f"not a sound file name: {filename!r}")
    return filename
