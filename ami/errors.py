"""Errors the AMI layer raises; callers can tell 'retry later' from 'reconcile' from 'bug'."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ami.parser import AmiMessage


class AmiError(Exception):
    """Base class for everything this package raises on purpose."""


class UnsafeHeaderError(AmiError, ValueError):
    """A header name or value would break AMI framing (CR, LF or another control character).

    Raised while building an action, before any byte reaches the socket, so data such as a
    lead's name can never become a header of its own.
    """


class NotConnectedError(AmiError):
    """An action was sent while there is no logged-in AMI session."""


class AmiConnectError(AmiError):
    """The TCP connection to Asterisk's AMI could not be made (or no banner came)."""


class AmiLoginError(AmiError):
    """Asterisk refused the login (wrong user or secret, or a host not permitted)."""


class ConnectionLostError(AmiError):
    """The connection dropped while an action was waiting for its response.

    Nothing is re-sent. For an Originate the outcome is unknown: the call may exist, so the
    caller must reconcile (CoreShowChannels, uniqueids) instead of dialling again.
    """

    def __init__(self, action_name: str, action_id: str) -> None:
        self.action_name = action_name
        self.action_id = action_id
        super().__init__(
            f"connection lost; reconcile: {action_name} {action_id!r} was not answered and "
            "will not be re-sent"
        )


class AmiTimeoutError(AmiError, TimeoutError):
    """No response to an action within its timeout. Like a lost connection, its effect on
    Asterisk is unknown."""

    def __init__(self, action_name: str, action_id: str, timeout: float) -> None:
        self.action_name = action_name
        self.action_id = action_id
        super().__init__(
            f"no response to {action_name} {action_id!r} within {timeout:g} s; reconcile"
        )


class AmiActionError(AmiError):
    """Asterisk answered `Response: Error` (e.g. `No such channel`)."""

    def __init__(self, action_name: str, response: AmiMessage) -> None:
        self.action_name = action_name
        self.response = response
        self.reason = response.get("Message") or ""
        super().__init__(f"{action_name} failed: {self.reason or response.response}")
