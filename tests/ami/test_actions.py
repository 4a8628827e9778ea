"""Action builders: exact wire bytes, and no way to smuggle a header through a value."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ami import actions
from ami.actions import AmiAction
from ami.errors import UnsafeHeaderError
from ami.parser import AmiParser

CONTROL_CHARACTERS = ["\r", "\n", "\r\n", "\x00", "\t", "\x1b", "\x7f", "\x85", "\u2028"]


def test_originate_is_async_and_named_after_the_attempt() -> None:
    action = actions.originate(
        "att-00000042",
        channel="Local/13055550123@sim-pstn",
        context="dialer-outbound",
        exten="s",
        timeout_ms=25000,
        caller_id=actions.format_caller_id("Acme Sales", "8005550100"),
        variables={
            "DIALER_ATTEMPT_ID": "att-00000042",
            "DIALER_CAMPAIGN_ID": 1,
            "DIALER_AMD": "1",
            "DIALER_AGI": "127.0.0.1:4573",
        },
    )
    assert action.encode() == (
        b"Action: Originate\r\n"
        b"ActionID: att-00000042\r\n"
        b"Channel: Local/13055550123@sim-pstn\r\n"
        b"Context: dialer-outbound\r\n"
        b"Exten: s\r\n"
        b"Priority: 1\r\n"
        b"Async: true\r\n"
        b"ChannelId: att-00000042\r\n"
        b"Timeout: 25000\r\n"
        b'CallerID: "Acme Sales" <8005550100>\r\n'
        b"Variable: DIALER_ATTEMPT_ID=att-00000042\r\n"
        b"Variable: DIALER_CAMPAIGN_ID=1\r\n"
        b"Variable: DIALER_AMD=1\r\n"
        b"Variable: DIALER_AGI=127.0.0.1:4573\r\n"
        b"\r\n"
    )


@pytest.mark.parametrize("bad", CONTROL_CHARACTERS)
@pytest.mark.parametrize(
    "build",
    [
        lambda v: actions.originate(
            "att-1", channel=f"PJSIP/1{v}", context="c", exten="s", timeout_ms=15000
        ),
        lambda v: actions.originate(
            "att-1", channel="PJSIP/1", context="c", exten="s", caller_id=f"Jane{v}Doe"
        ),
        lambda v: actions.originate(
            "att-1", channel="PJSIP/1", context="c", exten="s", variables={"LEAD": f"x{v}y"}
        ),
        lambda v: actions.hangup(f"att-1{v}"),
        lambda v: actions.redirect("att-1", context=f"ctx{v}", exten="1001"),
        lambda v: actions.command(f"core show channels{v}"),
        lambda v: actions.login("dialer", f"secret{v}"),
        lambda v: actions.action("UserEvent", {"UserEvent": "X", "Name": f"O'Brien{v}"}),
        lambda v: actions.ping(action_id=f"p{v}1"),
    ],
)
def test_control_characters_never_reach_the_wire(build: object, bad: str) -> None:
    with pytest.raises(UnsafeHeaderError):
        build(bad)  # type: ignore[operator]


def test_injection_attempt_from_a_lead_name_is_rejected_with_a_clear_message() -> None:
    name = "Bob\r\nAction: Hangup\r\nChannel: /.*/"
    with pytest.raises(UnsafeHeaderError, match="control character '\\\\r'"):
        actions.action("UserEvent", {"UserEvent": "Lead", "Name": name})


@pytest.mark.parametrize("name", ["", "Bad Name", "X:Y", "Ünïcode", "1st", "A\r\nB"])
def test_header_names_are_validated(name: str) -> None:
    with pytest.raises(UnsafeHeaderError, match="invalid AMI header name"):
        actions.action("UserEvent", [(name, "v")])


def test_action_and_actionid_cannot_be_overridden_through_headers() -> None:
    with pytest.raises(UnsafeHeaderError, match="set by the action itself"):
        actions.action("Ping", {"ActionID": "other"})
    with pytest.raises(UnsafeHeaderError, match="action name"):
        AmiAction("Ping\r\nAction: Hangup", "x")


@given(st.text(max_size=40))
def test_any_value_is_refused_or_read_back_as_exactly_one_header(value: str) -> None:
    try:
        action = actions.action("UserEvent", [("UserEvent", "Probe"), ("Data", value)])
    except UnsafeHeaderError:
        return
    (parsed,) = AmiParser().feed(action.encode())
    assert parsed.kind == "action"
    assert parsed.get_all("Data") == [value]
    assert len(parsed.headers) == 4


def test_variables_are_checked() -> None:
    base = {"channel": "PJSIP/1", "context": "c", "exten": "s"}
    with pytest.raises(UnsafeHeaderError, match="','"):
        actions.originate("att-1", variables={"NAME": "Doe, John"}, **base)
    with pytest.raises(ValueError, match="variable name"):
        actions.originate("att-1", variables={"BAD-NAME": "1"}, **base)
    with pytest.raises(ValueError, match="variable name"):
        actions.originate("att-1", variables={"A=B": "1"}, **base)
    inherited = actions.originate("att-1", variables={"__DIALER_ATTEMPT_ID": "att-1"}, **base)
    assert inherited.get_all("Variable") == ["__DIALER_ATTEMPT_ID=att-1"]


@pytest.mark.parametrize("attempt_id", ["", "att 1", "/att-1/", "att;2", "x" * 129])
def test_attempt_ids_are_plain(attempt_id: str) -> None:
    with pytest.raises(ValueError, match="attempt id"):
        actions.originate(attempt_id, channel="PJSIP/1", context="c", exten="s")


@pytest.mark.parametrize("timeout_ms", [0, -5, 1.5, True])
def test_originate_timeout_is_positive_milliseconds(timeout_ms: object) -> None:
    with pytest.raises(ValueError, match="timeout_ms"):
        actions.originate(
            "att-1",
            channel="PJSIP/1",
            context="c",
            exten="s",
            timeout_ms=timeout_ms,  # type: ignore[arg-type]
        )


def test_hangup_takes_a_regex_and_a_cause_but_redirect_refuses_a_regex() -> None:
    hangup = actions.hangup("/^Local\\/1001@sim-agents-.*/", cause=16, action_id="hup-1")
    assert hangup.encode() == (
        b"Action: Hangup\r\nActionID: hup-1\r\nChannel: /^Local\\/1001@sim-agents-.*/\r\n"
        b"Cause: 16\r\n\r\n"
    )
    with pytest.raises(ValueError, match=r"Q\.850"):
        actions.hangup("att-1", cause=300)
    with pytest.raises(ValueError, match="regex"):
        actions.redirect("/^Local.*/", context="dialer-agent", exten="1001")
    redirect = actions.redirect("att-1", context="dialer-wrapup", exten="1001", action_id="redir-1")
    assert redirect.encode() == (
        b"Action: Redirect\r\nActionID: redir-1\r\nChannel: att-1\r\n"
        b"Context: dialer-wrapup\r\nExten: 1001\r\nPriority: 1\r\n\r\n"
    )


def test_small_builders() -> None:
    login = actions.login("dialer", "s3cret", events=("call", "user"), action_id="login-1")
    assert login.encode() == (
        b"Action: Login\r\nActionID: login-1\r\nUsername: dialer\r\nSecret: s3cret\r\n"
        b"Events: call,user\r\n\r\n"
    )
    assert "s3cret" not in repr(login)
    assert actions.core_show_channels(action_id="show-1").encode() == (
        b"Action: CoreShowChannels\r\nActionID: show-1\r\n\r\n"
    )
    assert actions.command("core show version").get("Command") == "core show version"
    assert actions.status("att-1", variables=["AMDSTATUS"]).get("Variables") == "AMDSTATUS"
    assert actions.logoff().name == "Logoff"
    first, second = actions.ping(), actions.ping()
    assert first.action_id != second.action_id
    generic = actions.action("Setvar", {"Channel": "att-1", "Variable": ["A", "B"]})
    assert generic.get_all("Variable") == ["A", "B"]


def test_caller_id_formatting() -> None:
    assert actions.format_caller_id(None, "+18005550100") == "<+18005550100>"
    with pytest.raises(ValueError, match="quotes"):
        actions.format_caller_id('Evil" <1>', "1")
    with pytest.raises(ValueError, match="digits"):
        actions.format_caller_id("Acme", "800-555")
