"""The simple pacing rules: progressive and fixed ratio."""

from __future__ import annotations


def progressive_calls(agents_ready: int, calls_in_flight: int) -> int:
    """One call in flight per ready agent: a live answer always has its agent."""
    return max(0, agents_ready - calls_in_flight)


def ratio_calls(ratio: float, agents_ready: int, agents_talking: int, calls_in_flight: int) -> int:
    """VICIdial RATIO: round(ratio × (ready + talking agents)) − calls in progress.

    As in VICIdial's auto-dialler, agents in wrap-up (VICIdial shows them paused in the
    disposition screen) do not count, and calls in progress include the calls agents are
    talking on, so a ratio of 1.0 is progressive dialling.
    """
    goal = round(ratio * (agents_ready + agents_talking))
    return max(0, goal - (calls_in_flight + agents_talking))
