"""Dialplan applications of the simulated Asterisk, with the events and channel variables the
real ones produce (see the recordings)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pbxsim.channel import BUSY, Channel, ChannelHungUp
from pbxsim.dialplan import App, Jump

if TYPE_CHECKING:
    from pbxsim.pbx import PbxSim

# Simulated seconds each sound lasts (hello-world and beep as measured in the recordings).
SOUND_SECONDS = {"hello-world": 1.402, "beep": 0.424, "vm-intro": 1.4}
DEFAULT_SOUND_SECONDS = 2.0


def sound_seconds(ch: Channel, files: str) -> float:
    if ch.behaviour is not None and files.startswith("vm-intro"):
        return ch.behaviour.greeting_seconds
    return sum(SOUND_SECONDS.get(f, DEFAULT_SOUND_SECONDS) for f in files.split("&") if f)


def split_args(data: str) -> list[str]:
    return [part.strip() for part in data.split(",")] if data else []


def _float(text: str, default: float) -> float:
    try:
        return float(text)
    except ValueError:
        return default


async def app_noop(sim: PbxSim, ch: Channel, data: str) -> Jump | None:
    return None


async def app_set(sim: PbxSim, ch: Channel, data: str) -> Jump | None:
    name, _, value = data.partition("=")
    sim.set_var(ch, name.strip(), value)
    return None


def _jump(target: str) -> Jump:
    parts = [p.strip() for p in target.split(",")]
    if len(parts) == 1:
        return ("", "", parts[0])
    if len(parts) == 2:
        return ("", parts[0], parts[1])
    return (parts[0], parts[1], parts[2])


async def app_gotoif(sim: PbxSim, ch: Channel, data: str) -> Jump | None:
    cond, _, labels = data.partition("?")
    if_true, _, if_false = labels.partition(":")
    truthy = cond.strip() not in ("", "0")
    chosen = if_true if truthy else if_false
    return _jump(chosen) if chosen else None


async def app_goto(sim: PbxSim, ch: Channel, data: str) -> Jump | None:
    return _jump(data)


async def app_ringing(sim: PbxSim, ch: Channel, data: str) -> Jump | None:
    sim.signal_ringing(ch)
    return None


async def app_wait(sim: PbxSim, ch: Channel, data: str) -> Jump | None:
    await sim.wait(ch, _float(data, 0.0))
    return None


async def app_answer(sim: PbxSim, ch: Channel, data: str) -> Jump | None:
    sim.answer(ch)
    return None


async def app_playback(sim: PbxSim, ch: Channel, data: str) -> Jump | None:
    files = split_args(data)[0] if data else ""
    try:
        await sim.wait(ch, sound_seconds(ch, files))
    finally:
        sim.set_var(ch, "PLAYBACKSTATUS", "SUCCESS")
    return None


async def app_hangup(sim: PbxSim, ch: Channel, data: str) -> Jump | None:
    ch.hangup_cause = int(data) if data.strip().isdigit() else 16
    ch.hungup = True
    raise ChannelHungUp


async def _refuse(sim: PbxSim, ch: Channel, cause: int) -> Jump | None:
    sim.set_state(ch, BUSY)
    sim.signal_failure(ch, cause)
    ch.hangup_cause = cause
    ch.hungup = True
    raise ChannelHungUp


async def app_busy(sim: PbxSim, ch: Channel, data: str) -> Jump | None:
    return await _refuse(sim, ch, 17)


async def app_congestion(sim: PbxSim, ch: Channel, data: str) -> Jump | None:
    return await _refuse(sim, ch, 34)


async def app_amd(sim: PbxSim, ch: Channel, data: str) -> Jump | None:
    far = sim.far_end(ch)
    behaviour = far.behaviour if far is not None else None
    if behaviour is None:
        status, cause, seconds = "HUMAN", "HUMAN-1000-1000", 1.5
    else:
        status, cause, seconds = behaviour.amd_status, behaviour.amd_cause, behaviour.amd_seconds
    try:
        await sim.wait(ch, seconds)
    except ChannelHungUp:
        sim.set_var(ch, "AMDSTATUS", "HANGUP")
        sim.set_var(ch, "AMDCAUSE", "")
        raise
    sim.set_var(ch, "AMDSTATUS", status)
    sim.set_var(ch, "AMDCAUSE", cause)
    return None


async def app_userevent(sim: PbxSim, ch: Channel, data: str) -> Jump | None:
    name, *fields = split_args(data)
    extra = [("UserEvent", name)]
    for f in fields:
        key, _, value = f.partition(":")
        extra.append((key.strip(), value.strip()))
    sim.emit_channel("UserEvent", ch, extra, privilege="user,all")
    return None


async def app_agi(sim: PbxSim, ch: Channel, data: str) -> Jump | None:
    url, *args = split_args(data)
    await sim.agi.run(ch, url, args)
    return None


async def app_confbridge(sim: PbxSim, ch: Channel, data: str) -> Jump | None:
    args = split_args(data)
    name = args[0] if args else f"conf-{ch.uniqueid}"
    user_profile = args[2] if len(args) > 2 else "default_user"
    await sim.confbridge(ch, name, user_profile)
    return None


async def app_waitforsilence(sim: PbxSim, ch: Channel, data: str) -> Jump | None:
    args = split_args(data)
    silence = _float(args[0], 1500.0) / 1000.0 if args else 1.5
    far = sim.far_end(ch)
    remaining = 0.0
    if far is not None and far.behaviour is not None and far.answered_at is not None:
        remaining = max(0.0, far.answered_at + far.behaviour.greeting_seconds - sim.clock.now())
    await sim.wait(ch, remaining + silence)
    sim.set_var(ch, "WAITSTATUS", "SILENCE")
    return None


async def app_mixmonitor(sim: PbxSim, ch: Channel, data: str) -> Jump | None:
    filename = split_args(data)[0] if data else f"{ch.uniqueid}.wav"
    if not filename.startswith("/"):
        filename = f"/var/spool/asterisk/monitor/{filename}"
    sim.set_var(ch, "MIXMONITOR_FILENAME", filename)
    ch.mixmonitor = True
    sim.emit_channel("MixMonitorStart", ch, [])
    return None


async def app_stopmixmonitor(sim: PbxSim, ch: Channel, data: str) -> Jump | None:
    if ch.mixmonitor:
        ch.mixmonitor = False
        sim.emit_channel("MixMonitorStop", ch, [])
    return None


def _option_letters(options: str) -> set[str]:
    """`qESv(2)` -> {q, E, S, v}: an application's option letters, arguments dropped."""
    return set(re.sub(r"\([^)]*\)", "", options))


async def app_chanspy(sim: PbxSim, ch: Channel, data: str) -> Jump | None:
    """ChanSpy(chanprefix,options): listen to the first channel whose name begins with the
    prefix (w: whisper to it, B: barge into its call), scanning again every second while none
    matches. S: return when none matches; E: return when the spied channel hangs up. Emits
    ChanSpyStart / ChanSpyStop with the Spyer and Spyee channel headers, like Asterisk."""
    prefix, _, options = data.partition(",")
    flags = _option_letters(options.strip())
    mode = "barge" if "B" in flags else "whisper" if {"w", "W"} & flags else "listen"
    sim.answer(ch)
    while True:
        target = sim.spy_target(ch, prefix.strip())
        if target is None:
            if "S" in flags:
                return None
            await sim.wait(ch, 1.0)
            continue
        await sim.spy(ch, target, mode)
        if "E" in flags:
            return None


async def app_simtalk(sim: PbxSim, ch: Channel, data: str) -> Jump | None:
    """The far end of an answered call: talk, or wait for an agent and then talk."""
    behaviour = ch.behaviour
    if behaviour is None or not behaviour.waits_for_agent:
        await sim.wait(ch, _float(data, 0.0))
        return None
    near = ch.peer
    deadline = sim.clock.now() + behaviour.patience_seconds
    while near is not None and near.connected_at is None:
        left = deadline - sim.clock.now()
        if left <= 0:
            return None  # tired of waiting in silence: hang up
        await ch.pause(sim.clock.real(left))
    if near is not None and near.connected_at is not None:
        end = near.connected_at + behaviour.talk_seconds
        await sim.wait(ch, end - sim.clock.now())
    return None


APPS: dict[str, App] = {
    "NoOp": app_noop,
    "Log": app_noop,  # writes to the Asterisk log only, no AMI event
    "Set": app_set,
    "GotoIf": app_gotoif,
    "Goto": app_goto,
    "Ringing": app_ringing,
    "Wait": app_wait,
    "Answer": app_answer,
    "Playback": app_playback,
    "Hangup": app_hangup,
    "Busy": app_busy,
    "Congestion": app_congestion,
    "AMD": app_amd,
    "UserEvent": app_userevent,
    "AGI": app_agi,
    "ConfBridge": app_confbridge,
    "WaitForSilence": app_waitforsilence,
    "MixMonitor": app_mixmonitor,
    "StopMixMonitor": app_stopmixmonitor,
    "ChanSpy": app_chanspy,
    "SimTalk": app_simtalk,
}
