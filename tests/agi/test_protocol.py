"""The pure wire format: environment, script path, command quoting, reply lines."""

from __future__ import annotations

import string
from urllib.parse import urlencode

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from agi.errors import AgiProtocolError
from agi.protocol import (
    AgiFailure,
    AgiHangupNotice,
    AgiResult,
    ReplyParser,
    check_variable_name,
    format_command,
    parse_environment,
    parse_environment_line,
    parse_result_line,
    split_network_script,
)
from tests.agi.fake_asterisk import AgiTranscript, asterisk_parse_args

# Printable text without control characters (what a lead's name or a message may hold).
clean_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=0, max_size=40
)
control_char = st.sampled_from(["\r", "\n", "\x00", "\x1b", "\x7f", "\t"])
# Same examples on every run: a failure here is reproducible, never a flake.
deterministic = settings(derandomize=True, deadline=None, max_examples=150)
env_name = st.text(alphabet=string.ascii_lowercase + string.digits + "_", min_size=1, max_size=20)


# ---------------------------------------------------------------- environment


def test_recorded_environment(agi_transcripts: dict[str, AgiTranscript]) -> None:
    env = parse_environment(agi_transcripts["03-originate-human-to-agi.txt"].environment)
    assert env.script_path == "outbound" and dict(env.query) == {"campaign": "7"}
    assert env.channel == "Local/5551234@sim-pstn-00000000;1"
    assert env.uniqueid == "dialer-call-human"
    assert env.context == "lab-answered" and env.extension == "s"
    assert env.get("accountcode") == "" and env.get("enhanced") == "0.0"
    assert env.arguments == ()
    wait = parse_environment(agi_transcripts["15-customer-hangs-up-during-agi.txt"].environment)
    assert wait.script_path == "wait" and dict(wait.query) == {}


def test_arguments_and_request_fallback() -> None:
    env = parse_environment(
        ["agi_request: agi://10.0.0.5:4573/answered?attempt=a1", "agi_arg_1: x", "agi_arg_2: "]
    )
    assert env.script_path == "answered" and env.query["attempt"] == "a1"
    assert env.arguments == ("x", "")


@pytest.mark.parametrize(
    "line", ["HTTP/1.1 200 OK", "agi_channel SIP/1", "Agi_Channel: x", ": x", "agi-x: y"]
)
def test_environment_garbage_is_refused(line: str) -> None:
    with pytest.raises(AgiProtocolError):
        parse_environment_line(line)


def test_environment_needs_a_script() -> None:
    with pytest.raises(AgiProtocolError):
        parse_environment(["agi_channel: SIP/1"])


@deterministic
@given(st.dictionaries(env_name, clean_text, max_size=20))
def test_environment_round_trip(values: dict[str, str]) -> None:
    values = {f"agi_{k}": v for k, v in values.items()}
    values["agi_network_script"] = "answered"
    env = parse_environment([f"{k}: {v}" for k, v in values.items()])
    assert dict(env.variables) == values


@deterministic
@given(
    st.lists(st.text(alphabet=string.ascii_lowercase + "-", min_size=1, max_size=12), min_size=1,
             max_size=3),
    st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=20), max_size=4),
)  # fmt: skip
def test_script_path_and_query_round_trip(parts: list[str], query: dict[str, str]) -> None:
    path = "/".join(parts)
    script = f"{path}?{urlencode(query)}" if query else path
    assert split_network_script(script) == (path, query)


# ---------------------------------------------------------------- commands


def test_recorded_command_bytes() -> None:
    assert format_command("STREAM FILE", "beep", "") == b'STREAM FILE beep ""\n'
    assert format_command("VERBOSE", "agi lab", "1") == b'VERBOSE "agi lab" 1\n'
    assert format_command("GET FULL VARIABLE", "${CHANNEL}") == b"GET FULL VARIABLE ${CHANNEL}\n"
    assert format_command("EXEC", "MixMonitor", "lab-rec.wav,b") == (
        b"EXEC MixMonitor lab-rec.wav,b\n"
    )


@deterministic
@given(st.lists(clean_text, max_size=5))
@example(["back\\slash", 'say "hi"', "", " ", "tab\\tab", '\\"'])
def test_arguments_survive_asterisks_parser(arguments: list[str]) -> None:
    line = format_command("SET VARIABLE", *arguments).decode()
    assert line.endswith("\n") and line.count("\n") == 1
    assert asterisk_parse_args(line[:-1]) == ["SET", "VARIABLE", *arguments]


@deterministic
@given(clean_text, control_char, clean_text)
def test_control_characters_are_refused(before: str, control: str, after: str) -> None:
    with pytest.raises(ValueError, match="control character"):
        format_command("SET VARIABLE", "X", before + control + after)


@pytest.mark.parametrize("words", ["get variable", "GET\nVARIABLE", "EXEC;", ""])
def test_command_words_are_fixed_uppercase_words(words: str) -> None:
    with pytest.raises(ValueError):
        format_command(words)


def test_over_long_command_is_refused() -> None:
    with pytest.raises(ValueError, match="longer than"):
        format_command("VERBOSE", "x" * 3000)


@pytest.mark.parametrize("name", ["DIALER_ACTION", "CALLERID(num)", "_INHERIT", "CDR(userfield)"])
def test_variable_names_accepted(name: str) -> None:
    assert check_variable_name(name) == name


@pytest.mark.parametrize("name", ["", "A B", "X\nY", "1ABC", "F(a b)", 'X"'])
def test_variable_names_refused(name: str) -> None:
    with pytest.raises(ValueError):
        check_variable_name(name)


# ---------------------------------------------------------------- replies


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("200 result=0", AgiResult("0")),
        ("200 result=1 (42)", AgiResult("1", "42")),
        (
            "200 result=1 (Local/5551234@sim-pstn-00000000;1)",
            AgiResult("1", "Local/5551234@sim-pstn-00000000;1"),
        ),
        ("200 result=0 endpos=3404", AgiResult("0", None, 3404)),
        ("200 result= (timeout)", AgiResult("", "timeout")),
        ("200 result=-1", AgiResult("-1")),
        ("200 result=12# (timeout)", AgiResult("12#", "timeout")),
        ("200 result=0 (dtmf) endpos=99", AgiResult("0", "dtmf", 99)),
        ("200 result=1 (a (b) c)", AgiResult("1", "a (b) c")),
    ],
)
def test_result_lines(line: str, expected: AgiResult) -> None:
    assert parse_result_line(line) == expected


@deterministic
@given(
    st.integers(-2, 10**6),
    st.none() | clean_text.filter(lambda t: "\n" not in t),
    st.none() | st.integers(0, 10**9),
)
def test_result_line_round_trip(result: int, data: str | None, endpos: int | None) -> None:
    assume(data is None or ") endpos=" not in data)
    line = f"200 result={result}"
    if data is not None:
        line += f" ({data})"
    if endpos is not None:
        line += f" endpos={endpos}"
    assert parse_result_line(line) == AgiResult(str(result), data, endpos)


def test_reply_parser_on_every_kind() -> None:
    parser = ReplyParser()
    assert parser.feed("HANGUP") == AgiHangupNotice()
    assert parser.feed("510 Invalid or unknown command") == AgiFailure(
        510, "Invalid or unknown command"
    )
    assert parser.feed("511 Command Not Permitted on a dead channel or intercept routine") == (
        AgiFailure(511, "Command Not Permitted on a dead channel or intercept routine")
    )
    assert parser.feed("100 result=0 Trying...") is None
    assert parser.feed("200 result=0") == AgiResult("0")
    assert parser.feed("520 Invalid command syntax.  Proper usage not available.") == AgiFailure(
        520, "Invalid command syntax.  Proper usage not available."
    )


@deterministic
@given(st.lists(clean_text.filter(lambda t: not t.startswith("520 ")), max_size=6))
def test_multi_line_usage_is_one_reply(usage: list[str]) -> None:
    parser = ReplyParser()
    assert parser.feed("520-Invalid command syntax.  Proper usage follows:") is None
    for line in usage:
        assert parser.feed(line) is None
    reply = parser.feed("520 End of proper usage.")
    assert reply == AgiFailure(520, "Invalid command syntax.  Proper usage follows:", tuple(usage))
    assert parser.feed("200 result=1") == AgiResult("1")  # back in sync


@pytest.mark.parametrize("line", ["", "OK", "200", "200 result=abc", "300 result=1", "5xx no"])
def test_garbage_replies(line: str) -> None:
    with pytest.raises(AgiProtocolError):
        ReplyParser().feed(line)
