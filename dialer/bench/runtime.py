"""`dialer bench runtime`: the dialer service under a call-centre load on the simulated PBX.

500 agents logged in, about 2,000 customer calls in flight, for 10 minutes, in real time.
It measures the service, not the simulator: the simulated Asterisk runs in its own process
(`python -m pbxsim`, talking AMI and FastAGI over loopback sockets), so the service has a
core to itself; the database is a fresh PostgreSQL database (or a SQLite file); the setup
(migrations, agents, the lead import) runs in a separate process so its memory does not
count against the service's.

Everything in this process is the production code path (`DialerService`: engine, AMI
client, FastAGI server, store writer, compliance gate) plus `SimulatedAgents`, which
disposition each call after a short wrap-up as the agent console would.

The campaign dials in ratio mode (lines per agent) against a population with a low
live-answer rate, so that most lines ring, hit machines or go unanswered while the agents
stay busy enough: that is what keeps ~2,000 calls in flight for 500 agents.

Printed: originates/s, AMI events/s received, answer-to-bridge latency, pacing tick
duration, peak RSS of this (the service's) process, peak concurrent calls, and the books
(attempts in the database against dials counted, attempts left open, lost attempts, and
duplicates: two attempts for one lead overlapping in time). The exit status is 1 when any
attempt is lost, open or duplicated, or the database and the dial count disagree.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import gc
import logging
import math
import os
import random
import re
import resource
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select

from dialer.db.models import Agent, CallAttempt, Campaign, Lead

log = logging.getLogger(__name__)

# Monday 2 March 2026, 09:30 in Shanghai: a working day, well inside the 09:00-18:00 window
# for the whole run. The service's wall clock starts here and runs at real speed.
START = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
SERVER = "sim"
TRUNK = "bench-trunk"
SAFE_HARBOR = "dialer-safe-harbor"

GOAL_P99_S = 0.100
GOAL_RSS_MB = 400.0

# The callee population: a cold list, where most lines ring out unanswered (25 s originate
# timeout), some reach machines (AMD hangs up on them), some are busy or unreachable, and few
# people answer. About 5 % of dials reach an agent (people, plus machines AMD takes for
# people), which keeps 500 agents ~75 % busy while ~2,000 lines are up.
POPULATION = {
    "p_human": 0.025,
    "p_machine": 0.15,
    "p_busy": 0.08,
    "p_no_answer": 0.55,
    "p_congestion": 0.04,
}
# Rough mean seconds a dial holds a line before an agent takes it (from the population
# above, the 25 s originate timeout and AMD): used only to size the lead list.
MEAN_LINE_HOLD_S = 18.0
# Share of agents not in wrap-up (ratio mode counts ready and talking agents only).
NOT_WRAPPING = 0.87


@dataclass
class BenchOptions:
    minutes: float = 10.0
    agents: int = 500
    calls: int = 2000  # target concurrent calls
    database: str = "postgresql"
    leads: int | None = None  # None: enough for the run
    ratio: float | None = None  # None: from calls / agents
    p_human: float = POPULATION["p_human"]
    seed: int = 1
    drain_s: float = 60.0
    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_user: str = "postgres"
    keep_database: bool = False
    profile: str | None = None  # write a profile of the service process here
    quick: bool = False  # the smoke-test preset: the goals are for the full run
    # A result webhook on the campaign (attempt.ended + attempt.dispositioned): "none", "ok"
    # (a receiver answering at once), "slow" (2 s per answer) or "down" (connection refused).
    webhook: str = "none"

    @property
    def seconds(self) -> float:
        return self.minutes * 60.0

    def lead_count(self) -> int:
        if self.leads is not None:
            return self.leads
        per_s = self.calls / MEAN_LINE_HOLD_S
        return max(2_000, int(per_s * self.seconds * 1.5) + 1_000)

    def dial_ratio(self) -> float:
        """Ratio mode aims at ratio x (ready + talking agents) lines, talking calls included;
        agents in wrap-up do not count, so aim a little above calls / agents."""
        if self.ratio is not None:
            return self.ratio
        return round(self.calls / (self.agents * NOT_WRAPPING), 2)


# ---------------------------------------------------------------------- webhook receiver

WEBHOOK_SLOW_S = 2.0


def _receiver_main(port: int, mode: str) -> None:
    """A result-webhook receiver in its own process (it must not share the service's CPU)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if mode == "slow":
                time.sleep(WEBHOOK_SLOW_S)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


async def _add_webhook(service: Any, campaign_id: int, options: BenchOptions) -> Any:
    """The campaign's webhook and, unless the receiver is to be down, its receiver process."""
    from dialer.demo import free_port
    from dialer.services.webhooks import create_webhook

    port = free_port()
    process = None
    if options.webhook != "down":
        process = get_context("spawn").Process(
            target=_receiver_main, args=(port, options.webhook), daemon=True
        )
        process.start()
    await create_webhook(
        service.sessions,
        campaign_id,
        url=f"http://127.0.0.1:{port}/dialer",
        events=("attempt.ended", "attempt.dispositioned"),
        timeout_s=10,
        actor="bench",
    )
    return process


async def _deliveries(url: str, campaign_id: int) -> dict[str, int]:
    from dialer.db.engine import open_database
    from dialer.db.models import WebhookDelivery

    async with open_database(url) as sessions, sessions() as session:
        rows = await session.execute(
            select(WebhookDelivery.status, func.count())
            .where(WebhookDelivery.campaign_id == campaign_id)
            .group_by(WebhookDelivery.status)
        )
        return {str(status): int(n) for status, n in rows.all()}


# ---------------------------------------------------------------------- setup (own process)


def _prepare_in_process(url: str, options: BenchOptions) -> tuple[int, list[int], str]:
    return asyncio.run(_prepare(url, options))


async def _prepare(url: str, options: BenchOptions) -> tuple[int, list[int], str]:
    """Migrations, the campaign, its agents and the leads (imported like any lead file)."""
    from dialer.db.engine import open_database
    from dialer.db.migrate import upgrade
    from dialer.leads.importer import import_leads
    from dialer.leads.sample import write_sample_leads

    await upgrade(url)
    async with open_database(url) as sessions:
        async with sessions() as session, session.begin():
            campaign = Campaign(
                name=f"bench-runtime-{uuid.uuid4().hex[:6]}",
                description="dialer bench runtime",
                dial_mode="ratio",
                pacing={"mode": "ratio", "ratio": options.dial_ratio()},
                caller_id_pool=["+861058001001", "+861058001002", "+861058001003"],
                caller_id_name="Bench",
                amd_enabled=True,
                amd_machine_action="hangup",
                safe_harbor_message=SAFE_HARBOR,
                compliance_profile=["CN"],
                trunk=TRUNK,
                asterisk_server=SERVER,
                wrapup_timeout_s=60,
                max_attempts=5,
                status="active",
            )
            session.add(campaign)
            await session.flush()
            agents = [
                Agent(
                    extension=str(2001 + i),
                    name=f"agent {i + 1}",
                    asterisk_server=SERVER,
                    active=True,
                    campaigns=[campaign],
                )
                for i in range(options.agents)
            ]
            session.add_all(agents)
            await session.flush()
            campaign_id = campaign.id
            agent_ids = [a.id for a in agents]
        with tempfile.TemporaryDirectory(prefix="dialer-bench-") as tmp:
            path = Path(tmp) / "leads.csv"
            write_sample_leads(path, options.lead_count(), seed=options.seed)
            report = await import_leads(sessions, campaign_id, path, default_region="CN")
    summary = f"{report.imported:,} leads imported in {report.elapsed_s:.1f} s"
    return campaign_id, agent_ids, summary


async def _pg_admin(options: BenchOptions, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(
        host=options.pg_host, port=options.pg_port, user=options.pg_user, database="postgres"
    )
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


# ---------------------------------------------------------------------- the simulated PBX


@dataclass
class SimProcess:
    """`python -m pbxsim` in its own process; its 1 s counters are read from its stdout."""

    proc: asyncio.subprocess.Process
    ami_port: int
    last: dict[str, int] = field(default_factory=dict)
    peak_calls: int = 0
    peak_channels: int = 0
    cpu_s: float = 0.0
    _reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, options: BenchOptions, agi_port: int, log_path: Path) -> SimProcess:
        p = POPULATION | {"p_human": options.p_human}
        cmd = [
            sys.executable,
            "-m",
            "pbxsim",
            "--port",
            "0",
            "--seed",
            str(options.seed),
            "--time-scale",
            "1",
            "--agi",
            f"127.0.0.1:{agi_port}",
            "--callees",
            "population",
            "--p-human",
            str(p["p_human"]),
            "--p-machine",
            str(p["p_machine"]),
            "--p-busy",
            str(p["p_busy"]),
            "--p-no-answer",
            str(p["p_no_answer"]),
            "--p-congestion",
            str(p["p_congestion"]),
            "--fallback-message",
            SAFE_HARBOR,
            "--stats-every",
            "1",
            "--log-level",
            "WARNING",
        ]
        stderr = log_path.open("wb")
        proc = await asyncio.create_subprocess_exec(
            *cmd, stdout=asyncio.subprocess.PIPE, stderr=stderr
        )
        stderr.close()
        assert proc.stdout is not None
        async with asyncio.timeout(30):
            while True:
                line = (await proc.stdout.readline()).decode()
                if not line:
                    raise RuntimeError(f"pbxsim exited at start; see {log_path}")
                match = re.search(r"AMI on [^ ]+:(\d+)", line)
                if match:
                    break
        sim = cls(proc, int(match.group(1)))
        sim._reader = asyncio.ensure_future(sim._read_stats())
        return sim

    async def _read_stats(self) -> None:
        assert self.proc.stdout is not None
        while line := (await self.proc.stdout.readline()).decode():
            pairs = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
            with contextlib.suppress(ValueError):
                self.last = {k: int(v) for k, v in pairs.items()}
            self.peak_calls = max(self.peak_calls, self.last.get("active_calls", 0))
            self.peak_channels = max(self.peak_channels, self.last.get("active_channels", 0))

    def _read_cpu(self) -> None:
        """utime + stime of the simulator from /proc (Linux), before it exits."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            self.cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            self.cpu_s = float("nan")

    async def stop(self) -> None:
        self._read_cpu()
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(15):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)


# ---------------------------------------------------------------------- measurements

# Set in the task that routes one answered call when it had to wait for an agent.
_WAITED: contextvars.ContextVar[bool] = contextvars.ContextVar("bench_waited", default=False)


class _SampledMetric:
    """Stands in for a prometheus metric of the service: every observation still goes to
    the real metric, and its raw value is also kept for exact percentiles."""

    def __init__(self, real: Any, sink: Callable[[float], None]) -> None:
        self._real = real
        self._sink = sink

    def labels(self, *args: Any, **kwargs: Any) -> _SampledMetric:
        return _SampledMetric(self._real.labels(*args, **kwargs), self._sink)

    def observe(self, value: float, *args: Any, **kwargs: Any) -> None:
        self._real.observe(value, *args, **kwargs)
        self._sink(value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@dataclass
class Samples:
    bridge_s: list[float] = field(default_factory=list)  # answer-to-bridge, all bridged
    bridge_free_s: list[float] = field(default_factory=list)  # an agent was free at once
    agent_waits: int = 0
    tick_s: list[float] = field(default_factory=list)
    snapshot_s: list[float] = field(default_factory=list)
    loop_lag_s: list[float] = field(default_factory=list)
    in_flight: list[int] = field(default_factory=list)  # 1 Hz, customer calls on a line
    rss_mb: list[float] = field(default_factory=list)
    gc_pauses_s: list[float] = field(default_factory=list)  # every garbage collection
    _gc_started: float = 0.0

    def on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_pauses_s.append(time.perf_counter() - self._gc_started)

    def on_bridge(self, seconds: float) -> None:
        self.bridge_s.append(seconds)
        if _WAITED.get():
            self.agent_waits += 1
        else:
            self.bridge_free_s.append(seconds)


def instrument(service: Any, samples: Samples) -> None:
    """Hook the bench's sample lists onto the service's own measurements."""
    metrics = service.metrics
    metrics.connect_latency = _SampledMetric(metrics.connect_latency, samples.on_bridge)
    metrics.pacing_tick = _SampledMetric(metrics.pacing_tick, samples.tick_s.append)
    engine = service.engine

    wait_for_agent = getattr(engine, "_wait_for_agent", None)
    if wait_for_agent is not None:

        async def waited(*args: Any, **kwargs: Any) -> Any:
            _WAITED.set(True)
            return await wait_for_agent(*args, **kwargs)

        engine._wait_for_agent = waited

    snapshot = engine.snapshot

    def timed_snapshot(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return snapshot(*args, **kwargs)
        finally:
            samples.snapshot_s.append(time.perf_counter() - started)

    engine.snapshot = timed_snapshot


def _rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _sampler(service: Any, samples: Samples) -> None:
    from dialer.runtime.attempt_state import AttemptState

    loop = asyncio.get_running_loop()
    on_line = {
        AttemptState.PENDING,
        AttemptState.ORIGINATING,
        AttemptState.RINGING,
        AttemptState.ANSWERED,
        AttemptState.ROUTING,
        AttemptState.CONNECTED,
    }
    next_sample = loop.time() + 1.0
    while True:
        due = loop.time() + 0.05
        await asyncio.sleep(0.05)
        now = loop.time()
        samples.loop_lag_s.append(max(0.0, now - due))
        if now >= next_sample:
            next_sample += 1.0
            samples.in_flight.append(sum(1 for a in service.engine.calls if a.state in on_line))
            samples.rss_mb.append(_rss_mb())


def quantiles(values: list[float], *qs: float) -> list[float]:
    if not values:
        return [float("nan")] * len(qs)
    ordered = sorted(values)
    last = len(ordered) - 1
    return [ordered[min(last, max(0, math.ceil(q * len(ordered)) - 1))] for q in qs]


# ---------------------------------------------------------------------- the books


@dataclass
class Books:
    attempts: int = 0
    open_attempts: int = 0
    lost: int = 0
    duplicates: int = 0  # pairs of attempts of one lead overlapping in time
    by_state: dict[str, int] = field(default_factory=dict)
    leads_dialed: int = 0


async def read_books(sessions: Any, campaign_id: int) -> Books:
    """Counted in the database. A duplicate is an attempt that began before the previous
    attempt of the same lead had ended (any overlap shows up between neighbours in time)."""
    order = (CallAttempt.originate_at, CallAttempt.id)
    window = {"partition_by": CallAttempt.lead_id, "order_by": order}
    spans = (
        select(
            CallAttempt.originate_at.label("begin"),
            func.lag(CallAttempt.end_at).over(**window).label("prev_end"),
            func.lag(CallAttempt.id).over(**window).label("prev_id"),
        )
        .where(CallAttempt.campaign_id == campaign_id, CallAttempt.lead_id.is_not(None))
        .subquery()
    )
    async with sessions() as session:
        rows = (
            await session.execute(
                select(CallAttempt.terminal_state, func.count())
                .where(CallAttempt.campaign_id == campaign_id)
                .group_by(CallAttempt.terminal_state)
            )
        ).all()
        duplicates = await session.scalar(
            select(func.count())
            .select_from(spans)
            .where(
                spans.c.prev_id.is_not(None),
                or_(spans.c.prev_end.is_(None), spans.c.begin < spans.c.prev_end),
            )
        )
        leads_dialed = await session.scalar(
            select(func.count())
            .select_from(Lead)
            .where(Lead.campaign_id == campaign_id, Lead.attempt_count > 0)
        )
    by_state = {str(state) if state is not None else "open": n for state, n in rows}
    return Books(
        attempts=sum(by_state.values()),
        open_attempts=by_state.get("open", 0),
        lost=by_state.get("lost", 0),
        duplicates=duplicates or 0,
        by_state=by_state,
        leads_dialed=leads_dialed or 0,
    )


# ---------------------------------------------------------------------- the run


@dataclass
class Result:
    options: BenchOptions
    wall_s: float
    cpu_s: float
    dials: int  # all the run's dials, as the engine counted them
    dials_in_window: int  # those in the measured minutes (for the rate)
    ami_events: int
    stats: dict[str, Any]
    samples: Samples
    agi_decisions: list[float]
    books: Books
    sim: SimProcess
    sim_originated: int
    peak_rss_mb: float
    setup_note: str
    agents_ready: int
    agent_errors: list[str]
    load: tuple[float, float]
    writes_rejected: int
    deliveries: dict[str, int] = field(default_factory=dict)  # webhook deliveries by status


async def _login(service: Any, agents: Any, expected: int) -> int:
    from dialer.runtime.agent_state import AgentState

    await agents.login_all()
    deadline = time.monotonic() + 60
    ready = 0
    while time.monotonic() < deadline:
        ready = sum(1 for a in service.engine.board if a.state is not AgentState.CONNECTING)
        if ready >= expected:
            break
        await asyncio.sleep(0.2)
    return ready


async def _drain(service: Any, campaign_id: int, drain_s: float) -> None:
    """Stop dialing, let lines resolve, then end the shift: agents log out (a call still
    up is closed as the agent leaving), the service stops."""
    from dialer.runtime.attempt_state import AttemptState

    async with service.sessions() as session, session.begin():
        campaign = await session.get(Campaign, campaign_id)
        if campaign is not None:
            campaign.status = "paused"
    await service.control.campaign_changed(campaign_id)
    deadline = time.monotonic() + drain_s
    not_with_agent = {
        AttemptState.PENDING,
        AttemptState.ORIGINATING,
        AttemptState.RINGING,
        AttemptState.ANSWERED,
        AttemptState.ROUTING,
    }
    while time.monotonic() < deadline:
        calls = list(service.engine.calls)
        if not calls:
            break
        if time.monotonic() > deadline - drain_s / 2 and not any(
            a.state in not_with_agent for a in calls
        ):
            break  # only conversations and wrap-ups left: the shift ends on them
        await asyncio.sleep(0.5)


async def _run(
    url: str,
    campaign_id: int,
    agent_ids: list[int],
    options: BenchOptions,
    setup_note: str,
    tmp: Path,
) -> Result:
    from dialer.demo import SimulatedAgents, free_port
    from dialer.runtime.agent_state import AgentState
    from dialer.runtime.clock import Clock
    from dialer.service import DialerService
    from dialer.settings import AsteriskServer, Settings

    agi_port = free_port()
    sim = await SimProcess.start(options, agi_port, tmp / "pbxsim.log")
    settings = Settings(
        database_url=url,
        data_dir=tmp,
        log_level="WARNING",
        mqtt_url=None,
        asterisk_servers=[
            AsteriskServer(
                name=SERVER,
                ami_host="127.0.0.1",
                ami_port=sim.ami_port,
                agi_bind_host="127.0.0.1",
                agi_bind_port=agi_port,
                agi_public_host="127.0.0.1",
                default_trunk=TRUNK,
                originate_timeout_s=25,
            )
        ],
    )
    samples = Samples()
    service = DialerService(settings, clock=Clock(1.0, start_wall=START), serve_http=False)
    instrument(service, samples)
    agents: SimulatedAgents | None = None
    sampler: asyncio.Task[None] | None = None
    profiler: Any = None
    receiver: Any = None
    try:
        if options.webhook != "none":
            receiver = await _add_webhook(service, campaign_id, options)
        await service.start()
        client = service.ami[SERVER]
        async with asyncio.timeout(15):
            await client.wait_ready()
        agents = SimulatedAgents(service, agent_ids, random.Random(options.seed), break_chance=0.0)
        agents._spawn(agents.run())
        await asyncio.sleep(0)  # subscribed before the first agent event
        load_before = os.getloadavg()[0]
        events0 = client.health().events_received
        cpu0, wall0 = time.process_time(), time.perf_counter()
        sampler = asyncio.ensure_future(_sampler(service, samples))
        gc.callbacks.append(samples.on_gc)
        profiler = _start_profiler(options.profile)
        ready = await _login(service, agents, len(agent_ids))
        print(
            f"{ready} agents in their bridges; dialing for {options.minutes:g} min ...", flush=True
        )
        await _progress(service, campaign_id, sim, samples, wall0 + options.seconds)
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(samples.on_gc)
        events = client.health().events_received - events0
        _stop_profiler(profiler, options.profile)
        profiler = None
        load_after = os.getloadavg()[0]
        run = service.engine.campaigns[campaign_id]
        dials_in_window = run.stats.dials
        agi_decisions = service.agi[0].latencies.samples("answered") if service.agi else []
        print("draining ...", flush=True)
        await _drain(service, campaign_id, options.drain_s)
        await agents.stop()
        for agent in list(service.engine.board):
            if agent.state is not AgentState.OFFLINE:
                with contextlib.suppress(Exception):
                    await service.engine.agent_logout(agent)
        stats = service.engine.campaign_stats(campaign_id) or {}
        sampler.cancel()
        await asyncio.gather(sampler, return_exceptions=True)
        await service.stop()
        rejected = len(service.writer.rejected)
        rss_peak = peak_rss_mb()  # the service's; reading the books below is not
        books = await _books_after(url, campaign_id)
        deliveries = await _deliveries(url, campaign_id) if options.webhook != "none" else {}
    finally:
        if receiver is not None:
            receiver.terminate()
        _stop_profiler(profiler, options.profile)
        if sampler is not None and not sampler.done():
            sampler.cancel()
        sim_stats = dict(sim.last)
        await sim.stop()
        if agents is not None:
            await agents.stop()
    return Result(
        options=options,
        wall_s=wall,
        cpu_s=cpu,
        dials=stats.get("dials", dials_in_window),
        dials_in_window=dials_in_window,
        ami_events=events,
        stats=stats,
        samples=samples,
        agi_decisions=agi_decisions,
        books=books,
        sim=sim,
        sim_originated=sim_stats.get("originated", 0) - len(agent_ids),
        peak_rss_mb=rss_peak,
        setup_note=setup_note,
        agents_ready=ready,
        agent_errors=list(agents.errors) if agents else [],
        load=(load_before, load_after),
        writes_rejected=rejected,
        deliveries=deliveries,
    )


async def _books_after(url: str, campaign_id: int) -> Books:
    from dialer.db.engine import open_database

    async with open_database(url) as sessions:
        return await read_books(sessions, campaign_id)


async def _progress(
    service: Any, campaign_id: int, sim: SimProcess, samples: Samples, until: float
) -> None:
    """A line every 30 s so a long run shows it is alive."""
    while (left := until - time.perf_counter()) > 0:
        await asyncio.sleep(min(30.0, left))
        stats = service.engine.campaign_stats(campaign_id) or {}
        flight = samples.in_flight[-1] if samples.in_flight else 0
        print(
            f"  {time.strftime('%H:%M:%S')} dials {stats.get('dials', 0):,}"
            f"  in flight {flight:,} (pbxsim {sim.last.get('active_calls', 0):,})"
            f"  connects {stats.get('connects', 0):,}  abandons {stats.get('abandons', 0):,}"
            f"  rss {_rss_mb():.0f} MB",
            flush=True,
        )


def _start_profiler(path: str | None) -> Any:
    if not path:
        return None
    try:
        from pyinstrument import Profiler

        profiler: Any = Profiler(async_mode="disabled")
    except ImportError:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
        return profiler
    profiler.start()
    return profiler


def _stop_profiler(profiler: Any, path: str | None) -> None:
    if profiler is None or not path:
        return
    if hasattr(profiler, "output_html"):
        profiler.stop()
        Path(path).write_text(
            profiler.output_html() if path.endswith(".html") else profiler.output_text()
        )
    else:
        profiler.disable()
        profiler.dump_stats(path)


# ---------------------------------------------------------------------- report


def _ms(values: list[float]) -> str:
    return " / ".join(f"{v * 1000:.1f}" for v in values) + " ms"


def build_table(r: Result) -> Any:
    from rich.table import Table

    o = r.options
    s = r.samples
    b = r.books
    title = (
        f"dialer runtime benchmark: {o.agents} agents, target {o.calls:,} calls, "
        f"{o.minutes:g} min, {o.database}"
    )
    table = Table(title=title, title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("goal", justify="right")

    steady = _steady(s.in_flight)
    bridge = quantiles(s.bridge_s, 0.5, 0.99)
    free = quantiles(s.bridge_free_s, 0.5, 0.99)
    agi = quantiles(r.agi_decisions, 0.5, 0.99)
    ticks = [*quantiles(s.tick_s, 0.5, 0.99), max(s.tick_s, default=float("nan"))]
    snaps = [*quantiles(s.snapshot_s, 0.5, 0.99), max(s.snapshot_s, default=float("nan"))]
    lag = [*quantiles(s.loop_lag_s, 0.5, 0.99), max(s.loop_lag_s, default=float("nan"))]
    gcs = [*quantiles(s.gc_pauses_s, 0.99), max(s.gc_pauses_s, default=float("nan"))]
    st = r.stats
    answered = st.get("answered", 0)
    rows: list[tuple[str, str, str]] = [
        ("originates/s", f"{r.dials_in_window / r.wall_s:,.1f}", ""),
        ("AMI events/s received by the service", f"{r.ami_events / r.wall_s:,.0f}", ""),
        (
            "answer-to-bridge p50 / p99 (all bridged calls)",
            _ms(bridge),
            f"p99 <= {GOAL_P99_S * 1000:.0f} ms",
        ),
        (
            "  of which an agent was free at once: p50 / p99",
            _ms(free),
            f"p99 <= {GOAL_P99_S * 1000:.0f} ms",
        ),
        (
            "  bridged calls / waited for an agent",
            f"{len(s.bridge_s):,} / {s.agent_waits:,}",
            "",
        ),
        ("AGI decision, env -> DIALER_ACTION acked, p50 / p99", _ms(agi), ""),
        (f"pacing tick p50 / p99 / max (incl. dialing; {len(s.tick_s):,} ticks)", _ms(ticks), ""),
        ("pacing snapshot p50 / p99 / max", _ms(snaps), ""),
        ("event loop lateness p50 / p99 / max", _ms(lag), ""),
        (f"GC pauses p99 / max ({len(s.gc_pauses_s):,} collections)", _ms(gcs), ""),
        ("peak RSS of the service process", f"{r.peak_rss_mb:.0f} MB", f"< {GOAL_RSS_MB:.0f} MB"),
        (
            "concurrent calls: peak / mean after warm-up",
            f"{max(s.in_flight, default=0):,} / {sum(steady) / len(steady):,.0f}",
            f"mean >= {0.9 * o.calls:,.0f}",
        ),
        (
            "  pbxsim's peak customer calls / channels",
            f"{r.sim.peak_calls:,} / {r.sim.peak_channels:,}",
            "",
        ),
        ("dials counted / originates seen by pbxsim", f"{r.dials:,} / {r.sim_originated:,}", ""),
        ("attempts in the database", f"{b.attempts:,}", f"= {r.dials:,}"),
        ("attempts open at the end", f"{b.open_attempts:,}", "0"),
        ("lost attempts", f"{b.lost:,}", "0"),
        ("duplicated attempts (one lead, overlapping)", f"{b.duplicates:,}", "0"),
        (
            "live answers / connects / abandons",
            f"{answered:,} / {st.get('connects', 0):,} / {st.get('abandons', 0):,}"
            + (f" ({100 * st.get('abandons', 0) / answered:.1f}%)" if answered else ""),
            "",
        ),
        (
            "outcomes",
            ", ".join(f"{k} {v:,}" for k, v in sorted(b.by_state.items())),
            "",
        ),
        (
            "CPU: service process / pbxsim",
            f"{100 * r.cpu_s / r.wall_s:.0f}% / {100 * r.sim.cpu_s / r.wall_s:.0f}% of a core",
            "",
        ),
        ("machine load (1 min) before / after", f"{r.load[0]:.1f} / {r.load[1]:.1f}", ""),
        *(
            [
                (
                    f"webhook ({o.webhook} receiver): deliveries by status",
                    ", ".join(f"{k} {v:,}" for k, v in sorted(r.deliveries.items())) or "none",
                    "",
                )
            ]
            if o.webhook != "none"
            else []
        ),
        ("wall time measured", f"{r.wall_s:.0f} s", ""),
    ]
    for row in rows:
        table.add_row(*row)
    return table


def failures(r: Result) -> list[str]:
    b = r.books
    problems = []
    if b.lost:
        problems.append(f"{b.lost} lost attempts")
    if b.open_attempts:
        problems.append(f"{b.open_attempts} attempts left open")
    if b.duplicates:
        problems.append(f"{b.duplicates} duplicated attempts")
    if b.attempts != r.dials:
        problems.append(f"{b.attempts} attempts in the database but {r.dials} dials counted")
    if r.writes_rejected:
        problems.append(f"{r.writes_rejected} writes refused by the database")
    return problems


def _steady(in_flight: list[int]) -> list[int]:
    """The 1 Hz concurrency samples after the ramp (the first minute, or third of the run)."""
    return in_flight[min(60, len(in_flight) // 3) :] or [0]


def goals_met(r: Result) -> bool:
    p99 = quantiles(r.samples.bridge_free_s, 0.99)[0]
    steady = _steady(r.samples.in_flight)
    return (
        p99 <= GOAL_P99_S
        and r.peak_rss_mb < GOAL_RSS_MB
        and sum(steady) / len(steady) >= 0.9 * r.options.calls
    )


# ---------------------------------------------------------------------- command


def parse_args(argv: list[str]) -> BenchOptions:
    p = argparse.ArgumentParser(prog="dialer bench runtime", description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=None, help="real minutes (default 10)")
    p.add_argument("--agents", type=int, default=None, help="agents logged in (default 500)")
    p.add_argument("--calls", type=int, default=None, help="target concurrency (default 2000)")
    p.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    p.add_argument(
        "--quick", action="store_true", help="1 minute, 100 agents, 400 calls (unless given)"
    )
    p.add_argument("--leads", type=int, default=None, help="leads to import (default: enough)")
    p.add_argument("--ratio", type=float, default=None, help="lines per agent (default: auto)")
    p.add_argument("--p-human", type=float, default=POPULATION["p_human"])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--drain", type=float, default=60.0, help="seconds to let calls end")
    p.add_argument("--pg-host", default="127.0.0.1")
    p.add_argument("--pg-port", type=int, default=5432)
    p.add_argument("--pg-user", default="postgres")
    p.add_argument("--keep-database", action="store_true", help="do not drop it afterwards")
    p.add_argument("--profile", help="profile the service process into this file")
    p.add_argument(
        "--webhook",
        choices=("none", "ok", "slow", "down"),
        default="none",
        help="a result webhook on the campaign, its receiver answering at once, in 2 s, or down",
    )
    a = p.parse_args(argv)
    quick = (1.0, 100, 400) if a.quick else (10.0, 500, 2000)
    return BenchOptions(
        minutes=a.minutes if a.minutes is not None else quick[0],
        agents=a.agents if a.agents is not None else quick[1],
        calls=a.calls if a.calls is not None else quick[2],
        database=a.database,
        leads=a.leads,
        ratio=a.ratio,
        p_human=a.p_human,
        seed=a.seed,
        drain_s=a.drain,
        pg_host=a.pg_host,
        pg_port=a.pg_port,
        pg_user=a.pg_user,
        keep_database=a.keep_database,
        profile=a.profile,
        quick=a.quick,
        webhook=a.webhook,
    )


def main(argv: list[str]) -> int:
    from rich.console import Console

    options = parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    console = Console() if sys.stdout.isatty() else Console(width=120)
    with tempfile.TemporaryDirectory(prefix="dialer-bench-runtime-") as tmp_name:
        tmp = Path(tmp_name)
        scratch = None
        if options.database == "postgresql":
            scratch = f"dialer_bench_{uuid.uuid4().hex[:10]}"
            asyncio.run(_pg_admin(options, f'CREATE DATABASE "{scratch}"'))
            url = (
                f"postgresql+asyncpg://{options.pg_user}@{options.pg_host}:"
                f"{options.pg_port}/{scratch}"
            )
        else:
            url = f"sqlite+aiosqlite:///{tmp / 'bench.sqlite3'}"
        try:
            console.print(
                f"setting up: {options.database}, {options.agents} agents, "
                f"{options.lead_count():,} leads, ratio {options.dial_ratio():g} ..."
            )
            with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
                campaign_id, agent_ids, note = pool.submit(
                    _prepare_in_process, url, options
                ).result()
            console.print(note)
            result = asyncio.run(_run(url, campaign_id, agent_ids, options, note, tmp))
        finally:
            if scratch is not None and not options.keep_database:
                asyncio.run(_pg_admin(options, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
    console.print(build_table(result))
    problems = failures(result)
    if result.agent_errors:
        console.print(
            f"[yellow]simulated agents reported {len(result.agent_errors)} errors, "
            f"first: {result.agent_errors[0]}"
        )
    if problems:
        console.print("[red]books do not balance: " + "; ".join(problems))
        return 1
    if options.quick:
        console.print("books balance (a quick run; the goals are for the full run)")
    else:
        console.print("goals met" if goals_met(result) else "[yellow]goals NOT met")
    return 0
