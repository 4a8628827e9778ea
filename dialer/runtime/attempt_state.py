"""The life of one call attempt, from the row written before dialling to its single end.

Every attempt ends in exactly one terminal state; the transitions below are the only ones
allowed, so a late or duplicated AMI event can never move a finished attempt again.
"""

from __future__ import annotations

from enum import StrEnum


class AttemptState(StrEnum):
    PENDING = "pending"  # row written, Originate not sent yet
    ORIGINATING = "originating"  # Originate sent, Asterisk has not queued it yet
    RINGING = "ringing"  # queued by Asterisk: dialling the callee
    ANSWERED = "answered"  # the callee answered (AMD may be running)
    ROUTING = "routing"  # AGI asked for an agent; inside the connect window
    CONNECTED = "connected"  # the customer is in an agent's bridge
    WRAPUP = "wrapup"  # the customer left; waiting for the agent's disposition
    # terminal states
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    CONGESTION = "congestion"
    FAILED = "failed"  # bad number, trunk failure, Originate refused, never queued
    MACHINE = "machine"  # answering machine handled (message left or hung up)
    ABANDONED = "abandoned"  # a live answer found no agent in the connect window
    DROPPED = "dropped"  # the callee hung up before the dialer could decide
    COMPLETED = "completed"  # talked to an agent and dispositioned
    LOST = "lost"  # in flight when the dialer lost track; reconciled as gone


TERMINAL: frozenset[AttemptState] = frozenset(
    {
        AttemptState.NO_ANSWER,
        AttemptState.BUSY,
        AttemptState.CONGESTION,
        AttemptState.FAILED,
        AttemptState.MACHINE,
        AttemptState.ABANDONED,
        AttemptState.DROPPED,
        AttemptState.COMPLETED,
        AttemptState.LOST,
    }
)

IN_FLIGHT: frozenset[AttemptState] = frozenset({AttemptState.ORIGINATING, AttemptState.RINGING})

_LIVE = {AttemptState.ANSWERED, AttemptState.ROUTING, AttemptState.CONNECTED, AttemptState.WRAPUP}

_ALLOWED: dict[AttemptState, frozenset[AttemptState]] = {
    AttemptState.PENDING: frozenset({AttemptState.ORIGINATING, AttemptState.FAILED}),
    AttemptState.ORIGINATING: frozenset(
        {
            AttemptState.RINGING,
            AttemptState.ANSWERED,
            AttemptState.NO_ANSWER,
            AttemptState.BUSY,
            AttemptState.CONGESTION,
            AttemptState.FAILED,
            AttemptState.LOST,
        }
    ),
    AttemptState.RINGING: frozenset(
        {
            AttemptState.ANSWERED,
            AttemptState.ROUTING,
            AttemptState.NO_ANSWER,
            AttemptState.BUSY,
            AttemptState.CONGESTION,
            AttemptState.FAILED,
            AttemptState.DROPPED,
            AttemptState.LOST,
        }
    ),
    AttemptState.ANSWERED: frozenset(
        {
            AttemptState.ROUTING,
            AttemptState.MACHINE,
            AttemptState.DROPPED,
            AttemptState.ABANDONED,
            AttemptState.LOST,
        }
    ),
    AttemptState.ROUTING: frozenset(
        {
            AttemptState.CONNECTED,
            AttemptState.MACHINE,
            AttemptState.ABANDONED,
            AttemptState.DROPPED,
            AttemptState.LOST,
        }
    ),
    AttemptState.CONNECTED: frozenset({AttemptState.WRAPUP, AttemptState.COMPLETED}),
    AttemptState.WRAPUP: frozenset({AttemptState.COMPLETED}),
}
for _t in TERMINAL:
    _ALLOWED[_t] = frozenset()


class InvalidAttemptTransition(ValueError):
    pass


def can_move(current: AttemptState, new: AttemptState) -> bool:
    return new in _ALLOWED[current]


def check_move(attempt_id: str, current: AttemptState, new: AttemptState) -> None:
    if new not in _ALLOWED[current]:
        raise InvalidAttemptTransition(f"attempt {attempt_id}: {current.value} -> {new.value}")


def is_live(state: AttemptState) -> bool:
    """A person (or a possible person) is on the line."""
    return state in _LIVE


# OriginateResponse Reason codes (Asterisk's AST_CONTROL_* values) to our outcome.
ORIGINATE_REASON_STATE: dict[int, AttemptState] = {
    4: AttemptState.ANSWERED,
    3: AttemptState.NO_ANSWER,
    5: AttemptState.BUSY,
    8: AttemptState.CONGESTION,
}


def state_for_originate_reason(reason: int) -> AttemptState:
    return ORIGINATE_REASON_STATE.get(reason, AttemptState.FAILED)


# Q.850 hangup causes that tell a failure apart when no OriginateResponse is seen.
HANGUP_CAUSE_STATE: dict[int, AttemptState] = {
    17: AttemptState.BUSY,
    18: AttemptState.NO_ANSWER,
    19: AttemptState.NO_ANSWER,
    21: AttemptState.FAILED,
    34: AttemptState.CONGESTION,
    38: AttemptState.CONGESTION,
    42: AttemptState.CONGESTION,
    1: AttemptState.FAILED,
    28: AttemptState.FAILED,
}
