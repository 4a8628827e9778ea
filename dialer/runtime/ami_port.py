"""Our AMI client as the runtime's `PbxPort`: AMI errors become the three outcomes the
runtime acts on (not sent / unknown, reconcile / refused)."""

from __future__ import annotations

from collections.abc import Mapping

from ami import actions
from ami.client import AmiClient
from ami.errors import (
    AmiActionError,
    AmiTimeoutError,
    ConnectionLostError,
    NotConnectedError,
)
from ami.health import ConnectionState
from dialer.runtime.pbx import (
    LiveChannel,
    PbxNotConnected,
    PbxOutcomeUnknown,
    PbxRefused,
)


class AmiPbx:
    def __init__(self, client: AmiClient) -> None:
        self.client = client
        self.name = client.name

    @property
    def connected(self) -> bool:
        return self.client.state is ConnectionState.READY

    async def originate(
        self,
        *,
        attempt_id: str,
        channel: str,
        context: str,
        exten: str,
        priority: int,
        timeout_ms: int,
        caller_id: str,
        variables: Mapping[str, str],
    ) -> None:
        action = actions.originate(
            attempt_id,
            channel=channel,
            context=context,
            exten=exten,
            priority=priority,
            timeout_ms=timeout_ms,
            caller_id=caller_id or None,
            variables=variables,
        )
        try:
            await self.client.originate(action)
        except NotConnectedError as exc:
            raise PbxNotConnected(str(exc)) from exc
        except (ConnectionLostError, AmiTimeoutError) as exc:
            raise PbxOutcomeUnknown(str(exc)) from exc
        except AmiActionError as exc:
            raise PbxRefused(str(exc)) from exc

    async def hangup(self, channel: str, cause: int = 16) -> None:
        try:
            await self.client.hangup(channel, cause=cause)
        except NotConnectedError as exc:
            raise PbxNotConnected(str(exc)) from exc
        except AmiActionError as exc:
            raise PbxRefused(str(exc)) from exc

    async def redirect(self, channel: str, context: str, exten: str, priority: int = 1) -> None:
        try:
            await self.client.redirect(channel, context=context, exten=exten, priority=priority)
        except NotConnectedError as exc:
            raise PbxNotConnected(str(exc)) from exc
        except AmiActionError as exc:
            raise PbxRefused(str(exc)) from exc

    async def record(self, channel: str, file: str) -> None:
        try:
            await self.client.send_action(actions.mix_monitor(channel, file))
        except NotConnectedError as exc:
            raise PbxNotConnected(str(exc)) from exc
        except AmiActionError as exc:
            raise PbxRefused(str(exc)) from exc

    async def core_show_channels(self) -> list[LiveChannel]:
        try:
            channels = await self.client.core_show_channels()
        except NotConnectedError as exc:
            raise PbxNotConnected(str(exc)) from exc
        return [
            LiveChannel(
                uniqueid=c.uniqueid,
                linkedid=c.linkedid,
                name=c.channel.name,
                context=c.channel.context,
                exten=c.channel.exten,
                state=c.channel.state_desc,
                application=c.application,
            )
            for c in channels
        ]
