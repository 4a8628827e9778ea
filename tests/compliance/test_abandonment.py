"""Abandonment windows: rolling 30 days (US) and a calendar day in a zone (UK)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from compliance import AbandonmentWindow
from tests.compliance.builders import LONDON, local, utc

START = utc(2026, 6, 1, 12)


def test_rolling_rate_and_budget() -> None:
    window = AbandonmentWindow.rolling_days(30)
    for i in range(97):
        window.record_live_answer(START + timedelta(minutes=i))
    for i in range(3):
        window.record_abandon(START + timedelta(minutes=100 + i))
    status = window.status(START + timedelta(hours=3))
    assert status.live_answers == 100 and status.abandons == 3
    assert status.rate == pytest.approx(0.03)
    assert not status.over_limit and status.recovers_at is None
    assert status.budget_left == 0
    for i in range(100):
        window.record_live_answer(START + timedelta(hours=4, minutes=i))
    assert window.status(START + timedelta(hours=6)).budget_left == 3  # (0.03*200-3)/0.97


def test_rolling_window_forgets_after_30_days_and_says_when() -> None:
    window = AbandonmentWindow.rolling_days(30)
    window.record_abandon(START)
    for i in range(9):
        window.record_live_answer(START + timedelta(days=1, minutes=i))
    status = window.status(START + timedelta(days=2))
    assert status.over_limit and status.rate == pytest.approx(0.1)
    assert status.recovers_at == START + timedelta(days=30)
    assert not window.status(START + timedelta(days=30)).over_limit


def test_rolling_recovery_waits_for_enough_abandons_to_expire() -> None:
    window = AbandonmentWindow.rolling_days(30)
    window.record_abandon(START)
    window.record_abandon(START + timedelta(days=5))
    for i in range(20):  # 2/22 over; 1/21 still over: both abandons must age out
        window.record_live_answer(START + timedelta(days=10, minutes=i))
    status = window.status(START + timedelta(days=11))
    assert status.recovers_at == START + timedelta(days=35)
    assert not window.status(status.recovers_at).over_limit
    assert window.status(status.recovers_at - timedelta(seconds=1)).over_limit


def test_calendar_day_resets_at_local_midnight() -> None:
    window = AbandonmentWindow.calendar_day("Europe/London")
    evening = local(LONDON, 2026, 6, 1, 23, 0)
    window.record_abandon(evening)
    window.record_live_answer(evening)
    status = window.status(evening + timedelta(minutes=30))
    assert status.over_limit
    assert status.window_start == local(LONDON, 2026, 6, 1, 0, 0)
    assert status.recovers_at == local(LONDON, 2026, 6, 2, 0, 0)
    assert window.status(local(LONDON, 2026, 6, 2, 0, 0)).abandons == 0


def test_amd_false_positive_estimate_is_added_to_both_counts() -> None:
    window = AbandonmentWindow.calendar_day("Europe/London", amd_false_positive_rate=0.1)
    at = local(LONDON, 2026, 6, 1, 10, 0)
    for i in range(100):
        window.record_live_answer(at + timedelta(seconds=i))
    for i in range(20):
        window.record_machine(at + timedelta(seconds=200 + i))
    status = window.status(at + timedelta(hours=1))
    assert status.abandons == pytest.approx(2.0)
    assert status.live_answers == pytest.approx(102.0)


def test_out_of_order_events_and_prune() -> None:
    window = AbandonmentWindow.rolling_days(30)
    window.record_live_answer(START + timedelta(days=1))
    window.record_live_answer(START)
    window.prune(START + timedelta(days=30, hours=12))
    assert window.status(START + timedelta(days=30, hours=12)).live_answers == 1


def test_needs_exactly_one_kind_of_window() -> None:
    with pytest.raises(ValueError):
        AbandonmentWindow(rolling=None, calendar_zone=None)
