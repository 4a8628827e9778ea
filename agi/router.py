"""What the AGI handlers ask the dialer runtime. The handlers keep no business state: every
decision (which agent, which message, is this PIN right) is the router's.

The runtime implements `CallRouter`; the FastAGI server only calls it. Values returned by
the router go into channel variables, so they are validated here (no CR/LF, no blanks in
names) before anything reaches Asterisk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

_SAFE_TOKEN = re.compile(r"[A-Za-z0-9_./:+@-]+")
_SOUND = re.compile(r"[A-Za-z0-9_./&:-]+")
_DIGITS = re.compile(r"[0-9]+")


class AmdStatus(StrEnum):
    """`AMDSTATUS` as set by Asterisk's AMD(); NOTSURE must be treated as a possible person."""

    HUMAN = "HUMAN"
    MACHINE = "MACHINE"
    NOTSURE = "NOTSURE"
    HANGUP = "HANGUP"


class AnsweredAction(StrEnum):
    """The value of `DIALER_ACTION`; the dialplan branches on it."""

    BRIDGE = "bridge"
    SAFEHARBOR = "safeharbor"
    VOICEMAIL = "voicemail"
    MESSAGE = "message"  # an inbound caller: play DIALER_MESSAGE (overflow, closed), hang up
    HANGUP = "hangup"


@dataclass(frozen=True, slots=True)
class AnsweredCall:
    """An answered customer leg that reached `AGI(.../answered)`, after AMD if enabled.

    `amd_status` is None when AMD did not run (campaign without AMD) or reported something
    unknown (the raw text then starts `amd_cause`). `received_at` is the event loop clock
    (`asyncio.get_running_loop().time()`) when the AGI request arrived; the connect window
    is measured from it.
    """

    attempt_id: str
    campaign_id: str
    channel: str
    uniqueid: str
    amd_status: AmdStatus | None
    amd_cause: str | None
    received_at: float


@dataclass(frozen=True, slots=True)
class InboundCall:
    """A caller to one of the call centre's numbers that reached `AGI(.../inbound)`.

    `did` is the number called (`${EXTEN}` in `dialer-inbound`), `caller` the caller ID
    number as Asterisk has it, `server` the `DIALER_SERVER` global of that Asterisk (may be
    empty on a one-server setup)."""

    did: str
    caller: str
    channel: str
    uniqueid: str
    server: str
    received_at: float


@dataclass(frozen=True, slots=True)
class AnsweredDecision:
    """What the dialplan does next with an answered call."""

    action: AnsweredAction
    agent_ext: str | None = None
    bridge: str | None = None
    message: str | None = None
    record_file: str | None = None  # MixMonitor this file from the bridge on

    def __post_init__(self) -> None:
        if self.record_file is not None and (
            not _SOUND.fullmatch(self.record_file) or ".." in self.record_file
        ):
            raise ValueError(f"not a recording file name: {self.record_file!r}")
        needs_message = self.action in (
            AnsweredAction.SAFEHARBOR,
            AnsweredAction.VOICEMAIL,
            AnsweredAction.MESSAGE,
        )
        if self.action is AnsweredAction.BRIDGE and not _SAFE_TOKEN.fullmatch(self.bridge or ""):
            raise ValueError(f"bridge decision needs a valid bridge name: {self.bridge!r}")
        if needs_message and not _SOUND.fullmatch(self.message or ""):
            raise ValueError(f"{self.action} decision needs a sound name: {self.message!r}")
        if self.agent_ext is not None and not _SAFE_TOKEN.fullmatch(self.agent_ext):
            raise ValueError(f"not a valid agent extension: {self.agent_ext!r}")

    @classmethod
    def bridge_to(
        cls, agent_ext: str, bridge: str | None = None, record_file: str | None = None
    ) -> AnsweredDecision:
        """Join the agent's nailed-up bridge (`agent-{ext}` unless named otherwise),
        recorded to `record_file` when the campaign records."""
        name = bridge or f"agent-{agent_ext}"
        return cls(AnsweredAction.BRIDGE, agent_ext=agent_ext, bridge=name, record_file=record_file)

    @classmethod
    def safe_harbor(cls, message: str) -> AnsweredDecision:
        """No agent within the connect window: play the message and hang up (abandoned)."""
        return cls(AnsweredAction.SAFEHARBOR, message=message)

    @classmethod
    def voicemail(cls, message: str) -> AnsweredDecision:
        """An answering machine: wait for the beep's silence, leave the message."""
        return cls(AnsweredAction.VOICEMAIL, message=message)

    @classmethod
    def play_message(cls, message: str) -> AnsweredDecision:
        """An inbound caller nobody will take (overflow, closed): play it and hang up."""
        return cls(AnsweredAction.MESSAGE, message=message)

    @classmethod
    def hang_up(cls) -> AnsweredDecision:
        return cls(AnsweredAction.HANGUP)


@dataclass(frozen=True, slots=True)
class WrapupPrompt:
    """How to ask a desk-phone agent for a disposition code by DTMF."""

    sound: str
    valid_codes: frozenset[str]
    timeout_ms: int = 5000
    max_attempts: int = 3
    invalid_sound: str = "invalid"
    accepted_sound: str | None = "auth-thankyou"

    def __post_init__(self) -> None:
        for sound in (self.sound, self.invalid_sound, self.accepted_sound):
            if sound is not None and not _SOUND.fullmatch(sound):
                raise ValueError(f"not a sound name: {sound!r}")
        if not self.valid_codes or not all(_DIGITS.fullmatch(c) for c in self.valid_codes):
            raise ValueError(f"disposition codes must be digit strings: {self.valid_codes!r}")
        if self.timeout_ms <= 0 or self.max_attempts <= 0:
            raise ValueError("timeout_ms and max_attempts must be positive")

    @property
    def max_digits(self) -> int:
        return max(len(c) for c in self.valid_codes)


@dataclass(frozen=True, slots=True)
class LoginResult:
    """The router's answer to a phone login: the extension to bridge, or a message to play."""

    ok: bool
    agent_ext: str | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        if self.ok and (not self.agent_ext or not _SAFE_TOKEN.fullmatch(self.agent_ext)):
            raise ValueError(f"a successful login needs a valid extension: {self.agent_ext!r}")
        if self.message is not None and not _SOUND.fullmatch(self.message):
            raise ValueError(f"not a sound name: {self.message!r}")


@runtime_checkable
class CallRouter(Protocol):
    """The dialer runtime, as seen from the AGI handlers."""

    async def route_answered(self, call: AnsweredCall) -> AnsweredDecision:
        """Decide an answered call. Wait for a free agent at most the connect window
        (measured from `call.received_at`), then answer safe-harbor yourself; the server
        gives up a little later and plays its own fallback safe-harbor message."""
        ...

    async def route_inbound(self, call: InboundCall) -> AnsweredDecision:
        """Decide an inbound call: bridge it to an agent as soon as one is free, or a
        message (overflow after the campaign's longest wait, closed). May take minutes; the
        caller hears hold music meanwhile."""
        ...

    async def wrapup_prompt(self, agent_ext: str) -> WrapupPrompt:
        """The prompt and the valid disposition codes for this agent's current call."""
        ...

    async def submit_dtmf_disposition(self, agent_ext: str, code: str) -> bool:
        """Record a disposition typed on the phone; False if it was refused."""
        ...

    async def agent_login(self, agent_number: str, pin: str, channel: str) -> LoginResult:
        """Check an agent number and PIN typed on a phone that dialled the login code."""
        ...
