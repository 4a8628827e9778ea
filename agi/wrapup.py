"""The `wrapup` route: a desk-phone agent types a disposition code after a call.

The dialer redirected the agent leg to `[dialer-wrapup]`; this prompts with GET DATA,
re-prompts on a code the router does not know or refuses, and hands the code to the router.
Whatever happens, the session ends and the dialplan puts the agent back in the bridge.
"""

from __future__ import annotations

import logging

from agi.router import CallRouter, WrapupPrompt
from agi.session import AgiSession

log = logging.getLogger(__name__)

ROUTE = "wrapup"


class WrapupHandler:
    """Stateless: prompt, codes and acceptance all come from the router."""

    def __init__(self, router: CallRouter) -> None:
        self._router = router

    async def __call__(self, session: AgiSession) -> None:
        env = session.environment
        agent_ext = env.query.get("agent") or env.extension
        try:
            prompt = await self._router.wrapup_prompt(agent_ext)
        except Exception:
            log.exception("agent %s: no wrap-up prompt from the router", agent_ext)
            return
        if not isinstance(prompt, WrapupPrompt):
            log.error("agent %s: router returned %r as wrap-up prompt", agent_ext, prompt)
            return
        for attempt in range(1, prompt.max_attempts + 1):
            entry = await session.get_data(prompt.sound, prompt.timeout_ms, prompt.max_digits)
            code = entry.digits
            if code in prompt.valid_codes and await self._submit(agent_ext, code):
                log.info("agent %s: disposition %s by DTMF", agent_ext, code)
                if prompt.accepted_sound:
                    await session.stream_file(prompt.accepted_sound)
                return
            log.info(
                "agent %s: disposition code %r not accepted (attempt %d/%d)",
                agent_ext,
                code,
                attempt,
                prompt.max_attempts,
            )
            await session.stream_file(prompt.invalid_sound)
        log.warning(
            "agent %s: no valid disposition after %d attempts; left in wrap-up",
            agent_ext,
            prompt.max_attempts,
        )

    async def _submit(self, agent_ext: str, code: str) -> bool:
        try:
            return bool(await self._router.submit_dtmf_disposition(agent_ext, code))
        except Exception:
            log.exception("agent %s: router failed to take disposition %s", agent_ext, code)
            return False
