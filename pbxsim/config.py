"""Settings of one simulated Asterisk."""

from __future__ import annotations

from dataclasses import dataclass, field

from pbxsim.population import PopulationModel


@dataclass
class PbxSimConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port, see PbxSim.ami_port
    username: str = "dialer"
    secret: str = "dialer-secret"
    seed: int = 1
    time_scale: float = 1.0
    population: PopulationModel = field(default_factory=lambda: PopulationModel("last_digit"))
    # `${DIALER_AGI}` when a channel does not carry it (agent legs, phone logins).
    default_agi: str = "127.0.0.1:4573"
    # `${DIALER_SERVER}`: this Asterisk's name in the dialer's settings (inbound routing).
    server_name: str = ""
    # `${DIALER_FALLBACK_MESSAGE}`: played when the FastAGI server cannot be reached ("" = none).
    fallback_message: str = ""
    # Delay before answering any AMI action, in real seconds (the "slow server" fault).
    response_delay: float = 0.0
    # Asterisk waits about a second before refusing a bad secret (simulated seconds).
    failed_login_delay: float = 1.0
    # Real seconds to wait for a FastAGI server to accept the connection.
    agi_connect_timeout: float = 5.0
