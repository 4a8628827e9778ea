"""The simulated Asterisk: channels, Local pairs, originate outcomes, hangup propagation,
conference bridges, and the control surface tests and the demo use.

    async with PbxSim(PbxSimConfig(time_scale=10)) as sim:
        port = sim.ami_port
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from pbxsim.agi_client import AgiClient
from pbxsim.ami_server import AmiServer
from pbxsim.amiwire import Headers, encode
from pbxsim.apps import APPS
from pbxsim.channel import (
    CAUSE_TEXT,
    DOWN,
    RING,
    RINGING,
    UP,
    Bridge,
    Channel,
    ChannelHungUp,
    ChannelRedirected,
)
from pbxsim.clock import SimClock
from pbxsim.config import PbxSimConfig
from pbxsim.contexts import EXTENSIONS_CONF
from pbxsim.dialplan import Dialplan, execute
from pbxsim.population import CalleeBehaviour

log = logging.getLogger(__name__)

_LOCAL = re.compile(r"^Local/(?P<exten>[^@/]+)@(?P<context>[^/]+?)(?P<flags>/n)?$")
_PJSIP = re.compile(r"^PJSIP/(?P<ep>[^@]+)(?:@(?P<trunk>.+))?$")
_CALLERID = re.compile(r'^\s*(?:"?(?P<name>[^"<]*?)"?\s*)?<(?P<num>[^>]*)>\s*$')


@dataclass
class Counters:
    originated: int = 0
    answered: int = 0
    failed: int = 0
    bridged: int = 0
    agi_sessions: int = 0
    hangups: int = 0
    inbound: int = 0


@dataclass
class _Dial:
    """An originate in progress: the outcome the far end signals to the near channel."""

    action_id: str
    near: Channel
    far: Channel
    dial_string: str
    context: str
    exten: str
    priority: str
    local: bool
    outcome: asyncio.Future[tuple[str, int]] = field(repr=False)


class PbxSim:
    def __init__(self, config: PbxSimConfig | None = None) -> None:
        self.config = config or PbxSimConfig()
        self.clock = SimClock(self.config.time_scale)
        self.dialplan = Dialplan(EXTENSIONS_CONF)
        self.apps = dict(APPS)
        self.globals: dict[str, str] = {
            "DIALER_AGI": self.config.default_agi,
            "DIALER_FALLBACK_MESSAGE": self.config.fallback_message,
            "DIALER_SERVER": self.config.server_name,
        }
        self.rng = random.Random(self.config.seed)
        self.counters = Counters()
        self.channels: dict[str, Channel] = {}  # by uniqueid, creation order
        self._by_name: dict[str, Channel] = {}
        self.bridges: dict[str, Bridge] = {}
        self.dtmf: dict[str, deque[str]] = defaultdict(deque)
        self._dials: dict[str, _Dial] = {}  # by near uniqueid
        self._seq = 0
        self._uid_seq = 0
        self._calls_to_number: dict[str, int] = defaultdict(int)
        self._forced: dict[str, deque[CalleeBehaviour]] = defaultdict(deque)
        self._customer_calls: set[str] = set()  # uniqueids of live customer (non-agent) calls
        # ChanSpy sessions by the spy's uniqueid: (spy, spied-on channel, mode)
        self._spies: dict[str, tuple[Channel, Channel, str]] = {}
        # synchronous (Async: false) originates waiting for their outcome, by ActionID
        self.sync_waiters: dict[str, asyncio.Future[bool]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.agi = AgiClient(self)
        self.ami = AmiServer(self)
        self.started_at = time.time()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self.clock.start()
        self.started_at = time.time()
        await self.ami.start(self.config.host, self.config.port)

    async def stop(self) -> None:
        await self.ami.stop()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    async def __aenter__(self) -> PbxSim:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def ami_port(self) -> int:
        return self.ami.port

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- control surface ---------------------------------------------------------------------

    async def drop_ami_connections(self) -> int:
        """Close every AMI client socket at once (the 'Asterisk went away' fault)."""
        return await self.ami.drop_all()

    def set_response_delay(self, seconds: float) -> None:
        """Answer every AMI action this many real seconds late (the 'slow server' fault)."""
        self.config.response_delay = seconds

    def queue_dtmf(self, key: str, *answers: str) -> None:
        """Digits the next GET DATA prompts on `key`'s channel will receive, one per prompt.

        `key` is an agent extension (wrap-up and login prompts) or a callee number.
        """
        self.dtmf[key].extend(answers)

    def live_channels(self) -> list[dict[str, str]]:
        return [
            {
                "channel": ch.name,
                "uniqueid": ch.uniqueid,
                "linkedid": ch.linkedid,
                "state": str(ch.state),
                "context": ch.context,
                "exten": ch.exten,
                "application": ch.application,
                "bridge": ch.bridge.name if ch.bridge else "",
            }
            for ch in self.channels.values()
        ]

    def spies(self) -> list[dict[str, str]]:
        """Channels running ChanSpy and whom they spy on (listen / whisper / barge)."""
        return [
            {
                "spyer": spy.name,
                "spyer_uniqueid": spy.uniqueid,
                "spyee": spyee.name,
                "spyee_uniqueid": spyee.uniqueid,
                "mode": mode,
            }
            for spy, spyee, mode in self._spies.values()
        ]

    def stats(self) -> dict[str, int]:
        active_calls = len(self._customer_calls)
        return {
            "originated": self.counters.originated,
            "answered": self.counters.answered,
            "failed": self.counters.failed,
            "bridged": self.counters.bridged,
            "agi_sessions": self.counters.agi_sessions,
            "active_channels": len(self.channels),
            "active_calls": active_calls,
            "ami_clients": len(self.ami.sessions),
        }

    def agent_hangup_customer(self, ext: str, cause: int = 16) -> int:
        """The agent ends the call: hang up every non-agent member of `agent-<ext>`."""
        bridge = self.bridges.get(f"agent-{ext}")
        if bridge is None:
            return 0
        customers = [ch for ch in bridge.members if not ch.is_agent]
        for ch in customers:
            self.hangup(ch, cause)
        return len(customers)

    def phone_dial(self, ext: str, exten: str = "*55", context: str = "dialer-agent-login") -> str:
        """An agent's desk phone `PJSIP/<ext>` dials `exten` (e.g. the login code)."""
        uid = self._new_uniqueid()
        name = f"PJSIP/{ext}-{self._next_seq():08x}"
        ch = self._new_channel(name, uid, uid, "PJSIP", context, exten)
        ch.state = RING
        ch.caller_num, ch.caller_name = ext, ext
        ch.dtmf_key, ch.is_agent = ext, True
        self.emit_channel("Newchannel", ch, [])
        self.spawn(self.run_channel(ch, context, exten, 1))
        return uid

    def inbound_call(
        self,
        did: str,
        caller: str,
        *,
        patience_s: float = 60.0,
        talk_s: float = 60.0,
        context: str = "dialer-inbound",
    ) -> str:
        """A caller on the trunk dials `did`: `PJSIP/trunk-...` runs `context` at `did`. The
        caller hangs up after `patience_s` (simulated) unless an agent shares a bridge with
        them by then, and `talk_s` after that otherwise. Returns the channel's uniqueid."""
        self.counters.inbound += 1
        uid = self._new_uniqueid()
        name = f"PJSIP/trunk-{self._next_seq():08x}"
        ch = self._new_channel(name, uid, uid, "PJSIP", context, did)
        ch.state = RING
        ch.caller_num, ch.caller_name = caller, caller
        self._customer_calls.add(uid)
        self.emit_channel("Newchannel", ch, [])
        self.spawn(self.run_channel(ch, context, did, 1))
        self.spawn(self._inbound_caller(ch, patience_s, talk_s))
        return uid

    async def _inbound_caller(self, ch: Channel, patience_s: float, talk_s: float) -> None:
        """The person behind an inbound channel: waits (hold music) at most `patience_s`
        for an agent, then talks `talk_s`; checked every 20 ms of real time."""
        deadline = self.clock.now() + patience_s
        await _poll(lambda: ch.gone or ch.connected_at is not None, self.clock, deadline)
        if ch.gone:
            return
        if ch.connected_at is not None:
            await _poll(lambda: ch.gone, self.clock, ch.connected_at + talk_s)
        if not ch.gone:
            self.hangup(ch, 16)

    # -- events ------------------------------------------------------------------------------

    def emit(self, event: str, headers: Headers, privilege: str = "call,all") -> None:
        self.ami.broadcast(
            encode([("Event", event), ("Privilege", privilege), *headers]), privilege
        )

    def emit_channel(
        self, event: str, ch: Channel, extra: Headers, privilege: str = "call,all"
    ) -> None:
        if ch.uniqueid.endswith(";far"):
            return  # the hidden far end of a PJSIP call makes no events of its own
        self.emit(event, [*ch.headers(), *extra], privilege)

    def set_var(self, ch: Channel, name: str, value: str) -> None:
        ch.variables[name] = value
        self.emit_channel("VarSet", ch, [("Variable", name), ("Value", value)], "dialplan,all")

    def set_state(self, ch: Channel, state: int) -> None:
        if ch.state != state:
            ch.state = state
            self.emit_channel("Newstate", ch, [])

    # -- channel registry --------------------------------------------------------------------

    def _next_seq(self) -> int:
        """Asterisk's channel name counter (`-0000000e`), shared by Local pairs and CBAnn."""
        seq = self._seq
        self._seq += 1
        return seq

    def _new_uniqueid(self) -> str:
        self._uid_seq += 1
        return f"{int(self.started_at)}.{self._uid_seq}"

    def _new_channel(
        self, name: str, uid: str, linkedid: str, tech: str, context: str, exten: str
    ) -> Channel:
        ch = Channel(name, uid, linkedid, tech, context, exten, self.clock.now())
        if not uid.endswith(";far"):
            self.channels[uid] = ch
            self._by_name[name] = ch
        return ch

    def _forget(self, ch: Channel) -> None:
        self._customer_calls.discard(ch.uniqueid)
        self.channels.pop(ch.uniqueid, None)
        self._by_name.pop(ch.name, None)
        if ch.peer is not None and ch.peer.gone:
            ch.peer.peer = None  # both halves gone: break the cycle for the collector
            ch.peer = None

    def find(self, name_or_uid: str) -> Channel | None:
        return self.channels.get(name_or_uid) or self._by_name.get(name_or_uid)

    def uniqueid_in_use(self, uid: str) -> bool:
        return uid in self.channels

    def far_end(self, ch: Channel) -> Channel | None:
        """The simulated callee/agent side of `ch` (its Local ;2, or a PJSIP call's far end)."""
        return ch.peer

    # -- originate ---------------------------------------------------------------------------

    def originate(
        self,
        action_id: str,
        dial_string: str,
        context: str,
        exten: str,
        priority: str,
        timeout_ms: int,
        caller_id: str,
        variables: list[tuple[str, str]],
        channel_id: str,
        other_channel_id: str,
    ) -> None:
        """Start an Async originate; the outcome arrives as events (OriginateResponse)."""
        self.counters.originated += 1
        local = _LOCAL.match(dial_string)
        pjsip = _PJSIP.match(dial_string)
        valid = (local and self.dialplan.exists(local["context"], local["exten"])) or pjsip
        if not valid or (channel_id and self.uniqueid_in_use(channel_id)):
            self.spawn(self._originate_failed(action_id, dial_string, context, exten))
            return
        uid = channel_id or self._new_uniqueid()
        name_num, name_text = _parse_callerid(caller_id)
        seq = self._next_seq()
        if local:
            near = self._new_channel(
                f"Local/{local['exten']}@{local['context']}-{seq:08x};1",
                uid,
                uid,
                "Local",
                local["context"],
                local["exten"],
            )
            far = self._new_channel(
                f"Local/{local['exten']}@{local['context']}-{seq:08x};2",
                other_channel_id or f"{uid};2",
                uid,
                "Local",
                local["context"],
                local["exten"],
            )
            far_context, far_exten = local["context"], local["exten"]
        else:
            assert pjsip is not None
            endpoint = pjsip["trunk"] or pjsip["ep"]
            number = pjsip["ep"]
            near = self._new_channel(
                f"PJSIP/{endpoint}-{seq:08x}", uid, uid, "PJSIP", context, exten
            )
            far = self._new_channel(f"PJSIP/{number}", f"{uid};far", uid, "PJSIP", "", number)
            if pjsip["trunk"]:
                far_context, far_exten = "sim-pstn", number
            else:
                far_context, far_exten = "sim-agents", number
        near.peer, far.peer = far, near
        far.state = RING
        if far_context in ("sim-agents",) or far_context.startswith("dialer-agent"):
            near.is_agent = far.is_agent = True
            near.dtmf_key = far.dtmf_key = far_exten
        else:
            self._customer_calls.add(near.uniqueid)
            near.dtmf_key = far.dtmf_key = far_exten
            far.behaviour = self._behaviour(far_exten)
            for key, value in _behaviour_vars(far.behaviour).items():
                far.variables[key] = value
        outcome: asyncio.Future[tuple[str, int]] = asyncio.get_running_loop().create_future()
        dial = _Dial(
            action_id, near, far, dial_string, context, exten, priority, bool(local), outcome
        )
        self._dials[near.uniqueid] = dial

        self.emit_channel("Newchannel", near, [])
        if local:
            self.emit_channel("Newchannel", far, [])
            self.emit_channel(
                "Newexten",
                near,
                [
                    ("Extension", near.exten),
                    ("Application", "AppDial2"),
                    ("AppData", "(Outgoing Line)"),
                ],
                "dialplan,all",
            )
        for key, value in reversed(variables):
            self.set_var(near, key, value)
        if caller_id:
            near.caller_num, near.caller_name = name_num, name_text
            self.emit_channel("NewCallerid", near, [("CID-CallingPres", _PRES)])
            near.connected_num, near.connected_name = name_num, name_text
            self.emit_channel("NewConnectedLine", near, [])
        for key, value in variables:
            self.set_var(far, key, value)
        if caller_id:
            far.caller_num, far.caller_name = name_num, name_text
            far.connected_num, far.connected_name = name_num, name_text
            if local:
                self.emit_channel("NewCallerid", far, [("CID-CallingPres", _PRES)])
                self.emit_channel("NewConnectedLine", far, [])
        if local:
            self.emit(
                "LocalBridge",
                [
                    *near.headers("LocalOne"),
                    *far.headers("LocalTwo"),
                    ("Context", far_context),
                    ("Exten", far_exten),
                    ("LocalOptimization", "Yes"),
                ],
            )
            self.emit(
                "DialBegin", [*near.headers("Dest"), ("DialString", dial_string.split("/", 1)[1])]
            )
        self.spawn(self.run_channel(far, far_context, far_exten, 1))
        self.spawn(self._await_answer(dial, timeout_ms / 1000.0))

    def force_behaviour(self, number: str, *behaviours: CalleeBehaviour) -> None:
        """The next calls to `number` behave exactly like this (one per call), whatever the
        population model says: for tests and scripted demos."""
        self._forced[number].extend(behaviours)

    def _behaviour(self, number: str) -> CalleeBehaviour:
        forced = self._forced.get(number)
        if forced:
            return forced.popleft()
        nth = self._calls_to_number[number]
        self._calls_to_number[number] += 1
        return self.config.population.behaviour(self.config.seed, number, nth)

    async def _originate_failed(
        self, action_id: str, dial_string: str, context: str, exten: str
    ) -> None:
        await asyncio.sleep(0)
        self.counters.failed += 1
        self._originate_response(
            action_id,
            "Failure",
            dial_string,
            context,
            exten,
            0,
            "<unknown>",
            "<unknown>",
            "<unknown>",
        )

    def _originate_response(
        self,
        action_id: str,
        response: str,
        channel: str,
        context: str,
        exten: str,
        reason: int,
        uid: str,
        num: str,
        name: str,
    ) -> None:
        headers: Headers = [("ActionID", action_id)] if action_id else []
        headers += [
            ("Response", response),
            ("Channel", channel),
            ("Context", context),
            ("Exten", exten),
            ("Reason", str(reason)),
            ("Uniqueid", uid),
            ("CallerIDNum", num),
            ("CallerIDName", name),
        ]
        self.emit("OriginateResponse", headers)
        waiter = self.sync_waiters.pop(action_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(response == "Success")

    async def _await_answer(self, dial: _Dial, timeout_s: float) -> None:
        near, far = dial.near, dial.far
        try:
            kind, cause = await asyncio.wait_for(
                asyncio.shield(dial.outcome), self.clock.real(timeout_s)
            )
        except TimeoutError:
            kind, cause = "timeout", 19
        if kind == "answer":
            self.counters.answered += 1
            self._dials.pop(near.uniqueid, None)
            self._originate_response(
                dial.action_id,
                "Success",
                near.name,
                dial.context,
                dial.exten,
                4,
                near.uniqueid,
                near.caller_num,
                near.caller_name,
            )
            await self.run_channel(near, dial.context, dial.exten, dial.priority)
            return
        self.counters.failed += 1
        self._dials.pop(near.uniqueid, None)
        if kind in ("busy", "congestion"):
            await _until(lambda: far.gone)
            self._hangup_event(near, 0 if dial.local else cause)
            return
        if kind == "timeout":
            if not far.gone:
                far.hungup, far.hangup_cause = True, 19
                self.emit_channel("HangupRequest", far, [("Cause", "19")])
                self.emit_channel("SoftHangupRequest", far, [("Cause", "16")])
                far.soft_sent = True
            self._hangup_event(near, 19)
            self._originate_response(
                dial.action_id,
                "Failure",
                dial.dial_string,
                dial.context,
                dial.exten,
                3,
                near.uniqueid,
                near.caller_num,
                near.caller_name,
            )
            far.interrupt()
            return
        # the far end hung up before answering ("hangup"), or the near side was hung up
        # from outside while ringing ("cancel")
        status = "NOANSWER" if cause == 19 else ("CANCEL" if kind == "cancel" else "CHANUNAVAIL")
        if dial.local:
            self.emit("DialEnd", [*near.headers("Dest"), ("DialStatus", status)])
        if kind == "cancel" and not far.gone:
            far.hungup, far.hangup_cause = True, cause
            self.emit_channel("HangupRequest", far, [("Cause", str(cause))])
            far.interrupt()
        self._hangup_event(near, cause)
        self._originate_response(
            dial.action_id,
            "Failure",
            dial.dial_string,
            dial.context,
            dial.exten,
            3 if cause == 19 else 1,
            near.uniqueid,
            near.caller_num,
            near.caller_name,
        )

    # -- signals from the far end ------------------------------------------------------------

    def signal_ringing(self, far: Channel) -> None:
        near = far.peer
        dial = self._dials.get(near.uniqueid) if near else None
        if near is None or dial is None or near.state != DOWN:
            return
        self.set_state(near, RINGING)
        if dial.local:
            self.emit("DialState", [*near.headers("Dest"), ("DialStatus", "RINGING")])

    def answer(self, ch: Channel) -> None:
        if ch.state == UP:
            return
        self.set_state(ch, UP)
        ch.answered_at = self.clock.now()
        near = ch.peer
        dial = self._dials.get(near.uniqueid) if near is not None else None
        if near is None or dial is None or dial.outcome.done():
            return
        self.set_state(near, UP)
        near.answered_at = ch.answered_at
        if dial.local:
            self.emit("DialEnd", [*near.headers("Dest"), ("DialStatus", "ANSWER")])
        dial.outcome.set_result(("answer", 0))

    def signal_failure(self, far: Channel, cause: int) -> None:
        """Busy or congestion from the far end: DialEnd and OriginateResponse right away,
        then the far end hangs up, then the near channel (the recorded order)."""
        near = far.peer
        dial = self._dials.get(near.uniqueid) if near else None
        if near is None or dial is None or dial.outcome.done():
            return
        kind = "busy" if cause == 17 else "congestion"
        if dial.local:
            self.emit("DialEnd", [*near.headers("Dest"), ("DialStatus", kind.upper())])
        self._originate_response(
            dial.action_id,
            "Failure",
            dial.dial_string,
            dial.context,
            dial.exten,
            5 if kind == "busy" else 8,
            near.uniqueid,
            near.caller_num,
            near.caller_name,
        )
        self.emit_channel("HangupRequest", far, [("Cause", "0")])
        dial.outcome.set_result((kind, cause))

    # -- running and ending channels ---------------------------------------------------------

    async def wait(self, ch: Channel, sim_seconds: float) -> None:
        """Wait simulated seconds on `ch`; hangup or redirect interrupts (raises)."""
        deadline = self.clock.now() + max(0.0, sim_seconds)
        while True:
            left = deadline - self.clock.now()
            if left <= 1e-9:
                ch.check()
                return
            await ch.pause(self.clock.real(left))

    async def run_channel(self, ch: Channel, context: str, exten: str, priority: int | str) -> None:
        try:
            while True:
                try:
                    await execute(self, ch, context, exten, priority)
                    break
                except ChannelRedirected as redirect:
                    context, exten, prio = redirect.target
                    priority = prio
        except ChannelHungUp:
            pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("simulated channel %s failed", ch.name)
        finally:
            if not ch.gone:
                self._finish(ch)

    def _finish(self, ch: Channel) -> None:
        """Hang `ch` up: SoftHangupRequest, the peer's HangupRequest, Hangup (as recorded)."""
        if not ch.hungup:
            ch.hungup = True
            if ch.hangup_cause == 0:
                ch.hangup_cause = 16
        elif ch.hangup_cause == 0 and not ch.is_local_two and not ch.keep_zero_cause:
            ch.hangup_cause = 16  # the dialplan side ends "normally" unless AGI hung it up
        if not ch.soft_sent:
            ch.soft_sent = True
            self.emit_channel("SoftHangupRequest", ch, [("Cause", "16")])
        peer = ch.peer
        dial = self._dials.get(peer.uniqueid) if peer is not None else None
        if peer is not None and not peer.gone and dial is None:
            self.emit_channel("HangupRequest", peer, [("Cause", str(ch.hangup_cause))])
            if not peer.hungup:
                peer.hungup = True
                # a Local ;1 left by its ;2 ends "normally"; a ;2 takes the ;1's cause as is
                peer.hangup_cause = (
                    (ch.hangup_cause or 16) if ch.is_local_two else (ch.hangup_cause)
                )
            peer.interrupt()
        self._hangup_event(ch, ch.hangup_cause)
        if dial is not None and not dial.outcome.done():
            dial.outcome.set_result(("hangup", ch.hangup_cause))

    def _hangup_event(self, ch: Channel, cause: int) -> None:
        if ch.gone:
            return
        ch.gone = True
        ch.hungup = True
        self.counters.hangups += 1
        self.emit_channel(
            "Hangup", ch, [("Cause", str(cause)), ("Cause-txt", CAUSE_TEXT.get(cause, "Unknown"))]
        )
        self._forget(ch)
        for spy, spyee, _ in list(self._spies.values()):
            if spyee is ch:
                spy.interrupt()  # its ChanSpy notices the spied channel is gone

    def hangup(self, ch: Channel, cause: int = 0) -> None:
        """Hang up from outside the dialplan (AMI Hangup, an agent ending the call)."""
        if ch.gone or ch.hungup:
            return
        dial = self._dials.get(ch.uniqueid)
        if dial is not None and not dial.outcome.done():
            dial.outcome.set_result(("cancel", cause))
            return
        ch.hungup = True
        ch.hangup_cause = cause
        ch.interrupt()

    def redirect(self, ch: Channel, context: str, exten: str, priority: int) -> None:
        ch.request_redirect(context, exten, priority)

    # -- ChanSpy ----------------------------------------------------------------------------

    def spy_target(self, spy: Channel, prefix: str) -> Channel | None:
        """The oldest live channel whose name begins with `prefix`: not the spy, nor a spy."""
        for ch in self.channels.values():
            if (
                ch is not spy
                and not ch.hungup
                and ch.name.startswith(prefix)
                and ch.uniqueid not in self._spies
            ):
                return ch
        return None

    async def spy(self, spy: Channel, spyee: Channel, mode: str) -> None:
        """`spy` listens to `spyee` (whisper / barge: and talks) until either hangs up."""
        self._spies[spy.uniqueid] = (spy, spyee, mode)
        self.emit("ChanSpyStart", [*spy.headers("Spyer"), *spyee.headers("Spyee")])
        try:
            while not spyee.gone:
                await spy.pause(None)
        finally:
            self._spies.pop(spy.uniqueid, None)
            self.emit("ChanSpyStop", [*spy.headers("Spyer"), *spyee.headers("Spyee")])

    # -- ConfBridge --------------------------------------------------------------------------

    def _bridge_uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    async def confbridge(self, ch: Channel, name: str, user_profile: str) -> None:
        bridge = self.bridges.get(name)
        if bridge is None:
            bridge = Bridge(name, self._bridge_uuid(), f"CBAnn/{name}-{self._next_seq():08x};2")
            self.bridges[name] = bridge
            self.emit("BridgeCreate", bridge.headers(0))
            self.emit("ConfbridgeStart", [("Conference", name), *bridge.headers(1)])
        if user_profile == "agent_user" and not ch.is_agent:
            ch.is_agent = True
            self._customer_calls.discard(ch.uniqueid)
        bridge.members.append(ch)
        ch.bridge = bridge
        ch.bridged_at = self.clock.now()
        count = len(bridge.members) + 1
        self.emit("BridgeEnter", [*bridge.headers(count), *ch.headers()])
        for member in bridge.members:
            others = [bridge.announcer] + [m.name for m in bridge.members if m is not member]
            self.set_var(member, "BRIDGEPEER", ",".join(others))
        self.emit(
            "ConfbridgeJoin",
            [
                ("Conference", name),
                *bridge.headers(count),
                *ch.headers(),
                ("Admin", "No"),
                ("Muted", "No"),
            ],
        )
        if not ch.is_agent:
            self.counters.bridged += 1
        if any(m.is_agent for m in bridge.members):
            for member in bridge.members:
                if not member.is_agent and member.connected_at is None:
                    member.connected_at = self.clock.now()
                    if member.peer is not None:
                        member.peer.interrupt()  # the far end starts talking
        try:
            await ch.pause(None)
        finally:
            self._leave(ch, bridge)

    def _leave(self, ch: Channel, bridge: Bridge) -> None:
        count = len(bridge.members) + 1
        last = len(bridge.members) == 1
        self.emit(
            "ConfbridgeLeave",
            [("Conference", bridge.name), *bridge.headers(count), *ch.headers(), ("Admin", "No")],
        )
        bridge.members.remove(ch)
        ch.bridge = None
        ch.bridged_at = None
        self.set_var(ch, "BRIDGEPEER", "")
        if last:
            self.emit("ConfbridgeEnd", [("Conference", bridge.name), *bridge.headers(count - 1)])
        self.emit("BridgeLeave", [*bridge.headers(count - 1), *ch.headers()])
        for member in bridge.members:
            others = [bridge.announcer] + [m.name for m in bridge.members if m is not member]
            self.set_var(member, "BRIDGEPEER", ",".join(others))
        self.set_var(ch, "CONFBRIDGE_RESULT", "HANGUP" if ch.hungup else "REDIRECT")
        if last:
            self.bridges.pop(bridge.name, None)
            self.emit("BridgeDestroy", bridge.headers(0))


_PRES = "0 (Presentation Allowed, Not Screened)"


def _parse_callerid(text: str) -> tuple[str, str]:
    m = _CALLERID.match(text or "")
    if m:
        return m["num"] or "<unknown>", (m["name"] or "").strip() or "<unknown>"
    text = (text or "").strip()
    return (text or "<unknown>"), "<unknown>"


def _behaviour_vars(b: CalleeBehaviour) -> dict[str, str]:
    """The simulator's own channel variables read by the `sim-pstn` dialplan."""
    return {
        "SIM_LAST": str(b.digit),
        "SIM_RING": f"{b.ring_seconds:g}",
        "SIM_TALK": f"{b.talk_seconds:g}",
    }


async def _until(predicate: Any) -> None:
    """Let the far end's task finish its hangup first (it is already unwinding)."""
    for _ in range(1000):
        if predicate():
            return
        await asyncio.sleep(0)


async def _poll(done: Any, clock: Any, deadline: float) -> None:
    """Wait until `done()` or the simulated `deadline`, looking every 20 ms."""
    while not done() and clock.now() < deadline:  # noqa: ASYNC110 - state of other tasks
        await asyncio.sleep(min(clock.real(deadline - clock.now()), 0.02))
