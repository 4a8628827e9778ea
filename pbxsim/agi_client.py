"""The Asterisk side of FastAGI: when a simulated channel runs `AGI(agi://host:port/path?query)`
this connects, sends the `agi_*` environment and answers commands the way Asterisk does
(replies, AGIExecStart/End events, `HANGUP` after the far end hung up, dead-channel rules)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pbxsim.apps import sound_seconds
from pbxsim.channel import Channel, ChannelHungUp, ChannelRedirected
from pbxsim.dialplan import channel_variable, expand

if TYPE_CHECKING:
    from pbxsim.pbx import PbxSim

log = logging.getLogger(__name__)

AGI_VERSION = "GIT-master-f0c1c1a7b7"
_THREAD_BASE = 140627016922816
# Commands a dead channel (after HANGUP was sent) still accepts, as in res_agi.
_DEAD_OK = {
    "GET VARIABLE",
    "GET FULL VARIABLE",
    "SET VARIABLE",
    "VERBOSE",
    "NOOP",
    "HANGUP",
    "CHANNEL STATUS",
}
_USAGE = {
    "GET VARIABLE": "Usage: GET VARIABLE <variablename>",
    "GET FULL VARIABLE": "Usage: GET FULL VARIABLE <variablename> [<channel name>]",
    "SET VARIABLE": "Usage: SET VARIABLE <variablename> <value>",
    "EXEC": "Usage: EXEC <application> <options>",
    "STREAM FILE": "Usage: STREAM FILE <filename> <escape digits> [<sample offset>]",
    "GET DATA": "Usage: GET DATA <file to be streamed> [timeout] [max digits]",
    "VERBOSE": "Usage: VERBOSE <message> <level>",
    "WAIT FOR DIGIT": "Usage: WAIT FOR DIGIT <timeout>",
}


def tokenize(line: str) -> list[str]:
    """Split an AGI command line like res_agi: whitespace-separated, double quotes group."""
    out: list[str] = []
    cur: list[str] = []
    quoted = False
    started = False
    for c in line:
        if c == '"':
            quoted = not quoted
            started = True
        elif c in " \t" and not quoted:
            if started:
                out.append("".join(cur))
                cur, started = [], False
        else:
            cur.append(c)
            started = True
    if started:
        out.append("".join(cur))
    return out


class AgiClient:
    def __init__(self, sim: PbxSim) -> None:
        self.sim = sim
        self._threads = 0

    async def run(self, ch: Channel, url: str, args: list[str]) -> None:
        """One AGI() application run; sets AGISTATUS like Asterisk when it ends."""
        parts = urlsplit(url)
        if parts.scheme != "agi" or not parts.hostname:
            self.sim.set_var(ch, "AGISTATUS", "FAILURE")
            return
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(parts.hostname, parts.port or 4573),
                self.sim.config.agi_connect_timeout,
            )
        except (OSError, TimeoutError):
            log.info("AGI %s: cannot connect", url)
            self.sim.set_var(ch, "AGISTATUS", "FAILURE")
            return
        self.sim.counters.agi_sessions += 1
        session = _Session(self.sim, ch, reader, writer)
        self._threads += 1
        script = parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")
        ch.agi_hangup = session.hangup_noticed
        try:
            await session.send_env(url, script, args, _THREAD_BASE + self._threads * 1024)
            await session.loop()
        except (ConnectionError, OSError):
            pass
        finally:
            ch.agi_hangup = None
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        self.sim.set_var(ch, "AGISTATUS", "HANGUP" if session.dead else "SUCCESS")
        if session.redirect is not None:
            ch.request_redirect(*session.redirect)


class _Session:
    def __init__(
        self, sim: PbxSim, ch: Channel, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.sim = sim
        self.ch = ch
        self.reader = reader
        self.writer = writer
        self.hangup_sent = False
        self.redirect: tuple[str, str, int] | None = None
        self.in_command = False

    def hangup_noticed(self) -> None:
        """The channel was hung up: between commands Asterisk sends `HANGUP` at once
        (AGISIGHUP); during one, the command's reply and then the next command tell."""
        if self.in_command or self.hangup_sent or self.writer.is_closing():
            return
        self.hangup_sent = True
        self.writer.write(b"HANGUP\n")

    @property
    def dead(self) -> bool:
        return self.ch.hungup or self.redirect is not None

    async def send_env(self, url: str, script: str, args: list[str], thread_id: int) -> None:
        ch = self.ch
        cid = ch.caller_num if ch.caller_num != "<unknown>" else "unknown"
        cname = ch.caller_name if ch.caller_name != "<unknown>" else "unknown"
        env = [
            ("agi_network", "yes"),
            ("agi_network_script", script),
            ("agi_request", url),
            ("agi_channel", ch.name),
            ("agi_language", "en"),
            ("agi_type", ch.tech),
            ("agi_uniqueid", ch.uniqueid),
            ("agi_version", AGI_VERSION),
            ("agi_callerid", cid),
            ("agi_calleridname", cname),
            ("agi_callingpres", "0"),
            ("agi_callingani2", "0"),
            ("agi_callington", "0"),
            ("agi_callingtns", "0"),
            ("agi_dnid", "unknown"),
            ("agi_rdnis", "unknown"),
            ("agi_context", ch.context),
            ("agi_extension", ch.exten),
            ("agi_priority", str(ch.priority)),
            ("agi_enhanced", "0.0"),
            ("agi_accountcode", ""),
            ("agi_threadid", str(thread_id)),
        ]
        env += [(f"agi_arg_{i}", a) for i, a in enumerate(args, 1)]
        self.writer.write(("".join(f"{k}: {v}\n" for k, v in env) + "\n").encode())
        await self.writer.drain()

    async def loop(self) -> None:
        while True:
            try:
                raw = await self.reader.readline()
            except (ValueError, asyncio.LimitOverrunError):
                return  # a line too long to be AGI: Asterisk drops the session too
            if not raw:
                return
            line = raw.decode(errors="replace").strip()
            if not line:
                continue
            self.in_command = True
            try:
                await self.command(line)
            finally:
                self.in_command = False

    async def _reply(self, text: str) -> None:
        self.writer.write(text.encode())
        await self.writer.drain()

    def _exec_event(
        self, name: str, command: str, command_id: int, extra: list[tuple[str, str]]
    ) -> None:
        self.sim.emit_channel(
            name, self.ch, [("CommandId", str(command_id)), ("Command", command), *extra], "agi,all"
        )

    async def command(self, line: str) -> None:
        command_id = self.sim.rng.randint(10_000_000, 2_000_000_000)
        self._exec_event("AGIExecStart", line, command_id, [])
        if self.dead and not self.hangup_sent:
            self.hangup_sent = True
            self._exec_event(
                "AGIExecEnd", line, command_id, [("ResultCode", "200"), ("Result", "Success")]
            )
            await self._reply("HANGUP\n")
            return
        tokens = tokenize(line)
        key, handler, rest = self._match(tokens)
        if handler is None:
            code, result = 510, "Invalid or unknown command"
            reply = f"510 {result}\n"
        elif self.dead and key not in _DEAD_OK:
            code, result = 511, "Command Not Permitted on a dead channel or intercepted"
            reply = f"511 {result}\n"
        else:
            reply = await handler(rest)
            if reply is None:
                usage = _USAGE.get(key, f"Usage: {key}")
                code, result = 520, "Usage"
                reply = (
                    f"520-Invalid command syntax.  Proper usage follows:\n{usage}\n"
                    "520 End of proper usage.\n"
                )
            else:
                code = 200
                result = "Unknown Result" if reply.startswith("200 result=-1") else "Success"
        self._exec_event(
            "AGIExecEnd", line, command_id, [("ResultCode", str(code)), ("Result", result)]
        )
        await self._reply(reply)

    def _match(self, tokens: list[str]):  # type: ignore[no-untyped-def]
        upper = [t.upper() for t in tokens]
        for n in (3, 2, 1):
            key = " ".join(upper[:n])
            handler = getattr(self, "cmd_" + key.lower().replace(" ", "_"), None)
            if len(upper) >= n and handler is not None:
                return key, handler, tokens[n:]
        return "", None, []

    # -- commands: each returns the reply line, or None for a syntax error (520) ----------------

    async def cmd_answer(self, args: list[str]) -> str:
        self.sim.answer(self.ch)
        return "200 result=0\n"

    async def cmd_noop(self, args: list[str]) -> str:
        return "200 result=0\n"

    async def cmd_verbose(self, args: list[str]) -> str | None:
        return "200 result=1\n" if args else None

    async def cmd_channel_status(self, args: list[str]) -> str:
        return f"200 result={self.ch.state}\n"

    async def cmd_hangup(self, args: list[str]) -> str:
        target = self.sim.find(args[0]) if args else self.ch
        if target is None:
            return "200 result=-1\n"
        if target is self.ch:
            if not self.ch.hungup:
                self.sim.emit_channel("SoftHangupRequest", self.ch, [("Cause", "32")])
                self.ch.hungup = True
                self.ch.keep_zero_cause = True
        else:
            self.sim.hangup(target, 16)
        return "200 result=1\n"

    async def cmd_set_music(self, args: list[str]) -> str | None:
        """Hold music on/off (res_musiconhold); the simulated caller hears nothing of it."""
        if not args or args[0].lower() not in ("on", "off"):
            return None
        self.ch.variables["SIM_MUSIC"] = args[0].lower()
        return "200 result=0\n"

    async def cmd_get_variable(self, args: list[str]) -> str | None:
        if len(args) != 1:
            return None
        name = args[0]
        value = channel_variable(self.ch, name, self.sim.globals)
        known = name in self.ch.variables or name in self.sim.globals or value != ""
        return f"200 result=1 ({value})\n" if known else "200 result=0\n"

    async def cmd_get_full_variable(self, args: list[str]) -> str | None:
        if not 1 <= len(args) <= 2:
            return None
        return f"200 result=1 ({expand(self.ch, args[0], self.sim.globals)})\n"

    async def cmd_set_variable(self, args: list[str]) -> str | None:
        if len(args) != 2:
            return None
        self.sim.set_var(self.ch, args[0], args[1])
        return "200 result=1\n"

    async def cmd_exec(self, args: list[str]) -> str | None:
        if not args:
            return None
        name = args[0]
        app = next((a for n, a in self.sim.apps.items() if n.lower() == name.lower()), None)
        if app is None or name == "SimTalk":
            return "200 result=-2\n"
        data = ",".join(args[1:])
        return (
            "200 result=0\n"
            if await self._run(app(self.sim, self.ch, data))
            else ("200 result=-1\n")
        )

    async def cmd_stream_file(self, args: list[str]) -> str | None:
        if len(args) < 2:
            return None
        seconds = sound_seconds(self.ch, args[0])
        ok = await self._run(self.sim.wait(self.ch, seconds))
        self.sim.set_var(self.ch, "PLAYBACKSTATUS", "SUCCESS")
        if not ok:
            return "200 result=-1 endpos=0\n"
        return f"200 result=0 endpos={int(seconds * 8000)}\n"

    async def cmd_get_data(self, args: list[str]) -> str | None:
        if not args:
            return None
        try:
            timeout = float(args[1]) / 1000.0 if len(args) > 1 else 6.0
            max_digits = int(args[2]) if len(args) > 2 else 1024
        except ValueError:
            return None
        if not await self._run(self.sim.wait(self.ch, sound_seconds(self.ch, args[0]))):
            return "200 result=-1\n"
        queue = self.sim.dtmf.get(self.ch.dtmf_key)
        if queue:
            digits = queue.popleft()[:max_digits]
            if not await self._run(self.sim.wait(self.ch, 0.2 * len(digits))):
                return "200 result=-1\n"
            return f"200 result={digits}\n"
        if not await self._run(self.sim.wait(self.ch, timeout)):
            return "200 result=-1\n"
        return "200 result= (timeout)\n"

    async def cmd_wait_for_digit(self, args: list[str]) -> str | None:
        if len(args) != 1:
            return None
        queue = self.sim.dtmf.get(self.ch.dtmf_key)
        if queue:
            digit = queue.popleft()[:1]
            return f"200 result={ord(digit) if digit else 0}\n"
        try:
            timeout = float(args[0]) / 1000.0
        except ValueError:
            return None
        wait = timeout if timeout >= 0 else 3600.0
        return (
            "200 result=0\n"
            if await self._run(self.sim.wait(self.ch, wait))
            else ("200 result=-1\n")
        )

    async def _run(self, coro) -> bool:  # type: ignore[no-untyped-def]
        """Run an app or a wait; False if the channel hung up (or was redirected) meanwhile."""
        try:
            await coro
        except ChannelHungUp:
            return False
        except ChannelRedirected as redirect:
            self.redirect = redirect.target
            return False
        return True
