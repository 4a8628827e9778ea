"""Small raw-socket peers for the simulator: an AMI client and a scripted FastAGI server.

Deliberately independent of the production `ami/` and `agi/` packages: these tests check the
simulator against the recordings, not our client against the simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Headers = list[tuple[str, str]]


@dataclass
class AmiMessage:
    headers: Headers

    def get(self, key: str, default: str = "") -> str:
        for k, v in self.headers:
            if k.lower() == key.lower():
                return v
        return default

    @property
    def event(self) -> str:
        return self.get("Event")

    @property
    def response(self) -> str:
        return self.get("Response")


class RawAmiClient:
    """Reads every message into a list; `wait_for` waits for a predicate over new ones."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.banner = ""
        self.messages: list[AmiMessage] = []
        self.closed = asyncio.Event()
        self._new = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, port: int, host: str = "127.0.0.1") -> RawAmiClient:
        reader, writer = await asyncio.open_connection(host, port)
        client = cls(reader, writer)
        client.banner = (await reader.readline()).decode().rstrip("\r\n")
        client._task = asyncio.get_running_loop().create_task(client._read())
        return client

    async def _read(self) -> None:
        headers: Headers = []
        try:
            while True:
                raw = await self.reader.readline()
                if not raw:
                    break
                line = raw.decode().rstrip("\r\n")
                if line:
                    key, _, value = line.partition(": ")
                    headers.append((key, value))
                    continue
                if headers:
                    self.messages.append(AmiMessage(headers))
                    headers = []
                    self._new.set()
        finally:
            self.closed.set()
            self._new.set()

    def send(self, *headers: tuple[str, str]) -> None:
        self.writer.write(("".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode())

    async def wait_for(
        self, predicate: Callable[[AmiMessage], bool], within: float = 5.0
    ) -> AmiMessage:
        async def scan() -> AmiMessage:
            seen = 0
            while True:
                for msg in self.messages[seen:]:
                    if predicate(msg):
                        return msg
                seen = len(self.messages)
                if self.closed.is_set():
                    raise ConnectionError("AMI connection closed")
                self._new.clear()
                await self._new.wait()

        return await asyncio.wait_for(scan(), within)

    async def action(self, *headers: tuple[str, str], within: float = 5.0) -> AmiMessage:
        action_id = dict(headers).get("ActionID")
        assert action_id, "give each action an ActionID"
        self.send(*headers)
        return await self.wait_for(
            lambda m: bool(m.response) and not m.event and m.get("ActionID") == action_id, within
        )

    async def login(self, secret: str = "dialer-secret") -> AmiMessage:
        return await self.action(
            ("Action", "Login"), ("Username", "dialer"), ("Secret", secret), ("ActionID", "login-1")
        )

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task


AgiScript = Callable[["AgiConversation"], Awaitable[None]]


@dataclass
class AgiConversation:
    """One FastAGI connection as seen by the server: env, and every exchange in order."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    env: list[tuple[str, str]] = field(default_factory=list)
    lines: list[tuple[str, str]] = field(default_factory=list)  # ("<", cmd) / (">", reply)

    async def command(self, text: str, within: float = 10.0) -> str:
        self.lines.append(("<", text))
        self.writer.write((text + "\n").encode())
        await self.writer.drain()
        first = (await asyncio.wait_for(self.reader.readline(), within)).decode().rstrip("\n")
        reply = [first]
        if first.startswith("520-"):
            while True:
                more = (await self.reader.readline()).decode().rstrip("\n")
                reply.append(more)
                if more.startswith("520 "):
                    break
        for r in reply:
            self.lines.append((">", r))
        return "\n".join(reply)


class ScriptedAgiServer:
    """A FastAGI server running `script` for every connection, recording conversations."""

    def __init__(self, script: AgiScript) -> None:
        self.script = script
        self.conversations: list[AgiConversation] = []
        self.done = asyncio.Event()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> ScriptedAgiServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conv = AgiConversation(reader, writer)
        self.conversations.append(conv)
        try:
            while True:
                line = (await reader.readline()).decode().rstrip("\n")
                if not line:
                    break
                key, _, value = line.partition(": ")
                conv.env.append((key, value))
            await self.script(conv)
        finally:
            writer.close()
            self.done.set()
