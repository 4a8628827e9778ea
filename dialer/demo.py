"""`make demo`: the real service against a simulated Asterisk, with simulated agents.

Everything but the PBX and the people is the production code path: the same `DialerService`
(engine, FastAGI server, AMI client, API), the embedded SQLite database, a sample campaign
and sample leads imported with the lead importer. pbxsim plays the callees (answer rates,
ring and talk times, answering machines) and the agents' phones; `SimulatedAgents` plays
the agents at the console (wrap-up time, dispositions, breaks).

Time runs faster than real time (`--speed`), and starts inside the Chinese calling window
(09:00-18:00 on a working day) when the real clock is outside it, so there is something to
see at any hour: every timestamp the demo writes is on that simulated clock.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import signal
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from compliance import CheckRequest, ComplianceEngine, ComplianceProfile
from dialer.db.engine import SessionFactory
from dialer.db.enums import LeadStatus, Role
from dialer.db.models import Agent, CallAttempt, Campaign, Lead
from dialer.leads.importer import import_leads
from dialer.leads.sample import write_sample_leads
from dialer.runtime.agent_state import AgentState
from dialer.runtime.agi_router import hash_pin
from dialer.runtime.clock import Clock
from dialer.runtime.control import ControlError
from dialer.service import DialerService
from dialer.services.errors import Conflict
from dialer.services.reports import inbound_summary
from dialer.services.users import create_user, ensure_admin
from dialer.settings import AsteriskServer, HttpSettings, Settings
from pbxsim import PbxSim, PbxSimConfig, PopulationModel

log = logging.getLogger(__name__)

DEMO_CAMPAIGN = "Demo campaign"
DEMO_SERVER = "sim"
DEMO_TRUNK = "demo-trunk"
DEMO_DID = "4001"  # the demo campaign's inbound number (blending)
DEMO_ADMIN = ("admin", "demo-admin")
DEMO_AGENT_PASSWORD = "demo-agent"  # console agents log in as agent<ext>, e.g. agent1001
SAMPLE_NUMBER = "+8613800138000"

# What simulated agents choose after a conversation, and how often (a Chinese sales list).
OUTCOMES: tuple[tuple[str, float], ...] = (
    ("SALE", 0.10),
    ("INTERESTED", 0.08),
    ("CALLBACK", 0.07),
    ("NOT_NOW", 0.38),
    ("REFUSED", 0.08),
    ("WRONG_PERSON", 0.07),
    ("HUNG_UP", 0.21),
    ("COMPLAINT", 0.01),
)
NOTES = {
    "SALE": "客户同意办理",
    "INTERESTED": "有兴趣，需要发资料",
    "CALLBACK": "客户要求明天再联系",
    "NOT_NOW": "暂不需要",
    "REFUSED": "客户明确拒绝，不再联系",
    "WRONG_PERSON": "非本人接听",
    "HUNG_UP": "",
    "COMPLAINT": "客户投诉骚扰",
}


@dataclass
class DemoOptions:
    minutes: float | None = None  # None: until Ctrl-C
    speed: float = 10.0  # simulated seconds per real second
    agents: int = 10
    leads: int = 20_000
    seed: int = 1
    live_view: bool = True
    serve_http: bool = True
    http_port: int = 8080
    start_wall: datetime | None = None  # None: now, or the next opening of the window
    # The first N agents (1001, 1002, ...) are left to people at the agent console: they
    # get a login (agent<ext> / DEMO_AGENT_PASSWORD) and are neither logged in nor driven
    # by SimulatedAgents.
    console_agents: int = 0
    # Callers to DEMO_DID per simulated hour (Poisson): blended into the outbound campaign.
    inbound_per_hour: float = 0.0


@dataclass
class DemoWorld:
    service: DialerService
    sim: PbxSim
    campaign_id: int
    agent_ids: list[int]
    agents: SimulatedAgents
    started_wall: datetime
    url: str | None
    console_agent_ids: list[int] = field(default_factory=list)


def free_port(preferred: int = 0) -> int:
    """The preferred port if it is free, else any free one."""
    for port in (preferred, 0) if preferred else (0,):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise OSError("no free TCP port")


def demo_start(now: datetime | None = None) -> datetime:
    """Now if a Chinese mobile may be called now, else the next time one may (plus 10 min)."""
    now = now or datetime.now(UTC)
    decision = ComplianceEngine().check(
        CheckRequest(
            number=SAMPLE_NUMBER,
            campaign_id=0,
            at=now,
            profile=ComplianceProfile(rulesets=("CN",)),
            default_region="CN",
        )
    )
    if decision.allowed or decision.next_allowed_at is None:
        return now
    return decision.next_allowed_at + timedelta(minutes=10)


def console_login(index: int) -> str:
    """The console username of the index-th demo agent (0 -> agent1001)."""
    return f"agent{1001 + index}"


async def prepare_demo(
    sessions: SessionFactory, options: DemoOptions, default_region: str = "CN"
) -> tuple[int, list[int]]:
    """The sample campaign, its agents and enough callable leads; idempotent."""
    if not 0 <= options.console_agents <= options.agents:
        raise ValueError("console_agents must be between 0 and the number of agents")
    await ensure_admin(sessions, *DEMO_ADMIN)
    async with sessions() as session, session.begin():
        campaign = await session.scalar(select(Campaign).where(Campaign.name == DEMO_CAMPAIGN))
        if campaign is None:
            campaign = Campaign(
                name=DEMO_CAMPAIGN,
                description="Sample predictive campaign on the simulated PBX",
                dial_mode="predictive",
                pacing={"mode": "predictive", "target_abandon_rate": 0.03},
                caller_id_pool=["+861058001001", "+861058001002", "+861058001003"],
                caller_id_name="Demo",
                script_text="您好，我是示例公司的客服，打扰您一分钟介绍我们的新套餐……",
                amd_enabled=True,
                amd_machine_action="hangup",
                safe_harbor_message="dialer-safe-harbor",
                compliance_profile=["CN"],
                trunk=DEMO_TRUNK,
                asterisk_server=DEMO_SERVER,
                wrapup_timeout_s=60,
                max_attempts=5,
            )
            session.add(campaign)
            await session.flush()
        campaign.status = "active"
        if not (campaign.inbound or {}).get("dids"):
            campaign.inbound = {"dids": [DEMO_DID], "max_wait_s": 60, "service_level_s": 15}
        agents = (
            (
                await session.execute(
                    select(Agent)
                    .where(Agent.extension.like("1%"))
                    .options(selectinload(Agent.campaigns))
                    .order_by(Agent.extension)
                )
            )
            .scalars()
            .all()
        )
        by_ext = {a.extension: a for a in agents}
        agent_ids: list[int] = []
        for i in range(options.agents):
            ext = str(1001 + i)
            agent = by_ext.get(ext)
            if agent is None:
                agent = Agent(
                    extension=ext,
                    name=f"坐席{i + 1:02d}",
                    pin_hash=hash_pin(ext[-4:]),
                    asterisk_server=DEMO_SERVER,
                )
                session.add(agent)
                agent.campaigns = [campaign]
            elif campaign not in agent.campaigns:
                agent.campaigns.append(campaign)
            agent.asterisk_server = DEMO_SERVER
            agent.active = True
            await session.flush()
            agent_ids.append(agent.id)
        campaign_id = campaign.id
        callable_leads = await session.scalar(
            select(func.count())
            .select_from(Lead)
            .where(
                Lead.campaign_id == campaign_id,
                Lead.status.in_((LeadStatus.NEW, LeadStatus.RETRY, LeadStatus.CALLBACK)),
            )
        )
        existing = await session.scalar(
            select(func.count()).select_from(Lead).where(Lead.campaign_id == campaign_id)
        )
    for i, agent_id in enumerate(agent_ids[: options.console_agents]):
        with contextlib.suppress(Conflict):  # created by an earlier run
            await create_user(
                sessions,
                console_login(i),
                DEMO_AGENT_PASSWORD,
                Role.AGENT,
                display_name=f"坐席{i + 1:02d}",
                agent_id=agent_id,
            )
    if (callable_leads or 0) < options.leads // 2:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "demo-leads.csv"
            write_sample_leads(
                path,
                options.leads,
                seed=options.seed + (existing or 0),
                invalid_fraction=0.01,
                duplicate_fraction=0.01,
            )
            report = await import_leads(sessions, campaign_id, path, default_region=default_region)
        for line in report.summary_lines():
            log.info("demo leads: %s", line)
    return campaign_id, agent_ids


@dataclass
class SimulatedAgents:
    """Agents at their consoles: log in, take what comes, wrap up, disposition, take breaks.
    They act through `LiveControl`, the same calls the agent console makes."""

    service: DialerService
    agent_ids: list[int]
    rng: random.Random
    wrap_s: tuple[float, float] = (3.0, 20.0)  # uniform wrap-up time, simulated seconds
    break_chance: float = 0.03
    break_s: tuple[float, float] = (60.0, 300.0)
    dispositions: int = 0
    errors: list[str] = field(default_factory=list)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _handled: set[str] = field(default_factory=set)

    async def login_all(self) -> None:
        for agent_id in self.agent_ids:
            try:
                await self.service.control.agent_login(agent_id)
            except ControlError as exc:
                self.errors.append(f"login {agent_id}: {exc}")
                log.warning("simulated agent %s could not log in: %s", agent_id, exc)

    async def run(self) -> None:
        sub = self.service.bus.subscribe("agent/")
        try:
            async for event in sub:
                payload = event.payload
                attempt = payload.get("attempt_id")
                if payload.get("state") == AgentState.WRAPUP.value and attempt:
                    if attempt in self._handled or int(payload["agent_id"]) not in self.agent_ids:
                        continue
                    self._handled.add(attempt)
                    self._spawn(self._wrap_up(int(payload["agent_id"]), attempt))
        finally:
            sub.close()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _sleep(self, simulated: float) -> Any:
        return asyncio.sleep(self.service.clock.real_seconds(simulated))

    async def _wrap_up(self, agent_id: int, attempt_id: str) -> None:
        await self._sleep(self.rng.uniform(*self.wrap_s))
        current = self.service.control.current_call(agent_id)
        if current is None or current.attempt_id != attempt_id:
            return  # the wrap-up timed out or the agent left
        code = self.rng.choices([c for c, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
        callback_at = None
        if code == "CALLBACK":
            callback_at = self.service.clock.now() + timedelta(days=1)
        take_break = self.rng.random() < self.break_chance
        try:
            await self.service.control.submit_disposition(
                agent_id,
                code,
                notes=NOTES.get(code, ""),
                callback_at=callback_at,
                pause_after="break" if take_break else None,
            )
            self.dispositions += 1
        except ControlError as exc:
            self.errors.append(f"disposition {attempt_id}: {exc}")
            return
        if take_break:
            await self._sleep(self.rng.uniform(*self.break_s))
            with contextlib.suppress(ControlError):
                await self.service.control.agent_ready(agent_id)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _callers(sim: PbxSim, clock: Clock, per_hour: float, seed: int) -> None:
    """People calling the demo number: Poisson arrivals, patience 20-120 s, talk ~2 min."""
    rng = random.Random(seed + 7)
    while True:
        await asyncio.sleep(clock.real_seconds(rng.expovariate(per_hour / 3600.0)))
        caller = f"139{rng.randrange(10**8):08d}"
        talk = min(900.0, rng.lognormvariate(4.6, 0.6))
        sim.inbound_call(DEMO_DID, caller, patience_s=rng.uniform(20, 120), talk_s=talk)


async def start_demo(
    settings: Settings,
    options: DemoOptions,
    before_agents: Callable[[DialerService], None] | None = None,
) -> DemoWorld:
    """Bring up pbxsim, the service on it, and the simulated agents. `before_agents` runs
    once the service is up and before any agent logs in, so before the first dial (a test
    subscribing to every call event)."""
    start_wall = options.start_wall or demo_start()
    clock = Clock(scale=options.speed, start_wall=start_wall)
    agi_port = free_port()
    sim = PbxSim(
        PbxSimConfig(
            port=0,
            seed=options.seed,
            time_scale=options.speed,
            population=PopulationModel("population"),
            default_agi=f"127.0.0.1:{agi_port}",
            fallback_message="dialer-safe-harbor",
        )
    )
    await sim.start()
    http_port = free_port(options.http_port) if options.serve_http else options.http_port
    settings = settings.model_copy(
        update={
            "asterisk_servers": [
                AsteriskServer(
                    name=DEMO_SERVER,
                    ami_host="127.0.0.1",
                    ami_port=sim.ami_port,
                    ami_user=sim.config.username,
                    ami_secret=sim.config.secret,
                    agi_bind_host="127.0.0.1",
                    agi_bind_port=agi_port,
                    agi_public_host="127.0.0.1",
                    default_trunk=DEMO_TRUNK,
                    originate_timeout_s=25,
                )
            ],
            "http": HttpSettings(
                host="127.0.0.1", port=http_port, cors_origins=settings.http.cors_origins
            ),
        }
    )
    service = DialerService(settings, clock=clock, serve_http=options.serve_http)
    campaign_id, agent_ids = await prepare_demo(service.sessions, options, settings.default_region)
    await service.start()
    client = service.ami[DEMO_SERVER]
    async with asyncio.timeout(10):
        await client.wait_ready()
    if before_agents is not None:
        before_agents(service)
    console_ids = agent_ids[: options.console_agents]
    simulated_ids = agent_ids[options.console_agents :]
    agents = SimulatedAgents(service, simulated_ids, random.Random(options.seed))
    agents._spawn(agents.run())
    if options.inbound_per_hour > 0:
        agents._spawn(_callers(sim, service.clock, options.inbound_per_hour, options.seed))
    await asyncio.sleep(0)  # subscribe before the first agent event
    await agents.login_all()
    url = f"http://127.0.0.1:{http_port}/" if options.serve_http else None
    return DemoWorld(service, sim, campaign_id, agent_ids, agents, start_wall, url, console_ids)


async def stop_demo(world: DemoWorld, drain_s: float = 120.0) -> None:
    """Stop dialing, let live calls end (simulated seconds), then shut everything down."""
    service = world.service
    async with service.sessions() as session, session.begin():
        campaign = await session.get(Campaign, world.campaign_id)
        if campaign is not None:
            campaign.status = "paused"
    await service.control.campaign_changed(world.campaign_id)
    deadline = service.clock.monotonic() + drain_s
    while service.clock.monotonic() < deadline and len(service.engine.calls) > 0:  # noqa: ASYNC110 (calls end on AMI events; a poll is enough here)
        await asyncio.sleep(service.clock.real_seconds(1.0))
    await world.agents.stop()
    for agent in list(service.engine.board):
        if agent.state is not AgentState.OFFLINE:
            with contextlib.suppress(Exception):
                await service.engine.agent_logout(agent)
    await service.stop()
    await world.sim.stop()


@dataclass
class Books:
    """The end-of-run check: every attempt ended once, and the totals agree."""

    attempts: int
    open_attempts: int
    by_state: dict[str, int]
    live_answers: int
    abandons: int
    dispositions: int
    leads_dialed: int
    inbound: dict[str, Any] = field(default_factory=dict)  # the inbound report's row

    @property
    def abandon_rate(self) -> float:
        return self.abandons / self.live_answers if self.live_answers else 0.0


async def read_books(sessions: SessionFactory, campaign_id: int) -> Books:
    async with sessions() as session:
        rows = (
            await session.execute(
                select(CallAttempt.terminal_state, func.count())
                .where(CallAttempt.campaign_id == campaign_id)
                .group_by(CallAttempt.terminal_state)
            )
        ).all()
        disposed = await session.scalar(
            select(func.count())
            .select_from(CallAttempt)
            .where(
                CallAttempt.campaign_id == campaign_id,
                CallAttempt.terminal_state == "completed",
                CallAttempt.disposition.is_not(None),
            )
        )
        leads_dialed = await session.scalar(
            select(func.count(func.distinct(CallAttempt.lead_id))).where(
                CallAttempt.campaign_id == campaign_id
            )
        )
    by_state = {str(state): n for state, n in rows}
    open_ = by_state.pop("None", 0)
    live = sum(by_state.get(s, 0) for s in ("completed", "abandoned", "dropped"))
    return Books(
        attempts=sum(by_state.values()) + open_,
        open_attempts=open_,
        by_state=by_state,
        live_answers=live,
        abandons=by_state.get("abandoned", 0),
        dispositions=disposed or 0,
        leads_dialed=leads_dialed or 0,
        inbound=(await inbound_summary(sessions, campaign_id))[0],
    )


def _render(world: DemoWorld) -> Any:
    from rich.console import Group
    from rich.table import Table

    service = world.service
    stats = service.engine.campaign_stats(world.campaign_id) or {}
    camp = Table(title=f"{DEMO_CAMPAIGN} — simulated time {service.clock.now():%Y-%m-%d %H:%M:%S}")
    for col in (
        "dials",
        "answered",
        "connects",
        "abandons",
        "abandon %",
        "machines",
        "no answer",
        "busy",
        "blocked",
        "in flight",
        "occupancy",
    ):
        camp.add_column(col, justify="right")
    camp.add_row(
        str(stats.get("dials", 0)),
        str(stats.get("answered", 0)),
        str(stats.get("connects", 0)),
        str(stats.get("abandons", 0)),
        f"{100 * stats.get('abandon_rate', 0.0):.2f}",
        str(stats.get("machines", 0)),
        str(stats.get("no_answer", 0)),
        str(stats.get("busy", 0)),
        str(stats.get("blocked", 0)),
        str(stats.get("in_flight", 0)),
        f"{100 * stats.get('occupancy', 0.0):.1f}%",
    )
    agents = Table(title="agents")
    for col in ("ext", "state", "for (s)", "calls today", "pause"):
        agents.add_column(col)
    now = service.clock.monotonic()
    for agent in sorted(service.engine.board, key=lambda a: a.extension):
        agents.add_row(
            agent.extension,
            agent.state.value,
            f"{now - agent.since:.0f}",
            str(agent.calls_today),
            agent.pause_reason or "",
        )
    parts: list[Any] = [camp]
    inbound = stats.get("inbound")
    if inbound and inbound["offered"]:
        calls = Table(title=f"inbound to {DEMO_DID}")
        for col in ("offered", "answered", "waiting", "abandoned", "overflow", "service level"):
            calls.add_column(col, justify="right")
        level, target = inbound["service_level"], inbound["service_level_target_s"]
        counts = ("offered", "answered", "waiting", "abandoned", "overflow")
        calls.add_row(
            *(str(inbound[k]) for k in counts),
            "-" if level is None else f"{100 * level:.0f}% in {target:.0f} s",
        )
        parts.append(calls)
    footer = f"dashboard: {world.url}  {_logins(world)}" if world.url else ""
    return Group(*parts, agents, footer)


def _logins(world: DemoWorld) -> str:
    text = f"(login {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}"
    if world.console_agent_ids:
        users = ", ".join(console_login(i) for i in range(len(world.console_agent_ids)))
        text += f"; agent console {world.url}ui/agent.html as {users} / {DEMO_AGENT_PASSWORD}"
    return text + ")"


async def run_demo(settings: Settings, options: DemoOptions) -> Books:
    world = await start_demo(settings, options)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    print(
        f"demo running at {options.speed:g}x speed, simulated clock from "
        f"{world.started_wall:%Y-%m-%d %H:%M} UTC; "
        + (f"dashboard {world.url} {_logins(world)}" if world.url else "")
    )
    try:
        timeout = options.minutes * 60 if options.minutes is not None else None
        if options.live_view:
            from rich.live import Live

            with (
                Live(_render(world), refresh_per_second=2) as live,
                contextlib.suppress(TimeoutError),
            ):
                async with asyncio.timeout(timeout):
                    while not stop.is_set():
                        live.update(_render(world))
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(0.5):
                                await stop.wait()
        else:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await stop.wait()
    finally:
        await stop_demo(world)
    books = await read_books(world.service.sessions, world.campaign_id)
    _print_summary(world, books)
    return books


def _print_summary(world: DemoWorld, books: Books) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="demo summary (from the database)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("attempts", str(books.attempts))
    table.add_row("attempts still open", str(books.open_attempts))
    for state, n in sorted(books.by_state.items()):
        table.add_row(f"  {state}", str(n))
    table.add_row("live answers", str(books.live_answers))
    table.add_row("abandoned", f"{books.abandons} ({100 * books.abandon_rate:.2f}%)")
    table.add_row("dispositions by agents", str(books.dispositions))
    table.add_row("leads dialed", str(books.leads_dialed))
    inbound = books.inbound
    if inbound.get("offered"):
        table.add_row(
            "inbound calls (answered / offered)", f"{inbound['answered']} / {inbound['offered']}"
        )
        table.add_row(
            f"  service level (≤ {inbound['service_level_target_s']:.0f} s)",
            f"{100 * inbound['service_level']:.1f}%",
        )
        table.add_row("  abandoned / overflow", f"{inbound['abandoned']} / {inbound['overflow']}")
        table.add_row("  average speed of answer", f"{inbound['average_speed_of_answer_s']} s")
    Console().print(table)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="dialer demo", description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=None, help="stop after N real minutes")
    parser.add_argument("--speed", type=float, default=10.0, help="simulated seconds per second")
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-live", action="store_true", help="no live terminal view")
    parser.add_argument(
        "--console-agents",
        type=int,
        default=0,
        help="leave the first N agents to people at the web agent console",
    )
    parser.add_argument(
        "--inbound-per-hour",
        type=float,
        default=30.0,
        help=f"simulated callers to the campaign's number {DEMO_DID} per hour (0: none)",
    )
    args = parser.parse_args(argv)
    settings = Settings()
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    options = DemoOptions(
        minutes=args.minutes,
        speed=args.speed,
        agents=args.agents,
        leads=args.leads,
        seed=args.seed,
        live_view=not args.no_live,
        http_port=settings.http.port,
        console_agents=args.console_agents,
        inbound_per_hour=args.inbound_per_hour,
    )
    books = asyncio.run(run_demo(settings, options))
    return 0 if books.open_attempts == 0 else 1
