"""Typed views of the AMI events a dialer acts on; any other event stays a generic `AmiEvent`.

Each view keeps the raw `message`, so a header this module does not name is still one
`event.get(...)` away. Header names and meanings follow the recorded Asterisk traffic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ami.parser import AmiMessage

UNKNOWN = "<unknown>"


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _known(value: str | None) -> str | None:
    return None if value is None or value == UNKNOWN else value


def _yes(value: str | None) -> bool | None:
    return None if value is None else value.lower() in {"yes", "true", "1", "on"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelSnapshot:
    """A channel as described in an event (`Channel...` or `DestChannel...` headers)."""

    name: str
    uniqueid: str
    linkedid: str
    state: int | None
    state_desc: str
    caller_id_num: str | None
    caller_id_name: str | None
    connected_line_num: str | None
    connected_line_name: str | None
    context: str
    exten: str
    priority: int | None

    @classmethod
    def from_message(cls, message: AmiMessage, prefix: str = "") -> ChannelSnapshot | None:
        get = message.get
        name = get(prefix + "Channel")
        if name is None:
            return None
        return cls(
            name=name,
            uniqueid=get(prefix + "Uniqueid") or "",
            linkedid=get(prefix + "Linkedid") or "",
            state=_int(get(prefix + "ChannelState")),
            state_desc=get(prefix + "ChannelStateDesc") or "",
            caller_id_num=_known(get(prefix + "CallerIDNum")),
            caller_id_name=_known(get(prefix + "CallerIDName")),
            connected_line_num=_known(get(prefix + "ConnectedLineNum")),
            connected_line_name=_known(get(prefix + "ConnectedLineName")),
            context=get(prefix + "Context") or "",
            exten=get(prefix + "Exten") or "",
            priority=_int(get(prefix + "Priority")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AmiEvent:
    """Any event. Subclasses add typed fields; unknown events are plain `AmiEvent`s."""

    name: str
    message: AmiMessage = field(repr=False)

    @classmethod
    def from_message(cls, message: AmiMessage) -> AmiEvent:
        return cls(name=message.name, message=message)

    def get(self, header: str, default: str | None = None) -> str | None:
        return self.message.get(header, default)

    def get_all(self, header: str) -> list[str]:
        return self.message.get_all(header)

    @property
    def action_id(self) -> str | None:
        return self.message.action_id


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelEvent(AmiEvent):
    """An event about one channel; `uniqueid`/`linkedid` tie it to an attempt."""

    channel: ChannelSnapshot

    @classmethod
    def from_message(cls, message: AmiMessage) -> AmiEvent:
        channel = ChannelSnapshot.from_message(message)
        if channel is None:  # malformed: keep it, untyped, rather than lose it
            return AmiEvent(name=message.name, message=message)
        return cls(name=message.name, message=message, channel=channel, **cls._extra(message))

    @classmethod
    def _extra(cls, message: AmiMessage) -> dict[str, object]:
        return {}

    @property
    def uniqueid(self) -> str:
        return self.channel.uniqueid

    @property
    def linkedid(self) -> str:
        return self.channel.linkedid


@dataclass(frozen=True, slots=True, kw_only=True)
class Newchannel(ChannelEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Newstate(ChannelEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Newexten(ChannelEvent):
    application: str
    app_data: str

    @classmethod
    def _extra(cls, message: AmiMessage) -> dict[str, object]:
        return {
            "application": message.get("Application") or "",
            "app_data": message.get("AppData") or "",
        }


# Q.850 causes a dialler meets most; Asterisk's own `Cause-txt` is kept on Hangup too.
Q850_CAUSES: dict[int, str] = {
    0: "unknown",
    1: "unallocated number",
    3: "no route to destination",
    16: "normal clearing",
    17: "user busy",
    18: "no user responding",
    19: "no answer",
    20: "subscriber absent",
    21: "call rejected",
    22: "number changed",
    27: "destination out of order",
    28: "invalid number format",
    31: "normal, unspecified",
    34: "no circuit available (congestion)",
    38: "network out of order",
    41: "temporary failure",
    42: "switching equipment congestion",
    44: "requested channel not available",
    58: "bearer capability not available",
    102: "recovery on timer expiry",
    127: "interworking, unspecified",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Hangup(ChannelEvent):
    cause: int | None
    cause_text: str

    @classmethod
    def _extra(cls, message: AmiMessage) -> dict[str, object]:
        cause = _int(message.get("Cause"))
        text = message.get("Cause-txt") or Q850_CAUSES.get(cause or 0, "")
        return {"cause": cause, "cause_text": text}


@dataclass(frozen=True, slots=True, kw_only=True)
class HangupRequest(ChannelEvent):
    """`HangupRequest` / `SoftHangupRequest`: someone asked the channel to hang up."""

    cause: int | None

    @classmethod
    def _extra(cls, message: AmiMessage) -> dict[str, object]:
        return {"cause": _int(message.get("Cause"))}


@dataclass(frozen=True, slots=True, kw_only=True)
class VarSet(ChannelEvent):
    """A channel variable was set; AMD reports through `AMDSTATUS` and `AMDCAUSE`."""

    variable: str
    value: str

    @classmethod
    def _extra(cls, message: AmiMessage) -> dict[str, object]:
        return {"variable": message.get("Variable") or "", "value": message.get("Value") or ""}


@dataclass(frozen=True, slots=True, kw_only=True)
class UserEvent(ChannelEvent):
    """`UserEvent(Name,Key: value,...)` from the dialplan; extra keys via `get()`."""

    user_event: str

    @classmethod
    def _extra(cls, message: AmiMessage) -> dict[str, object]:
        return {"user_event": message.get("UserEvent") or ""}


@dataclass(frozen=True, slots=True, kw_only=True)
class AGIExecStart(ChannelEvent):
    command_id: str
    command: str

    @classmethod
    def _extra(cls, message: AmiMessage) -> dict[str, object]:
        return {
            "command_id": message.get("CommandId") or "",
            "command": message.get("Command") or "",
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AGIExecEnd(ChannelEvent):
    command_id: str
    command: str
    result_code: int | None
    result: str

    @classmethod
    def _extra(cls, message: AmiMessage) -> dict[str, object]:
        return {
            "command_id": message.get("CommandId") or "",
            "command": message.get("Command") or "",
            "result_code": _int(message.get("ResultCode")),
            "result": message.get("Result") or "",
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class MixMonitorStart(ChannelEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class MixMonitorStop(ChannelEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeSnapshot:
    uniqueid: str
    name: str
    bridge_type: str
    technology: str
    creator: str
    num_channels: int | None

    @classmethod
    def from_message(cls, message: AmiMessage) -> BridgeSnapshot:
        get = message.get
        return cls(
            uniqueid=get("BridgeUniqueid") or "",
            name=get("BridgeName") or "",
            bridge_type=get("BridgeType") or "",
            technology=get("BridgeTechnology") or "",
            creator=get("BridgeCreator") or "",
            num_channels=_int(get("BridgeNumChannels")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeChannelEvent(ChannelEvent):
    """A channel entering or leaving a bridge."""

    bridge: BridgeSnapshot

    @classmethod
    def _extra(cls, message: AmiMessage) -> dict[str, object]:
        return {"bridge": BridgeSnapshot.from_message(message)}


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeEnter(BridgeChannelEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeLeave(BridgeChannelEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfbridgeChannelEvent(ChannelEvent):
    """A channel joining or leaving a ConfBridge conference (agent bridges are named
    `agent-{ext}`)."""

    conference: str
    bridge: BridgeSnapshot
    admin: bool | None
    muted: bool | None

    @classmethod
    def _extra(cls, message: AmiMessage) -> dict[str, object]:
        return {
            "conference": message.get("Conference") or "",
            "bridge": BridgeSnapshot.from_message(message),
            "admin": _yes(message.get("Admin")),
            "muted": _yes(message.get("Muted")),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfbridgeJoin(ConfbridgeChannelEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfbridgeLeave(ConfbridgeChannelEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class DialEvent(AmiEvent):
    """`DialBegin`/`DialState`/`DialEnd`. `caller` is absent for an Originate (no caller
    channel); `dest` is the leg being dialled."""

    caller: ChannelSnapshot | None
    dest: ChannelSnapshot | None
    dial_string: str
    dial_status: str

    @classmethod
    def from_message(cls, message: AmiMessage) -> AmiEvent:
        return cls(
            name=message.name,
            message=message,
            caller=ChannelSnapshot.from_message(message),
            dest=ChannelSnapshot.from_message(message, "Dest"),
            dial_string=message.get("DialString") or "",
            dial_status=message.get("DialStatus") or "",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DialBegin(DialEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class DialState(DialEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class DialEnd(DialEvent):
    pass


class OriginateOutcome(Enum):
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    CONGESTION = "congestion"
    FAILED = "failed"


# OriginateResponse `Reason`: the last control frame Asterisk saw on the outgoing leg.
ORIGINATE_REASONS: dict[int, tuple[OriginateOutcome, str]] = {
    0: (OriginateOutcome.FAILED, "failed before dialling (no such technology or device)"),
    1: (OriginateOutcome.FAILED, "hung up before answer"),
    3: (OriginateOutcome.NO_ANSWER, "rang, no answer before the timeout"),
    4: (OriginateOutcome.ANSWERED, "answered"),
    5: (OriginateOutcome.BUSY, "busy"),
    8: (OriginateOutcome.CONGESTION, "congestion"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class OriginateResponse(AmiEvent):
    """The outcome of an async Originate; `ActionID` is the attempt id it was sent with."""

    response: str
    reason: int | None
    channel_name: str
    context: str
    exten: str
    uniqueid: str | None
    caller_id_num: str | None
    caller_id_name: str | None

    @classmethod
    def from_message(cls, message: AmiMessage) -> AmiEvent:
        get = message.get
        return cls(
            name=message.name,
            message=message,
            response=get("Response") or "",
            reason=_int(get("Reason")),
            channel_name=get("Channel") or "",
            context=get("Context") or "",
            exten=get("Exten") or "",
            uniqueid=_known(get("Uniqueid")),
            caller_id_num=_known(get("CallerIDNum")),
            caller_id_name=_known(get("CallerIDName")),
        )

    @property
    def outcome(self) -> OriginateOutcome:
        known = ORIGINATE_REASONS.get(self.reason) if self.reason is not None else None
        return known[0] if known else OriginateOutcome.FAILED

    @property
    def reason_text(self) -> str:
        known = ORIGINATE_REASONS.get(self.reason) if self.reason is not None else None
        return known[1] if known else f"failed (reason {self.reason})"

    @property
    def answered(self) -> bool:
        return self.outcome is OriginateOutcome.ANSWERED


@dataclass(frozen=True, slots=True, kw_only=True)
class CoreShowChannel(ChannelEvent):
    """One item of the CoreShowChannels event list: a live channel, for reconciliation."""

    application: str
    application_data: str
    duration: str
    bridge_id: str

    @classmethod
    def _extra(cls, message: AmiMessage) -> dict[str, object]:
        return {
            "application": message.get("Application") or "",
            "application_data": message.get("ApplicationData") or "",
            "duration": message.get("Duration") or "",
            "bridge_id": message.get("BridgeId") or "",
        }

    @property
    def duration_seconds(self) -> int | None:
        """`Duration: 00:00:22` as seconds."""
        parts = self.duration.split(":")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            return None
        hours, minutes, seconds = (int(p) for p in parts)
        return hours * 3600 + minutes * 60 + seconds


@dataclass(frozen=True, slots=True, kw_only=True)
class FullyBooted(AmiEvent):
    status: str

    @classmethod
    def from_message(cls, message: AmiMessage) -> AmiEvent:
        return cls(name=message.name, message=message, status=message.get("Status") or "")


EVENT_TYPES: dict[str, type[AmiEvent]] = {
    "Newchannel": Newchannel,
    "Newstate": Newstate,
    "Newexten": Newexten,
    "Hangup": Hangup,
    "HangupRequest": HangupRequest,
    "SoftHangupRequest": HangupRequest,
    "VarSet": VarSet,
    "UserEvent": UserEvent,
    "AGIExecStart": AGIExecStart,
    "AGIExecEnd": AGIExecEnd,
    "MixMonitorStart": MixMonitorStart,
    "MixMonitorStop": MixMonitorStop,
    "BridgeEnter": BridgeEnter,
    "BridgeLeave": BridgeLeave,
    "ConfbridgeJoin": ConfbridgeJoin,
    "ConfbridgeLeave": ConfbridgeLeave,
    "DialBegin": DialBegin,
    "DialState": DialState,
    "DialEnd": DialEnd,
    "OriginateResponse": OriginateResponse,
    "CoreShowChannel": CoreShowChannel,
    "FullyBooted": FullyBooted,
}


def typed_event(message: AmiMessage) -> AmiEvent:
    """The typed view of an event message; unknown names give a generic `AmiEvent`."""
    event_type = EVENT_TYPES.get(message.name, AmiEvent)
    return event_type.from_message(message)
