"""Builders for the AMI actions the dialer sends, validated before any byte is written.

Every header name and value is checked when an `AmiAction` is made: a value holding CR, LF or
any other control character raises `UnsafeHeaderError`, so a lead's name or a custom field
can never end one header and start another on the wire.
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ami.errors import UnsafeHeaderError

_HEADER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
# C0 and C1 controls, DEL, and the Unicode line/paragraph separators.
_UNSAFE_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_VARIABLE_NAME = re.compile(r"_{0,2}[A-Za-z][A-Za-z0-9_]*")
# Uniqueids become channel ids, log keys and Hangup/Redirect targets: keep them plain.
_ATTEMPT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_CALLER_NUMBER = re.compile(r"\+?[0-9*#]{1,32}")
_RESERVED = frozenset({"action", "actionid"})

HeaderValue = str | int


@dataclass(frozen=True, slots=True)
class AmiAction:
    """One action ready for the wire. `headers` excludes `Action` and `ActionID`."""

    name: str
    action_id: str
    headers: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        _check_name(self.name, what="action name")
        _check_value("ActionID", self.action_id)
        if not self.action_id:
            raise UnsafeHeaderError("ActionID must not be empty")
        for key, value in self.headers:
            _check_name(key, what="header name")
            if key.lower() in _RESERVED:
                raise UnsafeHeaderError(f"{key!r} is set by the action itself")
            _check_value(key, value)

    def get(self, name: str) -> str | None:
        wanted = name.lower()
        if wanted == "action":
            return self.name
        if wanted == "actionid":
            return self.action_id
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    def get_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [v for k, v in self.headers if k.lower() == wanted]

    def encode(self) -> bytes:
        lines = [f"Action: {self.name}", f"ActionID: {self.action_id}"]
        lines.extend(f"{key}: {value}" for key, value in self.headers)
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")

    def __repr__(self) -> str:
        # Never show a Login secret in logs or tracebacks.
        shown = [(k, "***" if k.lower() == "secret" else v) for k, v in self.headers]
        return f"AmiAction({self.name!r}, action_id={self.action_id!r}, headers={shown!r})"


def _check_name(name: str, *, what: str) -> None:
    if not isinstance(name, str) or _HEADER_NAME.fullmatch(name) is None:
        raise UnsafeHeaderError(f"invalid AMI {what}: {name!r}")


def _check_value(key: str, value: str) -> None:
    if not isinstance(value, str):
        raise UnsafeHeaderError(f"value of {key!r} must be text, not {type(value).__name__}")
    bad = _UNSAFE_CHARACTER.search(value)
    if bad is not None:
        raise UnsafeHeaderError(
            f"value of {key!r} contains control character {bad.group()!r} at {bad.start()}; "
            "refusing to send it (it could inject AMI headers)"
        )


_session_token = secrets.token_hex(3)
_counter = itertools.count(1)


def new_action_id(prefix: str = "ami") -> str:
    """A process-unique ActionID such as `ping-3fa2c1-17`."""
    return f"{prefix}-{_session_token}-{next(_counter)}"


def action(
    name: str,
    headers: Mapping[str, HeaderValue | Sequence[str]] | Iterable[tuple[str, HeaderValue]] = (),
    *,
    action_id: str | None = None,
) -> AmiAction:
    """Any action by name. A mapping value that is a list becomes a repeated header."""
    pairs: list[tuple[str, str]] = []
    items = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in items:
        if isinstance(value, list | tuple):
            pairs.extend((key, _text(key, item)) for item in value)
        else:
            pairs.append((key, _text(key, value)))
    return AmiAction(name, action_id or new_action_id(name.lower()), tuple(pairs))


def _text(key: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise UnsafeHeaderError(f"value of {key!r} must be text or an integer, not {value!r}")
    return str(value)


def login(
    username: str,
    secret: str,
    *,
    events: str | Sequence[str] = "on",
    action_id: str | None = None,
) -> AmiAction:
    """`events`: `on`, `off`, or event classes such as `("call", "user", "agi", "system")`."""
    event_mask = events if isinstance(events, str) else ",".join(events)
    return action(
        "Login",
        [("Username", username), ("Secret", secret), ("Events", event_mask)],
        action_id=action_id,
    )


def logoff(*, action_id: str | None = None) -> AmiAction:
    return action("Logoff", action_id=action_id)


def ping(*, action_id: str | None = None) -> AmiAction:
    return action("Ping", action_id=action_id)


def core_show_channels(*, action_id: str | None = None) -> AmiAction:
    return action("CoreShowChannels", action_id=action_id)


def status(
    channel: str | None = None,
    *,
    variables: Sequence[str] = (),
    action_id: str | None = None,
) -> AmiAction:
    """Channel status as an event list; `variables` names channel variables to include."""
    pairs: list[tuple[str, str]] = []
    if channel:
        pairs.append(("Channel", channel))
    if variables:
        for name in variables:
            _check_variable_name(name)
        pairs.append(("Variables", ",".join(variables)))
    return action("Status", pairs, action_id=action_id)


def command(cli_command: str, *, action_id: str | None = None) -> AmiAction:
    """A CLI command; its output comes back as `Output:` headers (see `command_output`)."""
    if not cli_command.strip():
        raise ValueError("Command needs a CLI command")
    return action("Command", [("Command", cli_command)], action_id=action_id)


def originate(
    attempt_id: str,
    *,
    channel: str,
    context: str,
    exten: str,
    priority: int = 1,
    timeout_ms: int | None = None,
    caller_id: str | None = None,
    variables: Mapping[str, str | int] | None = None,
    account: str | None = None,
) -> AmiAction:
    """An asynchronous Originate named after the attempt.

    `ActionID` and `ChannelId` are both the attempt id: the OriginateResponse event carries it
    back, and Asterisk uses it as the first leg's Uniqueid and the call's Linkedid, so later
    Hangup/Redirect actions and every event can be tied to the attempt. Always `Async: true`:
    the response only says the call was queued; the outcome arrives as an event.
    """
    if _ATTEMPT_ID.fullmatch(attempt_id) is None:
        raise ValueError(
            f"attempt id {attempt_id!r} must be 1-128 letters, digits, '.', '_' or '-'"
        )
    if not channel or not context or not exten:
        raise ValueError("Originate needs a channel, a context and an extension")
    if isinstance(priority, bool) or priority < 1:
        raise ValueError(f"priority must be a positive integer, not {priority!r}")
    pairs: list[tuple[str, str | int]] = [
        ("Channel", channel),
        ("Context", context),
        ("Exten", exten),
        ("Priority", priority),
        ("Async", "true"),
        ("ChannelId", attempt_id),
    ]
    if timeout_ms is not None:
        if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or timeout_ms <= 0:
            raise ValueError(f"timeout_ms must be a positive integer (ms), not {timeout_ms!r}")
        pairs.append(("Timeout", timeout_ms))
    if caller_id is not None:
        pairs.append(("CallerID", caller_id))
    if account is not None:
        pairs.append(("Account", account))
    for name, value in (variables or {}).items():
        pairs.append(("Variable", _variable(name, value)))
    return action("Originate", pairs, action_id=attempt_id)


def _check_variable_name(name: str) -> None:
    if _VARIABLE_NAME.fullmatch(name) is None:
        raise ValueError(f"invalid channel variable name {name!r}")


def _variable(name: str, value: str | int) -> str:
    _check_variable_name(name)
    text = _text(name, value)
    _check_value(name, text)
    if "," in text:
        # Asterisk splits each Variable header on commas: the rest would become a variable.
        raise UnsafeHeaderError(f"value of channel variable {name!r} must not contain ','")
    return f"{name}={text}"


def format_caller_id(name: str | None, number: str) -> str:
    """`"Name" <number>` for Originate's CallerID; quotes and angle brackets are refused."""
    if _CALLER_NUMBER.fullmatch(number) is None:
        raise ValueError(f"caller id number {number!r} must be digits (optionally +, *, #)")
    if not name:
        return f"<{number}>"
    if any(ch in name for ch in '"<>\\'):
        raise ValueError(f"caller id name {name!r} must not contain quotes, '<', '>' or '\\'")
    return f'"{name}" <{number}>'


def hangup(channel: str, *, cause: int | None = None, action_id: str | None = None) -> AmiAction:
    """Hang up a channel by name or uniqueid, or every channel matching `/regex/`.

    With a regex Asterisk answers with an event list of the channels it hung up."""
    if not channel:
        raise ValueError("Hangup needs a channel")
    pairs: list[tuple[str, str | int]] = [("Channel", channel)]
    if cause is not None:
        if isinstance(cause, bool) or not 0 <= cause <= 127:
            raise ValueError(f"hangup cause must be a Q.850 code 0-127, not {cause!r}")
        pairs.append(("Cause", cause))
    return action("Hangup", pairs, action_id=action_id)


def is_channel_regex(channel: str) -> bool:
    return len(channel) >= 2 and channel.startswith("/") and channel.endswith("/")


def mix_monitor(
    channel: str, file: str, *, options: str = "b", action_id: str | None = None
) -> AmiAction:
    """Start recording a channel (`options` b: only while bridged), for on-demand recording."""
    return action(
        "MixMonitor", {"Channel": channel, "File": file, "Options": options}, action_id=action_id
    )


def redirect(
    channel: str,
    *,
    context: str,
    exten: str,
    priority: int = 1,
    action_id: str | None = None,
) -> AmiAction:
    """Move one channel (by uniqueid or name) to a dialplan location. No regex: Asterisk's
    Redirect does not accept one, and moving several calls at once is never intended."""
    if not channel:
        raise ValueError("Redirect needs a channel")
    if is_channel_regex(channel):
        raise ValueError(f"Redirect does not accept a channel regex: {channel!r}")
    if not context or not exten:
        raise ValueError("Redirect needs a context and an extension")
    if isinstance(priority, bool) or priority < 1:
        raise ValueError(f"priority must be a positive integer, not {priority!r}")
    pairs: list[tuple[str, str | int]] = [
        ("Channel", channel),
        ("Context", context),
        ("Exten", exten),
        ("Priority", priority),
    ]
    return action("Redirect", pairs, action_id=action_id)
