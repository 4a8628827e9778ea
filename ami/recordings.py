"""Read recorded Asterisk traffic (`SECONDS DIRECTION TEXT` lines) back into wire bytes.

The recordings are the ground truth for the protocol: the parser is tested against the bytes
rebuilt here and the benchmark replays them over a socket.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_LINE = re.compile(r"^\s*(?P<seconds>\d+(?:\.\d+)?) (?P<direction>AMI[<>]|AGI[<>!]) ?(?P<text>.*)$")
EOF_MARK = "<EOF>"


@dataclass(frozen=True, slots=True)
class RecordedLine:
    seconds: float
    direction: str  # "AMI>" received from Asterisk, "AMI<" sent to it, "AGI..." FastAGI
    text: str


def read_recording(path: Path) -> list[RecordedLine]:
    lines: list[RecordedLine] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for number, raw in enumerate(handle, start=1):
            raw = raw.rstrip("\n")
            if not raw.strip():
                continue
            match = _LINE.match(raw)
            if match is None:
                raise ValueError(f"{path.name}:{number}: not a recorded traffic line: {raw!r}")
            lines.append(RecordedLine(float(match["seconds"]), match["direction"], match["text"]))
    return lines


def received_ami_lines(path: Path) -> list[str]:
    """The text of every line Asterisk sent on AMI, `<EOF>` (socket closed) left out."""
    return [
        line.text
        for line in read_recording(path)
        if line.direction == "AMI>" and line.text != EOF_MARK
    ]


def wire_bytes(lines: list[str]) -> bytes:
    """The byte stream those lines were on the socket: each line ended by CRLF."""
    return "".join(f"{line}\r\n" for line in lines).encode("utf-8")


def recording_files(directory: Path) -> list[Path]:
    """The traffic recordings in a folder (numbered `NN-name.txt`), in order."""
    return sorted(p for p in directory.glob("[0-9][0-9]-*.txt") if p.is_file())
