"""A small in-memory RuntimeControl for API tests."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from dialer.runtime.bus import EventBus
from dialer.runtime.control import (
    AgentView,
    ComponentHealth,
    ControlError,
    CurrentCall,
    MonitorMode,
    MonitorSession,
    PreviewLead,
)


@dataclass
class FakeRuntime:
    bus: EventBus = field(default_factory=EventBus)
    views: dict[int, AgentView] = field(default_factory=dict)
    calls: dict[int, CurrentCall] = field(default_factory=dict)
    changed: list[int] = field(default_factory=list)
    dispositions: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    healthy: bool = True
    previews: dict[int, PreviewLead] = field(default_factory=dict)  # what preview_next offers
    dialled: list[tuple[int, str, int | None]] = field(default_factory=list)
    monitors: list[MonitorSession] = field(default_factory=list)

    async def campaign_changed(self, campaign_id: int) -> None:
        self.changed.append(campaign_id)

    def campaign_stats(self, campaign_id: int) -> dict[str, Any] | None:
        return {"campaign_id": campaign_id, "dials": 10, "answers": 4}

    def agents(self) -> list[AgentView]:
        return list(self.views.values())

    async def agent_login(self, agent_id: int) -> AgentView:
        view = AgentView(
            agent_id=agent_id,
            extension=str(1000 + agent_id),
            name=f"agent {agent_id}",
            server="pbx1",
            state="connecting",
            since=datetime.now(UTC),
            pause_reason=None,
            attempt_id=None,
            campaign_ids=[],
            calls_today=0,
            daily_cap=None,
        )
        self.views[agent_id] = view
        return view

    async def agent_logout(self, agent_id: int) -> None:
        self.views.pop(agent_id, None)

    async def agent_pause(self, agent_id: int, reason: str) -> AgentView:
        return self._set(agent_id, state="paused", pause_reason=reason)

    async def agent_ready(self, agent_id: int) -> AgentView:
        return self._set(agent_id, state="ready", pause_reason=None)

    def _set(self, agent_id: int, **changes: Any) -> AgentView:
        if agent_id not in self.views:
            raise ControlError(f"agent {agent_id} is not logged in")
        self.views[agent_id] = replace(self.views[agent_id], **changes)
        return self.views[agent_id]

    def current_call(self, agent_id: int) -> CurrentCall | None:
        return self.calls.get(agent_id)

    async def submit_disposition(
        self,
        agent_id: int,
        code: str,
        *,
        notes: str = "",
        callback_at: datetime | None = None,
        callback_agent_only: bool = False,
        pause_after: str | None = None,
    ) -> None:
        if agent_id not in self.calls:
            raise ControlError("no call to disposition")
        self.calls.pop(agent_id)
        self.dispositions.append((agent_id, code, {"notes": notes, "callback_at": callback_at}))

    def _logged_in(self, agent_id: int) -> None:
        if agent_id not in self.views:
            raise ControlError(f"agent {agent_id} is not logged in")

    async def preview_next(self, agent_id: int) -> PreviewLead | None:
        self._logged_in(agent_id)
        return self.previews.get(agent_id)

    async def preview_dial(self, agent_id: int) -> CurrentCall:
        self._logged_in(agent_id)
        held = self.previews.pop(agent_id, None)
        if held is None:
            raise ControlError("no lead in preview")
        return self._ringing(agent_id, held.campaign_id, held.lead_id)

    async def preview_skip(self, agent_id: int) -> None:
        self._logged_in(agent_id)
        if self.previews.pop(agent_id, None) is None:
            raise ControlError("no lead in preview")

    async def manual_dial(
        self, agent_id: int, number: str, campaign_id: int | None = None
    ) -> CurrentCall:
        self._logged_in(agent_id)
        self.dialled.append((agent_id, number, campaign_id))
        return self._ringing(agent_id, campaign_id or 1, None)

    def _ringing(self, agent_id: int, campaign_id: int, lead_id: int | None) -> CurrentCall:
        call = CurrentCall(f"att-{agent_id}", campaign_id, lead_id, "originating", None)
        self.calls[agent_id] = call
        return call

    async def start_recording(self, agent_id: int) -> str:
        if agent_id not in self.calls:
            raise ControlError("not on a call")
        return f"dialer/{self.calls[agent_id].campaign_id}/x/{self.calls[agent_id].attempt_id}.wav"

    async def monitor_agent(
        self, agent_id: int, mode: MonitorMode, supervisor_extension: str
    ) -> MonitorSession:
        call = self.calls.get(agent_id)
        if call is None:
            raise ControlError(f"agent {agent_id} is not on a call")
        session = MonitorSession(
            monitor_id=f"spy-{supervisor_extension}-{len(self.monitors) + 1}",
            agent_id=agent_id,
            agent_extension=str(1000 + agent_id),
            mode=MonitorMode(mode).value,
            supervisor_extension=supervisor_extension,
            spied_channel=f"PJSIP/{1000 + agent_id}-00000001",
            attempt_id=call.attempt_id,
            campaign_id=call.campaign_id,
            server="pbx1",
        )
        self.monitors.append(session)
        return session

    def health(self) -> list[ComponentHealth]:
        return [
            ComponentHealth("ami:pbx1", self.healthy, {"connected": self.healthy}),
            ComponentHealth("mqtt", True),
        ]
