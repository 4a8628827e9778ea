"""Simulated channels and conference bridges, and the header blocks real Asterisk puts in
every channel event (same names, same order)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pbxsim.amiwire import Headers

if TYPE_CHECKING:
    from collections.abc import Callable

    from pbxsim.population import CalleeBehaviour

STATE_DESC = {0: "Down", 4: "Ring", 5: "Ringing", 6: "Up", 7: "Busy"}
DOWN, RING, RINGING, UP, BUSY = 0, 4, 5, 6, 7

CAUSE_TEXT = {
    0: "Unknown",
    16: "Normal Clearing",
    17: "User busy",
    19: "User alerting, no answer",
    21: "Call Rejected",
    34: "Circuit/channel congestion",
}


class ChannelHungUp(Exception):
    """The channel was hung up while an application was running."""


class ChannelRedirected(Exception):
    """An AMI Redirect moved the channel elsewhere in the dialplan."""

    def __init__(self, context: str, exten: str, priority: int) -> None:
        super().__init__(f"{context},{exten},{priority}")
        self.target = (context, exten, priority)


@dataclass(eq=False)
class Channel:
    name: str
    uniqueid: str
    linkedid: str
    tech: str  # "Local" or "PJSIP"
    context: str
    exten: str
    created_at: float
    state: int = DOWN
    priority: int = 1
    caller_num: str = "<unknown>"
    caller_name: str = "<unknown>"
    connected_num: str = "<unknown>"
    connected_name: str = "<unknown>"
    variables: dict[str, str] = field(default_factory=dict)
    peer: Channel | None = None  # the other half of a Local pair
    application: str = ""
    app_data: str = ""
    bridge: Bridge | None = None
    hungup: bool = False  # a hangup was requested
    gone: bool = False  # Hangup event sent
    hangup_cause: int = 0
    dtmf_key: str = ""  # whose DTMF answers GET DATA (agent extension or callee number)
    is_agent: bool = False
    behaviour: CalleeBehaviour | None = None
    answered_at: float | None = None
    bridged_at: float | None = None
    connected_at: float | None = None  # a customer first shared a bridge with an agent
    mixmonitor: bool = False
    soft_sent: bool = False  # SoftHangupRequest already emitted
    keep_zero_cause: bool = False  # hung up by AGI HANGUP: Asterisk reports cause 0
    # Set while a FastAGI session runs on the channel: told at once when it is hung up.
    agi_hangup: Callable[[], None] | None = None
    _wake: asyncio.Future[None] | None = None
    _redirect: tuple[str, str, int] | None = None

    @property
    def is_local_two(self) -> bool:
        return self.name.endswith(";2")

    def headers(self, prefix: str = "") -> Headers:
        return [
            (f"{prefix}Channel", self.name),
            (f"{prefix}ChannelState", str(self.state)),
            (f"{prefix}ChannelStateDesc", STATE_DESC.get(self.state, "Unknown")),
            (f"{prefix}CallerIDNum", self.caller_num),
            (f"{prefix}CallerIDName", self.caller_name),
            (f"{prefix}ConnectedLineNum", self.connected_num),
            (f"{prefix}ConnectedLineName", self.connected_name),
            (f"{prefix}Language", "en"),
            (f"{prefix}AccountCode", ""),
            (f"{prefix}Context", self.context),
            (f"{prefix}Exten", self.exten),
            (f"{prefix}Priority", str(self.priority)),
            (f"{prefix}Uniqueid", self.uniqueid),
            (f"{prefix}Linkedid", self.linkedid),
        ]

    # -- waiting, interrupted by hangup or redirect -------------------------------------------

    def interrupt(self) -> None:
        if self.hungup and self.agi_hangup is not None:
            self.agi_hangup()
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    def request_redirect(self, context: str, exten: str, priority: int) -> None:
        self._redirect = (context, exten, priority)
        self.interrupt()

    def check(self) -> None:
        """Raise if a hangup or redirect is pending, so the dialplan stops where it is."""
        if self.hungup:
            raise ChannelHungUp
        if self._redirect is not None:
            target, self._redirect = self._redirect, None
            raise ChannelRedirected(*target)

    async def pause(self, real_seconds: float | None) -> None:
        """Sleep (None: forever) unless hung up or redirected first, which raises."""
        self.check()
        loop = asyncio.get_running_loop()
        self._wake = loop.create_future()
        handle = None
        if real_seconds is not None:
            handle = loop.call_later(real_seconds, _resolve, self._wake)
        try:
            await self._wake
        finally:
            if handle is not None:
                handle.cancel()
            self._wake = None
        self.check()


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


@dataclass(eq=False)
class Bridge:
    """A ConfBridge conference (one per agent, `agent-<ext>`)."""

    name: str
    uniqueid: str
    announcer: str  # the CBAnn channel ConfBridge adds, counted in BridgeNumChannels
    members: list[Channel] = field(default_factory=list)

    def headers(self, num_channels: int) -> Headers:
        return [
            ("BridgeUniqueid", self.uniqueid),
            ("BridgeType", "base"),
            ("BridgeTechnology", "softmix"),
            ("BridgeCreator", "ConfBridge"),
            ("BridgeName", self.name),
            ("BridgeNumChannels", str(num_channels)),
            ("BridgeVideoSourceMode", "none"),
        ]
