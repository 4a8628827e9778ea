"""What an AMI connection reports about itself, for /health, metrics and logs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ConnectionState(StrEnum):
    DISCONNECTED = "disconnected"  # not connected; the client may be waiting to retry
    CONNECTING = "connecting"  # TCP connect in progress
    LOGGING_IN = "logging_in"  # connected, Login sent
    READY = "ready"  # logged in: actions can be sent
    LOGIN_FAILED = "login_failed"  # Asterisk refused the credentials (retrying with backoff)
    CLOSED = "closed"  # closed by us; no more reconnects


@dataclass(frozen=True, slots=True)
class AmiHealth:
    server: str
    state: ConnectionState
    last_error: str | None
    last_event_age_s: float | None  # seconds since the last event, None before any
    ping_rtt_s: float | None  # round-trip of the last answered Ping
    asterisk_banner: str | None  # e.g. "Asterisk Call Manager/13.0.0"
    reconnects: int  # successful logins after the first
    events_received: int
    garbage_skipped: int  # unparseable input skipped since start

    @property
    def connected(self) -> bool:
        return self.state in (ConnectionState.LOGGING_IN, ConnectionState.READY)

    @property
    def logged_in(self) -> bool:
        return self.state is ConnectionState.READY
