"""Live monitoring: a supervisor listens to, whispers to or barges into an agent's call.

The dialer originates the supervisor's phone (the server's agent endpoint template with the
supervisor's extension) into `[dialer-monitor]`, whose extension is the mode; the dialplan
runs `ChanSpy(${DIALER_SPY_CHANNEL},qES...)` on the agent's nailed-up leg:

- the agent leg carries both voices (the agent's, and the conference mix with the customer),
  so listening to it hears the whole call;
- whisper (`w`) talks into that leg: the agent hears the supervisor, the customer does not;
- barge (`B`) talks to the agent and into the bridge, so the customer hears too.

The supervisor leg is named `spy-{ext}-{random}` (ChannelId and ActionID); its events match
no attempt and no agent leg, so the engine ignores them. Hanging up the supervisor's phone
ends the monitoring; `E` ends it when the agent's leg goes (logout), `S` when the leg is
already gone by the time the supervisor answers.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING

from ami.actions import format_caller_id
from dialer.runtime.agent_state import AgentSession, AgentState
from dialer.runtime.attempt_state import AttemptState
from dialer.runtime.control import MonitorMode, MonitorSession
from dialer.runtime.pbx import PbxNotConnected, PbxOutcomeUnknown, PbxRefused

if TYPE_CHECKING:
    from dialer.runtime.engine import DialerEngine

MONITOR_CONTEXT = "dialer-monitor"
# A phone extension as the endpoint template takes it: nothing that could change the dial
# string or an AMI header.
EXTENSION = re.compile(r"[0-9A-Za-z_\-]{1,32}")


class MonitorRefused(Exception):
    """The monitoring cannot start (not on a call, bad extension, PBX down); a message fit
    for the supervisor."""


async def start_monitor(
    engine: DialerEngine, agent: AgentSession, mode: MonitorMode, supervisor_extension: str
) -> MonitorSession:
    """Ring `supervisor_extension` into a spy of `agent`'s current call."""
    mode = MonitorMode(mode)
    if not EXTENSION.fullmatch(supervisor_extension):
        raise MonitorRefused(f"not a phone extension: {supervisor_extension!r}")
    other = engine.board.get(supervisor_extension)
    if other is not None and other.state is not AgentState.OFFLINE:
        raise MonitorRefused(
            f"extension {supervisor_extension} is an agent's phone; monitor from another one"
        )
    attempt = engine.calls.get(agent.attempt_id or "")
    on_call = (
        agent.state is AgentState.TALKING
        and attempt is not None
        and attempt.state is AttemptState.CONNECTED
    )
    if not on_call or attempt is None:
        raise MonitorRefused(f"agent {agent.extension} is not on a call")
    port = engine.pbx.get(agent.server)
    if port is None or not port.connected:
        raise MonitorRefused(f"Asterisk server {agent.server} is not connected")
    channel = await _agent_channel(engine, agent)
    monitor_id = f"spy-{supervisor_extension}-{uuid.uuid4().hex[:12]}"
    settings = engine.settings.server(agent.server)
    try:
        await port.originate(
            attempt_id=monitor_id,
            channel=settings.agent_endpoint_template.format(ext=supervisor_extension),
            context=MONITOR_CONTEXT,
            exten=mode.value,
            priority=1,
            timeout_ms=int(settings.originate_timeout_s * 1000),
            caller_id=_caller_id(mode, agent.extension),
            variables={"DIALER_SPY_CHANNEL": channel},
        )
    except (PbxNotConnected, PbxRefused, PbxOutcomeUnknown, ValueError) as exc:
        raise MonitorRefused(f"could not ring {supervisor_extension}: {exc}") from exc
    return MonitorSession(
        monitor_id=monitor_id,
        agent_id=agent.agent_id,
        agent_extension=agent.extension,
        mode=mode.value,
        supervisor_extension=supervisor_extension,
        spied_channel=channel,
        attempt_id=attempt.id,
        campaign_id=attempt.campaign_id,
        server=agent.server,
    )


def _caller_id(mode: MonitorMode, agent_extension: str) -> str:
    """What the supervisor's phone shows: the mode and the agent (`"whisper 1003" <1003>`)."""
    if not agent_extension.isdigit():
        return ""
    return format_caller_id(f"{mode.value} {agent_extension}", agent_extension)


async def _agent_channel(engine: DialerEngine, agent: AgentSession) -> str:
    """The channel name of the agent's nailed-up leg, as Asterisk lists it now (ChanSpy
    takes a name prefix, and only Asterisk knows the name it gave the leg)."""
    if not agent.leg_uniqueid:
        raise MonitorRefused(f"agent {agent.extension} has no phone leg")
    try:
        channels = await engine.pbx[agent.server].core_show_channels()
    except PbxNotConnected as exc:
        raise MonitorRefused(f"Asterisk server {agent.server} is not connected") from exc
    except Exception as exc:  # a lost link or a timeout: the supervisor may try again
        raise MonitorRefused(f"could not list the channels of {agent.server}: {exc}") from exc
    for ch in channels:
        if ch.uniqueid == agent.leg_uniqueid:
            if "," in ch.name:
                raise MonitorRefused(f"cannot spy on channel {ch.name!r}")
            return ch.name
    raise MonitorRefused(f"agent {agent.extension}'s phone leg is not on {agent.server}")
