"""The parser against every recorded transcript, byte for byte, under any chunking."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ami.parser import AmiMessage, AmiParser, command_output
from ami.recordings import received_ami_lines, recording_files, wire_bytes

TRANSCRIPT_NAMES = [
    "01-login-bad-secret",
    "02-login-ok",
    "03-originate-human-to-agi",
    "04-originate-no-answer-timeout",
    "05-originate-busy",
    "06-originate-congestion",
    "07-amd-machine",
    "08-amd-human",
    "09-agent-conference-and-customer",
    "10-core-show-channels",
    "11-hangup-by-regex",
    "12-errors-and-ping",
    "13-command-and-status",
    "14-logoff",
    "15-customer-hangs-up-during-agi",
    "16-mixmonitor-via-agi",
    "17-redirect-into-agent-bridge",
]


def expected_from_lines(lines: list[str]) -> tuple[list[str], list[list[tuple[str, str]]]]:
    """Independent reading of the recording: banners, and each message's header lines."""
    banners: list[str] = []
    messages: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    for line in lines:
        if line.startswith("Asterisk Call Manager/"):
            banners.append(line)
        elif line == "":
            if current:
                messages.append(current)
            current = []
        else:
            key, separator, value = line.partition(": ")
            if not separator:  # `Key:` with nothing after it
                key, value = line.rstrip(":"), ""
            current.append((key, value))
    assert not current, "every recorded message ends with an empty line"
    return banners, messages


def transcript(transcripts_dir: Path, name: str) -> Path:
    return transcripts_dir / f"{name}.txt"


def test_every_transcript_is_covered(transcripts_dir: Path) -> None:
    assert [p.stem for p in recording_files(transcripts_dir)] == TRANSCRIPT_NAMES


@pytest.mark.parametrize("name", TRANSCRIPT_NAMES)
def test_transcript_parses_message_for_message(transcripts_dir: Path, name: str) -> None:
    lines = received_ami_lines(transcript(transcripts_dir, name))
    banners, expected = expected_from_lines(lines)
    garbage: list[tuple[str, str]] = []
    parser = AmiParser(on_garbage=lambda reason, text: garbage.append((reason, text)))
    messages = parser.feed(wire_bytes(lines))
    assert [list(m.headers) for m in messages] == expected
    assert parser.banner == (banners[-1] if banners else None)
    assert garbage == [] and parser.buffered_bytes == 0
    for message in messages:
        first_key = message.headers[0][0]
        assert message.kind == {"Event": "event", "Response": "response"}[first_key]
        assert message.encode() == wire_bytes([f"{k}: {v}" for k, v in message.headers] + [""])


@pytest.mark.parametrize("name", TRANSCRIPT_NAMES)
def test_transcript_with_bare_lf_parses_the_same(transcripts_dir: Path, name: str) -> None:
    data = wire_bytes(received_ami_lines(transcript(transcripts_dir, name)))
    assert AmiParser().feed(data.replace(b"\r\n", b"\n")) == AmiParser().feed(data)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    name=st.sampled_from(TRANSCRIPT_NAMES),
    cuts=st.lists(st.integers(min_value=0, max_value=60_000), max_size=60),
    bare_lf=st.lists(st.booleans(), min_size=1, max_size=64),
)
def test_any_chunking_and_line_endings_give_the_same_messages(
    transcripts_dir: Path, name: str, cuts: list[int], bare_lf: list[bool]
) -> None:
    lines = received_ami_lines(transcript(transcripts_dir, name))
    whole = AmiParser().feed(wire_bytes(lines))
    # Mix CRLF and bare LF line by line, then cut the stream at arbitrary offsets.
    data = b"".join(
        line.encode() + (b"\n" if bare_lf[i % len(bare_lf)] else b"\r\n")
        for i, line in enumerate(lines)
    )
    offsets = sorted({c % (len(data) + 1) for c in cuts})
    parser = AmiParser()
    messages: list[AmiMessage] = []
    start = 0
    for end in [*offsets, len(data)]:
        messages.extend(parser.feed(data[start:end]))
        start = end
    assert messages == whole
    assert parser.buffered_bytes == 0


@settings(max_examples=50, deadline=None)
@given(
    values=st.lists(
        st.text(st.characters(exclude_categories=["Cs", "Cc", "Zl", "Zp"])), max_size=8
    ),
    split=st.integers(min_value=0, max_value=10_000),
)
def test_repeated_headers_and_unicode_survive_any_split(values: list[str], split: int) -> None:
    message = AmiMessage(
        [("Event", "Custom"), *(("Variable", f"V{i}={v}") for i, v in enumerate(values))]
    )
    data = message.encode()
    cut = split % (len(data) + 1)  # may cut inside a multi-byte UTF-8 character
    parser = AmiParser()
    parsed = parser.feed(data[:cut]) + parser.feed(data[cut:])
    assert parsed == [message]
    assert parsed[0].get_all("variable") == [f"V{i}={v}" for i, v in enumerate(values)]


def test_repeated_headers_keep_order_and_lookups_ignore_case() -> None:
    data = (
        b"Event: Newchannel\r\nChannel: PJSIP/100-0001\r\nChanVariable: A=1\r\n"
        b"Uniqueid: att-1\r\nChanVariable: B=2\r\nChanVariable: A=3\r\n\r\n"
    )
    (message,) = AmiParser().feed(data)
    assert message.get_all("chanvariable") == ["A=1", "B=2", "A=3"]
    assert message.get("CHANVARIABLE") == "A=1"
    assert message["uniqueID"] == "att-1" and "UNIQUEID" in message
    assert message.get("Missing") is None and "Missing" not in message
    with pytest.raises(KeyError):
        message["Missing"]
    assert message.name == "Newchannel" and message.kind == "event"


def test_values_containing_colon_space_are_whole(transcripts_dir: Path) -> None:
    machine = AmiParser().feed(
        wire_bytes(received_ami_lines(transcript(transcripts_dir, "07-amd-machine")))
    )
    app_data = [m.get("AppData") for m in machine if m.get("Application") == "UserEvent"]
    assert app_data == ["AmdResult,Status: MACHINE,Cause: LONGGREETING-1500-1500"]
    errors = AmiParser().feed(
        wire_bytes(received_ami_lines(transcript(transcripts_dir, "12-errors-and-ping")))
    )
    bad_format = next(m for m in errors if m.name == "RequestBadFormat")
    assert bad_format.get("RequestType") == "Action: NoSuchAction"


def test_originate_response_event_is_an_event_with_its_action_id(transcripts_dir: Path) -> None:
    messages = AmiParser().feed(
        wire_bytes(
            received_ami_lines(transcript(transcripts_dir, "04-originate-no-answer-timeout"))
        )
    )
    queued, *rest = messages
    assert queued.kind == "response" and queued.action_id == "call-noanswer"
    assert queued.response == "Success" and not queued.is_error
    outcome = next(m for m in rest if m.name == "OriginateResponse")
    assert outcome.kind == "event" and outcome.action_id == "call-noanswer"
    assert outcome.response == "Failure" and not outcome.is_error


def test_command_output_as_this_asterisk_sends_it(transcripts_dir: Path) -> None:
    command, status_start, status_done = AmiParser().feed(
        wire_bytes(received_ami_lines(transcript(transcripts_dir, "13-command-and-status")))
    )
    assert command.get("Message") == "Command output follows"
    assert command_output(command).startswith("Asterisk GIT-master-f0c1c1a7b7 built by root")
    assert status_start.get("EventList") == "start" and status_done.name == "StatusComplete"


def test_multi_line_command_output_and_the_legacy_follows_body() -> None:
    modern, legacy = AmiParser().feed(
        b"Response: Success\r\nActionID: c1\r\nMessage: Command output follows\r\n"
        b"Output: line one\r\nOutput: \r\nOutput: line: three\r\n\r\n"
        b"Response: Follows\r\nPrivilege: Command\r\nActionID: c2\r\n"
        b"Name   Status\nSIP/100  OK\n--END COMMAND--\r\n\r\n"
    )
    assert command_output(modern) == "line one\n\nline: three"
    assert legacy.body == ("Name   Status", "SIP/100  OK")
    assert command_output(legacy) == "Name   Status\nSIP/100  OK"


def test_banner_alone_is_seen_before_any_message() -> None:
    parser = AmiParser()
    assert parser.feed(b"Asterisk Call Man") == [] and parser.banner is None
    assert parser.feed(b"ager/13.0.0\r\n") == []
    assert parser.banner == "Asterisk Call Manager/13.0.0" and parser.version == "13.0.0"
    (message,) = parser.feed(b"Response: Success\r\nMessage: Authentication accepted\r\n\r\n")
    assert message.get("Message") == "Authentication accepted"


def test_garbage_is_reported_and_parsing_resyncs() -> None:
    garbage: list[tuple[str, str]] = []
    parser = AmiParser(on_garbage=lambda reason, text: garbage.append((reason, text)))
    messages = parser.feed(
        b"\x00\x01\xfe\xff\r\nnot a header\r\n\r\n"
        b"Event: Hangup\r\nUniqueid: att-1\r\n%%% noise\r\nCause: 16\r\n\r\n"
        b"Privilege: call,all\r\nUniqueid: orphan\r\n\r\n"
        b"Event: Newstate\r\nUniqueid: att-2\r\n\r\n"
    )
    assert [(m.name, m.get("Uniqueid")) for m in messages] == [
        ("Hangup", "att-1"),
        ("Newstate", "att-2"),
    ]
    assert messages[0].get("Cause") == "16"
    assert [reason for reason, _ in garbage] == [
        "block without Event, Response or Action",
        "line is not a header",
        "block without Event, Response or Action",
    ]
    assert parser.garbage_count == 3


def test_runaway_input_is_dropped_up_to_the_next_message_end() -> None:
    garbage: list[str] = []
    parser = AmiParser(on_garbage=lambda reason, _: garbage.append(reason), max_message_bytes=64)
    assert parser.feed(b"x" * 100) == []
    assert parser.buffered_bytes <= 64 and garbage
    assert parser.feed(b"y" * 100 + b"\r\n\r\nEvent: Ping\r\n\r\n")[0].name == "Ping"


def test_blank_line_runs_and_stray_cr_are_handled() -> None:
    messages = AmiParser().feed(
        b"\r\n\r\nEvent: A\r\nValue: with\rcr\r\n\r\n\r\n\r\nEvent: B\r\n\r\n"
    )
    assert [m.name for m in messages] == ["A", "B"]
    assert messages[0].get("Value") == "with\rcr"


def test_message_constructor_needs_a_kind() -> None:
    with pytest.raises(ValueError, match="Event, Response or Action"):
        AmiMessage([("Channel", "x")])
    assert AmiMessage([("Action", "Ping")]).kind == "action"
    assert AmiMessage([("response", "Error")]).is_error
