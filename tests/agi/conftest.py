"""Fixtures for the FastAGI tests: a scriptable router and a server on a free port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Histogram

from agi.metrics import DecisionLatencies
from agi.router import AnsweredCall, AnsweredDecision, InboundCall, LoginResult, WrapupPrompt
from agi.server import AgiServer, AgiServerConfig
from tests.agi.fake_asterisk import AgiTranscript, load_agi_transcript

AGI_TRANSCRIPTS = (
    "03-originate-human-to-agi.txt",
    "15-customer-hangs-up-during-agi.txt",
    "16-mixmonitor-via-agi.txt",
)


@dataclass
class ScriptedRouter:
    """A CallRouter whose answers are set by each test; it records every call it gets."""

    decide: Callable[[AnsweredCall], Awaitable[AnsweredDecision]] | None = None
    prompt: WrapupPrompt = field(
        default_factory=lambda: WrapupPrompt(
            sound="dialer-wrapup", valid_codes=frozenset({"1", "2", "31"})
        )
    )
    accept_codes: frozenset[str] = frozenset({"1", "2", "31"})
    logins: dict[tuple[str, str], str] = field(default_factory=dict)
    answered: list[AnsweredCall] = field(default_factory=list)
    inbound: list[InboundCall] = field(default_factory=list)
    decide_inbound: Callable[[InboundCall], Awaitable[AnsweredDecision]] | None = None
    dispositions: list[tuple[str, str]] = field(default_factory=list)
    login_attempts: list[tuple[str, str, str]] = field(default_factory=list)

    async def route_answered(self, call: AnsweredCall) -> AnsweredDecision:
        self.answered.append(call)
        if self.decide is not None:
            return await self.decide(call)
        return AnsweredDecision.bridge_to("1001")

    async def route_inbound(self, call: InboundCall) -> AnsweredDecision:
        self.inbound.append(call)
        if self.decide_inbound is not None:
            return await self.decide_inbound(call)
        return AnsweredDecision.bridge_to("1002")

    async def wrapup_prompt(self, agent_ext: str) -> WrapupPrompt:
        return self.prompt

    async def submit_dtmf_disposition(self, agent_ext: str, code: str) -> bool:
        self.dispositions.append((agent_ext, code))
        return code in self.accept_codes

    async def agent_login(self, agent_number: str, pin: str, channel: str) -> LoginResult:
        self.login_attempts.append((agent_number, pin, channel))
        ext = self.logins.get((agent_number, pin))
        if ext is None:
            return LoginResult(ok=False)
        return LoginResult(ok=True, agent_ext=ext)


@pytest.fixture
def router() -> ScriptedRouter:
    return ScriptedRouter()


@pytest.fixture
def latencies() -> DecisionLatencies:
    histogram = Histogram(
        "dialer_agi_decision_seconds",
        "test copy",
        labelnames=("route",),
        registry=CollectorRegistry(),
    )
    return DecisionLatencies(histogram)


@pytest.fixture
def server_config() -> AgiServerConfig:
    return AgiServerConfig(environment_timeout_s=0.5, command_timeout_s=2.0, shutdown_grace_s=1.0)


@pytest.fixture
async def server(
    router: ScriptedRouter, latencies: DecisionLatencies, server_config: AgiServerConfig
) -> AsyncIterator[AgiServer]:
    agi_server = AgiServer(
        router, host="127.0.0.1", port=0, config=server_config, latencies=latencies
    )
    async with agi_server:
        yield agi_server


@pytest.fixture
def agi_transcripts(transcripts_dir: Path) -> dict[str, AgiTranscript]:
    return {name: load_agi_transcript(transcripts_dir / name) for name in AGI_TRANSCRIPTS}


@pytest.fixture
def recorded_environment(agi_transcripts: dict[str, AgiTranscript]) -> list[str]:
    """The environment a real Asterisk sent in transcript 03."""
    return agi_transcripts["03-originate-human-to-agi.txt"].environment


async def wait_idle(server: AgiServer) -> None:
    """Sessions end a moment after the client sees the socket close."""
    for _ in range(200):
        if server.active_sessions == 0:
            return
        await asyncio.sleep(0.005)
    raise AssertionError("AGI sessions still running")
