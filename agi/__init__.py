"""FastAGI server: routing of answered calls, DTMF dispositions, agent login.

The runtime starts an `AgiServer` with its `CallRouter` implementation; everything else
here is the protocol and the stateless route handlers.
"""

from agi.errors import AgiCommandError, AgiError, AgiHangup, AgiProtocolError, AgiTimeout
from agi.metrics import DecisionLatencies
from agi.router import (
    AmdStatus,
    AnsweredAction,
    AnsweredCall,
    AnsweredDecision,
    CallRouter,
    LoginResult,
    WrapupPrompt,
)
from agi.server import AgiServer, AgiServerConfig
from agi.session import AgiSession

__all__ = [
    "AgiCommandError",
    "AgiError",
    "AgiHangup",
    "AgiProtocolError",
    "AgiServer",
    "AgiServerConfig",
    "AgiSession",
    "AgiTimeout",
    "AmdStatus",
    "AnsweredAction",
    "AnsweredCall",
    "AnsweredDecision",
    "CallRouter",
    "DecisionLatencies",
    "LoginResult",
    "WrapupPrompt",
]
