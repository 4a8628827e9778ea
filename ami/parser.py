"""Incremental parser for the AMI wire format: feed bytes as they arrive, get whole messages.

Pure (no I/O, no clock) so it can be tested byte for byte against recorded Asterisk traffic
and reused by anything that speaks AMI (client, simulated PBX, benchmarks).

Wire facts it follows (see the recorded transcripts):
- on connect Asterisk sends one banner line, `Asterisk Call Manager/x.y.z`, not followed by
  a blank line;
- a message is `Key: Value` lines ended by an empty line; lines end with CRLF, but a bare LF
  is accepted too;
- a value may itself contain `: ` (only the first colon separates), and may be empty;
- headers can repeat (`Variable`, `ChanVariable`, `Output`) and their order matters;
- `Command` output comes back as one `Output:` header per line of text (this Asterisk); the
  legacy `Response: Follows` body ended by `--END COMMAND--` is kept as `body`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Literal

from ami.header_names import ASTERISK_HEADER_NAMES, CANONICAL_BY_LOWER

MessageKind = Literal["response", "event", "action"]

BANNER_PREFIX = "Asterisk Call Manager/"
_BANNER_PREFIX_BYTES = BANNER_PREFIX.encode("ascii")
_END_COMMAND = "--END COMMAND--"
# A message ends at an empty line; either line may end with CRLF or a bare LF.
_MESSAGE_END = re.compile(rb"\r?\n\r?\n")
# Header names: printable ASCII without space or colon (e.g. `Cause-txt`, `ActionID`).
_HEADER_NAME = re.compile(r"[!-9;-~]+")
_HEADER_LINE = re.compile(r"^([!-9;-~]+): ?([^\r\n]*)", re.MULTILINE)

GarbageHandler = Callable[[str, str], None]
"""Called with (reason, offending text) whenever input has to be skipped."""


class AmiMessage:
    """One AMI message: ordered headers (repeats kept) with case-insensitive lookup.

    `kind` is `event` when an `Event` header is present (an `OriginateResponse` event also
    carries `Response`), else `response`, else `action` (what a client sends).
    """

    __slots__ = ("_canonical", "_exact", "_lower", "body", "headers", "kind")

    headers: tuple[tuple[str, str], ...]
    kind: MessageKind
    body: tuple[str, ...]
    # First value of each header, by the name as sent (fast path: Asterisk's own spelling),
    # and by lower-cased name (built on the first lookup that misses the exact spelling).
    _exact: dict[str, str]
    _lower: dict[str, str] | None
    _canonical: bool  # every header name is spelled as Asterisk spells it

    def __init__(self, headers: Iterable[tuple[str, str]], body: Sequence[str] = ()) -> None:
        pairs = tuple((str(k), str(v)) for k, v in headers)
        self._init(pairs, tuple(body))
        if _kind_of(self._lowered()) is None:
            raise ValueError("an AMI message needs an Event, Response or Action header")

    def _init(
        self,
        headers: tuple[tuple[str, str], ...],
        body: tuple[str, ...],
        exact: dict[str, str] | None = None,
    ) -> None:
        self.headers = headers
        self.body = body
        if exact is None:
            exact = dict(reversed(headers))
        self._exact = exact
        self._lower = None
        self._canonical = ASTERISK_HEADER_NAMES.issuperset(exact)
        if "Event" in exact:
            self.kind = "event"
        elif "Response" in exact:
            self.kind = "response"
        else:
            self.kind = _kind_of(self._lowered()) or "action"

    @classmethod
    def _trusted(
        cls,
        headers: tuple[tuple[str, str], ...],
        body: tuple[str, ...] = (),
        exact: dict[str, str] | None = None,
    ) -> AmiMessage:
        message = cls.__new__(cls)
        message._init(headers, body, exact)
        return message

    def _lowered(self) -> dict[str, str]:
        lower = self._lower
        if lower is None:
            lower = self._lower = {key.lower(): value for key, value in reversed(self.headers)}
        return lower

    @property
    def name(self) -> str:
        """The event name, the response status, or the action name, by kind."""
        return self.get(_NAME_HEADER[self.kind]) or ""

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    @property
    def response(self) -> str | None:
        """`Success`, `Error`, `Goodbye`, `Follows`... (events such as OriginateResponse too)."""
        return self.get("Response")

    @property
    def is_error(self) -> bool:
        return self.kind == "response" and (self.response or "").lower() in _ERROR_RESPONSES

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of a header (case-insensitive name), or `default`."""
        value = self._exact.get(name)
        if value is not None:
            return value
        if self._canonical:
            # Every key is in Asterisk's spelling, so only that spelling can match.
            canonical = CANONICAL_BY_LOWER.get(name.lower())
            return default if canonical is None else self._exact.get(canonical, default)
        return self._lowered().get(name.lower(), default)

    def get_all(self, name: str) -> list[str]:
        """Every value of a repeated header, in wire order."""
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.headers)

    def __len__(self) -> int:
        return len(self.headers)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AmiMessage):
            return NotImplemented
        return self.headers == other.headers and self.body == other.body

    def __hash__(self) -> int:
        return hash((self.headers, self.body))

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.headers[:4])
        more = f", +{len(self.headers) - 4}" if len(self.headers) > 4 else ""
        return f"<AmiMessage {self.kind} {shown}{more}>"

    def encode(self) -> bytes:
        """Wire bytes (CRLF lines, blank line at the end), as Asterisk would send them."""
        lines = [f"{key}: {value}" for key, value in self.headers]
        lines.extend(self.body)
        if self.body:
            lines.append(_END_COMMAND)
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


_NAME_HEADER: dict[MessageKind, str] = {
    "event": "Event",
    "response": "Response",
    "action": "Action",
}
_ERROR_RESPONSES = frozenset({"error", "fail", "failure"})


def _kind_of(first: dict[str, str]) -> MessageKind | None:
    if "event" in first:
        return "event"
    if "response" in first:
        return "response"
    if "action" in first:
        return "action"
    return None


def command_output(message: AmiMessage) -> str:
    """The text a `Command` action printed: `Output:` lines, or a legacy `Follows` body."""
    lines = message.get_all("Output")
    if not lines and message.body:
        lines = list(message.body)
    return "\n".join(lines)


class AmiParser:
    """Feed it bytes in chunks of any size; it returns the messages completed so far.

    Garbage (lines that are not headers, blocks with no Event/Response/Action, runaway input
    without a message end) is skipped and reported through `on_garbage`, so one bad write
    from the far end never stops the stream: parsing resumes at the next empty line.
    """

    def __init__(
        self,
        *,
        on_garbage: GarbageHandler | None = None,
        max_message_bytes: int = 1 << 20,
    ) -> None:
        self._pending = b""
        self._on_garbage = on_garbage
        self._max_message_bytes = max_message_bytes
        self._skipping = False  # inside an oversized block: drop until its end
        self.banner: str | None = None
        self.garbage_count = 0
        self.message_count = 0

    @property
    def version(self) -> str | None:
        """The AMI protocol version from the banner (`13.0.0`), once seen."""
        if self.banner is None:
            return None
        return self.banner[len(BANNER_PREFIX) :].strip()

    @property
    def buffered_bytes(self) -> int:
        return len(self._pending)

    def feed(self, data: bytes) -> list[AmiMessage]:
        buffer = self._pending + data if self._pending else bytes(data)
        messages: list[AmiMessage] = []
        position = 0
        if buffer.startswith(_BANNER_PREFIX_BYTES):
            # The banner is a lone line with no empty line after it: take it once complete.
            line_end = buffer.find(b"\n")
            if line_end >= 0:
                self.banner = buffer[:line_end].rstrip(b"\r").decode("utf-8", "replace")
                position = line_end + 1
        crlf_only = buffer.count(b"\n") == buffer.count(b"\r\n")
        parse_block = self._parse_block
        while True:
            if crlf_only:  # the normal case: a fast substring search finds each end
                end = buffer.find(b"\r\n\r\n", position)
                if end < 0:
                    break
                block = buffer[position:end]
                position = end + 4
            else:
                match = _MESSAGE_END.search(buffer, position)
                if match is None:
                    break
                block = buffer[position : match.start()]
                position = match.end()
            if self._skipping:
                self._skipping = False
                continue
            if block:
                message = parse_block(block, crlf_only)
                if message is not None:
                    messages.append(message)
        rest = buffer[position:]
        if len(rest) > self._max_message_bytes:
            self._report("message too long, skipped to the next empty line", rest[:200])
            self._skipping = True
            rest = rest[-3:]  # keep a possible partial end-of-message marker
        self._pending = rest
        self.message_count += len(messages)
        return messages

    def _parse_block(self, block: bytes, crlf_only: bool) -> AmiMessage | None:
        text = block.decode("utf-8", "replace")
        if crlf_only:
            headers = _HEADER_LINE.findall(text)
            lines = text.count("\n") + 1
            # Fast path: every line was a header, no stray CR (the normal case).
            if len(headers) == lines and text.count("\r") == lines - 1:
                exact = dict(reversed(headers))
                if "Event" in exact or "Response" in exact or "Action" in exact:
                    return AmiMessage._trusted(tuple(headers), (), exact)
        return self._parse_block_slowly(text)

    def _parse_block_slowly(self, text: str) -> AmiMessage | None:
        """Line by line, for blocks with bare LFs, a banner, a legacy body or garbage."""
        headers: list[tuple[str, str]] = []
        loose: list[str] = []
        for line in text.split("\n"):
            if line.endswith("\r"):
                line = line[:-1]
            if not line:
                continue
            key, colon, value = line.partition(":")
            if not colon or _HEADER_NAME.fullmatch(key) is None:
                if line.startswith(BANNER_PREFIX) and not headers:
                    self.banner = line
                else:
                    loose.append(line)
                continue
            if value.startswith(" "):
                value = value[1:]
            headers.append((key, value))
        first = {key.lower(): value for key, value in reversed(headers)}
        kind = _kind_of(first)
        if kind is None:
            if headers or loose:
                self._report("block without Event, Response or Action", text)
            return None
        body: tuple[str, ...] = ()
        if loose:
            if kind == "response" and first["response"].lower() == "follows":
                body = tuple(line for line in loose if line != _END_COMMAND)
            else:
                for line in loose:
                    self._report("line is not a header", line)
        return AmiMessage._trusted(tuple(headers), body)

    def _report(self, reason: str, text: str | bytes) -> None:
        self.garbage_count += 1
        if self._on_garbage is not None:
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            self._on_garbage(reason, text)
