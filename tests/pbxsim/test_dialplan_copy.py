"""The simulator runs the dialplan the admins install: its copy of the dialer's contexts must
be the shipped `asterisk-conf/extensions_dialer.conf`, line for line (comments aside), and
every global that file asks for must be known to the simulator, or CI would test a dialplan
nobody deploys."""

from __future__ import annotations

import re
from pathlib import Path

from pbxsim import PbxSim, PbxSimConfig
from pbxsim.contexts import EXTENSIONS_CONF
from pbxsim.dialplan import Dialplan
from tests.pbxsim.peers import AgiConversation, RawAmiClient, ScriptedAgiServer

SHIPPED = Path(__file__).resolve().parents[2] / "asterisk-conf" / "extensions_dialer.conf"


def _contexts(text: str) -> dict[str, list[str]]:
    """Context name -> its lines, without comments, blank lines or indentation."""
    contexts: dict[str, list[str]] = {}
    lines: list[str] | None = None
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            lines = contexts.setdefault(line[1:-1], [])
        elif lines is not None:
            lines.append(re.sub(r"\s*=>\s*", " => ", line))
    return contexts


def _documented_globals(text: str) -> set[str]:
    """The names listed under "Globals to set" in the shipped file's header comment."""
    header = text[text.index("; Globals to set") :]
    header = header[: header.index(";\n")]
    return set(re.findall(r"^;\s+(DIALER_[A-Z_]+)\s", header, flags=re.MULTILINE))


def test_simulated_dialer_contexts_are_the_shipped_ones() -> None:
    shipped = _contexts(SHIPPED.read_text(encoding="utf-8"))
    simulated = _contexts(EXTENSIONS_CONF)
    assert {name for name in shipped if name.startswith("dialer-")} == set(shipped)
    for name, lines in shipped.items():
        assert simulated.get(name) == lines, f"[{name}] differs from {SHIPPED.name}"
    assert {name for name in simulated if name.startswith("dialer-")} == set(shipped)


def test_every_documented_global_is_set_by_the_simulator() -> None:
    documented = _documented_globals(SHIPPED.read_text(encoding="utf-8"))
    assert documented == {"DIALER_AGI", "DIALER_FALLBACK_MESSAGE", "DIALER_SERVER"}
    sim = PbxSim(
        PbxSimConfig(
            default_agi="10.0.0.5:4573", fallback_message="acme-sorry", server_name="pbx-b"
        )
    )
    assert {k: sim.globals[k] for k in documented} == {
        "DIALER_AGI": "10.0.0.5:4573",
        "DIALER_FALLBACK_MESSAGE": "acme-sorry",
        "DIALER_SERVER": "pbx-b",
    }
    used = set(re.findall(r"\$\{(DIALER_[A-Z_]+)\}", SHIPPED.read_text(encoding="utf-8")))
    assert documented <= used


def test_included_contexts_are_searched_after_the_own_extensions() -> None:
    plan = Dialplan(
        """
[a]
exten => 1,1,NoOp(own)
include => b
[b]
exten => _X,1,NoOp(from b)
include => a
"""
    )
    own, included = plan.find("a", "1"), plan.find("a", "2")
    assert own is not None and own.steps[0].data == "own"
    assert included is not None and included.steps[0].data == "from b"
    assert plan.find("a", "22") is None  # and the include loop ends


async def test_a_phone_in_the_shipped_phone_context_reaches_the_login_route() -> None:
    scripts: list[str] = []

    async def login(conv: AgiConversation) -> None:
        scripts.append(dict(conv.env)["agi_network_script"])

    async with ScriptedAgiServer(login) as agi:
        config = PbxSimConfig(time_scale=40, default_agi=f"127.0.0.1:{agi.port}")
        async with PbxSim(config) as sim:
            client = await RawAmiClient.connect(sim.ami_port)
            await client.login()
            uid = sim.phone_dial("1007", context="dialer-phones")
            hangup = await client.wait_for(
                lambda m: m.event == "Hangup" and m.get("Uniqueid") == uid, 5
            )
            await client.close()
    assert scripts == ["agent-login"]
    assert hangup.get("Context") == "dialer-phones"  # the channel stays in its own context
