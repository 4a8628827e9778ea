"""Pure FastAGI wire format: no sockets, no clock, so every rule here is testable on its own.

What Asterisk sends (see the recorded transcripts):
- an environment of `agi_name: value` lines ended by an empty line;
- one reply per command: `200 result=N`, `200 result=N (data)`, `200 result=N endpos=M`,
  `200 result= (timeout)`, `510 Invalid or unknown command`, `511 ...` (dead channel),
  a multi-line usage `520-Invalid command syntax.  Proper usage follows:` ... `520 End of
  proper usage.`, the single-line `520 Invalid command syntax.  Proper usage not available.`,
  an occasional `100 result=0 Trying...` before the real reply;
- a bare `HANGUP` line, unsolicited, once the channel hangs up.

What we send: one command per line; arguments are split by Asterisk on blanks, with double
quotes grouping and a backslash escaping the next character. Values that could end the line
(CR, LF, NUL and other control characters) are refused, so caller-supplied text can never
inject a second command.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import parse_qsl, unquote

from agi.errors import AgiProtocolError

# Asterisk reads commands into a 2048-byte buffer (AGI_BUF_LEN); longer lines are cut.
MAX_COMMAND_BYTES = 2047
MAX_ENVIRONMENT_LINES = 256

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_PLAIN_ARGUMENT = re.compile(r'[^\s"\\]+')
_COMMAND_WORD = re.compile(r"[A-Z]+")
# A channel variable or dialplan function: NAME, or FUNC(args) without nesting or blanks.
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\([^\s()\"\\]*\))?")
_RESULT_LINE = re.compile(
    r"200 result=(?P<result>-?[0-9*#A-D]*)(?: \((?P<data>.*)\))?(?: endpos=(?P<endpos>-?\d+))?"
)
_ENV_KEY = re.compile(r"agi_[a-z0-9_]+")


# ---------------------------------------------------------------- environment


@dataclass(frozen=True, slots=True)
class AgiEnvironment:
    """The `agi_*` variables Asterisk sends first, with the network script split up."""

    variables: Mapping[str, str]
    script_path: str
    query: Mapping[str, str]

    def get(self, name: str, default: str = "") -> str:
        """An environment value by its name without the `agi_` prefix (`channel`, `uniqueid`)."""
        return self.variables.get(f"agi_{name}", default)

    @property
    def channel(self) -> str:
        return self.get("channel")

    @property
    def uniqueid(self) -> str:
        return self.get("uniqueid")

    @property
    def network_script(self) -> str:
        return self.get("network_script")

    @property
    def context(self) -> str:
        return self.get("context")

    @property
    def extension(self) -> str:
        return self.get("extension")

    @property
    def arguments(self) -> tuple[str, ...]:
        """`agi_arg_1..N`: the comma-separated arguments after the URL in `AGI()`."""
        args: list[str] = []
        while (value := self.variables.get(f"agi_arg_{len(args) + 1}")) is not None:
            args.append(value)
        return tuple(args)


def parse_environment_line(line: str) -> tuple[str, str]:
    """Split one `agi_name: value` line; anything else is not FastAGI."""
    name, sep, value = line.partition(":")
    if not sep or not _ENV_KEY.fullmatch(name):
        raise AgiProtocolError(f"not an AGI environment line: {line[:80]!r}")
    # Asterisk writes "name: value"; an empty value leaves "name: " (or "name:").
    return name, value[1:] if value.startswith(" ") else value


def split_network_script(network_script: str) -> tuple[str, dict[str, str]]:
    """`answered?attempt=a&campaign=7` -> (`answered`, {attempt: a, campaign: 7})."""
    path, _, query_string = network_script.partition("?")
    query = dict(parse_qsl(query_string, keep_blank_values=True))
    return unquote(path).strip("/"), query


def parse_environment(lines: Iterable[str]) -> AgiEnvironment:
    """Build the environment from its lines (without the terminating empty line)."""
    variables: dict[str, str] = {}
    for count, line in enumerate(lines, start=1):
        if count > MAX_ENVIRONMENT_LINES:
            raise AgiProtocolError("AGI environment has too many lines")
        name, value = parse_environment_line(line)
        variables[name] = value
    if "agi_network_script" not in variables and "agi_request" not in variables:
        raise AgiProtocolError("AGI environment without agi_network_script or agi_request")
    script = variables.get("agi_network_script")
    if script is None:
        # Older or odd clients: take the script from the request URL after host[:port]/.
        request = variables["agi_request"]
        _, _, after_scheme = request.partition("://")
        _, _, script = after_scheme.partition("/")
    path, query = split_network_script(script)
    return AgiEnvironment(
        variables=MappingProxyType(variables),
        script_path=path,
        query=MappingProxyType(query),
    )


# ---------------------------------------------------------------- commands


def check_value(value: str, what: str = "value") -> str:
    """Refuse text that could end an AGI line or smuggle in another command."""
    if _CONTROL_CHARS.search(value):
        raise ValueError(f"{what} contains a control character (CR/LF/NUL/...): {value!r}")
    return value


def check_variable_name(name: str) -> str:
    """A channel variable name or a simple function such as `CALLERID(num)`."""
    if not _VARIABLE_NAME.fullmatch(name):
        raise ValueError(f"not a valid channel variable name: {name!r}")
    return name


def quote_argument(argument: str) -> str:
    """Quote one argument the way Asterisk's AGI parser splits it back."""
    check_value(argument, "AGI argument")
    if _PLAIN_ARGUMENT.fullmatch(argument):
        return argument
    escaped = argument.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def format_command(words: str, *arguments: str) -> bytes:
    """One command line: `words` is the fixed part (`GET VARIABLE`), arguments are quoted."""
    for word in words.split(" "):
        if not _COMMAND_WORD.fullmatch(word):
            raise ValueError(f"not an AGI command word: {word!r}")
    line = " ".join([words, *(quote_argument(a) for a in arguments)])
    data = line.encode("utf-8") + b"\n"
    if len(data) > MAX_COMMAND_BYTES:
        raise ValueError(f"AGI command longer than {MAX_COMMAND_BYTES} bytes")
    return data


# ---------------------------------------------------------------- replies


@dataclass(frozen=True, slots=True)
class AgiResult:
    """A `200` reply: `result` as sent (may be empty on GET DATA), optional data and endpos."""

    result: str
    data: str | None = None
    endpos: int | None = None

    @property
    def code(self) -> int:
        """`result` as an int for numeric replies; empty counts as 0 (GET DATA, no digit)."""
        return int(self.result) if self.result else 0


@dataclass(frozen=True, slots=True)
class AgiHangupNotice:
    """The bare `HANGUP` line Asterisk sends when the channel is gone."""


@dataclass(frozen=True, slots=True)
class AgiFailure:
    """A 5xx reply; `usage` holds the lines of a multi-line `520` usage text."""

    code: int
    message: str
    usage: tuple[str, ...] = ()


AgiReply = AgiResult | AgiHangupNotice | AgiFailure


def parse_result_line(line: str) -> AgiResult:
    """Parse a `200 result=...` line."""
    match = _RESULT_LINE.fullmatch(line)
    if match is None:
        raise AgiProtocolError(f"malformed AGI result line: {line[:80]!r}")
    endpos = match["endpos"]
    return AgiResult(
        result=match["result"],
        data=match["data"],
        endpos=int(endpos) if endpos is not None else None,
    )


@dataclass(slots=True)
class ReplyParser:
    """Turns reply lines into replies; holds only the state of a `520-` usage block."""

    _usage_message: str | None = None
    _usage_lines: list[str] = field(default_factory=list)

    def feed(self, line: str) -> AgiReply | None:
        """One line in; a complete reply out, or None while more lines are needed."""
        if self._usage_message is not None:
            if line.startswith("520 "):
                reply = AgiFailure(520, self._usage_message, tuple(self._usage_lines))
                self._usage_message = None
                self._usage_lines = []
                return reply
            self._usage_lines.append(line)
            return None
        if line == "HANGUP":
            return AgiHangupNotice()
        if line.startswith("200 "):
            return parse_result_line(line)
        if line.startswith("100 ") or line == "100":
            return None  # "Trying...": the real reply follows
        if line.startswith("520-"):
            self._usage_message = line[4:]
            return None
        if len(line) >= 3 and line[:3].isdigit() and line[0] == "5" and line[3:4] in ("", " "):
            return AgiFailure(int(line[:3]), line[4:])
        raise AgiProtocolError(f"unexpected AGI reply line: {line[:80]!r}")
