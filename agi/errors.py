"""Exceptions of the FastAGI layer, kept apart so handlers can catch them without the server."""

from __future__ import annotations


class AgiError(Exception):
    """Base of every FastAGI failure; handlers catch this to end a session cleanly."""


class AgiHangup(AgiError):
    """The channel is gone: `result=-1`, a bare `HANGUP` line, a `511` or a closed socket."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"channel hung up: {reason}")
        self.reason = reason


class AgiCommandError(AgiError):
    """Asterisk rejected a command: `510` unknown command, `520` bad syntax (with usage)."""

    def __init__(self, code: int, message: str, usage: tuple[str, ...] = ()) -> None:
        text = f"{code} {message}"
        if usage:
            text += " | usage: " + " / ".join(usage)
        super().__init__(text)
        self.code = code
        self.message = message
        self.usage = usage


class AgiProtocolError(AgiError):
    """The peer sent something that is not FastAGI (garbage, an over-long line, bad env)."""


class AgiTimeout(AgiError):
    """The peer did not answer a command or finish its environment in time."""
