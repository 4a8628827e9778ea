"""A small extensions.conf interpreter: contexts, pattern extensions, priorities and labels,
`${VAR}` / `${VAR:offset:length}` expansion, `$[a = b]` expressions and `include =>`; enough
for the dialplans in `contexts.py`. Each step emits Newexten like Asterisk before running its
app."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pbxsim.channel import Channel, ChannelHungUp

if TYPE_CHECKING:
    from pbxsim.pbx import PbxSim

# An app returns None to continue, or a jump target (context, exten, label-or-priority).
Jump = tuple[str, str, str]
App = Callable[["PbxSim", Channel, str], Awaitable[Jump | None]]

_LINE = re.compile(r"^\s*(exten|same)\s*=>\s*(.*)$")
_INCLUDE = re.compile(r"^\s*include\s*=>\s*(\S+)\s*$")
_STEP = re.compile(
    r"^(?P<prio>[^,(]+)(?:\((?P<label>[^)]*)\))?,(?P<app>[A-Za-z0-9_]+)(?:\((?P<data>.*)\))?$"
)
_VAR = re.compile(r"\$\{([^${}]+)\}")
_EXPR = re.compile(r"\$\[([^\[\]]*)\]")


@dataclass(frozen=True)
class Step:
    priority: int
    label: str
    app: str
    data: str


@dataclass
class Extension:
    pattern: str
    matcher: re.Pattern[str]
    steps: list[Step]

    def index_of(self, target: str) -> int:
        for i, step in enumerate(self.steps):
            if step.label == target or str(step.priority) == target:
                return i
        raise KeyError(target)


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    if not pattern.startswith("_"):
        return re.compile(re.escape(pattern) + r"\Z")
    out = []
    chars = iter(pattern[1:])
    for c in chars:
        if c == "X":
            out.append("[0-9]")
        elif c == "Z":
            out.append("[1-9]")
        elif c == "N":
            out.append("[2-9]")
        elif c == ".":
            out.append(".+")
        elif c == "!":
            out.append(".*")
        elif c == "[":
            body = ""
            for d in chars:
                if d == "]":
                    break
                body += d
            out.append(f"[{body}]")
        else:
            out.append(re.escape(c))
    return re.compile("".join(out) + r"\Z")


class Dialplan:
    def __init__(self, text: str) -> None:
        self.contexts: dict[str, list[Extension]] = {}
        # `include => other`: searched after the context's own extensions, as Asterisk does
        self.includes: dict[str, list[str]] = {}
        self._parse(text)

    def _parse(self, text: str) -> None:
        context: list[Extension] | None = None
        name = ""
        current: Extension | None = None
        for raw in text.splitlines():
            line = raw.split(";", 1)[0].rstrip()
            if not line.strip():
                continue
            if line.startswith("["):
                name = line.strip()[1:-1]
                context = self.contexts.setdefault(name, [])
                current = None
                continue
            included = _INCLUDE.match(line)
            if included and context is not None:
                self.includes.setdefault(name, []).append(included[1])
                continue
            m = _LINE.match(line)
            if not m or context is None:
                raise ValueError(f"bad dialplan line: {raw!r}")
            kind, rest = m.groups()
            if kind == "exten":
                pattern, _, rest = rest.partition(",")
                current = Extension(pattern, _pattern_regex(pattern), [])
                context.append(current)
            if current is None:
                raise ValueError(f"'same' before 'exten': {raw!r}")
            sm = _STEP.match(rest.strip())
            if not sm:
                raise ValueError(f"bad dialplan step: {raw!r}")
            prio = sm["prio"]
            number = len(current.steps) + 1 if prio == "n" else int(prio)
            current.steps.append(Step(number, sm["label"] or "", sm["app"], sm["data"] or ""))

    def find(
        self, context: str, exten: str, _seen: frozenset[str] = frozenset()
    ) -> Extension | None:
        """The extension `exten` runs in `context`: its own first, then its includes. The
        channel stays in `context` (Asterisk reports the including context in events)."""
        for ext in self.contexts.get(context, []):
            if ext.matcher.match(exten):
                return ext
        seen = _seen | {context}
        for other in self.includes.get(context, []):
            if other not in seen and (found := self.find(other, exten, seen)) is not None:
                return found
        return None

    def exists(self, context: str, exten: str) -> bool:
        return self.find(context, exten) is not None


def expand(ch: Channel, text: str, globals_: dict[str, str]) -> str:
    """`${...}` and `$[...]` substitution, innermost first, until nothing is left."""
    for _ in range(20):
        new = _VAR.sub(lambda m: _lookup(ch, m.group(1), globals_), text)
        new = _EXPR.sub(lambda m: evaluate(m.group(1)), new)
        if new == text:
            break
        text = new
    return text


def _lookup(ch: Channel, expr: str, globals_: dict[str, str]) -> str:
    if expr.startswith("IF(") and expr.endswith(")"):
        cond, _, branches = expr[3:-1].partition("?")
        if_true, _, if_false = branches.partition(":")
        return if_true if cond.strip() not in ("", "0") else if_false
    name, *slices = expr.split(":")
    value = channel_variable(ch, name, globals_)
    if slices:
        try:
            offset = int(slices[0] or 0)
            length = int(slices[1]) if len(slices) > 1 and slices[1] else None
        except ValueError:
            return value
        value = value[offset:]
        if length is not None:
            value = value[:length]
    return value


def channel_variable(ch: Channel, name: str, globals_: dict[str, str]) -> str:
    builtin = {
        "EXTEN": ch.exten,
        "CONTEXT": ch.context,
        "PRIORITY": str(ch.priority),
        "CHANNEL": ch.name,
        "UNIQUEID": ch.uniqueid,
        "LINKEDID": ch.linkedid,
        "CALLERID(num)": ch.caller_num,
        "CALLERID(name)": ch.caller_name,
    }
    if name in builtin:
        return builtin[name]
    if name in ch.variables:
        return ch.variables[name]
    return globals_.get(name, "")


def evaluate(expr: str) -> str:
    """`a = b`, `a != b` (quotes optional, numbers compared as numbers) joined by `&` / `|`,
    else the text itself."""
    if "|" in expr:
        return "1" if any(evaluate(p) == "1" for p in expr.split("|")) else "0"
    if "&" in expr:
        return "1" if all(evaluate(p) == "1" for p in expr.split("&")) else "0"
    for op in ("!=", "="):
        if op in expr:
            left, right = (part.strip().strip('"') for part in expr.split(op, 1))
            try:
                equal = float(left) == float(right)
            except ValueError:
                equal = left == right
            return "1" if equal == (op == "=") else "0"
    return expr.strip().strip('"')


async def execute(sim: PbxSim, ch: Channel, context: str, exten: str, priority: int | str) -> None:
    """Run the dialplan from (context, exten, priority) until it ends or the channel goes.

    Falling off the end of an extension hangs the channel up, as in Asterisk.
    """
    dp = sim.dialplan
    target: str = str(priority)
    while True:
        ext = dp.find(context, exten)
        if ext is None:
            raise ChannelHungUp
        try:
            index = ext.index_of(target)
        except KeyError:
            raise ChannelHungUp from None
        ch.context, ch.exten = context, exten
        jumped = False
        while index < len(ext.steps):
            ch.check()
            step = ext.steps[index]
            ch.priority = step.priority
            data = expand(ch, step.data, sim.globals)
            shown = "Wait" if step.app == "SimTalk" else step.app
            ch.application, ch.app_data = shown, data
            sim.emit_channel(
                "Newexten",
                ch,
                [("Extension", exten), ("Application", shown), ("AppData", data)],
                privilege="dialplan,all",
            )
            app = sim.apps.get(step.app)
            jump = await app(sim, ch, data) if app is not None else None
            if jump is not None:
                new_context, new_exten, new_target = jump
                context = new_context or context
                exten = new_exten or exten
                target = new_target
                jumped = True
                break
            index += 1
        if not jumped:
            raise ChannelHungUp
