"""The `inbound` route: a caller to one of the call centre's numbers waits, with hold music,
for the router to find an agent of the blended campaign answering that number.

The decision arrives as `DIALER_ACTION` = bridge (+ `DIALER_BRIDGE`), message (+
`DIALER_MESSAGE`: overflow or closed) or hangup, as docs/dialplan-contract.md says. A router
that fails or never answers leaves the caller with the fallback message, never in silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from agi.answered import decide_within
from agi.errors import AgiError
from agi.metrics import DecisionLatencies
from agi.router import AnsweredDecision, CallRouter, InboundCall
from agi.session import AgiSession

log = logging.getLogger(__name__)

ROUTE = "inbound"


@dataclass(frozen=True, slots=True)
class InboundConfig:
    """`decision_timeout_s` is a safety net above the longest queue wait a campaign may set
    (600 s); `hold_music` is the musiconhold.conf class played while the caller queues."""

    decision_timeout_s: float = 660.0
    hold_music: str = "default"
    fallback_message: str = "dialer-inbound-overflow"


class InboundHandler:
    def __init__(
        self,
        router: CallRouter,
        latencies: DecisionLatencies,
        config: InboundConfig | None = None,
    ) -> None:
        self._router = router
        self._latencies = latencies
        self._config = config or InboundConfig()
        self._fallback = AnsweredDecision.play_message(self._config.fallback_message)

    async def __call__(self, session: AgiSession) -> None:
        env = session.environment
        call = InboundCall(
            did=env.query.get("did") or env.extension,
            caller=env.get("callerid"),
            channel=env.channel,
            uniqueid=env.uniqueid,
            server=env.query.get("server", ""),
            received_at=session.received_at,
        )
        await session.command("SET MUSIC", "on", self._config.hold_music)
        decision = await decide_within(
            session,
            self._router.route_inbound(call),
            self._config.decision_timeout_s,
            f"inbound {call.uniqueid} to {call.did}",
            self._fallback,
            "overflow message",
        )
        with contextlib.suppress(AgiError):
            await session.command("SET MUSIC", "off")
        if session.hung_up:
            return
        if decision.bridge is not None:
            await session.set_variable("DIALER_BRIDGE", decision.bridge)
        if decision.message is not None:
            await session.set_variable("DIALER_MESSAGE", decision.message)
        await session.set_variable("DIALER_ACTION", decision.action.value)
        waited = asyncio.get_running_loop().time() - session.received_at
        self._latencies.observe(ROUTE, waited)
        if decision.record_file is not None:
            await session.exec_app("MixMonitor", f"{decision.record_file},b")
        log.info(
            "inbound %s to %s: %s%s after %.1f s",
            call.uniqueid,
            call.did,
            decision.action.value,
            f" {decision.bridge}" if decision.bridge else "",
            waited,
        )
