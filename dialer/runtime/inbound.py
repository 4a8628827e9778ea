"""Inbound blending: which numbers a campaign answers, how long a caller may queue, how many
ready agents outbound dialing must leave free, and the service-level counters.

A blended campaign's agents take both kinds of call. Inbound callers chose to call, so they
go first: a ready agent is offered to the longest-waiting inbound caller before any outbound
live answer, and the pacer sees queued callers as calls that will take agents
(`Snapshot.waiting_for_agent`) and reserved agents as not there at all.
"""

from __future__ import annotations

import logging
import math
import re
from collections import deque
from dataclasses import dataclass, field, fields
from typing import Any

from dialer.runtime.attempt_state import AttemptState

log = logging.getLogger(__name__)

_DID = re.compile(r"\+?[0-9]{2,20}")

# How an inbound call ended, by the attempt state that ended it.
INBOUND_OUTCOME = {
    AttemptState.COMPLETED: "answered",
    AttemptState.DROPPED: "abandoned",  # the caller hung up before an agent took the call
    AttemptState.ABANDONED: "overflow",  # nobody free within max_wait_s: the overflow message
    AttemptState.LOST: "lost",
}


@dataclass(frozen=True)
class InboundSettings:
    """`campaigns.inbound`. No DIDs: the campaign takes no inbound calls."""

    dids: tuple[str, ...] = ()
    # Ready agents outbound dialing leaves free for callers; None: as many as callers are
    # expected within an outbound call's ring time (`auto_reserve`).
    reserved_agents: int | None = None
    max_wait_s: float = 60.0  # then the overflow message
    service_level_s: float = 15.0  # answered within this (about 3 rings) counts as in target
    overflow_message: str = "dialer-inbound-overflow"
    closed_message: str = "dialer-inbound-closed"  # no agent logged in at all

    @property
    def enabled(self) -> bool:
        return bool(self.dids)

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> InboundSettings:
        """Lenient: the API validated what was stored; unknown keys are ignored."""
        raw = dict(raw or {})
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        dids = []
        for did in raw.get("dids") or ():
            try:
                dids.append(normalise_did(did))
            except ValueError:
                log.warning("inbound DID %r ignored: not a number", did)
        values["dids"] = tuple(dids)
        return cls(**values)


def normalise_did(did: str) -> str:
    """A DID as the dialplan hands it over (`${EXTEN}`), without spaces or dashes."""
    text = re.sub(r"[\s().-]", "", str(did))
    if not _DID.fullmatch(text):
        raise ValueError(f"not a phone number a trunk would deliver: {did!r}")
    return text


# About how long an outbound call rings before it is answered: callers arriving in that time
# take agents the pacer counted for the answers to come.
RESERVE_HORIZON_S = 20.0
ARRIVAL_WINDOW_S = 900.0  # the arrival rate is measured over the last 15 minutes


@dataclass
class ArrivalRate:
    """Callers per second over the last `ARRIVAL_WINDOW_S` (or since the first one)."""

    times: deque[float] = field(default_factory=deque)
    started: float | None = None

    def arrived(self, now: float) -> None:
        if self.started is None:
            self.started = now
        self.times.append(now)

    def per_second(self, now: float) -> float:
        while self.times and self.times[0] < now - ARRIVAL_WINDOW_S:
            self.times.popleft()
        if self.started is None or not self.times:
            return 0.0
        span = min(ARRIVAL_WINDOW_S, max(60.0, now - self.started))
        return len(self.times) / span


def auto_reserve(rate_per_s: float) -> int:
    """Agents to keep free: the callers expected within an outbound call's ring time,
    rounded up (one as soon as callers come at all)."""
    return math.ceil(rate_per_s * RESERVE_HORIZON_S - 1e-9) if rate_per_s > 0 else 0


@dataclass
class InboundStats:
    """Running inbound totals since this process took the campaign.

    Service level is the usual call-centre one: calls answered within the target time over
    calls offered, leaving out callers who hung up within the target (they gave no chance).
    """

    offered: int = 0
    answered: int = 0
    answered_in_target: int = 0
    abandoned: int = 0
    abandoned_in_target: int = 0
    overflow: int = 0
    closed: int = 0  # arrived with no agent logged in
    wait_seconds: float = 0.0  # total wait of answered calls (for the average speed of answer)
    longest_wait_s: float = 0.0
    talk_seconds: float = 0.0
    reserved_now: int = 0  # agents held back from outbound at the last pacing snapshot

    def answered_after(self, wait: float, target: float) -> None:
        self.answered += 1
        self.answered_in_target += wait <= target
        self.wait_seconds += wait
        self.longest_wait_s = max(self.longest_wait_s, wait)

    def abandoned_after(self, wait: float, target: float) -> None:
        self.abandoned += 1
        self.abandoned_in_target += wait <= target
        self.longest_wait_s = max(self.longest_wait_s, wait)

    def as_dict(self, waiting: int = 0) -> dict[str, Any]:
        d: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        counted = self.answered + self.overflow + self.abandoned - self.abandoned_in_target
        d["service_level"] = self.answered_in_target / counted if counted else None
        d["average_speed_of_answer_s"] = self.wait_seconds / self.answered if self.answered else 0
        d["waiting"] = waiting
        return d
