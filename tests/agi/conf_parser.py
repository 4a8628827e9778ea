"""A tiny reader of Asterisk .conf files, enough to check the shipped configuration:
sections with template markers, `key = value` and `key => value` lines, `;` comments
(`\\;` is a literal semicolon), and dialplan priorities resolved from `same => n`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_SECTION = re.compile(r"\[(?P<name>[^\]]+)\](?:\((?P<templates>[^)]*)\))?")
_PRIORITY = re.compile(r"(?P<priority>n|\d+)(?:\((?P<label>[^)]+)\))?")
_APP = re.compile(r"(?P<app>[A-Za-z]+)(?:\((?P<args>.*)\))?")


@dataclass
class Section:
    name: str
    is_template: bool = False
    templates: list[str] = field(default_factory=list)
    entries: list[tuple[str, str]] = field(default_factory=list)

    def values(self, key: str) -> list[str]:
        return [v for k, v in self.entries if k == key]

    def value(self, key: str) -> str | None:
        found = self.values(key)
        return found[-1] if found else None


@dataclass(frozen=True)
class Step:
    """One dialplan priority."""

    priority: int
    label: str | None
    app: str
    args: str


def _strip_comment(line: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(line):
        if line[i] == "\\" and i + 1 < len(line) and line[i + 1] == ";":
            out.append(";")
            i += 2
            continue
        if line[i] == ";":
            break
        out.append(line[i])
        i += 1
    return "".join(out).strip()


def parse_conf(path: Path) -> list[Section]:
    sections: list[Section] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = _strip_comment(raw)
        if not line or line.startswith("#include"):
            continue
        header = _SECTION.fullmatch(line)
        if header:
            templates = [t.strip() for t in (header["templates"] or "").split(",") if t.strip()]
            sections.append(
                Section(
                    name=header["name"],
                    is_template="!" in templates,
                    templates=[t for t in templates if t != "!"],
                )
            )
            continue
        if "=>" in line:
            key, _, value = line.partition("=>")
        elif "=" in line:
            key, _, value = line.partition("=")
        else:
            raise ValueError(f"{path.name}:{number}: not a conf line: {raw!r}")
        if not sections:
            raise ValueError(f"{path.name}:{number}: entry outside a section")
        sections[-1].entries.append((key.strip(), value.strip()))
    return sections


def sections_by_name(sections: list[Section]) -> dict[str, list[Section]]:
    by_name: dict[str, list[Section]] = {}
    for section in sections:
        by_name.setdefault(section.name, []).append(section)
    return by_name


def dialplan(section: Section) -> dict[str, list[Step]]:
    """Extensions of a context with their priorities numbered as Asterisk numbers them."""
    extensions: dict[str, list[Step]] = {}
    current: str | None = None
    for key, value in section.entries:
        if key == "exten":
            current, _, rest = value.partition(",")
        elif key == "same":
            rest = value
        else:
            continue
        assert current is not None, f"`same` before `exten` in [{section.name}]"
        priority_text, _, app_text = rest.partition(",")
        priority = _PRIORITY.fullmatch(priority_text.strip())
        app = _APP.fullmatch(app_text.strip())
        assert priority and app, f"bad priority line in [{section.name}]: {value!r}"
        steps = extensions.setdefault(current, [])
        number = len(steps) + 1 if priority["priority"] == "n" else int(priority["priority"])
        assert number == len(steps) + 1, f"priorities out of order in [{section.name}]"
        steps.append(Step(number, priority["label"], app["app"], app["args"] or ""))
    return extensions


def from_label(steps: list[Step], label: str) -> list[tuple[str, str]]:
    """(app, args) from a label to the end of the extension."""
    start = next(i for i, s in enumerate(steps) if s.label == label)
    return [(s.app, s.args) for s in steps[start:]]
