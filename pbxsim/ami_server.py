"""The AMI side of the simulated Asterisk: a TCP server speaking the protocol byte for byte as
in the recordings (banner, login, responses, event lists), several clients at once, events to
every logged-in client."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import time
from typing import TYPE_CHECKING

from pbxsim.amiwire import BANNER, Headers, Message, encode, parse_block
from pbxsim.apps import app_mixmonitor
from pbxsim.channel import STATE_DESC, Channel

if TYPE_CHECKING:
    from pbxsim.pbx import PbxSim

log = logging.getLogger(__name__)

MAX_LINES_PER_MESSAGE = 512
MAX_BUFFERED_BYTES = 64 * 1024 * 1024  # a client this far behind is cut off (writetimeout)
VERSION_LINE = (
    "Asterisk GIT-master-f0c1c1a7b7 built by root @ vm on a x86_64 running Linux on "
    "2026-11-22 12:42:42 UTC"
)
_TS = "%Y-%m-%dT%H:%M:%S"


# Event classes of manager.conf / the Login `Events` header.
ALL_CLASSES = frozenset(
    [
        "system",
        "call",
        "log",
        "verbose",
        "command",
        "agent",
        "user",
        "config",
        "dtmf",
        "reporting",
        "cdr",
        "dialplan",
        "originate",
        "agi",
        "cc",
        "aoc",
        "test",
        "security",
        "message",
    ]
)


def parse_event_mask(text: str) -> frozenset[str]:
    """`on`/`off` or a list of classes (`call,agi,system`), as Asterisk reads `Events:`."""
    mask = text.strip().lower()
    if mask in ("", "on", "yes", "true", "all"):
        return ALL_CLASSES
    if mask in ("off", "no", "false", "none"):
        return frozenset()
    return frozenset(part.strip() for part in mask.split(",") if part.strip())


@functools.lru_cache(maxsize=64)
def privilege_classes(privilege: str) -> frozenset[str]:
    return frozenset(privilege.split(",")) - {"all"}


def _tv(t: float) -> str:
    return time.strftime(_TS, time.gmtime(t)) + f".{int((t % 1) * 1000):03d}+0000"


class AmiServer:
    def __init__(self, sim: PbxSim) -> None:
        self.sim = sim
        self.sessions: set[AmiSession] = set()  # logged in, receiving events
        self._all: set[AmiSession] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._accept, host, port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        await self.drop_all()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def drop_all(self) -> int:
        sessions = list(self._all)
        for s in sessions:
            s.close()
        await asyncio.sleep(0)
        return len(sessions)

    def broadcast(self, data: bytes, privilege: str) -> None:
        classes = privilege_classes(privilege)
        for s in self.sessions:
            if s.event_classes & classes:
                s.send(data)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = AmiSession(self, reader, writer)
        self._all.add(session)
        try:
            await session.serve()
        except (ConnectionError, OSError):
            pass
        except Exception:
            log.exception("AMI session failed")
        finally:
            self._all.discard(session)
            self.sessions.discard(session)
            session.close()


class AmiSession:
    def __init__(
        self, server: AmiServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.sim = server.sim
        self.reader = reader
        self.writer = writer
        self.username = ""
        self.authenticated = False
        self.event_classes: frozenset[str] = ALL_CLASSES
        self.closed = False
        self.started = time.time()
        self.session_id = f"0x{id(self):x}"
        self._pending: list[bytes] = []
        self._flush_scheduled = False

    # -- I/O -------------------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Queue bytes; everything queued in one loop iteration goes out in one write."""
        if self.closed:
            return
        self._pending.append(data)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._flush_scheduled = False
        if not self._pending or self.closed:
            return
        data, self._pending = b"".join(self._pending), []
        transport = self.writer.transport
        if transport.is_closing():
            return
        if transport.get_write_buffer_size() > MAX_BUFFERED_BYTES:
            log.warning("AMI client too slow, disconnecting")
            self.close()
            return
        self.writer.write(data)

    def close(self) -> None:
        if not self.closed:
            self.flush()
            self.closed = True
            self.server.sessions.discard(self)
            self.writer.close()

    def respond(self, msg: Message, response: str, *headers: tuple[str, str]) -> None:
        out: Headers = [("Response", response)]
        if msg.has("ActionID"):
            out.append(("ActionID", msg.get("ActionID")))
        out.extend(headers)
        self.send(encode(out))

    def error(self, msg: Message, text: str) -> None:
        self.respond(msg, "Error", ("Message", text))

    async def serve(self) -> None:
        self.send(BANNER)
        lines: list[str] = []
        while not self.closed:
            try:
                raw = await self.reader.readline()
            except ValueError:
                log.warning("AMI client sent an over-long line; dropped it")
                continue  # asyncio already discarded the line, like Asterisk does
            if not raw:
                return
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if line:
                lines.append(line)
                if len(lines) > MAX_LINES_PER_MESSAGE:
                    lines.clear()  # garbage: drop it rather than grow without bound
                continue
            if not lines:
                continue
            msg = parse_block(lines)
            lines = []
            if self.sim.config.response_delay > 0:
                await asyncio.sleep(self.sim.config.response_delay)
            await self.dispatch(msg)
            self.flush()
            await self.writer.drain()

    # -- actions ---------------------------------------------------------------------------------

    async def dispatch(self, msg: Message) -> None:
        action = msg.get("Action").strip()
        if not action:
            self.error(msg, "Missing action in request")
            return
        name = action.lower()
        if name == "login":
            await self.login(msg)
            return
        if name == "logoff":
            self.respond(msg, "Goodbye", ("Message", "Thanks for all the fish."))
            self.close()
            return
        if not self.authenticated:
            self.error(msg, "Authentication Required")
            return
        handler = getattr(self, f"action_{name}", None)
        if handler is None:
            self.error(
                msg,
                f"Invalid/unknown command: {action}. "
                "Use Action: ListCommands to show available commands.",
            )
            self.sim.emit(
                "RequestBadFormat",
                [
                    *self._security_headers("Error"),
                    ("RequestType", f"Action: {action}"),
                    ("SessionTV", _tv(self.started)),
                    ("AccountID", self.username),
                ],
                "security,all",
            )
            return
        result = handler(msg)
        if asyncio.iscoroutine(result):
            await result

    def _security_headers(self, severity: str) -> Headers:
        sock = self.writer.get_extra_info("sockname") or ("127.0.0.1", 0)
        peer = self.writer.get_extra_info("peername") or ("127.0.0.1", 0)
        return [
            ("EventTV", _tv(time.time())),
            ("Severity", severity),
            ("Service", "AMI"),
            ("EventVersion", "1"),
            ("SessionID", self.session_id),
            ("LocalAddress", f"IPV4/TCP/{sock[0]}/{sock[1]}"),
            ("RemoteAddress", f"IPV4/TCP/{peer[0]}/{peer[1]}"),
        ]

    async def login(self, msg: Message) -> None:
        cfg = self.sim.config
        if msg.get("Username") != cfg.username or msg.get("Secret") != cfg.secret:
            await self.sim.clock.sleep(cfg.failed_login_delay)
            self.error(msg, "Authentication failed")
            self.close()
            return
        self.username = msg.get("Username")
        self.authenticated = True
        self.event_classes = parse_event_mask(msg.get("Events", "on"))
        self.respond(msg, "Success", ("Message", "Authentication accepted"))
        self.server.sessions.add(self)
        uptime = str(int(time.time() - self.sim.started_at))
        if "system" in self.event_classes:
            self.send(
                encode(
                    [
                        ("Event", "FullyBooted"),
                        ("Privilege", "system,all"),
                        ("Uptime", uptime),
                        ("LastReload", uptime),
                        ("Status", "Fully Booted"),
                    ]
                )
            )
        sec = self._security_headers("Informational")
        if "security" in self.event_classes:
            self.send(
                encode(
                    [
                        ("Event", "SuccessfulAuth"),
                        ("Privilege", "security,all"),
                        *sec[:4],
                        ("AccountID", self.username),
                        *sec[4:],
                        ("UsingPassword", "0"),
                        ("SessionTV", _tv(self.started)),
                    ]
                )
            )

    def action_ping(self, msg: Message) -> None:
        self.respond(msg, "Success", ("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}"))

    def action_events(self, msg: Message) -> None:
        self.event_classes = parse_event_mask(msg.get("EventMask", "on"))
        self.respond(msg, "Success", ("Events", "On" if self.event_classes else "Off"))

    async def action_originate(self, msg: Message) -> None:
        channel = msg.get("Channel").strip()
        if not channel:
            self.error(msg, "Channel not specified")
            return
        if msg.has("Application") and not msg.has("Context"):
            self.error(msg, "Originate with Application is not supported here")
            return
        priority = msg.get("Priority", "1").strip() or "1"
        if not priority.isdigit():
            self.error(msg, "Invalid priority")
            return
        try:
            timeout_ms = int(msg.get("Timeout", "30000") or 30000)
        except ValueError:
            self.error(msg, "Invalid timeout")
            return
        variables: list[tuple[str, str]] = []
        for header in msg.get_all("Variable"):
            for pair in header.split(","):
                key, sep, value = pair.partition("=")
                if sep and key.strip():
                    variables.append((key.strip(), value))
        action_id = msg.get("ActionID")
        synchronous = msg.get("Async", "false").strip().lower() not in ("true", "yes", "1")
        waiter: asyncio.Future[bool] | None = None
        if synchronous and action_id:
            waiter = asyncio.get_running_loop().create_future()
            self.sim.sync_waiters[action_id] = waiter
        else:
            self.respond(msg, "Success", ("Message", "Originate successfully queued"))
        self.sim.originate(
            action_id=msg.get("ActionID"),
            dial_string=channel,
            context=msg.get("Context", "default"),
            exten=msg.get("Exten", "s"),
            priority=priority,
            timeout_ms=timeout_ms,
            caller_id=msg.get("CallerID"),
            variables=variables,
            channel_id=msg.get("ChannelId").strip(),
            other_channel_id=msg.get("OtherChannelId").strip(),
        )
        if waiter is not None:
            # Asterisk holds a synchronous Originate's response until the call is answered
            # or has failed, and this session handles nothing else meanwhile.
            if await waiter:
                self.respond(msg, "Success", ("Message", "Originate successfully queued"))
            else:
                self.error(msg, "Originate failed")

    def action_hangup(self, msg: Message) -> None:
        target = msg.get("Channel").strip()
        if not target:
            self.error(msg, "No channel specified")
            return
        try:
            cause = int(msg.get("Cause", "0") or 0)
        except ValueError:
            cause = 0
        if len(target) > 2 and target.startswith("/") and target.endswith("/"):
            try:
                pattern = re.compile(target[1:-1])
            except re.error:
                self.error(msg, "Invalid regex")
                return
            matched = [ch for ch in reversed(self.sim.channels.values()) if pattern.search(ch.name)]
            self.respond(
                msg, "Success", ("EventList", "start"), ("Message", "Channels hung up will follow")
            )
            aid = msg.get("ActionID")
            for ch in matched:
                self.send(
                    encode([("Event", "ChannelHungup"), ("Channel", ch.name), ("ActionID", aid)])
                )
            self.send(
                encode(
                    [
                        ("Event", "ChannelsHungupListComplete"),
                        ("ActionID", aid),
                        ("EventList", "Complete"),
                        ("ListItems", str(len(matched))),
                    ]
                )
            )
            for ch in matched:
                self.sim.hangup(ch, cause)
            return
        ch = self.sim.find(target)
        if ch is None:
            self.error(msg, "No such channel")
            return
        self.respond(msg, "Success", ("Message", "Channel Hungup"))
        self.sim.hangup(ch, cause)

    async def action_mixmonitor(self, msg: Message) -> None:
        ch = self.sim.find(msg.get("Channel").strip())
        if ch is None:
            self.error(msg, "No such channel")
            return
        await app_mixmonitor(self.sim, ch, msg.get("File") or "")
        self.respond(msg, "Success")

    def action_redirect(self, msg: Message) -> None:
        name = msg.get("Channel").strip()
        if not name:
            self.error(msg, "Channel not specified")
            return
        exten, context = msg.get("Exten").strip(), msg.get("Context").strip()
        if not exten or not context:
            self.error(msg, "Exten not specified" if not exten else "Context not specified")
            return
        try:
            priority = int(msg.get("Priority", "1") or 1)
        except ValueError:
            self.error(msg, "Invalid priority")
            return
        ch = self.sim.find(name)
        if ch is None:
            self.error(msg, f"Channel does not exist: {name}")
            return
        extra_name = msg.get("ExtraChannel").strip()
        extra = self.sim.find(extra_name) if extra_name else None
        if extra_name and extra is None:
            self.error(msg, f"ExtraChannel does not exist: {extra_name}")
            return
        self.respond(msg, "Success", ("Message", "Redirect successful"))
        self.sim.redirect(ch, context, exten, priority)
        if extra is not None:
            self.sim.redirect(
                extra,
                msg.get("ExtraContext") or context,
                msg.get("ExtraExten") or exten,
                int(msg.get("ExtraPriority", "1") or 1),
            )

    def _duration(self, ch: Channel) -> str:
        secs = int(self.sim.clock.now() - ch.created_at)
        return f"{secs // 3600:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d}"

    def action_coreshowchannels(self, msg: Message) -> None:
        aid = msg.get("ActionID")
        self.respond(msg, "Success", ("EventList", "start"), ("Message", "Channels will follow"))
        channels = list(reversed(self.sim.channels.values()))
        for ch in channels:
            self.send(
                encode(
                    [
                        ("Event", "CoreShowChannel"),
                        ("ActionID", aid),
                        *ch.headers(),
                        ("Application", ch.application),
                        ("ApplicationData", ch.app_data),
                        ("Duration", self._duration(ch)),
                        ("BridgeId", ch.bridge.uniqueid if ch.bridge else ""),
                    ]
                )
            )
        self.send(
            encode(
                [
                    ("Event", "CoreShowChannelsComplete"),
                    ("ActionID", aid),
                    ("EventList", "Complete"),
                    ("ListItems", str(len(channels))),
                ]
            )
        )

    def action_status(self, msg: Message) -> None:
        aid = msg.get("ActionID")
        name = msg.get("Channel").strip()
        if name:
            one = self.sim.find(name)
            if one is None:
                self.error(msg, "No such channel")
                return
            channels = [one]
        else:
            channels = list(self.sim.channels.values())
        self.respond(
            msg, "Success", ("EventList", "start"), ("Message", "Channel status will follow")
        )
        for ch in channels:
            secs = int(self.sim.clock.now() - ch.created_at)
            self.send(
                encode(
                    [
                        ("Event", "Status"),
                        ("Privilege", "Call"),
                        *ch.headers(),
                        ("Type", ch.tech),
                        ("DNID", ""),
                        ("EffectiveConnectedLineNum", ch.connected_num),
                        ("EffectiveConnectedLineName", ch.connected_name),
                        ("TimeToHangup", "0"),
                        ("BridgeID", ch.bridge.uniqueid if ch.bridge else ""),
                        ("Application", ch.application),
                        ("Data", ch.app_data),
                        ("Nativeformats", "(ulaw)"),
                        ("Readformat", "ulaw"),
                        ("Readtrans", ""),
                        ("Writeformat", "ulaw"),
                        ("Writetrans", ""),
                        ("Callgroup", "0"),
                        ("Pickupgroup", "0"),
                        ("Seconds", str(secs)),
                        ("ActionID", aid),
                    ]
                )
            )
        self.send(
            encode(
                [
                    ("Event", "StatusComplete"),
                    ("ActionID", aid),
                    ("EventList", "Complete"),
                    ("ListItems", str(len(channels))),
                    ("Items", str(len(channels))),
                ]
            )
        )

    def action_command(self, msg: Message) -> None:
        command = " ".join(msg.get("Command").split())
        output = self._cli(command)
        if output is None:
            self.respond(
                msg,
                "Error",
                ("Message", "Command output follows"),
                (
                    "Output",
                    f"No such command '{command}' "
                    f"(type 'core show help {command}' for other possible commands)",
                ),
            )
            return
        self.respond(
            msg,
            "Success",
            ("Message", "Command output follows"),
            *[("Output", line) for line in output],
        )

    def _cli(self, command: str) -> list[str] | None:
        lowered = command.lower()
        if lowered == "core show version":
            return [VERSION_LINE]
        if lowered == "core show channels concise":
            return [
                "!".join(
                    [
                        ch.name,
                        ch.context,
                        ch.exten,
                        str(ch.priority),
                        STATE_DESC.get(ch.state, "Unknown"),
                        ch.application,
                        ch.app_data,
                        ch.caller_num,
                        "",
                        "",
                        "3",
                        str(int(self.sim.clock.now() - ch.created_at)),
                        ch.peer.name
                        if ch.peer and ch.peer.uniqueid in self.sim.channels
                        else "(None)",
                        ch.uniqueid,
                    ]
                )
                for ch in self.sim.channels.values()
            ]
        if lowered in ("core show channels", "core show calls"):
            channels = list(self.sim.channels.values())
            calls = sum(1 for ch in channels if not ch.is_local_two)
            processed = self.sim.counters.originated
            lines = []
            if lowered == "core show channels":
                lines.append(
                    f"{'Channel':<20.20} {'Location':<20.20} {'State':<7.7} "
                    f"{'Application(Data)':<30.30}"
                )
                for ch in channels:
                    location = f"{ch.exten}@{ch.context}:{ch.priority}"
                    app = f"{ch.application}({ch.app_data})" if ch.application else "(None)"
                    lines.append(
                        f"{ch.name:<20.20} {location:<20.20} "
                        f"{STATE_DESC.get(ch.state, 'Unknown'):<7.7} {app:<30.30}"
                    )
                lines.append(f"{len(channels)} active channel{'' if len(channels) == 1 else 's'}")
            lines.append(f"{calls} active call{'' if calls == 1 else 's'}")
            lines.append(f"{processed} call{'' if processed == 1 else 's'} processed")
            return lines
        return None
