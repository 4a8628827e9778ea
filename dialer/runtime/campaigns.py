"""A campaign as the runtime runs it: its settings, and one pacing pool per Asterisk server
(agents of a server only take that server's calls, so each pool is paced on its own)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from compliance.models import ComplianceProfile
from dialer.db.enums import CampaignStatus, DialMode
from dialer.db.models import Campaign
from dialer.runtime.caller_ids import all_capped, pick_caller_id
from dialer.runtime.inbound import ArrivalRate, InboundSettings, InboundStats, auto_reserve
from dialer.runtime.retry import RetryRule, parse_rules
from dialer.runtime.store import ClaimedLead
from pacing import Pacer, PacerConfig

_PACER_FIELDS = {f.name for f in fields(PacerConfig)}


def pacer_config(dial_mode: str, pacing: dict[str, Any]) -> PacerConfig:
    """The campaign's stored pacing settings as a PacerConfig (unknown keys are ignored)."""
    mode = dial_mode if dial_mode in ("predictive", "progressive", "ratio") else "progressive"
    kwargs = {k: v for k, v in (pacing or {}).items() if k in _PACER_FIELDS and k != "mode"}
    return PacerConfig(mode=mode, **kwargs)


@dataclass
class CampaignConfig:
    id: int
    name: str
    status: str
    dial_mode: str
    pacing: dict[str, Any]
    caller_id_pool: list[str]
    caller_id_name: str
    amd_enabled: bool
    machine_action: str
    voicemail_message: str
    safe_harbor_message: str
    retry_rules: dict[str, RetryRule]
    compliance: ComplianceProfile
    trunk: str
    server: str  # "" = every configured server
    recording_mode: str
    wrapup_timeout_s: int
    max_attempts: int
    max_attempts_per_day: int = 0  # no daily limit per lead
    inbound: InboundSettings = field(default_factory=InboundSettings)

    @property
    def dials_automatically(self) -> bool:
        return self.status == CampaignStatus.ACTIVE and self.dial_mode in (
            DialMode.PREDICTIVE,
            DialMode.PROGRESSIVE,
            DialMode.RATIO,
        )

    @classmethod
    def from_row(cls, row: Campaign) -> CampaignConfig:
        pacing = dict(row.pacing or {})
        profile = ComplianceProfile(
            rulesets=tuple(row.compliance_profile or ("CN",)),
            max_attempts=row.max_attempts or None,
            agent_daily_cap=pacing.get("agent_daily_cap"),
            information_message=bool(row.safe_harbor_message),
        )
        return cls(
            id=row.id,
            name=row.name,
            status=row.status,
            dial_mode=row.dial_mode,
            pacing=pacing,
            caller_id_pool=list(row.caller_id_pool or []),
            caller_id_name=row.caller_id_name or "",
            amd_enabled=bool(row.amd_enabled),
            machine_action=row.amd_machine_action,
            voicemail_message=row.voicemail_message or "",
            safe_harbor_message=row.safe_harbor_message or "",
            retry_rules=parse_rules(row.retry_rules),
            compliance=profile,
            trunk=row.trunk or "",
            server=row.asterisk_server or "",
            recording_mode=row.recording_mode,
            wrapup_timeout_s=row.wrapup_timeout_s or 30,
            max_attempts=row.max_attempts or 0,
            max_attempts_per_day=int((row.retry_rules or {}).get("max_attempts_per_day") or 0),
            inbound=InboundSettings.from_dict(row.inbound),
        )


@dataclass
class CampaignStats:
    """Running totals since this process took the campaign; reports come from the database."""

    dials: int = 0
    answered: int = 0  # live answers (human or NOTSURE)
    machines: int = 0
    no_answer: int = 0
    busy: int = 0
    congestion: int = 0
    failed: int = 0
    connects: int = 0
    abandons: int = 0
    dropped: int = 0
    lost: int = 0
    completed: int = 0
    blocked: int = 0  # dials the compliance gate refused
    talk_seconds: float = 0.0
    wrap_seconds: float = 0.0
    agent_seconds: float = 0.0  # logged-in agent time, for occupancy
    caller_ids_exhausted: bool = False  # stopped: every caller ID at its daily cap

    def as_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["abandon_rate"] = self.abandons / self.answered if self.answered else 0.0
        d["connect_rate"] = self.answered / self.dials if self.dials else 0.0
        d["occupancy"] = self.talk_seconds / self.agent_seconds if self.agent_seconds else 0.0
        return d


@dataclass
class CampaignRun:
    config: CampaignConfig
    pacers: dict[str, Pacer] = field(default_factory=dict)  # by server
    hopper: deque[ClaimedLead] = field(default_factory=deque)
    stats: CampaignStats = field(default_factory=CampaignStats)
    inbound_stats: InboundStats = field(default_factory=InboundStats)
    inbound_arrivals: ArrivalRate = field(default_factory=ArrivalRate)
    caller_id_index: int = 0
    # Caller-ID health, kept fresh by `dialer.runtime.caller_ids.CallerIdMonitor`: numbers
    # resting (probably labelled as spam), daily caps and today's dials per number.
    caller_id_rested: frozenset[str] = frozenset()
    caller_id_caps: dict[str, int] = field(default_factory=dict)
    caller_id_used: dict[str, int] = field(default_factory=dict)
    caller_id_day: datetime | None = None
    caller_id_fallbacks: int = 0  # dials made with a rested or capped number: none was left
    caller_id_hard_caps: bool = True  # every number at its cap: stop dialing (the policy's)

    def pacer(self, server: str) -> Pacer:
        p = self.pacers.get(server)
        if p is None:
            p = self.pacers[server] = Pacer(pacer_config(self.config.dial_mode, self.config.pacing))
        return p

    def reconfigure(self, config: CampaignConfig) -> None:
        """New settings; pacers are rebuilt only when pacing changed (they keep learning)."""
        changed = (config.dial_mode, config.pacing) != (self.config.dial_mode, self.config.pacing)
        self.config = config
        if changed:
            self.pacers.clear()

    def inbound_reserve(self, now: float) -> int:
        """Ready agents outbound leaves free for callers: the campaign's setting, or the
        callers expected within an outbound call's ring time."""
        settings = self.config.inbound
        if not settings.enabled:
            return 0
        if settings.reserved_agents is not None:
            return settings.reserved_agents
        return auto_reserve(self.inbound_arrivals.per_second(now))

    @property
    def caller_ids_exhausted(self) -> bool:
        """Every caller ID is at its daily cap and caps are hard: no call may go out."""
        if not self.caller_id_hard_caps:
            return False
        return all_capped(self.config.caller_id_pool, self.caller_id_caps, self.caller_id_used)

    def next_caller_id(self) -> str:
        """The number to present; "" when the pool is empty, or exhausted under hard caps."""
        pool = self.config.caller_id_pool
        if not pool:
            return ""
        number, self.caller_id_index, fallback = pick_caller_id(
            pool,
            self.caller_id_index,
            self.caller_id_rested,
            self.caller_id_caps,
            self.caller_id_used,
            hard_caps=self.caller_id_hard_caps,
        )
        if not number:
            return ""
        self.caller_id_used[number] = self.caller_id_used.get(number, 0) + 1
        self.caller_id_fallbacks += fallback
        return number
