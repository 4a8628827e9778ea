"""The standalone entry point's options and a small run of the load benchmark."""

from __future__ import annotations

import asyncio

import pytest

from pbxsim.__main__ import build_parser, config_from_args, serve
from pbxsim.bench import format_table, run
from tests.pbxsim.peers import RawAmiClient


def test_command_line_builds_the_configuration() -> None:
    args = build_parser().parse_args(
        [
            "--port",
            "5039",
            "--seed",
            "7",
            "--time-scale",
            "10",
            "--callees",
            "last_digit",
            "--agi",
            "10.0.0.5:4573",
            "--p-busy",
            "0.2",
        ]
    )
    config = config_from_args(args)
    assert (config.port, config.seed, config.time_scale) == (5039, 7, 10.0)
    assert config.population.mode == "last_digit"
    assert config.population.p_busy == 0.2
    assert config.default_agi == "10.0.0.5:4573"


async def test_small_benchmark_run_answers_and_bridges_every_call() -> None:
    result = await run(calls=20, agents=5, time_scale=50, ramp_s=2, talk_s=5, seed=1)
    assert result.answered == 20
    assert result.agi_sessions == 20
    assert result.peak_calls >= 10
    assert result.events > 20 * 40
    table = format_table(result)
    assert "peak concurrent customer calls" in table


async def test_standalone_server_accepts_logins_until_stopped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = config_from_args(build_parser().parse_args(["--port", "0", "--time-scale", "5"]))
    stop = asyncio.Event()
    task = asyncio.get_running_loop().create_task(serve(config, 0, stop))
    for _ in range(100):
        out = capsys.readouterr().out
        if "AMI on" in out:
            break
        await asyncio.sleep(0.01)
    port = int(out.split("AMI on 127.0.0.1:")[1].split()[0])
    client = await RawAmiClient.connect(port)
    assert (await client.login()).response == "Success"
    stop.set()
    await asyncio.wait_for(task, 5)
    await asyncio.wait_for(client.closed.wait(), 2)
