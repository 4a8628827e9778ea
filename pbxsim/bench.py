"""Load benchmark: how many concurrent simulated calls one core carries.

Everything runs in one process on one event loop (one core): the simulator, an AMI client
reading every event, a FastAGI responder bridging each answered call to an agent, and a
probe measuring how late the loop wakes up (timer lateness = simulated time drifting).
`dialer bench pbxsim` is not wired in the CLI; run `python -m pbxsim.bench`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import dataclass

from pbxsim.config import PbxSimConfig
from pbxsim.pbx import PbxSim
from pbxsim.population import Distribution, PopulationModel


@dataclass
class Result:
    calls: int
    agents: int
    time_scale: float
    wall_s: float
    cpu_s: float
    events: int
    peak_calls: int
    peak_channels: int
    answered: int
    agi_sessions: int
    lag_p50_ms: float
    lag_p99_ms: float
    lag_max_ms: float


async def _ami_reader(port: int, counter: list[int], ready: asyncio.Event) -> asyncio.StreamWriter:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readline()
    writer.write(
        b"Action: Login\r\nUsername: dialer\r\nSecret: dialer-secret\r\nActionID: l\r\n\r\n"
    )

    async def pump() -> None:
        tail = b""
        while True:
            data = await reader.read(1 << 16)
            if not data:
                return
            chunk = tail + data
            counter[0] += chunk.count(b"\r\n\r\n")
            tail = chunk[-3:]
            ready.set()

    asyncio.get_running_loop().create_task(pump())
    return writer


async def _agi_server(agents: int) -> asyncio.Server:
    served = [0]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (await reader.readline()).strip():
                pass  # the agi_* environment
            agent = 1000 + served[0] % agents
            served[0] += 1
            for command in (
                "SET VARIABLE DIALER_ACTION bridge",
                f"SET VARIABLE DIALER_BRIDGE agent-{agent}",
            ):
                writer.write(command.encode() + b"\n")
                await writer.drain()
                await reader.readline()
        finally:
            writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def _lag_probe(samples: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        t = loop.time()
        await asyncio.sleep(0.02)
        samples.append(max(0.0, loop.time() - t - 0.02) * 1000)


async def run(
    calls: int, agents: int, time_scale: float, ramp_s: float, talk_s: float, seed: int
) -> Result:
    agi = await _agi_server(agents)
    agi_port = agi.sockets[0].getsockname()[1]
    population = PopulationModel(
        "population",
        p_human=1,
        p_machine=0,
        p_busy=0,
        p_no_answer=0,
        p_congestion=0,
        ring=Distribution(4, 0.3, 2, 8),
        talk=Distribution(talk_s, 0.0, 1, talk_s),
        patience=Distribution(talk_s, 0.0, 1, talk_s),
    )
    config = PbxSimConfig(
        seed=seed, time_scale=time_scale, population=population, default_agi=f"127.0.0.1:{agi_port}"
    )
    counter = [0]
    samples: list[float] = []
    stop = asyncio.Event()
    async with PbxSim(config) as sim:
        ready = asyncio.Event()
        writer = await _ami_reader(sim.ami_port, counter, ready)
        await ready.wait()
        for i in range(agents):
            ext = 1000 + i
            writer.write(
                (
                    f"Action: Originate\r\nActionID: agent-{ext}\r\nChannelId: agent-{ext}"
                    f"\r\nChannel: Local/{ext}@sim-agents\r\nContext: dialer-agent\r\n"
                    f"Exten: {ext}\r\nPriority: 1\r\nAsync: true\r\n\r\n"
                ).encode()
            )
        await asyncio.sleep(0.2)
        loop = asyncio.get_running_loop()
        probe = loop.create_task(_lag_probe(samples, stop))
        cpu0, wall0 = time.process_time(), time.perf_counter()
        events0 = counter[0]
        peak = [0, 0]  # customer calls, channels

        async def originate_all() -> None:
            gap = sim.clock.real(ramp_s) / max(1, calls)
            due = loop.time()
            for i in range(calls):
                aid = f"att-{i:06d}"
                writer.write(
                    (
                        f"Action: Originate\r\nActionID: {aid}\r\nChannelId: {aid}\r\n"
                        f"Channel: Local/555{i:07d}@sim-pstn\r\n"
                        "Context: dialer-outbound\r\nExten: s\r\nPriority: 1\r\n"
                        'Async: true\r\nTimeout: 30000\r\nCallerID: "Bench" <1000>\r\n'
                        f"Variable: DIALER_ATTEMPT_ID={aid},DIALER_CAMPAIGN_ID=1,"
                        f"DIALER_AMD=1,DIALER_AGI=127.0.0.1:{agi_port}\r\n\r\n"
                    ).encode()
                )
                due += gap
                await asyncio.sleep(max(0.0, due - loop.time()))

        originator = loop.create_task(originate_all())
        while not originator.done() or sim.stats()["active_calls"] > 0:
            stats = sim.stats()
            peak[0] = max(peak[0], stats["active_calls"])
            peak[1] = max(peak[1], stats["active_channels"])
            await asyncio.sleep(0.1)
        peak_calls, peak_channels = peak
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        stop.set()
        await probe
        stats = sim.stats()
        writer.close()
    agi.close()
    ordered = sorted(samples) or [0.0]
    return Result(
        calls=calls,
        agents=agents,
        time_scale=time_scale,
        wall_s=wall,
        cpu_s=cpu,
        events=counter[0] - events0,
        peak_calls=peak_calls,
        peak_channels=peak_channels,
        answered=stats["answered"] - agents,
        agi_sessions=stats["agi_sessions"],
        lag_p50_ms=statistics.median(ordered),
        lag_p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        lag_max_ms=ordered[-1],
    )


def format_table(r: Result) -> str:
    rows = [
        ("calls originated", f"{r.calls}"),
        ("agents (nailed-up Local legs)", f"{r.agents}"),
        ("time scale", f"{r.time_scale:g}x"),
        ("peak concurrent customer calls", f"{r.peak_calls}"),
        ("peak live channels", f"{r.peak_channels}"),
        ("customer calls answered", f"{r.answered}"),
        ("FastAGI sessions", f"{r.agi_sessions}"),
        ("AMI events delivered", f"{r.events}"),
        ("events/s (wall)", f"{r.events / r.wall_s:,.0f}"),
        ("wall time", f"{r.wall_s:.1f} s"),
        ("CPU time (one core)", f"{r.cpu_s:.1f} s ({100 * r.cpu_s / r.wall_s:.0f}% of a core)"),
        (
            "loop lateness p50 / p99 / max",
            f"{r.lag_p50_ms:.1f} / {r.lag_p99_ms:.1f} / {r.lag_max_ms:.1f} ms",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"{'metric':<{width}}  value", f"{'-' * width}  {'-' * 24}"]
    lines += [f"{k:<{width}}  {v}" for k, v in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m pbxsim.bench", description=__doc__)
    p.add_argument("--calls", type=int, default=2000)
    p.add_argument("--agents", type=int, default=1000)
    p.add_argument("--time-scale", type=float, default=10.0)
    p.add_argument("--ramp", type=float, default=60.0, help="simulated seconds to start all")
    p.add_argument("--talk", type=float, default=90.0, help="simulated talk seconds per call")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    result = asyncio.run(
        run(args.calls, args.agents, args.time_scale, args.ramp, args.talk, args.seed)
    )
    print(format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
