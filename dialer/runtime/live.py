"""The attempts this process has in flight, indexed for the pacing tick's questions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

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

    def move(self, new: AttemptState) -> None:
        check_move(self.id, self.state, new)
        self.state = new

    def key(self) -> tuple[int, str]:
        return (self.campaign_id, self.server)


class LiveCalls:
    def __init__(self) -> None:
        self._by_id: dict[str, LiveAttempt] = {}

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

    def get(self, attempt_id: str) -> LiveAttempt | None:
        return self._by_id.get(attempt_id)

    def discard(self, attempt_id: str) -> None:
        self._by_id.pop(attempt_id, None)

    def pool_view(self, campaign_id: int, server: str, now: float) -> tuple[list[float], int, int]:
        """(ringing_elapsed, in_amd, waiting_for_agent) for one campaign's pool on a server."""
        ringing: list[float] = []
        in_amd = waiting = 0
        for a in self._by_id.values():
            if a.campaign_id != campaign_id or a.server != server:
                continue
            if a.state in (AttemptState.PENDING, AttemptState.ORIGINATING, AttemptState.RINGING):
                ringing.append(max(0.0, now - (a.originated or a.created)))
            elif a.state is AttemptState.ANSWERED:
                in_amd += 1
            elif a.state is AttemptState.ROUTING:
                waiting += 1
        return ringing, in_amd, waiting
