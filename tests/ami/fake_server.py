"""A scripted AMI server for socket tests: answers actions with messages taken from the
recorded Asterisk traffic (ActionIDs rewritten), and can misbehave on request."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from ami.parser import AmiMessage, AmiParser
from ami.recordings import received_ami_lines, wire_bytes

BANNER = b"Asterisk Call Manager/13.0.0\r\n"


def recorded_messages(transcripts_dir: Path, name: str) -> list[AmiMessage]:
    path = next(transcripts_dir.glob(f"{name}*.txt"))
    return AmiParser().feed(wire_bytes(received_ami_lines(path)))


def with_action_id(message: AmiMessage, action_id: str) -> AmiMessage:
    headers = [(k, action_id if k.lower() == "actionid" else v) for k, v in message.headers]
    return AmiMessage(headers, message.body)


@dataclass
class Behaviour:
    """How the server misbehaves; tests change it between steps."""

    secret: str = "dialer-secret"
    silent: set[str] = field(default_factory=set)  # action names never answered
    drop_on: set[str] = field(default_factory=set)  # close the socket instead of answering
    replay_call_after_originate: bool = False  # stream transcript 03's events afterwards


class FakeAmiServer:
    def __init__(self, transcripts_dir: Path) -> None:
        self.behaviour = Behaviour()
        self.received: list[AmiMessage] = []
        self.connections = 0
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        recorded = {
            name: recorded_messages(transcripts_dir, name)
            for name in ("01", "02", "03", "10", "11", "12", "13", "14", "17")
        }
        self._login_refused = recorded["01"][0]
        self._login_ok = recorded["02"]  # response, FullyBooted, SuccessfulAuth
        self._originate_queued = recorded["03"][0]
        self._call_events = [m for m in recorded["03"][1:] if m.kind == "event"]
        self._core_show_channels = recorded["10"]
        self._hangup_regex = recorded["11"][:4]  # response, 2 x ChannelHungup, complete
        self._errors = {m.action_id: m for m in recorded["12"] if m.kind == "response"}
        self._command, *self._status = recorded["13"]
        self._goodbye = recorded["14"][0]
        self._redirect = next(m for m in recorded["17"] if m.action_id == "redir-1")

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> FakeAmiServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def stop(self) -> None:
        self.drop_connections()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    def actions_named(self, name: str) -> list[AmiMessage]:
        return [m for m in self.received if m.name.lower() == name.lower()]

    def drop_connections(self) -> None:
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    async def send_raw(self, data: bytes) -> None:
        for writer in self._writers:
            writer.write(data)
            await writer.drain()

    async def send_messages(self, messages: list[AmiMessage]) -> None:
        await self.send_raw(b"".join(m.encode() for m in messages))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.connections += 1
        self._writers.append(writer)
        parser = AmiParser()
        try:
            writer.write(BANNER)
            while data := await reader.read(65536):
                for action in parser.feed(data):
                    self.received.append(action)
                    if not await self._answer(action, writer):
                        return
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(ValueError):
                self._writers.remove(writer)
            writer.close()
            self._handlers.discard(task)

    async def _answer(self, action: AmiMessage, writer: asyncio.StreamWriter) -> bool:
        """Write the reply; False closes the connection."""
        name = action.name.lower()
        action_id = action.action_id or ""
        if name in {n.lower() for n in self.behaviour.drop_on}:
            return False
        if name in {n.lower() for n in self.behaviour.silent}:
            return True
        replies: list[AmiMessage]
        keep_open = True
        if name == "login":
            if action.get("Secret") != self.behaviour.secret:
                replies, keep_open = [self._login_refused], False
            else:
                replies = self._login_ok
        elif name == "originate":
            replies = [self._originate_queued]
            if self.behaviour.replay_call_after_originate:
                replies = [self._originate_queued, *self._call_events]
        elif name == "coreshowchannels":
            replies = self._core_show_channels
        elif name == "hangup":
            channel = action.get("Channel") or ""
            regex = channel.startswith("/")
            replies = self._hangup_regex if regex else [self._errors["hup-missing"]]
        elif name == "redirect":
            replies = [self._redirect]
        elif name == "ping":
            replies = [self._errors["ping-1"]]
        elif name == "command":
            replies = [self._command]
        elif name == "status":
            replies = self._status
        elif name == "logoff":
            replies, keep_open = [self._goodbye], False
        else:
            replies = [self._errors["bad-action"]]
        out = [with_action_id(m, action_id) if m.action_id is not None else m for m in replies]
        writer.write(b"".join(m.encode() for m in out))
        await writer.drain()
        return keep_open
