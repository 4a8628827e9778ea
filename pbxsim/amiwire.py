"""AMI wire format: messages are `Key: value` lines ended by a blank line, CRLF-terminated.

Kept separate from the server so the framing rules (repeated keys, tolerant line endings)
are tested once and shared by every action.
"""

from __future__ import annotations

from collections.abc import Iterable

Headers = list[tuple[str, str]]

BANNER = b"Asterisk Call Manager/13.0.0\r\n"


def encode(headers: Iterable[tuple[str, str]]) -> bytes:
    """One AMI message; values are written as given (the simulator builds them itself)."""
    return ("".join([f"{k}: {v}\r\n" for k, v in headers]) + "\r\n").encode()


class Message:
    """An action from a client: ordered headers, repeated keys kept, case-insensitive lookup."""

    __slots__ = ("_index", "headers")

    def __init__(self, headers: Headers) -> None:
        self.headers = headers
        self._index: dict[str, str] = {}
        for k, v in headers:
            self._index.setdefault(k.lower(), v)

    def get(self, key: str, default: str = "") -> str:
        return self._index.get(key.lower(), default)

    def has(self, key: str) -> bool:
        return key.lower() in self._index

    def get_all(self, key: str) -> list[str]:
        low = key.lower()
        return [v for k, v in self.headers if k.lower() == low]


def parse_block(lines: list[str]) -> Message:
    """Header lines of one action; lines without a colon are ignored like Asterisk does."""
    headers: Headers = []
    for line in lines:
        key, sep, value = line.partition(":")
        if not sep:
            continue
        headers.append((key.strip(), value.lstrip(" ")))
    return Message(headers)
