import pytest

from dialer.runtime.agent_state import (
    AgentBoard,
    AgentSession,
    AgentState,
    InvalidAgentTransition,
)


def _agent(ext: str, campaigns=(1,), server="pbx1", cap=None) -> AgentSession:
    return AgentSession(
        agent_id=int(ext),
        extension=ext,
        server=server,
        campaign_ids=frozenset(campaigns),
        daily_cap=cap,
    )


def _login(a: AgentSession, now: float) -> None:
    a.transition(AgentState.CONNECTING, now)
    a.transition(AgentState.READY, now)


def test_full_cycle_and_illegal_moves():
    a = _agent("1001")
    with pytest.raises(InvalidAgentTransition):
        a.transition(AgentState.TALKING, 0)
    _login(a, 1)
    with pytest.raises(InvalidAgentTransition, match="reason"):
        a.transition(AgentState.PAUSED, 2)
    a.transition(AgentState.PAUSED, 2, reason="break")
    assert a.pause_reason == "break"
    with pytest.raises(InvalidAgentTransition):
        a.transition(AgentState.TALKING, 3)
    a.transition(AgentState.READY, 3)
    a.attempt_id = "att-1"
    a.transition(AgentState.TALKING, 4)
    a.transition(AgentState.WRAPUP, 10)
    assert a.attempt_id == "att-1"  # wrap-up still belongs to the call
    a.transition(AgentState.READY, 15)
    assert a.attempt_id is None and a.pause_reason is None


def test_longest_ready_is_fair_and_respects_campaign_server_and_cap():
    board = AgentBoard()
    a, b, c, d = (_agent("1"), _agent("2"), _agent("3", campaigns=(2,)), _agent("4", server="pbx2"))
    for i, x in enumerate((a, b, c, d)):
        board.add(x)
        _login(x, 10 - i)  # d logged in earliest, a latest
    assert board.longest_ready(1).extension == "4"
    assert board.longest_ready(1, servers=["pbx1"]).extension == "2"
    assert board.longest_ready(2).extension == "3"
    b.daily_cap, b.calls_today = 200, 200
    assert board.longest_ready(1, servers=["pbx1"]).extension == "1"
    with pytest.raises(ValueError):
        board.add(_agent("1"))


def test_counts_for_pacer_skip_paused_and_capped():
    board = AgentBoard()
    agents = [board.add(_agent(str(i))) for i in range(5)]
    for x in agents:
        _login(x, 0)
    agents[0].transition(AgentState.PAUSED, 1, reason="lunch")
    agents[1].transition(AgentState.TALKING, 2)
    agents[2].transition(AgentState.TALKING, 3)
    agents[2].transition(AgentState.WRAPUP, 8)
    agents[3].daily_cap, agents[3].calls_today = 1, 1
    c = board.counts(1, now=10)
    assert c.logged_in == 3  # paused and capped-and-idle agents do not count
    assert c.ready == 1
    assert c.talking_elapsed == [8]
    assert c.wrapping_elapsed == [2]
