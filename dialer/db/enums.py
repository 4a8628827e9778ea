"""The closed value sets stored in text columns (kept as plain strings for portability)."""

from __future__ import annotations

from enum import StrEnum


class DialMode(StrEnum):
    PREDICTIVE = "predictive"
    PROGRESSIVE = "progressive"
    RATIO = "ratio"
    PREVIEW = "preview"
    MANUAL = "manual"


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"


class MachineAction(StrEnum):
    """What to do when AMD says MACHINE."""

    HANGUP = "hangup"
    VOICEMAIL = "voicemail"


class RecordingMode(StrEnum):
    NEVER = "never"
    ALL = "all"
    ON_DEMAND = "on_demand"


class LeadStatus(StrEnum):
    NEW = "new"  # never dialled, dialable
    IN_HOPPER = "in_hopper"  # claimed by a runtime, about to be dialled
    DIALING = "dialing"  # an attempt is in flight
    RETRY = "retry"  # dialled, dialable again from next_call_at
    CALLBACK = "callback"  # a callback is scheduled
    DONE = "done"  # final disposition reached
    DNC = "dnc"  # suppressed: never dial
    INVALID = "invalid"  # the number cannot be dialled


DIALABLE_LEAD_STATUSES: tuple[str, ...] = (LeadStatus.NEW, LeadStatus.RETRY, LeadStatus.CALLBACK)


class AgentState(StrEnum):
    OFFLINE = "offline"
    CONNECTING = "connecting"
    READY = "ready"
    PAUSED = "paused"
    TALKING = "talking"
    WRAPUP = "wrapup"


class AttemptOutcome(StrEnum):
    """How the dial itself ended (before any disposition)."""

    HUMAN = "human"
    MACHINE = "machine"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    CONGESTION = "congestion"
    FAILED = "failed"


class AttemptTerminalState(StrEnum):
    """Every attempt ends in exactly one of these."""

    NOT_ANSWERED = "not_answered"  # no answer, busy, congestion, failed
    MACHINE = "machine"  # AMD machine: hung up or left a message
    ABANDONED = "abandoned"  # a person answered and no agent was free in time
    CONNECTED = "connected"  # reached an agent (then dispositioned)
    CUSTOMER_HANGUP = "customer_hangup"  # the person hung up before reaching an agent
    CANCELLED = "cancelled"  # stopped before the originate went out
    LOST = "lost"  # reconciliation found no trace of it


class CallbackStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    MISSED = "missed"
    CANCELLED = "cancelled"


class SuppressionScope(StrEnum):
    COMPANY = "company"  # the company's own do-not-call list: applies to every campaign
    CAMPAIGN = "campaign"  # applies to one campaign
    REGISTRY = "registry"  # a national registry (named by `registry_name`)


class SuppressionListKind(StrEnum):
    NATIONAL_REGISTRY = "national_registry"
    COMPANY = "company"
    CAMPAIGN = "campaign"


class ComplaintStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    REJECTED = "rejected"


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"
