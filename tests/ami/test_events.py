"""Typed event views, read from the recorded traffic."""

from __future__ import annotations

from pathlib import Path

import pytest

from ami import events as ev
from ami.events import OriginateOutcome, typed_event
from ami.parser import AmiMessage, AmiParser
from ami.recordings import received_ami_lines, wire_bytes


def recorded_events(transcripts_dir: Path, prefix: str) -> list[ev.AmiEvent]:
    path = next(transcripts_dir.glob(f"{prefix}-*.txt"))
    messages = AmiParser().feed(wire_bytes(received_ami_lines(path)))
    return [typed_event(m) for m in messages if m.kind == "event"]


def first(events: list[ev.AmiEvent], kind: type[ev.AmiEvent]) -> ev.AmiEvent:
    return next(e for e in events if isinstance(e, kind))


@pytest.mark.parametrize(
    ("prefix", "reason", "outcome", "cause"),
    [
        ("03", 4, OriginateOutcome.ANSWERED, None),
        ("04", 3, OriginateOutcome.NO_ANSWER, 19),
        ("05", 5, OriginateOutcome.BUSY, 17),
        ("06", 8, OriginateOutcome.CONGESTION, 34),
        ("12", 0, OriginateOutcome.FAILED, None),
    ],
)
def test_originate_outcomes_and_hangup_causes(
    transcripts_dir: Path,
    prefix: str,
    reason: int,
    outcome: OriginateOutcome,
    cause: int | None,
) -> None:
    events = recorded_events(transcripts_dir, prefix)
    response = first(events, ev.OriginateResponse)
    assert isinstance(response, ev.OriginateResponse)
    assert response.reason == reason and response.outcome is outcome
    assert response.answered is (outcome is OriginateOutcome.ANSWERED)
    assert response.reason_text
    if cause is not None:
        # The Q.850 cause may sit on either Local leg (the other one says 0, Unknown).
        hangups = [e for e in events if isinstance(e, ev.Hangup)]
        assert cause in {h.cause for h in hangups}
        assert all(h.cause_text and h.linkedid == response.uniqueid for h in hangups)


def test_failed_originate_has_no_uniqueid(transcripts_dir: Path) -> None:
    response = first(recorded_events(transcripts_dir, "12"), ev.OriginateResponse)
    assert isinstance(response, ev.OriginateResponse)
    assert response.uniqueid is None and response.action_id == "bad-tech"
    assert response.reason_text.startswith("failed")


def test_originate_names_the_dialplan_leg_of_a_local_channel(transcripts_dir: Path) -> None:
    response = first(recorded_events(transcripts_dir, "03"), ev.OriginateResponse)
    assert isinstance(response, ev.OriginateResponse)
    assert response.channel_name.endswith(";1")
    assert response.uniqueid == "dialer-call-human" and response.action_id == "call-human"
    assert response.caller_id_num == "8005550100" and response.caller_id_name == "Acme"


@pytest.mark.parametrize(("prefix", "status"), [("07", "MACHINE"), ("08", "NOTSURE")])
def test_amd_result_from_varset_and_userevent(
    transcripts_dir: Path, prefix: str, status: str
) -> None:
    events = recorded_events(transcripts_dir, prefix)
    amd = {e.variable: e.value for e in events if isinstance(e, ev.VarSet)}
    assert amd["AMDSTATUS"] == status and amd["AMDCAUSE"]
    user = [e for e in events if isinstance(e, ev.UserEvent)]
    assert [(u.user_event, u.get("Status")) for u in user] == [("AmdResult", status)]
    assert user[0].uniqueid.startswith("dialer-call-")


def test_channel_snapshot_fields(transcripts_dir: Path) -> None:
    events = recorded_events(transcripts_dir, "03")
    new = first(events, ev.Newchannel)
    assert isinstance(new, ev.Newchannel)
    assert new.channel.name == "Local/5551234@sim-pstn-00000000;1"
    assert new.channel.state == 0 and new.channel.state_desc == "Down"
    assert new.uniqueid == "dialer-call-human" and new.linkedid == "dialer-call-human"
    ringing = next(e for e in events if isinstance(e, ev.Newstate) and e.channel.state == 5)
    assert isinstance(ringing, ev.Newstate) and ringing.channel.state_desc == "Ringing"
    exten = first(events, ev.Newexten)
    assert isinstance(exten, ev.Newexten) and exten.application


def test_dial_events_have_no_caller_for_an_originate(transcripts_dir: Path) -> None:
    events = recorded_events(transcripts_dir, "03")
    begin = first(events, ev.DialBegin)
    end = first(events, ev.DialEnd)
    assert isinstance(begin, ev.DialBegin) and isinstance(end, ev.DialEnd)
    assert begin.caller is None and begin.dest is not None
    assert begin.dest.uniqueid == "dialer-call-human" and begin.dial_string == "5551234@sim-pstn"
    assert end.dial_status == "ANSWER"
    assert not isinstance(begin, ev.DialEnd)


def test_agent_bridge_events(transcripts_dir: Path) -> None:
    events = recorded_events(transcripts_dir, "09")
    joins = [e for e in events if isinstance(e, ev.ConfbridgeJoin)]
    assert [(j.conference, j.uniqueid) for j in joins] == [
        ("agent-1001", "agent-1001"),
        ("agent-1001", "dialer-call-to-agent"),
    ]
    assert joins[0].admin is False and joins[0].muted is False
    leave = first(events, ev.ConfbridgeLeave)
    assert isinstance(leave, ev.ConfbridgeLeave) and not isinstance(leave, ev.ConfbridgeJoin)
    enter = first(events, ev.BridgeEnter)
    assert isinstance(enter, ev.BridgeEnter)
    assert enter.bridge.name == "agent-1001" and enter.bridge.technology == "softmix"
    assert first(events, ev.BridgeLeave).uniqueid == "dialer-call-to-agent"  # type: ignore[attr-defined]


def test_agi_and_mixmonitor_events(transcripts_dir: Path) -> None:
    events = recorded_events(transcripts_dir, "16")
    assert first(events, ev.MixMonitorStart).uniqueid == "dialer-call-record"  # type: ignore[attr-defined]
    assert first(events, ev.MixMonitorStop).uniqueid == "dialer-call-record"  # type: ignore[attr-defined]
    end = first(events, ev.AGIExecEnd)
    assert isinstance(end, ev.AGIExecEnd)
    assert end.result_code == 200 and end.command and end.command_id


def test_core_show_channel_items(transcripts_dir: Path) -> None:
    events = recorded_events(transcripts_dir, "10")
    items = [e for e in events if isinstance(e, ev.CoreShowChannel)]
    assert [(i.uniqueid, i.application) for i in items] == [
        ("agent-1001;2", "Wait"),
        ("agent-1001", "ConfBridge"),
    ]
    assert items[1].bridge_id and items[1].duration_seconds == 22
    assert items[0].action_id == "show-1"


def test_hangup_requests_and_fully_booted(transcripts_dir: Path) -> None:
    events = recorded_events(transcripts_dir, "03")
    soft = next(e for e in events if e.name == "SoftHangupRequest")
    assert isinstance(soft, ev.HangupRequest) and soft.cause == 32
    booted = first(recorded_events(transcripts_dir, "02"), ev.FullyBooted)
    assert isinstance(booted, ev.FullyBooted) and booted.status == "Fully Booted"


def test_unknown_and_malformed_events_pass_through_untyped(transcripts_dir: Path) -> None:
    device = next(
        e for e in recorded_events(transcripts_dir, "03") if e.name == "DeviceStateChange"
    )
    assert type(device) is ev.AmiEvent and device.get("State")
    broken = typed_event(AmiMessage([("Event", "Hangup"), ("Cause", "16")]))
    assert type(broken) is ev.AmiEvent and broken.get("Cause") == "16"
