"""`dialer pbxsim` / `python -m pbxsim`: run the simulated Asterisk standalone."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from pbxsim.config import PbxSimConfig
from pbxsim.pbx import PbxSim
from pbxsim.population import PopulationModel


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dialer pbxsim", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5038, help="AMI port (0: any free port)")
    p.add_argument("--username", default="dialer")
    p.add_argument("--secret", default="dialer-secret")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--time-scale", type=float, default=1.0, help="simulated seconds per real second"
    )
    p.add_argument(
        "--agi",
        default="127.0.0.1:4573",
        help="host:port of the FastAGI server when a channel does not name one",
    )
    p.add_argument(
        "--callees",
        choices=["population", "last_digit"],
        default="population",
        help="population: seeded probabilities; last_digit: the recorded lab rule",
    )
    p.add_argument("--p-human", type=float, default=0.35)
    p.add_argument("--p-machine", type=float, default=0.20)
    p.add_argument("--p-busy", type=float, default=0.08)
    p.add_argument("--p-no-answer", type=float, default=0.30)
    p.add_argument("--p-congestion", type=float, default=0.07)
    p.add_argument(
        "--fallback-message",
        default="",
        help="played when the FastAGI server cannot be reached (default: none)",
    )
    p.add_argument(
        "--response-delay",
        type=float,
        default=0.0,
        help="answer every AMI action this many real seconds late",
    )
    p.add_argument(
        "--stats-every",
        type=float,
        default=10.0,
        help="print counters every N real seconds (0: never)",
    )
    p.add_argument("--log-level", default="INFO")
    return p


def config_from_args(args: argparse.Namespace) -> PbxSimConfig:
    population = PopulationModel(
        mode=args.callees,
        p_human=args.p_human,
        p_machine=args.p_machine,
        p_busy=args.p_busy,
        p_no_answer=args.p_no_answer,
        p_congestion=args.p_congestion,
    )
    return PbxSimConfig(
        host=args.host,
        port=args.port,
        username=args.username,
        secret=args.secret,
        seed=args.seed,
        time_scale=args.time_scale,
        population=population,
        default_agi=args.agi,
        fallback_message=args.fallback_message,
        response_delay=args.response_delay,
    )


async def serve(config: PbxSimConfig, stats_every: float, stop: asyncio.Event) -> None:
    async with PbxSim(config) as sim:
        print(
            f"pbxsim: AMI on {config.host}:{sim.ami_port} (user {config.username}), "
            f"seed {config.seed}, time scale {config.time_scale:g}",
            flush=True,
        )
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), stats_every if stats_every > 0 else None)
            if stats_every > 0 and not stop.is_set():
                print("pbxsim: " + " ".join(f"{k}={v}" for k, v in sim.stats().items()), flush=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = config_from_args(args)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await serve(config, args.stats_every, stop)

    try:
        asyncio.run(run())
    except OSError as exc:
        print(f"pbxsim: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
