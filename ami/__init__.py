"""AMI connections to Asterisk: parser, client, typed events and actions.

Modules: `parser` (bytes -> `AmiMessage`), `events` (typed views), `actions` (validated
builders), `client` (`AmiClient`), `errors`, `health`, `backoff`, `subscription`,
`recordings` (recorded traffic -> bytes) and `bench` (`dialer bench ami`).
"""

from ami.actions import AmiAction
from ami.client import AmiClient, AmiReply
from ami.errors import (
    AmiActionError,
    AmiConnectError,
    AmiError,
    AmiLoginError,
    AmiTimeoutError,
    ConnectionLostError,
    NotConnectedError,
    UnsafeHeaderError,
)
from ami.events import AmiEvent, typed_event
from ami.health import AmiHealth, ConnectionState
from ami.parser import AmiMessage, AmiParser

__all__ = [
    "AmiAction",
    "AmiActionError",
    "AmiClient",
    "AmiConnectError",
    "AmiError",
    "AmiEvent",
    "AmiHealth",
    "AmiLoginError",
    "AmiMessage",
    "AmiParser",
    "AmiReply",
    "AmiTimeoutError",
    "ConnectionLostError",
    "ConnectionState",
    "NotConnectedError",
    "UnsafeHeaderError",
    "typed_event",
]
