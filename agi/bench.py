"""`dialer bench agi`: decision latency of the `answered` route over loopback sockets.

Runs the FastAGI server with a router that decides at once and N fake Asterisk clients
(`--concurrency` at a time) that each send a real-looking environment and answer the
commands as Asterisk does. The clients run in a child process (their own core) unless
`--same-process` puts them on the server's event loop. Prints p50/p99 of the server-side
decision latency (environment end -> `SET VARIABLE DIALER_ACTION` acknowledged), the
client-side view of it, and sessions/s.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

import numpy as np
from prometheus_client import CollectorRegistry, Histogram
from rich.console import Console
from rich.table import Table

from agi.metrics import DecisionLatencies
from agi.router import AnsweredCall, AnsweredDecision, LoginResult, WrapupPrompt
from agi.server import AgiServer

_ENVIRONMENT = (
    "agi_network: yes\n"
    "agi_network_script: answered?attempt={attempt}&campaign=1\n"
    "agi_request: agi://127.0.0.1:{port}/answered?attempt={attempt}&campaign=1\n"
    "agi_channel: Local/5551234@sim-pstn-{n:08x};1\n"
    "agi_language: en\nagi_type: Local\nagi_uniqueid: {attempt}\n"
    "agi_version: GIT-master-f0c1c1a7b7\nagi_callerid: 8005550100\nagi_calleridname: Acme\n"
    "agi_callingpres: 0\nagi_callingani2: 0\nagi_callington: 0\nagi_callingtns: 0\n"
    "agi_dnid: unknown\nagi_rdnis: unknown\nagi_context: dialer-outbound\nagi_extension: s\n"
    "agi_priority: 2\nagi_enhanced: 0.0\nagi_accountcode: \nagi_threadid: 140627016922816\n\n"
)
_REPLIES = {
    "GET VARIABLE AMDSTATUS": b"200 result=1 (HUMAN)\n",
    "GET VARIABLE AMDCAUSE": b"200 result=1 (HUMAN-200-200)\n",
}


class InstantRouter:
    """Bridges every call to the same agent without waiting: measures our own overhead."""

    async def route_answered(self, call: AnsweredCall) -> AnsweredDecision:
        return AnsweredDecision.bridge_to("1001")

    async def wrapup_prompt(self, agent_ext: str) -> WrapupPrompt:
        return WrapupPrompt(sound="dialer-wrapup", valid_codes=frozenset({"1"}))

    async def submit_dtmf_disposition(self, agent_ext: str, code: str) -> bool:
        return True

    async def agent_login(self, agent_number: str, pin: str, channel: str) -> LoginResult:
        return LoginResult(ok=True, agent_ext=agent_number)


@dataclass
class ClientStats:
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    server_cpu_s: float | None = None  # CPU time of the server process, clients apart


async def _fake_asterisk_call(port: int, n: int, stats: ClientStats) -> None:
    """One answered call as Asterisk runs it: environment, replies, until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    attempt = f"att-{n:08d}"
    decided = False
    try:
        writer.write(_ENVIRONMENT.format(attempt=attempt, port=port, n=n).encode())
        await writer.drain()
        started = time.perf_counter()
        while raw := await reader.readline():
            command = raw.decode().rstrip("\n")
            if command.startswith("SET VARIABLE"):
                if command == "SET VARIABLE DIALER_ACTION bridge":
                    stats.latencies.append(time.perf_counter() - started)
                    decided = True
                writer.write(b"200 result=1\n")
            else:
                writer.write(_REPLIES.get(command, b"510 Invalid or unknown command\n"))
    finally:
        writer.close()
    if not decided:
        stats.failures += 1


async def _run_clients(
    port: int, sessions: int, concurrency: int, rate: float | None
) -> tuple[ClientStats, float]:
    """All sessions at once behind a `concurrency` gate, or paced at `rate` new calls/s."""
    stats = ClientStats()
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        async with gate:
            try:
                await _fake_asterisk_call(port, n, stats)
            except OSError:
                stats.failures += 1

    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    if rate is None:
        await asyncio.gather(*(one(n) for n in range(sessions)))
    else:
        first = loop.time()
        tasks = []
        for n in range(sessions):
            await asyncio.sleep(max(0.0, first + n / rate - loop.time()))
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
    return stats, time.perf_counter() - started


def _client_process(
    port: int, sessions: int, concurrency: int, rate: float | None, conn: Connection
) -> None:
    """Entry point of the client process: its own interpreter, its own event loop."""
    stats, elapsed = asyncio.run(_run_clients(port, sessions, concurrency, rate))
    conn.send((stats.latencies, stats.failures, elapsed))
    conn.close()


async def run_benchmark(
    sessions: int,
    concurrency: int,
    *,
    rate: float | None = None,
    separate_process: bool = True,
) -> tuple[DecisionLatencies, ClientStats, float]:
    """Run `sessions` calls, `concurrency` at a time, the clients in a child process unless
    told otherwise; returns the server's latencies, the clients' view and the wall time."""
    histogram = Histogram(
        "dialer_agi_decision_seconds", "bench", labelnames=("route",), registry=CollectorRegistry()
    )
    latencies = DecisionLatencies(histogram)
    async with AgiServer(InstantRouter(), port=0, latencies=latencies) as server:
        if not separate_process:
            stats, elapsed = await _run_clients(server.port, sessions, concurrency, rate)
            return latencies, stats, elapsed
        cpu_before = time.process_time()
        context = multiprocessing.get_context("spawn")
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(
            target=_client_process, args=(server.port, sessions, concurrency, rate, sender)
        )
        process.start()
        sender.close()
        try:
            client_latencies, failures, elapsed = await asyncio.to_thread(receiver.recv)
        except EOFError:
            client_latencies, failures, elapsed = [], sessions, float("nan")
        await asyncio.to_thread(process.join)
        server_cpu = time.process_time() - cpu_before
    return latencies, ClientStats(client_latencies, failures, server_cpu), elapsed


def _ms(values: list[float], q: float) -> str:
    return f"{float(np.quantile(values, q)) * 1000:.2f}" if values else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dialer bench agi", description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=5000, help="AGI sessions to run")
    parser.add_argument("--concurrency", type=int, default=200, help="sessions at a time")
    parser.add_argument(
        "--rate", type=float, default=None, help="new calls per second (default: all at once)"
    )
    parser.add_argument(
        "--same-process",
        action="store_true",
        help="run the fake clients on the server's event loop instead of a child process",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    latencies, stats, elapsed = asyncio.run(
        run_benchmark(
            args.sessions,
            args.concurrency,
            rate=args.rate,
            separate_process=not args.same_process,
        )
    )
    server_side = latencies.samples("answered")

    pace = f"{args.rate:g} new/s" if args.rate else "all at once"
    table = Table(
        title=f"AGI decision latency: {args.sessions} sessions, {pace}, "
        f"at most {args.concurrency} concurrent"
    )
    table.add_column("measure")
    table.add_column("p50 ms", justify="right")
    table.add_column("p99 ms", justify="right")
    table.add_column("max ms", justify="right")
    table.add_column("n", justify="right")
    for name, values in (
        ("server: env end -> DIALER_ACTION set", server_side),
        ("client: env sent -> SET DIALER_ACTION seen", stats.latencies),
    ):
        table.add_row(name, _ms(values, 0.5), _ms(values, 0.99), _ms(values, 1.0), str(len(values)))
    console = Console()
    console.print(table)
    console.print(
        f"sessions/s: {args.sessions / elapsed:,.0f}  (wall {elapsed:.2f} s, "
        f"failures {stats.failures}, clients "
        + ("on the server's event loop)" if args.same_process else "in a child process)")
    )
    if stats.server_cpu_s is not None:
        per_session = stats.server_cpu_s / max(1, len(server_side)) * 1000
        console.print(
            f"server CPU: {stats.server_cpu_s:.2f} s, {per_session:.3f} ms per session "
            "(less sensitive than wall time to other load on the machine)"
        )
    return 0 if stats.failures == 0 and len(server_side) == args.sessions else 1


if __name__ == "__main__":  # `python -m agi.bench`, like `dialer bench agi`
    sys.exit(main())
