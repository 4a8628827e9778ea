"""The `answered` route: an answered customer leg asks what to do next.

Reads AMD's verdict from the channel, asks the router, and writes the decision into
`DIALER_ACTION` (+ `DIALER_BRIDGE` or `DIALER_MESSAGE`) as docs/dialplan-contract.md says;
the dialplan then does the ConfBridge/Playback. A router that fails or overruns its time
never leaves a customer in silence: the call gets the safe-harbor action.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from agi.errors import AgiHangup
from agi.metrics import DecisionLatencies
from agi.router import AmdStatus, AnsweredCall, AnsweredDecision, CallRouter
from agi.session import AgiSession

log = logging.getLogger(__name__)

ROUTE = "answered"


@dataclass(frozen=True, slots=True)
class AnsweredConfig:
    """`decision_timeout_s` caps the wait for the router; it should exceed the connect window
    the router itself honours (about 2 s) so that normally the router chooses."""

    decision_timeout_s: float = 4.0
    fallback_message: str = "dialer-safe-harbor"


class AnsweredHandler:
    """Stateless: everything it decides comes from the router."""

    def __init__(
        self,
        router: CallRouter,
        latencies: DecisionLatencies,
        config: AnsweredConfig | None = None,
    ) -> None:
        self._router = router
        self._latencies = latencies
        self._config = config or AnsweredConfig()
        self._fallback = AnsweredDecision.safe_harbor(self._config.fallback_message)

    async def __call__(self, session: AgiSession) -> None:
        env = session.environment
        raw_status = await session.get_variable("AMDSTATUS")
        amd_cause = await session.get_variable("AMDCAUSE") or None
        amd_status = _amd_status(raw_status)
        if amd_status is None and raw_status:
            amd_cause = f"{raw_status}/{amd_cause}" if amd_cause else raw_status
        call = AnsweredCall(
            attempt_id=env.query.get("attempt") or env.uniqueid,
            campaign_id=env.query.get("campaign", ""),
            channel=env.channel,
            uniqueid=env.uniqueid,
            amd_status=amd_status,
            amd_cause=amd_cause,
            received_at=session.received_at,
        )
        decision = await decide_within(
            session,
            self._router.route_answered(call),
            self._config.decision_timeout_s,
            f"attempt {call.attempt_id}",
            self._fallback,
        )
        await self._apply(session, call.attempt_id, decision, raw_status)

    async def fallback(self, session: AgiSession) -> None:
        """Safe-harbor without asking the router (the server is overloaded)."""
        attempt_id = session.environment.query.get("attempt") or session.environment.uniqueid
        await self._apply(session, attempt_id, self._fallback, None)

    async def _apply(
        self,
        session: AgiSession,
        attempt_id: str,
        decision: AnsweredDecision,
        raw_status: str | None,
    ) -> None:
        """Set the decision's variables; the last one, DIALER_ACTION, ends the measurement."""
        if decision.bridge is not None:
            await session.set_variable("DIALER_BRIDGE", decision.bridge)
        if decision.message is not None:
            await session.set_variable("DIALER_MESSAGE", decision.message)
        await session.set_variable("DIALER_ACTION", decision.action.value)
        elapsed = asyncio.get_running_loop().time() - session.received_at
        self._latencies.observe(ROUTE, elapsed)
        if decision.record_file is not None:
            # b: record only while bridged, so the file is the conversation itself
            await session.exec_app("MixMonitor", f"{decision.record_file},b")
        log.info(
            "attempt %s: %s%s in %.1f ms (AMD %s)",
            attempt_id,
            decision.action.value,
            f" {decision.bridge}" if decision.bridge else "",
            elapsed * 1000,
            raw_status or "-",
        )


async def decide_within(
    session: AgiSession,
    decision: Coroutine[Any, Any, Any],
    timeout_s: float,
    what: str,
    fallback: AnsweredDecision,
    fallback_name: str = "safe-harbor",
) -> AnsweredDecision:
    """The router's decision, or `fallback` if it fails or overruns. If the caller hangs
    up meanwhile, the router call is cancelled (so it can release an agent it was holding)
    and `AgiHangup` ends the session."""
    decision_task = asyncio.ensure_future(decision)
    hangup_watch = asyncio.ensure_future(session.watch_for_hangup())
    try:
        done, _ = await asyncio.wait(
            (decision_task, hangup_watch),
            timeout=timeout_s,
            return_when=asyncio.FIRST_COMPLETED,
        )
    finally:
        hangup_watch.cancel()
        if not decision_task.done():
            decision_task.cancel()
    if hangup_watch in done:
        raise AgiHangup(f"{hangup_watch.result()} while the router decided")
    if decision_task not in done:
        log.error("%s: router gave no decision within %.1f s; %s", what, timeout_s, fallback_name)
        return fallback
    if decision_task.cancelled() or decision_task.exception() is not None:
        log.error(
            "%s: router failed; %s",
            what,
            fallback_name,
            exc_info=None if decision_task.cancelled() else decision_task.exception(),
        )
        return fallback
    result = decision_task.result()
    if not isinstance(result, AnsweredDecision):
        log.error("%s: router returned %r; %s", what, result, fallback_name)
        return fallback
    return result


def _amd_status(raw: str | None) -> AmdStatus | None:
    if not raw:
        return None
    try:
        return AmdStatus(raw.upper())
    except ValueError:
        return None
