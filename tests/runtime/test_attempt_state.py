import pytest

from dialer.runtime.attempt_state import (
    TERMINAL,
    AttemptState,
    InvalidAttemptTransition,
    can_move,
    check_move,
    state_for_originate_reason,
)


def test_terminal_states_never_move():
    for t in TERMINAL:
        for s in AttemptState:
            assert not can_move(t, s)


def test_every_non_terminal_state_can_reach_an_end():
    # from every state some path leads to a terminal state
    for start in AttemptState:
        seen, todo = {start}, [start]
        while todo:
            cur = todo.pop()
            for nxt in AttemptState:
                if can_move(cur, nxt) and nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        assert seen & TERMINAL or start in TERMINAL


def test_reason_codes_from_the_recordings():
    assert state_for_originate_reason(4) is AttemptState.ANSWERED
    assert state_for_originate_reason(3) is AttemptState.NO_ANSWER
    assert state_for_originate_reason(5) is AttemptState.BUSY
    assert state_for_originate_reason(8) is AttemptState.CONGESTION
    assert state_for_originate_reason(0) is AttemptState.FAILED


def test_check_move_names_the_attempt():
    with pytest.raises(InvalidAttemptTransition, match="att-9"):
        check_move("att-9", AttemptState.COMPLETED, AttemptState.RINGING)
