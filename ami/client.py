"""`AmiClient`: one logged-in AMI session per Asterisk server, kept alive across drops.

Built on panoramisk 1.4's `AMIProtocol` (the last release, 2021), with its known defects
contained here rather than worked around by callers:

- panoramisk re-sends unanswered actions after a reconnect. A re-sent Originate dials the
  customer twice, so here nothing is ever re-sent: every action still waiting when the
  connection drops fails with `ConnectionLostError` ("connection lost; reconcile"), and the
  `on_connected` hooks run after each login so the runtime can reconcile with
  CoreShowChannels and the uniqueids.
- panoramisk resolves an async Originate only on the final OriginateResponse. Here Originate
  returns as soon as Asterisk queues it; the outcome arrives as an `OriginateResponse` event.
- a refused login is silent in panoramisk; here it raises `AmiLoginError` and the health
  state says `login_failed`.
- an action sent before connecting raises `AttributeError` in panoramisk; here it is
  `NotConnectedError`.
- panoramisk's `Manager` reconnects at a fixed interval and splits the stream only on CRLF
  CRLF, decoding each TCP chunk on its own; so the `Manager` is not used, and the protocol
  reads through our incremental `AmiParser` (bare LF, split UTF-8, garbage resync).

It knows nothing about campaigns or leads: it sends actions and delivers events.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from panoramisk.ami_protocol import AMIProtocol

from ami import actions
from ami.actions import AmiAction
from ami.backoff import ReconnectPolicy
from ami.errors import (
    AmiActionError,
    AmiConnectError,
    AmiError,
    AmiLoginError,
    AmiTimeoutError,
    ConnectionLostError,
    NotConnectedError,
)
from ami.events import AmiEvent, CoreShowChannel, typed_event
from ami.health import AmiHealth, ConnectionState
from ami.parser import AmiMessage, AmiParser, command_output
from ami.subscription import EventSubscription

if TYPE_CHECKING:
    from dialer.settings import AsteriskServer

log = logging.getLogger(__name__)

EventCallback = Callable[[AmiEvent], Awaitable[None] | None]
ConnectedHook = Callable[["AmiClient"], Awaitable[None] | None]


@dataclass(slots=True)
class AmiReply:
    """The response to an action, plus the events of its event list (if it returned one)."""

    response: AmiMessage
    events: list[AmiMessage] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.response.is_error

    @property
    def message(self) -> str:
        return self.response.get("Message") or ""


class _PendingAction:
    """An action waiting for its response and, for list actions, its event list."""

    __slots__ = ("action", "events", "future", "listing", "response")

    def __init__(self, action: AmiAction, future: asyncio.Future[AmiReply]) -> None:
        self.action = action
        self.future = future
        self.response: AmiMessage | None = None
        self.events: list[AmiMessage] = []
        self.listing = False

    def take(self, message: AmiMessage) -> tuple[bool, bool]:
        """Offer a message with this ActionID: (consumed, finished)."""
        if self.response is None:
            if message.kind != "response":
                return False, False  # an event naming us before the response: not ours
            self.response = message
            if not message.is_error and _starts_event_list(message):
                self.listing = True
                return True, False
            self._finish()
            return True, True
        if not self.listing or message.kind != "event":
            return False, False
        if message.get("EventList") is not None or message.name.endswith("Complete"):
            self._finish()
            return True, True
        self.events.append(message)
        return True, False

    def _finish(self) -> None:
        if not self.future.done() and self.response is not None:
            self.future.set_result(AmiReply(self.response, self.events))

    def fail(self, error: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(error)


def _starts_event_list(response: AmiMessage) -> bool:
    if (response.get("EventList") or "").lower() == "start":
        return True
    return "will follow" in (response.get("Message") or "").lower()


class _AmiProtocol(AMIProtocol):  # type: ignore[misc]
    """panoramisk's protocol reading through `AmiParser`; unanswered actions are failed on
    close, never queued for re-sending."""

    def __init__(self, client: AmiClient) -> None:
        super().__init__()
        self._client = client
        self.parser = AmiParser(on_garbage=client._on_garbage)
        self.pending: dict[str, _PendingAction] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.log = log
        self.factory = self._client

    def data_received(self, data: bytes) -> None:
        # An exception escaping here would make asyncio drop the connection: contain it.
        handle = self.handle_message
        for message in self.parser.feed(data):
            try:
                handle(message)
            except Exception:
                log.exception("AMI: failed to handle %r", message)

    def handle_message(self, message: AmiMessage) -> None:
        if message.kind == "action":
            self._client._on_garbage("an action arrived from the server", repr(message))
            return
        action_id = message.action_id
        if action_id is not None:
            pending = self.pending.get(action_id)
            if pending is not None:
                consumed, finished = pending.take(message)
                if finished:
                    del self.pending[action_id]
                if consumed:
                    return
        if message.kind == "event":
            self._client._dispatch(message)
        else:
            log.debug("AMI response to no pending action: %r", message)

    def send(self, action: AmiAction) -> _PendingAction:  # type: ignore[override]
        if self.closed:
            raise NotConnectedError("the AMI connection is closed")
        if action.action_id in self.pending:
            raise AmiError(f"an action with ActionID {action.action_id!r} is already pending")
        future: asyncio.Future[AmiReply] = asyncio.get_running_loop().create_future()
        pending = _PendingAction(action, future)
        self.pending[action.action_id] = pending
        self.transport.write(action.encode())
        return pending

    def forget(self, action_id: str) -> None:
        self.pending.pop(action_id, None)

    def close(self) -> None:
        # panoramisk moves unanswered actions to `awaiting_actions` and re-sends them after
        # the next FullyBooted; an Originate re-sent that way dials a customer twice.
        pending, self.pending = self.pending, {}
        for item in pending.values():
            item.fail(ConnectionLostError(item.action.name, item.action.action_id))
        if not self.closed:
            self.closed = True
            self.transport.close()

    def abort(self) -> None:
        """Drop the connection at once (a dead peer that stopped answering Pings)."""
        self.close()
        abort = getattr(self.transport, "abort", None)
        if abort is not None:
            abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.close()
        self._client._on_connection_lost(self, exc)


class AmiClient:
    """One AMI session to one Asterisk server: connect, login, keep alive, act, listen."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 5038,
        username: str = "dialer",
        secret: str = "",
        *,
        name: str = "pbx1",
        events: str | Iterable[str] = "on",
        connect_timeout: float = 5.0,
        action_timeout: float = 10.0,
        ping_interval: float = 15.0,
        reconnect: ReconnectPolicy | None = None,
        event_queue_size: int = 100_000,
        rng: random.Random | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.name = name
        self._username = username
        self._secret = secret
        self._events_mask = events if isinstance(events, str) else tuple(events)
        self.connect_timeout = connect_timeout
        self.action_timeout = action_timeout
        self.ping_interval = ping_interval
        self.reconnect_policy = reconnect or ReconnectPolicy()
        self._event_queue_size = event_queue_size
        self._rng = rng or random.Random()

        self._protocol: _AmiProtocol | None = None
        self._state = ConnectionState.DISCONNECTED
        self._closed = False
        self._last_error: str | None = None
        self._banner: str | None = None
        self._last_event_at: float | None = None
        self._ping_rtt: float | None = None
        self._logins = 0
        self._events_received = 0
        self._garbage = 0
        self._lost = asyncio.Event()
        self._ready = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._pinger: asyncio.Task[None] | None = None
        self._background: set[asyncio.Future[Any]] = set()

        self._callbacks: dict[str, list[EventCallback]] = {}
        self._catch_all: list[EventCallback] = []
        self._subscriptions: list[EventSubscription] = []
        self._connected_hooks: list[ConnectedHook] = []

    @classmethod
    def from_settings(cls, server: AsteriskServer, **options: Any) -> AmiClient:
        return cls(
            server.ami_host,
            server.ami_port,
            server.ami_user,
            server.ami_secret.get_secret_value(),
            name=server.name,
            **options,
        )

    # ----------------------------------------------------------------- lifecycle

    async def connect(self) -> None:
        """Connect and log in now (raising `AmiConnectError`/`AmiLoginError` if that fails),
        then keep the session alive in the background, reconnecting with backoff."""
        self._check_open()
        if self._supervisor is not None:
            raise AmiError("connect() or start() was already called")
        await self._open_session()
        self._supervisor = asyncio.create_task(self._supervise(), name=f"ami-{self.name}")

    def start(self) -> None:
        """Connect in the background (retrying with backoff); watch `health()` for the state.
        For a service that must come up even while Asterisk is down."""
        self._check_open()
        if self._supervisor is not None:
            raise AmiError("connect() or start() was already called")
        self._lost.set()
        self._supervisor = asyncio.create_task(self._supervise(), name=f"ami-{self.name}")

    async def wait_ready(self) -> None:
        """Wait until logged in (after `start()`, or during a reconnect); bound it with
        `asyncio.timeout`."""
        self._check_open()
        await self._ready.wait()
        self._check_open()

    async def close(self) -> None:
        """Log off if possible, stop reconnecting, end subscriptions. Idempotent."""
        if self._closed:
            return
        self._closed = True
        tasks = [t for t in (self._supervisor, self._pinger) if t is not None]
        for task in tasks:
            task.cancel()
        protocol = self._protocol
        if protocol is not None and self._state is ConnectionState.READY:
            with contextlib.suppress(AmiError, OSError):
                await self._send(protocol, actions.logoff(), response_timeout=1.0, check=False)
        if protocol is not None:
            protocol.close()
        self._protocol = None
        self._state = ConnectionState.CLOSED
        self._ready.set()  # wake wait_ready() callers: they see the client is closed
        for task in (*tasks, *self._background):
            task.cancel()
        await asyncio.gather(*tasks, *self._background, return_exceptions=True)
        for subscription in list(self._subscriptions):
            subscription.close()

    async def __aenter__(self) -> AmiClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise AmiError(f"AMI client {self.name!r} is closed")

    async def _open_session(self) -> None:
        loop = asyncio.get_running_loop()
        self._state = ConnectionState.CONNECTING
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, protocol = await loop.create_connection(
                    lambda: _AmiProtocol(self), self.host, self.port
                )
        except (OSError, TimeoutError) as exc:
            self._state = ConnectionState.DISCONNECTED
            self._last_error = f"cannot connect to {self.host}:{self.port}: {exc or 'timeout'}"
            raise AmiConnectError(self._last_error) from exc
        self._protocol = protocol
        self._state = ConnectionState.LOGGING_IN
        login = actions.login(self._username, self._secret, events=self._events_mask)
        try:
            reply = await self._send(
                protocol, login, response_timeout=self.connect_timeout, check=False
            )
        except (ConnectionLostError, AmiTimeoutError) as exc:
            protocol.abort()
            self._protocol = None
            self._state = ConnectionState.DISCONNECTED
            self._last_error = f"no answer to Login from {self.host}:{self.port}: {exc}"
            raise AmiConnectError(self._last_error) from exc
        self._banner = protocol.parser.banner
        if not reply.ok:
            protocol.close()
            self._protocol = None
            self._state = ConnectionState.LOGIN_FAILED
            self._last_error = f"login refused by {self.name}: {reply.message or 'error'}"
            log.error("AMI %s: %s", self.name, self._last_error)
            raise AmiLoginError(self._last_error)
        if protocol.closed:  # dropped right after a successful login
            self._state = ConnectionState.DISCONNECTED
            raise AmiConnectError(f"connection to {self.name} closed right after login")
        self._state = ConnectionState.READY
        self._last_error = None
        self._logins += 1
        self._lost.clear()
        self._ready.set()
        log.info("AMI %s: logged in to %s:%d (%s)", self.name, self.host, self.port, self._banner)
        if self._pinger is None or self._pinger.done():
            self._pinger = asyncio.create_task(self._keepalive(), name=f"ami-ping-{self.name}")
        await self._run_connected_hooks()

    async def _run_connected_hooks(self) -> None:
        for hook in list(self._connected_hooks):
            try:
                result = hook(self)
                if inspect.isawaitable(result):
                    await result
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("AMI %s: on_connected hook %r failed", self.name, hook)

    async def _supervise(self) -> None:
        attempt = 0
        policy = self.reconnect_policy
        while not self._closed:
            await self._lost.wait()
            if self._closed:
                return
            if policy.max_attempts is not None and attempt >= policy.max_attempts:
                log.error("AMI %s: giving up after %d reconnect attempts", self.name, attempt)
                return
            delay = policy.delay(attempt, self._rng)
            attempt += 1
            log.info("AMI %s: reconnecting in %.2f s (attempt %d)", self.name, delay, attempt)
            await asyncio.sleep(delay)
            try:
                await self._open_session()
            except AmiLoginError:
                continue  # already logged as an error; health says login_failed
            except AmiConnectError as exc:
                log.warning("AMI %s: %s", self.name, exc)
                continue
            attempt = 0

    async def _keepalive(self) -> None:
        while not self._closed:
            await asyncio.sleep(self.ping_interval)
            protocol = self._protocol
            if protocol is None or self._state is not ConnectionState.READY:
                continue
            try:
                await self.ping()
            except AmiTimeoutError:
                log.warning("AMI %s: Ping unanswered; dropping the connection", self.name)
                self._last_error = "Ping unanswered"
                protocol.abort()
            except AmiError as exc:
                log.debug("AMI %s: keepalive Ping failed: %s", self.name, exc)

    def _on_connection_lost(self, protocol: _AmiProtocol, exc: Exception | None) -> None:
        if protocol is not self._protocol:
            return
        self._protocol = None
        if self._closed:
            return
        if self._state is ConnectionState.READY:
            self._last_error = f"connection lost: {exc}" if exc else "connection closed by peer"
            log.warning("AMI %s: %s", self.name, self._last_error)
            self._state = ConnectionState.DISCONNECTED
            self._ready.clear()
            self._lost.set()

    def _on_garbage(self, reason: str, text: str) -> None:
        self._garbage += 1
        log.warning("AMI %s: skipped unparseable input (%s): %.200r", self.name, reason, text)

    # ------------------------------------------------------------------- health

    def health(self) -> AmiHealth:
        now = time.monotonic()
        age = None if self._last_event_at is None else now - self._last_event_at
        return AmiHealth(
            server=self.name,
            state=self._state,
            last_error=self._last_error,
            last_event_age_s=age,
            ping_rtt_s=self._ping_rtt,
            asterisk_banner=self._banner,
            reconnects=max(0, self._logins - 1),
            events_received=self._events_received,
            garbage_skipped=self._garbage,
        )

    @property
    def state(self) -> ConnectionState:
        return self._state

    # ------------------------------------------------------------------ actions

    async def send_action(
        self,
        action: AmiAction,
        *,
        response_timeout: float | None = None,
        check: bool = True,
    ) -> AmiReply:
        """Send one action and wait for its response (and event list, if any).

        Raises `NotConnectedError` when not logged in, `AmiTimeoutError`, `ConnectionLostError`
        (never re-sent), and `AmiActionError` on `Response: Error` when `check` is true.
        """
        protocol = self._protocol
        if protocol is None or self._state is not ConnectionState.READY or protocol.closed:
            raise NotConnectedError(
                f"AMI {self.name} is not connected ({self._state}); {action.name} not sent"
            )
        return await self._send(protocol, action, response_timeout=response_timeout, check=check)

    async def _send(
        self,
        protocol: _AmiProtocol,
        action: AmiAction,
        *,
        response_timeout: float | None,
        check: bool,
    ) -> AmiReply:
        limit = self.action_timeout if response_timeout is None else response_timeout
        pending = protocol.send(action)
        try:
            async with asyncio.timeout(limit):
                reply = await pending.future
        except TimeoutError:
            raise AmiTimeoutError(action.name, action.action_id, limit) from None
        finally:
            if not pending.future.done():
                pending.future.cancel()
            if protocol.pending.get(action.action_id) is pending:
                protocol.forget(action.action_id)
        if check and not reply.ok:
            raise AmiActionError(action.name, reply.response)
        return reply

    async def ping(self) -> float:
        """Round-trip time of a Ping, in seconds (also kept for `health()`)."""
        started = time.perf_counter()
        await self.send_action(actions.ping())
        self._ping_rtt = time.perf_counter() - started
        return self._ping_rtt

    async def originate(self, action: AmiAction) -> AmiMessage:
        """Send an Originate built by `actions.originate`; returns once Asterisk has queued it.

        The call's outcome arrives later as an `OriginateResponse` event with the same
        ActionID. If the connection drops before the queued response, this raises
        `ConnectionLostError`: the call may or may not exist, reconcile, do not re-send.
        """
        if action.name != "Originate" or (action.get("Async") or "").lower() != "true":
            raise ValueError("originate() takes an async Originate from actions.originate()")
        reply = await self.send_action(action)
        return reply.response

    async def hangup(self, channel: str, *, cause: int | None = None) -> AmiReply:
        """Hang up by channel name, uniqueid (the attempt id) or `/regex/`."""
        return await self.send_action(actions.hangup(channel, cause=cause))

    async def redirect(
        self, channel: str, *, context: str, exten: str, priority: int = 1
    ) -> AmiReply:
        return await self.send_action(
            actions.redirect(channel, context=context, exten=exten, priority=priority)
        )

    async def command(self, cli_command: str) -> str:
        """Run a CLI command and return its output text."""
        reply = await self.send_action(actions.command(cli_command))
        return command_output(reply.response)

    async def core_show_channels(self) -> list[CoreShowChannel]:
        """Every live channel on this server (to reconcile in-flight attempts)."""
        reply = await self.send_action(actions.core_show_channels())
        channels: list[CoreShowChannel] = []
        for message in reply.events:
            event = typed_event(message)
            if isinstance(event, CoreShowChannel):
                channels.append(event)
        return channels

    async def status(self, channel: str | None = None) -> list[AmiEvent]:
        reply = await self.send_action(actions.status(channel))
        return [typed_event(message) for message in reply.events]

    # ------------------------------------------------------------------- events

    def on_event(self, name: str, callback: EventCallback) -> Callable[[], None]:
        """Call `callback(event)` for each event of this name ("*" for all). Coroutine
        callbacks run as tasks. Returns a function that unsubscribes."""
        bucket = self._catch_all if name == "*" else self._callbacks.setdefault(name, [])
        bucket.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                bucket.remove(callback)

        return unsubscribe

    def on_connected(self, hook: ConnectedHook) -> None:
        """Run `hook(client)` after every successful login, first connect included, before
        other actions are sent by the caller: the place to reconcile in-flight attempts."""
        self._connected_hooks.append(hook)

    def subscribe(self, *names: str, maxsize: int | None = None) -> EventSubscription:
        """A queue of events (all, or only these names) to read with `async for`."""
        subscription = EventSubscription(
            frozenset(names) if names else None,
            maxsize or self._event_queue_size,
            self._subscriptions.remove,
        )
        self._subscriptions.append(subscription)
        return subscription

    def _dispatch(self, message: AmiMessage) -> None:
        self._last_event_at = time.monotonic()
        self._events_received += 1
        name = message.name
        named = self._callbacks.get(name)
        subscriptions = self._subscriptions
        if not named and not self._catch_all and not subscriptions:
            return
        event = typed_event(message)
        for callback in (*(named or ()), *self._catch_all):
            try:
                result = callback(event)
            except Exception:
                log.exception("AMI %s: callback for %s failed", self.name, name)
                continue
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._background.add(task)
                task.add_done_callback(self._callback_done)
        for subscription in subscriptions:
            if subscription.wants(name):
                subscription.push(event)

    def _callback_done(self, task: asyncio.Future[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("AMI %s: event callback failed", self.name, exc_info=task.exception())
