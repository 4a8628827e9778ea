"""Read the recorded Asterisk sessions and compare the simulator's output with them.

What the comparison is strict about (what a dialler relies on):
- every event the simulator emits must exist in the recording for the same channel, with the
  same event name, the same header names in the same order, the same channel name shape
  (`Local/5551234@sim-pstn-<8 hex>;1`), the same Privilege and the same key values (states,
  contexts, priorities, applications, causes, dial statuses, reasons, AGI commands and result
  codes, bridge member counts, AMD status);
- per channel (keyed by Uniqueid), those events come in the recorded order;
- every non-chatty recorded event of a channel is emitted (Newchannel, Newstate, Dial*,
  LocalBridge, Hangup*, Bridge*, Confbridge*, AGIExec*, UserEvent, MixMonitor*, ...);
- OriginateResponse (keyed by ActionID), bridge-level events (keyed by bridge name) and
  action responses must match the recording the same way.

What it tolerates:
- timing, and the interleaving of different channels' events (Asterisk itself varies);
- chatty events the simulator may leave out: Newexten, VarSet, NewCallerid, NewConnectedLine,
  DeviceStateChange (but those it emits must look like the recorded ones);
- values that depend on time or randomness: uniqueids of bridges, CommandIds, durations in
  `Wait`/AppData, timestamps, AMD cause numbers (only the cause class, e.g. `TOOLONG`);
- where a ConfbridgeLeave falls among the leaving channel's own hangup events: the
  recordings show both orders (ConfBridge and the bridge core race), so it is checked in a
  stream of its own.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

Headers = list[tuple[str, str]]

_LINE = re.compile(r"^\s*([\d.]+) (AMI<|AMI>|AGI>|AGI<|AGI!) ?(.*)$")
_SEQ = re.compile(r"-[0-9a-f]{8}(?=;|$|,)")

CHATTY = {"Newexten", "VarSet", "NewCallerid", "NewConnectedLine", "DeviceStateChange"}
IGNORED = {"DeviceStateChange", "FullyBooted", "SuccessfulAuth", "RequestBadFormat"}
DETERMINISTIC_VARS = {
    "AGISTATUS",
    "AMDSTATUS",
    "CONFBRIDGE_RESULT",
    "PLAYBACKSTATUS",
    "LAST",
    "DISPOSITION_HINT",
    "MIXMONITOR_FILENAME",
    "LEAD_ID",
    "DIALER_CALL_ID",
}

KEY_HEADERS: dict[str, tuple[str, ...]] = {
    "Newchannel": ("ChannelStateDesc", "Context", "Exten", "Priority"),
    "Newstate": ("ChannelStateDesc",),
    "Newexten": ("ChannelStateDesc", "Context", "Priority", "Application"),
    "NewCallerid": ("CallerIDNum", "CallerIDName"),
    "NewConnectedLine": ("ConnectedLineNum", "ConnectedLineName"),
    "Hangup": ("ChannelStateDesc", "Cause", "Cause-txt"),
    "HangupRequest": ("Cause",),
    "SoftHangupRequest": ("Cause",),
    "DialBegin": ("DestChannelStateDesc", "DialString"),
    "DialState": ("DestChannelStateDesc", "DialStatus"),
    "DialEnd": ("DestChannelStateDesc", "DialStatus"),
    "LocalBridge": ("Context", "Exten", "LocalOptimization"),
    "OriginateResponse": ("Response", "Context", "Exten", "Reason", "CallerIDNum"),
    "AGIExecStart": ("Context", "Priority", "Command"),
    "AGIExecEnd": ("Command", "ResultCode", "Result"),
    "BridgeCreate": ("BridgeName", "BridgeNumChannels"),
    "BridgeDestroy": ("BridgeName", "BridgeNumChannels"),
    "BridgeEnter": ("BridgeName", "BridgeNumChannels", "Context"),
    "BridgeLeave": ("BridgeName", "BridgeNumChannels"),
    "ConfbridgeStart": ("Conference", "BridgeNumChannels"),
    "ConfbridgeEnd": ("Conference", "BridgeNumChannels"),
    "ConfbridgeJoin": ("Conference", "BridgeNumChannels", "Admin", "Muted"),
    "ConfbridgeLeave": ("Conference", "BridgeNumChannels"),
    "UserEvent": ("UserEvent", "Status"),
    "MixMonitorStart": ("Context",),
    "MixMonitorStop": ("Context",),
    "ChannelHungup": (),
    "CoreShowChannel": (
        "ChannelStateDesc",
        "Context",
        "Exten",
        "Priority",
        "Application",
        "ApplicationData",
    ),
    "CoreShowChannelsComplete": ("EventList", "ListItems"),
    "ChannelsHungupListComplete": ("EventList", "ListItems"),
    "StatusComplete": ("EventList", "ListItems", "Items"),
}


@dataclass
class Recording:
    """One transcript: AMI messages each way, and the FastAGI exchange."""

    sent: list[Headers]  # AMI< actions
    received: list[Headers]  # AMI> messages (banner and EOF excluded)
    banner: str
    closed_by_server: bool
    agi_env: list[tuple[str, str]]
    agi_lines: list[tuple[str, str]]  # ("<", command) / (">", reply)


def load(path: Path) -> Recording:
    sent: list[Headers] = []
    received: list[Headers] = []
    agi_env: list[tuple[str, str]] = []
    agi_lines: list[tuple[str, str]] = []
    cur = {"AMI<": [], "AMI>": []}  # type: dict[str, Headers]
    banner = ""
    closed = False
    env_done = False
    for raw in path.read_text().splitlines():
        m = _LINE.match(raw)
        if not m:
            continue
        _, direction, text = m.groups()
        if direction in ("AMI<", "AMI>"):
            if text.startswith("Asterisk Call Manager"):
                banner = text
                continue
            if text == "<EOF>":
                closed = True
                continue
            if text == "":
                if cur[direction]:
                    (sent if direction == "AMI<" else received).append(cur[direction])
                    cur[direction] = []
                continue
            key, _, value = text.partition(": ")
            cur[direction].append((key, value.rstrip(":") if value == ":" else value))
        elif direction == "AGI>" and not env_done:
            if text == "":
                env_done = True
            else:
                key, _, value = text.partition(": ")
                agi_env.append((key, value))
        elif direction == "AGI>":
            agi_lines.append((">", text))
        elif direction == "AGI<":
            agi_lines.append(("<", text))
    return Recording(sent, received, banner, closed, agi_env, agi_lines)


def _get(headers: Headers, key: str) -> str:
    for k, v in headers:
        if k == key:
            return v
    return ""


def shape(name: str) -> str:
    return _SEQ.sub("-<seq>", name)


def _value(event: str, key: str, value: str) -> str:
    if key in ("Channel", "DestChannel", "LocalOneChannel"):
        return shape(value)
    if event == "UserEvent" and key == "Cause":
        return value.split("-")[0]
    return value


def stream_key(headers: Headers) -> str | None:
    event = _get(headers, "Event")
    if not event or event in IGNORED:
        return None
    if event == "OriginateResponse":
        return "originate:" + _get(headers, "ActionID")
    if event.startswith("Dial"):
        return _get(headers, "DestUniqueid")
    if event == "LocalBridge":
        return _get(headers, "LocalOneUniqueid")
    if event in ("BridgeCreate", "BridgeDestroy", "ConfbridgeStart", "ConfbridgeEnd"):
        return "bridge:" + _get(headers, "BridgeName")
    if event in (
        "ChannelHungup",
        "ChannelsHungupListComplete",
        "CoreShowChannel",
        "CoreShowChannelsComplete",
        "Status",
        "StatusComplete",
    ):
        return "list:" + _get(headers, "ActionID")
    uid = _get(headers, "Uniqueid")
    if event == "ConfbridgeLeave":
        return uid + ":confbridge-leave"
    return uid or None


def signature(headers: Headers) -> tuple[object, ...]:
    event = _get(headers, "Event")
    names = tuple(k for k, _ in headers)
    keys = [(k, _value(event, k, _get(headers, k))) for k in KEY_HEADERS.get(event, ())]
    keys.append(("Privilege", _get(headers, "Privilege")))
    for channel_key in ("Channel", "DestChannel", "LocalOneChannel"):
        if channel_key in names:
            keys.append((channel_key, shape(_get(headers, channel_key))))
    if event == "VarSet":
        var = _get(headers, "Variable")
        keys.append(("Variable", var))
        if var in DETERMINISTIC_VARS:
            keys.append(("Value", _get(headers, "Value")))
        elif var == "AMDCAUSE":
            keys.append(("Value", _get(headers, "Value").split("-")[0]))
        elif var == "BRIDGEPEER":
            keys.append(("Value", shape(_get(headers, "Value"))))
    return (event, names, tuple(keys))


def streams(messages: list[Headers]) -> dict[str, list[tuple[object, ...]]]:
    out: dict[str, list[tuple[object, ...]]] = defaultdict(list)
    for headers in messages:
        key = stream_key(headers)
        if key is not None:
            out[key].append(signature(headers))
    return dict(out)


def compare_events(
    recorded: list[Headers], simulated: list[Headers], keys: set[str] | None = None
) -> list[str]:
    """Differences between recorded and simulated events, per stream (see module docstring).

    `keys`: the streams to compare (default: every stream in the recording).
    """
    rec, sim = streams(recorded), streams(simulated)
    problems: list[str] = []
    for key in sorted(keys if keys is not None else rec):
        r, s = rec.get(key, []), sim.get(key, [])
        matched: set[int] = set()
        pos = 0
        for sig in s:
            found = next((i for i in range(pos, len(r)) if r[i] == sig), None)
            if found is None:
                near = [x for x in r if x[0] == sig[0]]
                problems.append(
                    f"{key}: simulated {sig} not in recording order (recorded {sig[0]}: {near[:3]})"
                )
                continue
            matched.add(found)
            pos = found + 1
        for i, sig in enumerate(r):
            if i not in matched and sig[0] not in CHATTY:
                problems.append(f"{key}: recorded {sig[0]} {sig[2]} missing from simulation")
    return problems


def response_to(messages: list[Headers], action_id: str) -> Headers | None:
    for headers in messages:
        if _get(headers, "Response") and _get(headers, "ActionID") == action_id:
            return headers
    return None


def compare_responses(
    recorded: list[Headers], simulated: list[Headers], action_ids: list[str]
) -> list[str]:
    """Responses must have the same header names and the same Response/Message/EventList."""
    problems = []
    for aid in action_ids:
        r, s = response_to(recorded, aid), response_to(simulated, aid)
        if r is None or s is None:
            problems.append(f"response {aid}: recorded={r} simulated={s}")
            continue
        r_names, s_names = [k for k, _ in r], [k for k, _ in s]
        if r_names != s_names:
            problems.append(f"response {aid}: headers {s_names} != recorded {r_names}")
        for key in ("Response", "Message", "EventList", "Ping", "Output"):
            if _get(r, key) != _get(s, key):
                problems.append(f"response {aid}: {key}={_get(s, key)!r} recorded {_get(r, key)!r}")
    return problems
