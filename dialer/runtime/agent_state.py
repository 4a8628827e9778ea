"""Agent sessions and the board that picks who takes the next answered call.

Pure bookkeeping (time comes in as numbers) so the same code serves the live service,
tests and the load benchmark. States follow DESIGN.md:
offline -> connecting -> ready <-> paused(reason) -> talking -> wrapup -> ready.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


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

    def __setattr__(self, name: str, value: Any) -> None:
        # A session on a board keeps the board's indexes current, whoever changes it.
        board = self.__dict__.get("_board")
        if board is None or name not in _INDEXED:
            object.__setattr__(self, name, value)
            return
        old = self.__dict__.get(name, value)
        object.__setattr__(self, name, value)
        if old is not value:
            board._changed(self, name, old)

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


class _Pool:
    """The sessions of one campaign on one server, by extension, and the working ones by
    state. `members` keeps board order unless a session joined late (`ordered` False)."""

    __slots__ = ("members", "ordered", "ready", "talking", "wrapping")

    def __init__(self) -> None:
        self.members: dict[str, AgentSession] = {}
        self.ordered = True
        self.ready: dict[str, AgentSession] = {}
        self.talking: dict[str, AgentSession] = {}
        self.wrapping: dict[str, AgentSession] = {}

    def by_state(self, state: AgentState) -> dict[str, AgentSession] | None:
        if state is AgentState.READY:
            return self.ready
        if state is AgentState.TALKING:
            return self.talking
        if state is AgentState.WRAPUP:
            return self.wrapping
        return None

    def add(self, s: AgentSession) -> None:
        if self.members and _seq(s) < _seq(next(reversed(self.members.values()))):
            self.ordered = False
        self.members[s.extension] = s
        bucket = self.by_state(s.state)
        if bucket is not None:
            bucket[s.extension] = s

    def discard(self, s: AgentSession) -> None:
        self.members.pop(s.extension, None)
        for bucket in (self.ready, self.talking, self.wrapping):
            bucket.pop(s.extension, None)

    def in_order(self) -> list[AgentSession]:
        if not self.ordered:
            self.members = dict(sorted(self.members.items(), key=lambda kv: _seq(kv[1])))
            self.ordered = True
        return list(self.members.values())


def _seq(s: AgentSession) -> int:
    return s.__dict__["_seq"]


class AgentBoard:
    """All agent sessions of this process, indexed for the hot questions: who is the
    longest-ready agent for campaign C on server S, how many are ready, whose leg or call
    is this. Sessions report their own changes (see `AgentSession.__setattr__`), so the
    indexes hold whichever code changes a session; answers are those of a scan of all
    sessions in the order they were added."""

    def __init__(self) -> None:
        self._by_ext: dict[str, AgentSession] = {}
        self._seq = itertools.count()
        self._pools: dict[int, dict[str, _Pool]] = {}  # campaign -> server -> pool
        self._legs: dict[str | None, dict[str, AgentSession]] = {}
        self._attempts: dict[str | None, dict[str, AgentSession]] = {}

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
        object.__setattr__(session, "_seq", next(self._seq))
        object.__setattr__(session, "_board", self)
        self._join_pools(session)
        _put(self._legs, session.leg_uniqueid, session)
        _put(self._attempts, session.attempt_id, session)
        return session

    def remove(self, extension: str) -> AgentSession | None:
        session = self._by_ext.pop(extension, None)
        if session is not None:
            self._leave_pools(session, session.campaign_ids, session.server)
            _drop(self._legs, session.leg_uniqueid, session)
            _drop(self._attempts, session.attempt_id, session)
            object.__setattr__(session, "_board", None)
        return session

    def by_leg(self, uniqueid: str) -> AgentSession | None:
        return _first(self._legs.get(uniqueid))

    def by_attempt(self, attempt_id: str) -> AgentSession | None:
        return _first(self._attempts.get(attempt_id))

    def in_campaign(
        self, campaign_id: int, servers: Iterable[str] | None = None
    ) -> list[AgentSession]:
        pools = self._pools_of(campaign_id, servers)
        if len(pools) == 1:
            return pools[0].in_order()
        return sorted((s for p in pools for s in p.members.values()), key=_seq)

    def longest_ready(
        self,
        campaign_id: int,
        servers: Iterable[str] | None = None,
        *,
        include_capped: bool = False,
    ) -> AgentSession | None:
        """The agent idle the longest: the fair choice (VICIdial's "longest wait"). Agents
        at their daily cap only with `include_capped` (inbound: the cap limits dialing)."""
        best: AgentSession | None = None
        best_since = 0.0
        for pool in self._pools_of(campaign_id, servers):
            for s in pool.ready.values():
                since = s.since
                if best is not None and since > best_since:
                    continue
                if s.at_daily_cap and not include_capped:
                    continue
                # equal times: the one added to the board first, as a scan in order finds it
                if best is None or since < best_since or _seq(s) < _seq(best):
                    best, best_since = s, since
        return best

    def counts(
        self, campaign_id: int, now: float, servers: Iterable[str] | None = None
    ) -> CampaignAgentCounts:
        pools = self._pools_of(campaign_id, servers)
        # an agent who may take no more calls today is not available
        ready = sum(1 for p in pools for s in p.ready.values() if not s.at_daily_cap)
        talking = _in_order([p.talking for p in pools])
        wrapping = _in_order([p.wrapping for p in pools])
        return CampaignAgentCounts(
            ready + len(talking) + len(wrapping),
            ready,
            [max(0.0, now - s.since) for s in talking],
            [max(0.0, now - s.since) for s in wrapping],
        )

    # ------------------------------------------------------------------ indexes

    def _pools_of(self, campaign_id: int, servers: Iterable[str] | None) -> list[_Pool]:
        by_server = self._pools.get(campaign_id)
        if not by_server:
            return []
        if servers is None:
            return list(by_server.values())
        return [p for name in dict.fromkeys(servers) if (p := by_server.get(name)) is not None]

    def _join_pools(self, s: AgentSession) -> None:
        for cid in s.campaign_ids:
            by_server = self._pools.setdefault(cid, {})
            pool = by_server.get(s.server)
            if pool is None:
                pool = by_server[s.server] = _Pool()
            pool.add(s)

    def _leave_pools(self, s: AgentSession, campaign_ids: Iterable[int], server: str) -> None:
        for cid in campaign_ids:
            by_server = self._pools.get(cid)
            pool = by_server.get(server) if by_server else None
            if pool is None:
                continue
            pool.discard(s)
            if not pool.members:
                del by_server[server]
                if not by_server:
                    del self._pools[cid]

    def _changed(self, s: AgentSession, name: str, old: Any) -> None:
        if name == "state":
            for cid in s.campaign_ids:
                pool = self._pools[cid][s.server]
                before = pool.by_state(old)
                if before is not None:
                    before.pop(s.extension, None)
                after = pool.by_state(s.state)
                if after is not None:
                    after[s.extension] = s
        elif name == "attempt_id":
            _drop(self._attempts, old, s)
            _put(self._attempts, s.attempt_id, s)
        elif name == "leg_uniqueid":
            _drop(self._legs, old, s)
            _put(self._legs, s.leg_uniqueid, s)
        elif name == "campaign_ids":
            self._leave_pools(s, old, s.server)
            self._join_pools(s)
        elif name == "server":
            self._leave_pools(s, s.campaign_ids, old)
            self._join_pools(s)


_INDEXED = frozenset({"state", "attempt_id", "leg_uniqueid", "campaign_ids", "server"})


def _put(index: dict[Any, dict[str, AgentSession]], key: Any, s: AgentSession) -> None:
    index.setdefault(key, {})[s.extension] = s


def _drop(index: dict[Any, dict[str, AgentSession]], key: Any, s: AgentSession) -> None:
    bucket = index.get(key)
    if bucket is not None and bucket.get(s.extension) is s:
        del bucket[s.extension]
        if not bucket:
            del index[key]


def _first(bucket: dict[str, AgentSession] | None) -> AgentSession | None:
    """The earliest added of the sessions sharing a key (normally there is one)."""
    if not bucket:
        return None
    if len(bucket) == 1:
        return next(iter(bucket.values()))
    return min(bucket.values(), key=_seq)


def _in_order(buckets: list[dict[str, AgentSession]]) -> list[AgentSession]:
    return sorted((s for b in buckets for s in b.values()), key=_seq)
