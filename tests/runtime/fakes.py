"""Test doubles for the runtime: a PBX port that records actions, and AMI event builders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ami.events import AmiEvent, typed_event
from ami.parser import AmiMessage
from dialer.runtime.agent_state import AgentState
from dialer.runtime.pbx import LiveChannel, PbxNotConnected


def event(name: str, **headers: str) -> AmiEvent:
    return typed_event(AmiMessage([("Event", name), *((k, str(v)) for k, v in headers.items())]))


def channel_event(name: str, uniqueid: str, linkedid: str | None = None, **headers) -> AmiEvent:
    return event(
        name,
        Channel=headers.pop("Channel", f"PJSIP/{uniqueid}-00000001"),
        Uniqueid=uniqueid,
        Linkedid=linkedid or uniqueid,
        **headers,
    )


@dataclass
class FakePbx:
    name: str = "pbx1"
    connected: bool = True
    originates: list[dict] = field(default_factory=list)
    hangups: list[str] = field(default_factory=list)
    channels: list[LiveChannel] = field(default_factory=list)
    recordings: list[tuple[str, str]] = field(default_factory=list)
    redirects: list[tuple[str, str, str]] = field(default_factory=list)

    async def originate(
        self,
        *,
        attempt_id: str,
        channel: str,
        context: str,
        exten: str,
        priority: int,
        timeout_ms: int,
        caller_id: str,
        variables: Mapping[str, str],
    ) -> None:
        if not self.connected:
            raise PbxNotConnected("down")
        self.originates.append(
            dict(
                attempt_id=attempt_id,
                channel=channel,
                context=context,
                exten=exten,
                timeout_ms=timeout_ms,
                caller_id=caller_id,
                variables=dict(variables),
            )
        )

    async def hangup(self, channel: str, cause: int = 16) -> None:
        self.hangups.append(channel)

    async def redirect(self, channel: str, context: str, exten: str, priority: int = 1) -> None:
        self.redirects.append((channel, context, exten))

    async def record(self, channel: str, file: str) -> None:
        self.recordings.append((channel, file))

    async def core_show_channels(self) -> list[LiveChannel]:
        return list(self.channels)


def answered(attempt_id: str) -> AmiEvent:
    """The OriginateResponse of an answered call."""
    return event("OriginateResponse", ActionID=attempt_id, Reason="4", Response="Success")


async def login_agent(eng: Any, pbx: FakePbx, agent_id: int) -> Any:
    """Log an agent in and join its leg to its bridge: it is ready."""
    agent = await eng.agent_login(agent_id)
    leg = pbx.originates[-1]["attempt_id"]
    assert pbx.originates[-1]["context"] == "dialer-agent"
    eng.handle_event(
        "pbx1", channel_event("ConfbridgeJoin", leg, Conference=f"agent-{agent.extension}")
    )
    assert agent.state is AgentState.READY
    return agent
