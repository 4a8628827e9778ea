"""The runtime's view of one Asterisk server: the few actions it sends. `ami_port.py`
adapts our AMI client to it; tests can fake it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


class PbxNotConnected(Exception):
    """The action was not sent: the server is not reachable now. Safe to retry later."""


class PbxOutcomeUnknown(Exception):
    """The action was sent but its result is unknown (link lost, timeout): reconcile, never
    resend."""


class PbxRefused(Exception):
    """Asterisk answered the action with an error."""


@dataclass(frozen=True)
class LiveChannel:
    uniqueid: str
    linkedid: str
    name: str
    context: str
    exten: str
    state: str
    application: str = ""


class PbxPort(Protocol):
    name: str

    @property
    def connected(self) -> bool: ...

    async def originate(
        self,
        *,
        attempt_id: str,
        channel: str,
        context: str,
        exten: str,
        priority: int,
        timeout_ms: int,
        caller_id: str,
        variables: Mapping[str, str],
    ) -> None:
        """Returns once Asterisk has queued the call; the outcome comes as events."""
        ...

    async def hangup(self, channel: str, cause: int = 16) -> None: ...

    async def redirect(self, channel: str, context: str, exten: str, priority: int = 1) -> None: ...

    async def record(self, channel: str, file: str) -> None:
        """Start MixMonitor on a live channel (on-demand recording)."""
        ...

    async def core_show_channels(self) -> list[LiveChannel]: ...
