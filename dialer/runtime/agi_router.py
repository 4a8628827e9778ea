"""The runtime as the AGI handlers' `CallRouter`: every decision comes from the engine."""

from __future__ import annotations

import hashlib
import hmac
import logging

from agi.router import AnsweredCall, AnsweredDecision, InboundCall, LoginResult, WrapupPrompt
from dialer.runtime.engine import DialerEngine

log = logging.getLogger(__name__)

DEFAULT_SAFE_HARBOR = "dialer-safe-harbor"
WRAPUP_PROMPT = "dialer-wrapup-prompt"


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    """`scrypt$<salt hex>$<hash hex>`: agent PINs are short, so a slow hash matters."""
    import os

    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt_hex), n=2**14, r=8, p=1, dklen=32)
    return hmac.compare_digest(digest.hex(), digest_hex)


class EngineRouter:
    def __init__(self, engine: DialerEngine) -> None:
        self.engine = engine

    async def route_answered(self, call: AnsweredCall) -> AnsweredDecision:
        started = self.engine.clock.monotonic()
        amd = call.amd_status.value if call.amd_status is not None else None
        action, detail = await self.engine.route_answered(call.attempt_id, amd)
        attempt_campaign = call.campaign_id or "0"
        if action == "bridge":
            self.engine.metrics.connect_latency.labels(attempt_campaign).observe(
                self.engine.clock.real_seconds(self.engine.clock.monotonic() - started)
            )
            attempt = self.engine.calls.get(call.attempt_id)
            record = attempt.recording_path if attempt is not None else None
            return AnsweredDecision.bridge_to(detail.extension, record_file=record)
        if action == "safeharbor":
            return AnsweredDecision.safe_harbor(detail or DEFAULT_SAFE_HARBOR)
        if action == "voicemail" and detail:
            return AnsweredDecision.voicemail(detail)
        return AnsweredDecision.hang_up()

    async def route_inbound(self, call: InboundCall) -> AnsweredDecision:
        action, detail = await self.engine.route_inbound(
            call.did, call.caller, call.uniqueid, call.channel, call.server
        )
        if action == "bridge":
            attempt = self.engine.calls.get(call.uniqueid)
            record = attempt.recording_path if attempt is not None else None
            return AnsweredDecision.bridge_to(detail.extension, record_file=record)
        if action in ("message", "closed") and detail:
            return AnsweredDecision.play_message(detail)
        return AnsweredDecision.hang_up()

    def _dtmf_codes(self, agent_ext: str) -> dict[str, str]:
        agent = self.engine.board.get(agent_ext)
        attempt = self.engine.calls.get(agent.attempt_id or "") if agent else None
        codes: dict[str, str] = {}
        for key, d in self.engine.dispositions_by_key.items():
            if not d.dtmf or d.system:
                continue
            if d.campaign_id is not None and (
                attempt is None or d.campaign_id != attempt.campaign_id
            ):
                continue
            codes.setdefault(d.dtmf, d.code)
            if ":" in key:
                codes[d.dtmf] = d.code  # a campaign's own code wins over the global one
        return codes

    async def wrapup_prompt(self, agent_ext: str) -> WrapupPrompt:
        codes = self._dtmf_codes(agent_ext) or {"1": "NOT_NOW"}
        return WrapupPrompt(sound=WRAPUP_PROMPT, valid_codes=frozenset(codes))

    async def submit_dtmf_disposition(self, agent_ext: str, code: str) -> bool:
        agent = self.engine.board.get(agent_ext)
        disposition = self._dtmf_codes(agent_ext).get(code)
        if agent is None or disposition is None:
            return False
        try:
            self.engine.dispose(agent, disposition, notes="by DTMF")
        except (LookupError, ValueError) as exc:
            log.warning("DTMF disposition %s from %s refused: %s", code, agent_ext, exc)
            return False
        return True

    async def agent_login(self, agent_number: str, pin: str, channel: str) -> LoginResult:
        row = next(
            (a for a in self.engine.agent_rows.values() if a.extension == agent_number), None
        )
        if row is None or not row.active or not row.pin_hash or not verify_pin(pin, row.pin_hash):
            log.warning("phone login refused for agent %r from %s", agent_number, channel)
            return LoginResult(ok=False, message="vm-incorrect")
        await self.engine.agent_login(row.id, via_phone=True)
        return LoginResult(ok=True, agent_ext=row.extension)
