"""What the control plane may ask of the running dialer. The API mutates stored state through
`dialer.services`; anything that touches live calls or agents goes through this protocol,
which the runtime implements (and tests fake)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from dialer.runtime.bus import EventBus


class ControlError(Exception):
    """A request the runtime refuses, with a message fit for the API's 409/422 answer."""


@dataclass(frozen=True)
class AgentView:
    agent_id: int
    extension: str
    name: str
    server: str
    state: str
    since: datetime
    pause_reason: str | None
    attempt_id: str | None
    campaign_ids: list[int]
    calls_today: int
    daily_cap: int | None


@dataclass(frozen=True)
class CurrentCall:
    """The call an agent is on or wrapping up, for the agent console."""

    attempt_id: str
    campaign_id: int
    lead_id: int | None
    state: str
    connected_at: datetime | None
    direction: str = "outbound"  # "inbound": a caller to one of the campaign's numbers
    number: str = ""  # the number dialled, or the caller's
    did: str = ""  # inbound: the number the caller dialled


@dataclass(frozen=True)
class PreviewLead:
    lead_id: int
    campaign_id: int


class MonitorMode(StrEnum):
    """How a supervisor joins an agent's call (`ChanSpy` options q, E, S plus w / B)."""

    LISTEN = "listen"  # hears agent and customer, heard by nobody
    WHISPER = "whisper"  # also talks to the agent only (coaching)
    BARGE = "barge"  # talks to agent and customer


@dataclass(frozen=True)
class MonitorSession:
    """A supervisor's phone being rung into a spy of an agent's call."""

    monitor_id: str  # the supervisor leg's ChannelId (and Originate ActionID)
    agent_id: int
    agent_extension: str
    mode: str
    supervisor_extension: str
    spied_channel: str  # the agent's nailed-up leg: whisper reaches the agent only
    attempt_id: str | None
    campaign_id: int | None
    server: str


@dataclass(frozen=True)
class ComponentHealth:
    name: str
    ok: bool
    detail: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class RuntimeControl(Protocol):
    bus: EventBus

    # campaigns
    async def campaign_changed(self, campaign_id: int) -> None:
        """Reload a campaign's settings (status, pacing, schedule...) after the API saved them."""
        ...

    def campaign_stats(self, campaign_id: int) -> dict[str, Any] | None:
        """Live numbers of a running campaign (dials, answers, abandons, occupancy, pacer)."""
        ...

    # agents
    def agents(self) -> list[AgentView]: ...

    async def agent_login(self, agent_id: int) -> AgentView:
        """Ring the agent's phone into its bridge (state `connecting`)."""
        ...

    async def agent_logout(self, agent_id: int) -> None: ...

    async def agent_pause(self, agent_id: int, reason: str) -> AgentView: ...

    async def agent_ready(self, agent_id: int) -> AgentView: ...

    def current_call(self, agent_id: int) -> CurrentCall | None: ...

    async def submit_disposition(
        self,
        agent_id: int,
        code: str,
        *,
        notes: str = "",
        callback_at: datetime | None = None,
        callback_agent_only: bool = False,
        pause_after: str | None = None,
    ) -> None:
        """Close the agent's current attempt; raises ControlError if there is none."""
        ...

    # preview and manual dialing
    async def preview_next(self, agent_id: int) -> PreviewLead | None:
        """Hold the next callable lead of the agent's preview campaign for it to look at."""
        ...

    async def preview_dial(self, agent_id: int) -> CurrentCall: ...

    async def preview_skip(self, agent_id: int) -> None: ...

    async def manual_dial(
        self, agent_id: int, number: str, campaign_id: int | None = None
    ) -> CurrentCall:
        """Dial a typed number for the agent; compliance applies as for any dial."""
        ...

    async def start_recording(self, agent_id: int) -> str:
        """Record the agent's current call (campaigns recording on demand); the file path."""
        ...

    async def monitor_agent(
        self, agent_id: int, mode: MonitorMode, supervisor_extension: str
    ) -> MonitorSession:
        """Ring the supervisor's phone into a listen / whisper / barge of the agent's current
        call; raises ControlError when the agent is not on a call."""
        ...

    def health(self) -> list[ComponentHealth]:
        """Database, each AMI server, MQTT: what /readyz reports."""
        ...
