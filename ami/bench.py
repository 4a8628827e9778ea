"""`dialer bench ami`: AMI events/s parsed and dispatched by `AmiClient` over a real socket.

A child process plays Asterisk on a loopback port: banner, login accepted, then every message
Asterisk sent in the recorded transcripts, repeated, as fast as the socket takes it. This
process runs one `AmiClient` (one core, one event loop) with a catch-all subscriber that
receives each event as a typed view, and reports the rate per wall-clock second and per
second of the client's CPU time (the goal is judged on the latter: it is what one core
sustains, whatever else the machine is running). The parser alone is measured too.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import sys
import time
from pathlib import Path

from ami.client import AmiClient
from ami.events import AmiEvent
from ami.parser import AmiParser
from ami.recordings import received_ami_lines, recording_files, wire_bytes

DONE_EVENT = b"Event: BenchComplete\r\n\r\n"
_DEFAULT_TRANSCRIPTS = Path(__file__).resolve().parents[1] / "tests" / "asterisk-transcripts"


def recorded_traffic(directory: Path) -> bytes:
    """Every message Asterisk sent in the recordings, banners left out, as wire bytes."""
    parts: list[bytes] = []
    for path in recording_files(directory):
        lines = [t for t in received_ami_lines(path) if not t.startswith("Asterisk Call Manager/")]
        parts.append(wire_bytes(lines))
    return b"".join(parts)


def _serve(listener: socket.socket, payload: bytes, repeat: int) -> None:
    """Child process: one client, login accepted, then the payload `repeat` times."""
    connection, _ = listener.accept()
    with connection:
        connection.sendall(b"Asterisk Call Manager/13.0.0\r\n")
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = connection.recv(4096)
            if not chunk:
                return
            request += chunk
        (login,) = AmiParser().feed(request[: request.index(b"\r\n\r\n") + 4])
        connection.sendall(
            f"Response: Success\r\nActionID: {login.action_id}\r\n"
            "Message: Authentication accepted\r\n\r\n".encode()
        )
        block = payload * max(1, min(repeat, 16))
        sent = 0
        while sent < repeat:
            count = min(16, repeat - sent)
            connection.sendall(block if count == 16 else payload * count)
            sent += count
        connection.sendall(DONE_EVENT)
        # Answer the Logoff like Asterisk does, or the client waits for it before closing.
        actions = AmiParser()
        while data := connection.recv(65536):
            for action in actions.feed(data):
                if action.name.lower() == "logoff":
                    connection.sendall(
                        f"Response: Goodbye\r\nActionID: {action.action_id}\r\n"
                        "Message: Thanks for all the fish.\r\n\r\n".encode()
                    )
                    return


async def _measure_client(port: int, expected_events: int) -> dict[str, float]:
    done = asyncio.Event()
    received = 0

    def count(event: AmiEvent) -> None:
        nonlocal received
        received += 1
        if event.name == "BenchComplete":
            done.set()

    client = AmiClient("127.0.0.1", port, "bench", "bench", ping_interval=3600)
    client.on_event("*", count)
    await client.connect()
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    await done.wait()
    wall = time.perf_counter() - wall_start
    cpu = time.process_time() - cpu_start
    await client.close()
    events = received - 1  # without the end marker
    if events != expected_events:
        raise RuntimeError(f"dispatched {events} events, expected {expected_events}")
    return {"events": events, "wall_s": wall, "cpu_s": cpu}


def _parser_only(payload: bytes, rounds: int) -> tuple[int, float]:
    parser = AmiParser()
    chunks = [payload[i : i + 65536] for i in range(0, len(payload), 65536)]
    started = time.process_time()
    messages = 0
    for _ in range(rounds):
        for chunk in chunks:
            messages += len(parser.feed(chunk))
    return messages, time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dialer bench ami", description=__doc__)
    parser.add_argument(
        "--transcripts",
        type=Path,
        default=Path(os.environ.get("DIALER_TRANSCRIPTS_DIR", _DEFAULT_TRANSCRIPTS)),
        help="folder of recorded Asterisk traffic (NN-name.txt)",
    )
    parser.add_argument("--repeat", type=int, default=400, help="times the recordings are sent")
    parser.add_argument("--goal", type=float, default=20_000.0, help="events/s to reach")
    args = parser.parse_args(argv)

    files = recording_files(args.transcripts) if args.transcripts.is_dir() else []
    if not files:
        print(f"no recordings found in {args.transcripts}", file=sys.stderr)
        return 2
    payload = recorded_traffic(args.transcripts)
    messages = AmiParser().feed(payload)
    events_per_copy = sum(1 for m in messages if m.kind == "event")
    expected = events_per_copy * args.repeat

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = multiprocessing.get_context("fork").Process(
        target=_serve, args=(listener, payload, args.repeat), daemon=True
    )
    server.start()
    listener.close()
    try:
        result = asyncio.run(_measure_client(port, expected))
    finally:
        server.join(timeout=5)
        if server.is_alive():
            server.terminate()

    parsed, parse_seconds = _parser_only(payload, max(1, args.repeat // 10))
    rate = result["events"] / result["wall_s"]
    cpu_rate = result["events"] / result["cpu_s"] if result["cpu_s"] > 0 else float("inf")
    megabytes = len(payload) * args.repeat / 1e6
    # "On one core": judged on the client's own CPU time, which other load on the machine
    # does not inflate; the wall-clock rate is printed beside it.
    met = cpu_rate >= args.goal
    rows = [
        ("recordings", f"{len(files)} files, {len(payload) / 1e3:.0f} kB, {len(messages)} msgs"),
        ("traffic sent", f"{args.repeat} x = {megabytes:.1f} MB"),
        ("events dispatched", f"{result['events']:,}"),
        ("wall time", f"{result['wall_s']:.3f} s"),
        ("client CPU time", f"{result['cpu_s']:.3f} s"),
        ("events/s (wall)", f"{rate:,.0f}"),
        ("events/s per CPU-second", f"{cpu_rate:,.0f}"),
        ("MB/s read", f"{megabytes / result['wall_s']:.1f}"),
        ("parser alone, msgs/CPU-s", f"{parsed / parse_seconds:,.0f}"),
        ("load average (1 min)", f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"),
        ("goal (per client core)", f"{args.goal:,.0f} events/s: {'met' if met else 'NOT met'}"),
    ]
    width = max(len(name) for name, _ in rows)
    print("AMI client throughput (one event loop, real loopback socket)")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
