"""The FastAGI server: accepts Asterisk's `AGI(agi://host:port/path?query)` connections
and runs the handler routed by the script path.

Why our own protocol layer and not panoramisk's `fast_agi` (1.4, the last release):
- its `Application.add_route` wraps sync handlers with `asyncio.coroutine`, which no longer
  exists on Python 3.11, so registering one crashes;
- it routes on the whole `agi_network_script`, query string included, so
  `answered?attempt=...` never matches a route;
- it reads the environment with `read(100)` until a blank line: a socket closed before the
  blank line makes it loop forever on empty reads;
- a closed socket during a command parses as an "unknown error", not as a hangup;
- a `520-` usage reply reads only one more line, leaving the rest of the usage text and the
  `520 End of proper usage.` line to be taken as the replies to the next commands;
- `200 result=-1` becomes an "application error" dict the caller must inspect, and values
  are not checked for CR/LF, so a caller's text could inject a second command.
The protocol is small (see agi/protocol.py), so owning it costs less than patching around.

Nothing a peer sends can stop the server: each connection runs in its own task, and every
failure (garbage, a closed socket, a hangup, a handler bug) is logged and ends only that
session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType

from agi.agent_login import ROUTE as AGENT_LOGIN_ROUTE
from agi.agent_login import AgentLoginConfig, AgentLoginHandler
from agi.answered import ROUTE as ANSWERED_ROUTE
from agi.answered import AnsweredConfig, AnsweredHandler
from agi.errors import AgiError, AgiHangup, AgiProtocolError
from agi.inbound import ROUTE as INBOUND_ROUTE
from agi.inbound import InboundConfig, InboundHandler
from agi.metrics import DecisionLatencies
from agi.router import CallRouter
from agi.session import AgiSession, read_environment
from agi.wrapup import ROUTE as WRAPUP_ROUTE
from agi.wrapup import WrapupHandler

log = logging.getLogger(__name__)

AgiHandler = Callable[[AgiSession], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class AgiServerConfig:
    """Limits of the server; handler behaviour lives in the per-route configs."""

    environment_timeout_s: float = 5.0
    command_timeout_s: float = 120.0
    max_line_bytes: int = 16384  # also bounds the environment
    shutdown_grace_s: float = 5.0
    # Past this many sessions at once the router is not asked: answered calls get the
    # fallback safe-harbor at once, other routes a hangup (overload must not mean silence).
    max_sessions: int = 5000
    answered: AnsweredConfig = field(default_factory=AnsweredConfig)
    inbound: InboundConfig = field(default_factory=InboundConfig)
    agent_login: AgentLoginConfig = field(default_factory=AgentLoginConfig)


class AgiServer:
    """Routes `answered`, `inbound`, `wrapup` and `agent-login` to handlers that ask the
    `CallRouter`."""

    def __init__(
        self,
        router: CallRouter,
        *,
        host: str = "127.0.0.1",
        port: int = 4573,
        config: AgiServerConfig | None = None,
        latencies: DecisionLatencies | None = None,
    ) -> None:
        self.config = config or AgiServerConfig()
        self.latencies = latencies or DecisionLatencies()
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()
        self._answered = AnsweredHandler(router, self.latencies, self.config.answered)
        self._routes: dict[str, AgiHandler] = {
            ANSWERED_ROUTE: self._answered,
            WRAPUP_ROUTE: WrapupHandler(router),
            AGENT_LOGIN_ROUTE: AgentLoginHandler(router, self.config.agent_login),
            INBOUND_ROUTE: InboundHandler(router, self.latencies, self.config.inbound),
        }

    # ------------------------------------------------------------ routes

    @property
    def routes(self) -> frozenset[str]:
        return frozenset(self._routes)

    def add_route(self, path: str, handler: AgiHandler) -> None:
        """Serve another script path (e.g. a lab or diagnostic route)."""
        path = path.strip("/")
        if path in self._routes:
            raise ValueError(f"AGI route {path!r} already exists")
        self._routes[path] = handler

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._on_connection, self._host, self._port, limit=self.config.max_line_bytes
        )
        log.info("FastAGI server listening on %s:%d", self._host, self.port)

    @property
    def port(self) -> int:
        """The bound port (useful when started with port 0)."""
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def active_sessions(self) -> int:
        return len(self._sessions)

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    async def close(self) -> None:
        """Stop accepting, let running sessions finish for a grace period, cancel the rest."""
        if self._server is not None:
            self._server.close()
        if self._sessions:
            _, pending = await asyncio.wait(
                set(self._sessions), timeout=self.config.shutdown_grace_s
            )
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> AgiServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ------------------------------------------------------------ one connection

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        try:
            await self._run_session(reader, writer)
        finally:
            self._sessions.discard(task)

    async def _run_session(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        peer = writer.get_extra_info("peername")
        try:
            async with asyncio.timeout(self.config.environment_timeout_s):
                environment = await read_environment(reader)
        except AgiProtocolError as exc:
            log.warning("FastAGI connection from %s dropped: %s", peer, exc)
            await _close_writer(writer)
            return
        except TimeoutError:
            log.warning(
                "FastAGI connection from %s dropped: no complete environment within %.1f s "
                "(timeout)",
                peer,
                self.config.environment_timeout_s,
            )
            await _close_writer(writer)
            return
        session = AgiSession(
            reader,
            writer,
            environment,
            command_timeout=self.config.command_timeout_s,
            received_at=asyncio.get_running_loop().time(),
        )
        path = environment.script_path
        handler = self._routes.get(path)
        if handler is not None and len(self._sessions) > self.config.max_sessions:
            log.warning(
                "AGI overload (%d sessions): %s on %s answered without the router",
                len(self._sessions),
                path,
                environment.channel,
            )
            handler = self._answered.fallback if path == ANSWERED_ROUTE else _hang_up
        try:
            if handler is None:
                log.warning(
                    "unknown AGI path %r (channel %s, uniqueid %s); hanging up",
                    environment.network_script,
                    environment.channel,
                    environment.uniqueid,
                )
                await session.hangup()
            else:
                await handler(session)
        except AgiHangup as exc:
            log.info("AGI %s on %s ended: %s", path, environment.channel, exc)
        except AgiError as exc:
            log.warning("AGI %s on %s failed: %s", path, environment.channel, exc)
        except asyncio.CancelledError:
            log.warning("AGI %s on %s cancelled", path, environment.channel)
            raise
        except Exception:
            log.exception("AGI handler %s crashed on %s", path, environment.channel)
        finally:
            await session.close()


async def _hang_up(session: AgiSession) -> None:
    await session.hangup()


async def _close_writer(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError, OSError):
        await writer.wait_closed()
