"""The comparison rules themselves: strict where a dialler cares, tolerant elsewhere."""

from __future__ import annotations

from pathlib import Path

from tests.pbxsim.transcript import CHATTY, Headers, compare_events, load, stream_key


def _busy(transcripts_dir: Path) -> list[Headers]:
    return load(transcripts_dir / "05-originate-busy.txt").received


def _replace(headers: Headers, key: str, value: str) -> Headers:
    return [(k, value if k == key else v) for k, v in headers]


def test_a_recording_matches_itself(transcripts_dir: Path) -> None:
    events = _busy(transcripts_dir)
    assert compare_events(events, events) == []


def test_leaving_out_chatty_events_and_reinterleaving_channels_is_tolerated(
    transcripts_dir: Path,
) -> None:
    events = _busy(transcripts_dir)
    quiet = [h for h in events if dict(h).get("Event") not in CHATTY]
    one = [h for h in quiet if stream_key(h) == "dialer-call-busy"]
    other = [h for h in quiet if h not in one]
    assert compare_events(events, one + other) == []


def test_a_missing_or_changed_or_reordered_event_is_reported(transcripts_dir: Path) -> None:
    events = _busy(transcripts_dir)
    hangups = [i for i, h in enumerate(events) if dict(h).get("Event") == "Hangup"]
    without = [h for i, h in enumerate(events) if i != hangups[0]]
    assert any("missing" in p for p in compare_events(events, without))

    changed = [_replace(h, "Cause", "16") if i == hangups[0] else h for i, h in enumerate(events)]
    assert compare_events(events, changed)

    renamed = [_replace(h, "Channel", "Local/5551231@sim-pstn-0000002;2") for h in events]
    assert compare_events(events, renamed)

    busy_leg = [i for i, h in enumerate(events) if dict(h).get("Uniqueid") == "dialer-call-busy;2"]
    swapped = list(events)
    a, b = busy_leg[-1], busy_leg[-2]
    swapped[a], swapped[b] = swapped[b], swapped[a]
    assert compare_events(events, swapped)

    extra_header = [
        [*h, ("Extra", "1")] if dict(h).get("Event") == "Newstate" else h for h in events
    ]
    assert compare_events(events, extra_header)
