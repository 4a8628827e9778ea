"""The indexes of `AgentBoard` and `LiveCalls` give exactly the answers of a scan over all
sessions/attempts in the order they were added, whatever changes the sessions and attempts
(transitions, direct attribute writes, removals), in any order."""

from __future__ import annotations

import random

import pytest

from dialer.runtime.agent_state import (
    _ALLOWED,
    AgentBoard,
    AgentSession,
    AgentState,
    CampaignAgentCounts,
)
from dialer.runtime.attempt_state import AttemptState
from dialer.runtime.live import LiveAttempt, LiveCalls

CAMPAIGNS = (1, 2, 3)
SERVERS = ("pbx1", "pbx2")
SERVER_QUERIES = (None, ["pbx1"], ["pbx2"], ["pbx1", "pbx2"], ["pbx9"], ["pbx2", "pbx2"])

# ---------------------------------------------------------------------- reference scans
# The board's answers before it had indexes: a scan of every session in board order.


def _scan_in_campaign(board: AgentBoard, cid: int, servers) -> list[AgentSession]:
    allowed = set(servers) if servers is not None else None
    return [s for s in board if cid in s.campaign_ids and (allowed is None or s.server in allowed)]


def _scan_longest_ready(board: AgentBoard, cid: int, servers) -> AgentSession | None:
    best = None
    for s in _scan_in_campaign(board, cid, servers):
        ready = s.state is AgentState.READY and not s.at_daily_cap
        if ready and (best is None or s.since < best.since):
            best = s
    return best


def _scan_counts(board: AgentBoard, cid: int, now: float, servers) -> CampaignAgentCounts:
    logged_in = ready = 0
    talking: list[float] = []
    wrapping: list[float] = []
    for s in _scan_in_campaign(board, cid, servers):
        if s.state in (AgentState.OFFLINE, AgentState.CONNECTING, AgentState.PAUSED):
            continue
        if s.at_daily_cap and s.state is AgentState.READY:
            continue
        logged_in += 1
        if s.state is AgentState.READY:
            ready += 1
        elif s.state is AgentState.TALKING:
            talking.append(max(0.0, now - s.since))
        elif s.state is AgentState.WRAPUP:
            wrapping.append(max(0.0, now - s.since))
    return CampaignAgentCounts(logged_in, ready, talking, wrapping)


def _scan_by(board: AgentBoard, attr: str, value) -> AgentSession | None:
    return next((s for s in board if getattr(s, attr) == value), None)


def _scan_pool_view(calls: LiveCalls, cid: int, server: str, now: float):
    ringing: list[float] = []
    in_amd = waiting = 0
    for a in calls:
        if a.campaign_id != cid or a.server != server:
            continue
        if a.state in (AttemptState.PENDING, AttemptState.ORIGINATING, AttemptState.RINGING):
            ringing.append(max(0.0, now - (a.originated or a.created)))
        elif a.state is AttemptState.ANSWERED:
            in_amd += 1
        elif a.state is AttemptState.ROUTING:
            waiting += 1
    return ringing, in_amd, waiting


# ---------------------------------------------------------------------- the board


def _check_board(board: AgentBoard, rng: random.Random, now: float, legs, attempts) -> None:
    for cid in (*CAMPAIGNS, 99):
        for servers in SERVER_QUERIES:
            assert board.in_campaign(cid, servers) == _scan_in_campaign(board, cid, servers)
            assert board.longest_ready(cid, servers) is _scan_longest_ready(board, cid, servers)
            assert board.counts(cid, now, servers) == _scan_counts(board, cid, now, servers)
    for leg in (*legs, None, "", "nobody"):
        assert board.by_leg(leg) is _scan_by(board, "leg_uniqueid", leg)
    for attempt in (*attempts, None, "nothing"):
        assert board.by_attempt(attempt) is _scan_by(board, "attempt_id", attempt)


def _random_step(board: AgentBoard, rng: random.Random, now: float, legs, attempts) -> None:
    sessions = list(board)
    roll = rng.random()
    if roll < 0.12 or not sessions:
        ext = str(rng.randint(1, 40))
        if board.get(ext) is None:
            board.add(
                AgentSession(
                    agent_id=int(ext),
                    extension=ext,
                    server=rng.choice(SERVERS),
                    campaign_ids=frozenset(rng.sample(CAMPAIGNS, rng.randint(0, 3))),
                    state=rng.choice(list(AgentState)),
                    since=rng.choice((0.0, now)),
                    leg_uniqueid=rng.choice((None, *legs)),
                    attempt_id=rng.choice((None, *attempts)),
                    daily_cap=rng.choice((None, 2)),
                )
            )
        return
    s = rng.choice(sessions)
    if roll < 0.17:
        board.remove(s.extension)
    elif roll < 0.55:
        allowed = sorted(_ALLOWED[s.state])
        new = rng.choice(allowed)
        s.transition(new, now, reason="break" if new is AgentState.PAUSED else None)
    elif roll < 0.65:
        s.attempt_id = rng.choice((None, *attempts))
    elif roll < 0.72:
        s.leg_uniqueid = rng.choice((None, *legs))
    elif roll < 0.78:
        s.calls_today = rng.randint(0, 3)
    elif roll < 0.82:
        s.daily_cap = rng.choice((None, 1, 2))
    elif roll < 0.88:
        s.since = rng.choice((0.0, now, now - 1))  # ties on `since` are common
    elif roll < 0.93:
        s.campaign_ids = frozenset(rng.sample(CAMPAIGNS, rng.randint(0, 3)))
    elif roll < 0.97:
        s.server = rng.choice(SERVERS)
    else:
        s.state = rng.choice(list(AgentState))  # a direct write, not a transition


@pytest.mark.parametrize("seed", range(40))
def test_board_indexes_answer_like_a_scan(seed):
    rng = random.Random(seed)
    board = AgentBoard()
    legs = [f"leg-{i}" for i in range(6)]
    attempts = [f"att-{i}" for i in range(6)]
    now = 0.0
    for _ in range(300):
        now += rng.choice((0.0, 0.5, 1.0))  # equal times happen
        _random_step(board, rng, now, legs, attempts)
        _check_board(board, rng, now, legs, attempts)


def test_board_by_leg_and_attempt_follow_changes():
    board = AgentBoard()
    a = board.add(AgentSession(1, "1001", "pbx1", frozenset({1})))
    b = board.add(AgentSession(2, "1002", "pbx1", frozenset({1})))
    a.leg_uniqueid = "leg-a"
    b.leg_uniqueid = "leg-b"
    assert board.by_leg("leg-a") is a and board.by_leg("leg-b") is b
    a.transition(AgentState.CONNECTING, 0)
    a.transition(AgentState.READY, 1)
    a.attempt_id = "att-1"
    a.transition(AgentState.TALKING, 2)
    assert board.by_attempt("att-1") is a
    a.transition(AgentState.WRAPUP, 3)
    assert board.by_attempt("att-1") is a
    a.transition(AgentState.READY, 4)  # clears the call
    assert board.by_attempt("att-1") is None
    b.leg_uniqueid = "leg-a"  # two sessions on one leg: the one added first answers
    assert board.by_leg("leg-a") is a
    board.remove("1001")
    assert board.by_leg("leg-a") is b
    a.leg_uniqueid = "leg-z"  # a removed session no longer touches the board
    assert board.by_leg("leg-z") is None


def test_board_longest_ready_uses_the_index_of_ready_agents():
    board = AgentBoard()
    agents = [board.add(AgentSession(i, str(1000 + i), "pbx1", frozenset({1}))) for i in range(50)]
    for i, a in enumerate(agents):
        a.transition(AgentState.CONNECTING, 0)
        a.transition(AgentState.READY, 100 - i)
    assert board.longest_ready(1, ["pbx1"]) is agents[-1]
    agents[-1].transition(AgentState.TALKING, 200)
    assert board.longest_ready(1, ["pbx1"]) is agents[-2]
    agents[-2].daily_cap, agents[-2].calls_today = 1, 1
    assert board.longest_ready(1, ["pbx1"]) is agents[-3]
    counts = board.counts(1, 210, ["pbx1"])
    assert (counts.logged_in, counts.ready, counts.talking_elapsed) == (49, 48, [10.0])


# ---------------------------------------------------------------------- live calls

_ATTEMPT_STATES = list(AttemptState)


def _attempt(rng: random.Random, n: int, now: float) -> LiveAttempt:
    return LiveAttempt(
        id=f"att-{n}",
        campaign_id=rng.choice(CAMPAIGNS),
        lead_id=n,
        number="+8613800000000",
        server=rng.choice(SERVERS),
        caller_id="",
        lead_attempts=1,
        lead_status="new",
        state=rng.choice(_ATTEMPT_STATES),
        created=now,
        originated=rng.choice((None, 0.0, now)),
    )


@pytest.mark.parametrize("seed", range(40))
def test_live_call_pools_answer_like_a_scan(seed):
    rng = random.Random(seed)
    calls = LiveCalls()
    now = 0.0
    made = 0
    removed: list[LiveAttempt] = []
    for _ in range(300):
        now += rng.choice((0.0, 0.5, 1.0))
        live = list(calls)
        roll = rng.random()
        if roll < 0.3 or not live:
            made += 1
            calls.add(_attempt(rng, made, now))
        elif roll < 0.45:
            a = rng.choice(live)
            calls.discard(a.id)
            removed.append(a)
        elif roll < 0.8:
            rng.choice(live).state = rng.choice(_ATTEMPT_STATES)
        elif roll < 0.87:
            rng.choice(live).originated = rng.choice((None, now))
        elif roll < 0.93:
            rng.choice(live).campaign_id = rng.choice(CAMPAIGNS)
        elif roll < 0.97:
            rng.choice(live).server = rng.choice(SERVERS)
        elif removed:
            rng.choice(removed).state = AttemptState.RINGING  # gone: no effect on the pools
        for cid in (*CAMPAIGNS, 99):
            assert calls.count(cid) == sum(1 for a in calls if a.campaign_id == cid)
            for server in (*SERVERS, "pbx9"):
                assert calls.pool_view(cid, server, now) == _scan_pool_view(calls, cid, server, now)


def test_pool_view_keeps_dial_order_through_state_changes():
    calls = LiveCalls()
    attempts = []
    for i in range(5):
        a = LiveAttempt(f"a{i}", 1, i, "+1", "pbx1", "", 1, "new", created=float(i))
        calls.add(a)
        attempts.append(a)
    for a in reversed(attempts):  # later dials reach RINGING first
        a.move(AttemptState.ORIGINATING)
        a.originated = a.created
        a.move(AttemptState.RINGING)
    attempts[1].move(AttemptState.ANSWERED)
    attempts[3].move(AttemptState.ANSWERED)
    attempts[3].move(AttemptState.ROUTING)
    assert calls.pool_view(1, "pbx1", 10.0) == ([10.0, 8.0, 6.0], 1, 1)
    calls.discard("a0")
    assert calls.pool_view(1, "pbx1", 10.0) == ([8.0, 6.0], 1, 1)
    assert calls.count(1) == 4 and calls.count(2) == 0
