"""The `agent-login` route: an agent dials the login code from a phone.

Asks for the agent number and the PIN by GET DATA and lets the router check them. On
success `DIALER_AGENT` is set and the dialplan sends the phone into the agent's bridge; on
failure `DIALER_MESSAGE` names what the dialplan plays before hanging up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from agi.router import CallRouter, LoginResult
from agi.session import AgiSession

log = logging.getLogger(__name__)

ROUTE = "agent-login"


@dataclass(frozen=True, slots=True)
class AgentLoginConfig:
    """Prompts default to sounds shipped with Asterisk's core sound set."""

    number_sound: str = "agent-user"
    pin_sound: str = "agent-pass"
    failed_sound: str = "agent-incorrect"
    timeout_ms: int = 6000
    max_digits: int = 12
    max_attempts: int = 3


class AgentLoginHandler:
    """Stateless: the router owns agents, PINs and sessions."""

    def __init__(self, router: CallRouter, config: AgentLoginConfig | None = None) -> None:
        self._router = router
        self._config = config or AgentLoginConfig()

    async def __call__(self, session: AgiSession) -> None:
        cfg = self._config
        channel = session.environment.channel
        failure_message = cfg.failed_sound
        for attempt in range(1, cfg.max_attempts + 1):
            if attempt > 1:
                await session.stream_file(failure_message)
            entry = await session.get_data(cfg.number_sound, cfg.timeout_ms, cfg.max_digits)
            number = entry.digits
            if not number:
                failure_message = cfg.failed_sound
                continue
            pin = (await session.get_data(cfg.pin_sound, cfg.timeout_ms, cfg.max_digits)).digits
            result = await self._check(number, pin, channel)
            if result is None:
                failure_message = cfg.failed_sound
                break  # the router is broken: retrying would not help
            if result.ok and result.agent_ext:
                await session.set_variable("DIALER_AGENT", result.agent_ext)
                log.info("agent %s logged in from %s", result.agent_ext, channel)
                return
            failure_message = result.message or cfg.failed_sound
            log.info("login refused for agent %s from %s (attempt %d)", number, channel, attempt)
        await session.set_variable("DIALER_MESSAGE", failure_message)
        log.warning("phone login failed from %s", channel)

    async def _check(self, number: str, pin: str, channel: str) -> LoginResult | None:
        try:
            result = await self._router.agent_login(number, pin, channel)
        except Exception:
            log.exception("router failed to check the login of agent %s", number)
            return None
        if not isinstance(result, LoginResult):
            log.error("router returned %r for a login", result)
            return None
        return result
