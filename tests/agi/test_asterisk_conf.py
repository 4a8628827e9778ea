"""The shipped Asterisk configuration against docs/dialplan-contract.md, the FastAGI
routes, the lab ConfBridge profiles and the recorded AMI traffic."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agi.router import AnsweredAction
from agi.server import AgiServer
from ami.events import EVENT_TYPES
from tests.agi.conf_parser import (
    Section,
    Step,
    dialplan,
    from_label,
    parse_conf,
    sections_by_name,
)
from tests.agi.conftest import ScriptedRouter

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "asterisk-conf"
CONTRACT = (REPO / "docs" / "dialplan-contract.md").read_text(encoding="utf-8")
AGI_URL = re.compile(r"agi://\$\{DIALER_AGI\}/(?P<path>[^?,)]+)(?:\?(?P<query>[^,)]*))?")


@pytest.fixture(scope="module")
def extensions() -> dict[str, Section]:
    return {s.name: s for s in parse_conf(CONF / "extensions_dialer.conf")}


def _steps(extensions: dict[str, Section], context: str, exten: str) -> list[Step]:
    return dialplan(extensions[context])[exten]


def _apps(steps: list[Step]) -> list[tuple[str, str]]:
    return [(s.app, s.args) for s in steps]


# ---------------------------------------------------------------- the contract


def test_every_contract_context_exists(extensions: dict[str, Section]) -> None:
    contexts = set(re.findall(r"\[(dialer-[a-z-]+)\]", CONTRACT))
    contexts |= set(re.findall(r"`(dialer-[a-z-]+),", CONTRACT))
    contexts |= set(re.findall(r"Context: (dialer-[a-z-]+)", CONTRACT))
    assert contexts >= {"dialer-outbound", "dialer-agent", "dialer-wrapup", "dialer-agent-login"}
    assert contexts <= set(extensions)


def test_every_contract_variable_is_used(extensions: dict[str, Section]) -> None:
    variables = set(re.findall(r"\b(DIALER_[A-Z_]+|AMDSTATUS|AMDCAUSE)\b", CONTRACT))
    assert len(variables) >= 11
    text = (CONF / "extensions_dialer.conf").read_text(encoding="utf-8")
    missing = {v for v in variables if "${" + v + "}" not in text}
    assert not missing


def test_outbound_runs_amd_then_asks_the_agi(extensions: dict[str, Section]) -> None:
    steps = _steps(extensions, "dialer-outbound", "s")
    apps = [s.app for s in steps]
    assert apps.index("AMD") < apps.index("AGI")
    amd_guard = next(s for s in steps if s.app == "GotoIf" and "DIALER_AMD" in s.args)
    assert amd_guard.priority < apps.index("AMD") + 1
    assert '"${DIALER_AMD}" != "1"' in amd_guard.args


def test_outbound_branches_match_the_decisions(extensions: dict[str, Section]) -> None:
    steps = _steps(extensions, "dialer-outbound", "s")
    branches = dict(
        re.findall(
            r'"\$\{DIALER_ACTION\}" = "([a-z]+)"\]\?([a-z]+)', " ".join(s.args for s in steps)
        )
    )
    handled = set(branches) | {AnsweredAction.HANGUP.value}  # hangup: fall through
    assert handled == {a.value for a in AnsweredAction} - {AnsweredAction.MESSAGE.value}
    agi = next(i for i, s in enumerate(steps) if s.app == "AGI")
    fall_through = next(s for s in steps[agi + 1 :] if s.app != "GotoIf")
    assert (fall_through.app, fall_through.args) == ("Hangup", "16")

    assert from_label(steps, branches["bridge"])[:2] == [
        ("ConfBridge", "${DIALER_BRIDGE},agent_bridge,customer_user"),
        ("Hangup", "16"),
    ]
    assert from_label(steps, branches["safeharbor"])[:2] == [
        ("Playback", "${DIALER_MESSAGE}"),
        ("Hangup", "16"),
    ]
    assert from_label(steps, branches["voicemail"])[:3] == [
        ("WaitForSilence", "1500,1,10"),
        ("Playback", "${DIALER_MESSAGE}"),
        ("Hangup", "16"),
    ]


def test_inbound_queues_through_the_agi_and_branches_on_its_decision(
    extensions: dict[str, Section],
) -> None:
    steps = _steps(extensions, "dialer-inbound", "_X.")
    apps = [s.app for s in steps]
    assert apps.index("Answer") < apps.index("AGI")  # hold music needs an answered channel
    agi = steps[apps.index("AGI")]
    assert agi.args == "agi://${DIALER_AGI}/inbound?did=${EXTEN}&server=${DIALER_SERVER}"
    branches = dict(
        re.findall(
            r'"\$\{DIALER_ACTION\}" = "([a-z]+)"\]\?([a-z]+)', " ".join(s.args for s in steps)
        )
    )
    assert set(branches) == {AnsweredAction.BRIDGE.value, AnsweredAction.MESSAGE.value}
    assert from_label(steps, branches["bridge"])[:2] == [
        ("ConfBridge", "${DIALER_BRIDGE},agent_bridge,customer_user"),
        ("Hangup", "16"),
    ]
    assert from_label(steps, branches["message"])[:2] == [
        ("Playback", "${DIALER_MESSAGE}"),
        ("Hangup", "16"),
    ]
    guard = next(s for s in steps if "AGISTATUS" in s.args)
    assert ("Playback", "${DIALER_FALLBACK_MESSAGE}") in from_label(
        steps, guard.args.rsplit("?", 1)[1]
    )


def test_unreachable_agi_still_plays_a_message(extensions: dict[str, Section]) -> None:
    steps = _steps(extensions, "dialer-outbound", "s")
    guard = next(s for s in steps if "AGISTATUS" in s.args)
    label = guard.args.rsplit("?", 1)[1]
    assert ("Playback", "${DIALER_FALLBACK_MESSAGE}") in from_label(steps, label)


def test_agent_wrapup_and_login_contexts(extensions: dict[str, Section]) -> None:
    assert _apps(_steps(extensions, "dialer-agent", "_X.")) == [
        ("Answer", ""),
        ("ConfBridge", "agent-${EXTEN},agent_bridge,agent_user"),
        ("Hangup", ""),
    ]
    wrapup = _apps(_steps(extensions, "dialer-wrapup", "_X."))
    assert wrapup[0] == ("AGI", "agi://${DIALER_AGI}/wrapup?agent=${EXTEN}")
    assert wrapup[-1] == ("Goto", "dialer-agent,${EXTEN},1")
    login = _apps(_steps(extensions, "dialer-agent-login", "_*55"))
    assert login[0] == ("Answer", "")
    assert login[1] == ("AGI", "agi://${DIALER_AGI}/agent-login")
    assert any("dialer-agent,${DIALER_AGENT},1" in args for _, args in login)
    assert any(app == "Playback" and "${DIALER_MESSAGE}" in args for app, args in login)
    assert ("include", "dialer-agent-login") in extensions["dialer-phones"].entries


def test_every_agi_url_is_a_served_route(extensions: dict[str, Section]) -> None:
    urls = [
        AGI_URL.search(step.args)
        for section in extensions.values()
        for steps in dialplan(section).values()
        for step in steps
        if step.app == "AGI"
    ]
    assert all(urls)
    paths = {url["path"] for url in urls if url}
    routes = AgiServer(ScriptedRouter()).routes
    assert paths == routes  # every route used, every URL served
    keys = {
        pair.split("=", 1)[0]
        for url in urls
        if url and url["query"]
        for pair in url["query"].split("&")
    }
    assert keys == {"attempt", "campaign", "agent", "did", "server"}  # what the handlers read


# ---------------------------------------------------------------- confbridge


def test_confbridge_profiles_cover_the_dialplan_and_the_lab(
    extensions: dict[str, Section], transcripts_dir: Path
) -> None:
    ours = {s.name: s for s in parse_conf(CONF / "confbridge_dialer.conf")}
    used = set()
    for section in extensions.values():
        for steps in dialplan(section).values():
            for step in steps:
                if step.app == "ConfBridge":
                    _, bridge, user = step.args.split(",")
                    used.add((bridge, "bridge"))
                    used.add((user, "user"))
    for name, kind in used:
        assert ours[name].value("type") == kind
    lab = {s.name: s for s in parse_conf(transcripts_dir / "lab-confbridge.conf")}
    for name, section in lab.items():
        if name == "general":
            continue
        for key, value in section.entries:
            assert ours[name].value(key) == value, f"[{name}] {key} differs from the lab"


# ---------------------------------------------------------------- manager


def _manager_user() -> Section:
    (user,) = parse_conf(CONF / "manager_dialer.conf")
    return user


def test_manager_user_is_least_privilege() -> None:
    user = _manager_user()
    read = set((user.value("read") or "").split(","))
    write = set((user.value("write") or "").split(","))
    assert "all" not in read | write
    assert read == {"system", "call", "dialplan", "user"}
    assert {"call", "originate", "reporting"} <= write
    assert not write & {"system", "config", "agent", "message"}
    assert user.value("deny") == "0.0.0.0/0.0.0.0" and user.value("permit")
    assert set((user.value("channelvars") or "").split(",")) == {
        "DIALER_ATTEMPT_ID",
        "DIALER_CAMPAIGN_ID",
    }


def _recorded_events(transcripts_dir: Path) -> list[str]:
    """Every event of the recordings as Asterisk sent it (headers joined by CRLF)."""
    events: list[str] = []
    for path in sorted(transcripts_dir.glob("*.txt")):
        current: list[str] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            match = re.fullmatch(r"\s*[\d.]+ AMI> ?(.*)", line)
            if not match:
                continue
            if match[1] == "":
                if current and current[0].startswith("Event: "):
                    events.append("\r\n".join(current) + "\r\n")
                current = []
            else:
                current.append(match[1])
    return events


def _events_the_runtime_consumes() -> set[str]:
    """Event names behind the typed views `DialerEngine.handle_event` dispatches on, read
    from its source so a new one cannot be added without the filter letting it through."""
    source = (REPO / "dialer" / "runtime" / "engine.py").read_text(encoding="utf-8")
    handler = source[source.index("def handle_event") :]
    handler = handler[: handler.index("\n    def ", 1)]
    classes = set(re.findall(r"isinstance\(event, (\w+)\)", handler))
    assert classes, "handle_event no longer dispatches on typed events: update this test"
    return {name for name, kind in EVENT_TYPES.items() if kind.__name__ in classes}


def test_event_filters_keep_what_the_dialer_needs(transcripts_dir: Path) -> None:
    filters = [
        re.compile(f.replace("[[:space:]]", r"\s")) for f in _manager_user().values("eventfilter")
    ]
    assert filters and not any(f.pattern.startswith("!") for f in filters)
    kept: set[str] = set()
    dropped: set[str] = set()
    varsets_kept: set[str] = set()
    kept_bytes = total_bytes = 0
    for event in _recorded_events(transcripts_dir):
        name = event.split("\r\n", 1)[0].removeprefix("Event: ")
        total_bytes += len(event)
        if any(f.search(event) for f in filters):
            kept.add(name)
            kept_bytes += len(event)
            if name == "VarSet":
                varsets_kept.add(re.search(r"Variable: (\S+)", event)[1])  # type: ignore[index]
        else:
            dropped.add(name)
    needed = {
        "Newchannel", "Newstate", "Hangup", "OriginateResponse", "DialBegin", "DialEnd",
        "BridgeEnter", "BridgeLeave", "ConfbridgeJoin", "ConfbridgeLeave", "UserEvent",
        "MixMonitorStart", "MixMonitorStop", "FullyBooted", "VarSet",
        # event lists answering our own actions (reconciliation must never lose them)
        "CoreShowChannel", "CoreShowChannelsComplete", "StatusComplete", "ChannelHungup",
        "ChannelsHungupListComplete",
    }  # fmt: skip
    assert _events_the_runtime_consumes() <= needed <= kept
    assert {
        "Newexten", "DeviceStateChange", "NewCallerid", "NewConnectedLine", "AGIExecStart",
        "AGIExecEnd", "LocalBridge", "DialState", "HangupRequest", "SoftHangupRequest",
    } <= dropped  # fmt: skip
    # AMD results and every DIALER_* variable; none of the dialplan's other VarSets
    assert varsets_kept == {"AMDSTATUS", "AMDCAUSE", "DIALER_CALL_ID"}
    assert kept_bytes < 0.45 * total_bytes  # the filters must actually cut the load


def test_event_filters_do_not_match_the_channel_variables_on_every_event() -> None:
    filters = [
        re.compile(f.replace("[[:space:]]", r"\s")) for f in _manager_user().values("eventfilter")
    ]
    newexten = (
        "Event: Newexten\r\nPrivilege: dialplan,all\r\nChannel: PJSIP/trunk-00000001\r\n"
        "ChanVariable: DIALER_ATTEMPT_ID=att-1\r\nChanVariable: DIALER_CAMPAIGN_ID=3\r\n"
        "Application: Playback\r\nAppData: dialer-safe-harbor\r\n"
    )
    assert not any(f.search(newexten) for f in filters)
    dialer_varset = "Event: VarSet\r\nVariable: DIALER_ACTION\r\nValue: bridge\r\n"
    assert any(f.search(dialer_varset) for f in filters)


# ---------------------------------------------------------------- amd and pjsip


def test_amd_settings() -> None:
    (general,) = parse_conf(CONF / "amd_dialer.conf")
    assert general.name == "general"
    values = {k: int(v) for k, v in general.entries}
    assert set(values) == {
        "initial_silence", "greeting", "after_greeting_silence", "total_analysis_time",
        "min_word_length", "between_words_silence", "maximum_number_of_words",
        "maximum_word_length", "silence_threshold",
    }  # fmt: skip
    assert values["total_analysis_time"] <= 5000
    assert values["greeting"] < values["total_analysis_time"]


def test_pjsip_templates(extensions: dict[str, Section]) -> None:
    sections = sections_by_name(parse_conf(CONF / "pjsip_dialer.conf"))
    templates = {name: s[0] for name, s in sections.items() if s[0].is_template}
    assert templates["dialer-trunk-endpoint"].value("type") == "endpoint"
    assert templates["dialer-trunk-registration"].value("type") == "registration"
    assert templates["dialer-trunk-auth"].value("type") == "auth"
    assert templates["dialer-trunk-aor"].value("type") == "aor"
    for phone in ("dialer-softphone", "dialer-deskphone"):
        assert templates[phone].templates == ["dialer-agent-phone"]
    phone_base = templates["dialer-agent-phone"]
    assert phone_base.value("dtmf_mode") == "rfc4733"  # wrap-up codes by DTMF
    for endpoint in ("dialer-agent-phone", "dialer-trunk-endpoint"):
        assert templates[endpoint].value("context") in extensions
    transports = {
        s[0].value("protocol") for s in sections.values() if s[0].value("type") == "transport"
    }
    assert transports == {"udp", "tcp"}
