"""Agent sessions and the board that picks who takes the next answered call.

Pure bookkeeping (time comes in as numbers) so the same code serves the live service,
tests and the load benchmark. States follow DESIGN.md:
offline -> connecting -> ready <-> paused(reason) -> talking -> wrapup -> ready.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class AgentState(StrEnum):
    OFFLINE = "offline"
    CONNECTING = "connecting"
    READY = "ready"
    PAUSED = "paused"
    TALKING = "talking"
    WRAPUP = "wrapup"


_ALLOWED: dict[AgentState, frozenset[AgentState]] = {
    AgentState.OFFLINE: frozenset({AgentState.CONNECTING}),
    AgentState.CONNECTING: frozenset({AgentState.READY, AgentState.PAUSED, AgentState.OFFLINE}),
    AgentState.READY: frozenset({AgentState.PAUSED, AgentState.TALKING, AgentState.OFFLINE}),
    AgentState.PAUSED: frozenset({AgentState.READY, AgentState.OFFLINE}),
    # talking -> ready: an agent reserved for a call whose customer hung up before joining
    AgentState.TALKING: frozenset({AgentState.WRAPUP, AgentState.READY, AgentState.OFFLINE}),
    AgentState.WRAPUP: frozenset({AgentState.READY, AgentState.PAUSED, AgentState.OFFLINE}),
}


class InvalidAgentTransition(ValueError):
    pass


@dataclass
class AgentSession:
    """One logged-in (or logging-in) agent; `since` is when the current state began."""

    agent_id: int
    extension: str
    server: str
    campaign_ids: frozenset[int]
    state: AgentState = AgentState.OFFLINE
    since: float = 0.0
    pause_reason: str | None = None
    attempt_id: str | None = None  # the call the agent is on or wrapping up
    leg_uniqueid: str | None = None  # the nailed-up agent leg
    calls_today: int = 0
    daily_cap: int | None = None
    history: list[tuple[float, AgentState, str | None]] = field(default_factory=list)

    @property
    def at_daily_cap(self) -> bool:
        return self.daily_cap is not None and self.calls_today >= self.daily_cap

    def transition(self, new: AgentState, now: float, *, reason: str | None = None) -> None:
        if new not in _ALLOWED[self.state]:
            raise InvalidAgentTransition(
                f"agent {self.extension}: {self.state.value} -> {new.value} is not allowed"
            )
        if new is AgentState.PAUSED and not reason:
            raise InvalidAgentTransition(f"agent {self.extension}: a pause needs a reason")
        self.history.append((now, new, reason))
        if len(self.history) > 64:  # enough for the board; the database keeps the rest
            del self.history[:32]
        self.state = new
        self.since = now
        self.pause_reason = reason if new is AgentState.PAUSED else None
        if new in (AgentState.READY, AgentState.PAUSED, AgentState.OFFLINE):
            self.attempt_id = None


@dataclass(frozen=True)
class CampaignAgentCounts:
    """What the pacer needs to know about one campaign's agents at one moment."""

    logged_in: int
    ready: int
    talking_elapsed: list[float]
    wrapping_elapsed: list[float]


class AgentBoard:
    """All agent sessions of this process, indexed for the two hot questions:
    who is the longest-ready agent for campaign C on server S, and how many are ready."""

    def __init__(self) -> None:
        self._by_ext: dict[str, AgentSession] = {}

    def __len__(self) -> int:
        return len(self._by_ext)

    def __iter__(self):
        return iter(self._by_ext.values())

    def get(self, extension: str) -> AgentSession | None:
        return self._by_ext.get(extension)

    def add(self, session: AgentSession) -> AgentSession:
        if session.extension in self._by_ext:
            raise ValueError(f"agent {session.extension} already has a session")
        self._by_ext[session.extension] = session
        return session

    def remove(self, extension: str) -> AgentSession | None:
        return self._by_ext.pop(extension, None)

    def by_leg(self, uniqueid: str) -> AgentSession | None:
        for s in self._by_ext.values():
            if s.leg_uniqueid == uniqueid:
                return s
        return None

    def by_attempt(self, attempt_id: str) -> AgentSession | None:
        for s in self._by_ext.values():
            if s.attempt_id == attempt_id:
                return s
        return None

    def in_campaign(
        self, campaign_id: int, servers: Iterable[str] | None = None
    ) -> list[AgentSession]:
        allowed = set(servers) if servers is not None else None
        return [
            s
            for s in self._by_ext.values()
            if campaign_id in s.campaign_ids and (allowed is None or s.server in allowed)
        ]

    def longest_ready(
        self, campaign_id: int, servers: Iterable[str] | None = None
    ) -> AgentSession | None:
        """The agent idle the longest: the fair choice (VICIdial's "longest wait")."""
        best: AgentSession | None = None
        for s in self.in_campaign(campaign_id, servers):
            if (
                s.state is AgentState.READY
                and not s.at_daily_cap
                and (best is None or s.since < best.since)
            ):
                best = s
        return best

    def counts(
        self, campaign_id: int, now: float, servers: Iterable[str] | None = None
    ) -> CampaignAgentCounts:
        logged_in = ready = 0
        talking: list[float] = []
        wrapping: list[float] = []
        for s in self.in_campaign(campaign_id, servers):
            if s.state in (AgentState.OFFLINE, AgentState.CONNECTING, AgentState.PAUSED):
                continue
            if s.at_daily_cap and s.state is AgentState.READY:
                continue  # an agent who may take no more calls today is not available
            logged_in += 1
            if s.state is AgentState.READY:
                ready += 1
            elif s.state is AgentState.TALKING:
                talking.append(max(0.0, now - s.since))
            elif s.state is AgentState.WRAPUP:
                wrapping.append(max(0.0, now - s.since))
        return CampaignAgentCounts(logged_in, ready, talking, wrapping)
