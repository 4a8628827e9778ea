"""The attempts this process has in flight, indexed for the pacing tick's questions."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dialer.runtime.attempt_state import AttemptState, check_move


@dataclass
class LiveAttempt:
    """One dial in memory. Times are on the runtime clock's monotonic scale."""

    id: str
    campaign_id: int
    lead_id: int | None
    number: str
    server: str
    caller_id: str
    lead_attempts: int  # the lead's attempt count including this one
    lead_status: str  # what the lead was before the claim (new/retry/callback)
    state: AttemptState = AttemptState.PENDING
    created: float = 0.0
    originated: float | None = None
    answered: float | None = None
    routing_since: float | None = None
    connected: float | None = None
    customer_left: float | None = None
    agent_ext: str | None = None
    amd_status: str | None = None
    amd_cause: str | None = None
    channel: str | None = None
    originate_reason: int | None = None
    hangup_cause: int | None = None
    outcome_observed: bool = False  # the pacer has been told how the dial went
    # Its OriginateResponse went to an AMI session that is gone (reconnect, restart): the
    # channel's Hangup decides how the dial ended.
    response_lost: bool = False
    reserved_agent: str | None = None  # preview/manual: the agent who dialled it takes it
    recording_path: str | None = None
    inbound: bool = False  # a caller to a blended campaign's number (id = its uniqueid)
    did: str = ""

    def __setattr__(self, name: str, value: Any) -> None:
        # An attempt in `LiveCalls` keeps its pool index current, whoever changes it.
        calls = self.__dict__.get("_calls")
        if calls is None or name not in _INDEXED:
            object.__setattr__(self, name, value)
            return
        old = self.__dict__.get(name, value)
        object.__setattr__(self, name, value)
        if old is not value:
            calls._changed(self, name, old)

    def move(self, new: AttemptState) -> None:
        check_move(self.id, self.state, new)
        self.state = new

    def key(self) -> tuple[int, str]:
        return (self.campaign_id, self.server)


_INDEXED = frozenset({"state", "campaign_id", "server"})
_RINGING = frozenset({AttemptState.PENDING, AttemptState.ORIGINATING, AttemptState.RINGING})


class _Pool:
    """The live attempts of one campaign on one server; the ringing ones in the order they
    were added (`ordered` False when one came back late), the other two states counted."""

    __slots__ = ("in_amd", "members", "ordered", "ringing", "waiting")

    def __init__(self) -> None:
        self.members: dict[str, LiveAttempt] = {}
        self.ringing: dict[str, LiveAttempt] = {}
        self.ordered = True
        self.in_amd: dict[str, LiveAttempt] = {}  # ANSWERED
        self.waiting: dict[str, LiveAttempt] = {}  # ROUTING

    def bucket(self, state: AttemptState) -> dict[str, LiveAttempt] | None:
        if state in _RINGING:
            return self.ringing
        if state is AttemptState.ANSWERED:
            return self.in_amd
        if state is AttemptState.ROUTING:
            return self.waiting
        return None

    def enter(self, a: LiveAttempt) -> None:
        bucket = self.bucket(a.state)
        if bucket is None:
            return
        if bucket is self.ringing and self.ringing:
            last = next(reversed(self.ringing.values()))
            if a.__dict__["_seq"] < last.__dict__["_seq"]:
                self.ordered = False
        bucket[a.id] = a

    def leave(self, a: LiveAttempt, state: AttemptState) -> None:
        bucket = self.bucket(state)
        if bucket is not None:
            bucket.pop(a.id, None)

    def ringing_in_order(self) -> list[LiveAttempt]:
        if not self.ordered:
            self.ringing = dict(sorted(self.ringing.items(), key=lambda kv: kv[1].__dict__["_seq"]))
            self.ordered = True
        return list(self.ringing.values())


class LiveCalls:
    """Live attempts by id, and by (campaign, server) pool for the pacing snapshot. Attempts
    report their own state changes (see `LiveAttempt.__setattr__`)."""

    def __init__(self) -> None:
        self._by_id: dict[str, LiveAttempt] = {}
        self._pools: dict[tuple[int, str], _Pool] = {}
        self._per_campaign: dict[int, int] = {}
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[LiveAttempt]:
        return iter(list(self._by_id.values()))

    def __contains__(self, attempt_id: str) -> bool:
        return attempt_id in self._by_id

    def add(self, attempt: LiveAttempt) -> None:
        if attempt.id in self._by_id:
            raise ValueError(f"attempt {attempt.id} is already live")
        self._by_id[attempt.id] = attempt
        object.__setattr__(attempt, "_seq", next(self._seq))
        object.__setattr__(attempt, "_calls", self)
        self._join(attempt)

    def get(self, attempt_id: str) -> LiveAttempt | None:
        return self._by_id.get(attempt_id)

    def discard(self, attempt_id: str) -> None:
        attempt = self._by_id.pop(attempt_id, None)
        if attempt is not None:
            self._leave(attempt, attempt.campaign_id, attempt.server)
            object.__setattr__(attempt, "_calls", None)

    def count(self, campaign_id: int) -> int:
        """How many of the campaign's attempts are live (any state, wrap-up included)."""
        return self._per_campaign.get(campaign_id, 0)

    def pool_view(self, campaign_id: int, server: str, now: float) -> tuple[list[float], int, int]:
        """(ringing_elapsed, in_amd, waiting_for_agent) for one campaign's pool on a server."""
        pool = self._pools.get((campaign_id, server))
        if pool is None:
            return [], 0, 0
        ringing = [max(0.0, now - (a.originated or a.created)) for a in pool.ringing_in_order()]
        return ringing, len(pool.in_amd), len(pool.waiting)

    # ------------------------------------------------------------------ indexes

    def _join(self, a: LiveAttempt) -> None:
        key = (a.campaign_id, a.server)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Pool()
        pool.members[a.id] = a
        pool.enter(a)
        self._per_campaign[a.campaign_id] = self._per_campaign.get(a.campaign_id, 0) + 1

    def _leave(self, a: LiveAttempt, campaign_id: int, server: str) -> None:
        key = (campaign_id, server)
        pool = self._pools.get(key)
        if pool is not None and pool.members.pop(a.id, None) is not None:
            pool.leave(a, a.state)
            if not pool.members:
                del self._pools[key]
            left = self._per_campaign[campaign_id] - 1
            if left:
                self._per_campaign[campaign_id] = left
            else:
                del self._per_campaign[campaign_id]

    def _changed(self, a: LiveAttempt, name: str, old: Any) -> None:
        if name == "state":
            pool = self._pools[(a.campaign_id, a.server)]
            if pool.bucket(old) is not pool.bucket(a.state):  # ORIGINATING -> RINGING: same
                pool.leave(a, old)
                pool.enter(a)
            return
        campaign_id = old if name == "campaign_id" else a.campaign_id
        server = old if name == "server" else a.server
        self._leave(a, campaign_id, server)
        self._join(a)
