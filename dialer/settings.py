"""One settings object for the whole service, from `DIALER_*` variables and an optional TOML file.

Nested values use a double underscore (`DIALER_HTTP__PORT=9000`); the list of Asterisk servers
is easiest to give in TOML (`[[asterisk_servers]]`) or as JSON in `DIALER_ASTERISK_SERVERS`.
The TOML file is named by `DIALER_CONFIG_FILE` (default `dialer.toml` if it exists).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class AsteriskServer(BaseModel):
    """One Asterisk box: where its AMI is, how it reaches our FastAGI, how it dials."""

    name: str = "pbx1"
    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_user: str = "dialer"
    ami_secret: SecretStr = SecretStr("dialer-secret")
    # Where our FastAGI server listens, and the host Asterisk uses to reach it.
    agi_bind_host: str = "127.0.0.1"
    agi_bind_port: int = 4573
    agi_public_host: str = "127.0.0.1"
    # `{number}` is the E.164 digits without '+', `{trunk}` the campaign's trunk.
    trunk_dial_template: str = "PJSIP/{number}@{trunk}"
    default_trunk: str = "trunk"
    # `{ext}` is the agent's extension.
    agent_endpoint_template: str = "PJSIP/{ext}"
    originate_timeout_s: float = Field(default=25.0, ge=15.0)  # legal minimum ring is 15 s
    max_calls_per_second: float = Field(default=20.0, gt=0)

    @field_validator("trunk_dial_template")
    @classmethod
    def _needs_number(cls, v: str) -> str:
        if "{number}" not in v:
            raise ValueError("trunk_dial_template must contain {number}")
        return v

    @field_validator("agent_endpoint_template")
    @classmethod
    def _needs_ext(cls, v: str) -> str:
        if "{ext}" not in v:
            raise ValueError("agent_endpoint_template must contain {ext}")
        return v


class HttpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8080
    cors_origins: list[str] = Field(default_factory=list)  # closed by default
    max_upload_mb: int = 512


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DIALER_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    data_dir: Path = Path("data")
    database_url: str = ""  # empty: a SQLite file under data_dir
    asterisk_servers: list[AsteriskServer] = Field(default_factory=lambda: [AsteriskServer()])
    mqtt_url: str | None = None  # e.g. mqtt://127.0.0.1:1883
    mqtt_topic_prefix: str = "dialer/v1"
    http: HttpSettings = Field(default_factory=HttpSettings)
    default_region: str = "CN"  # phonenumbers region for numbers written without a country code
    default_timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"
    # Where call recordings are read from: Asterisk's monitor directory as this host sees it
    # (`call_attempts.recording_path` is relative to it). Unset: `data_dir/recordings`.
    recordings_dir: Path | None = None
    # Recordings are purged after this many days unless a campaign keeps them longer
    # (`pacing.recording_retention_days`); never below its rule sets' legal minimum.
    recordings_retention_days: int = Field(default=30, ge=1, le=36_500)
    # The running service purges expired recordings this often (real hours; 0: never, leave
    # it to `dialer recordings purge` from cron). The first run is a minute after start.
    recordings_purge_every_h: float = Field(default=24.0, ge=0)
    recordings_purge_first_s: float = Field(default=60.0, ge=0)

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{(self.data_dir / 'dialer.db').as_posix()}"
        return self

    @field_validator("asterisk_servers")
    @classmethod
    def _unique_names(cls, v: list[AsteriskServer]) -> list[AsteriskServer]:
        names = [s.name for s in v]
        if len(set(names)) != len(names):
            raise ValueError(f"asterisk server names must be unique: {names}")
        return v

    @property
    def recordings_path(self) -> Path:
        """The recordings directory in effect (`recordings_dir`, else `data_dir/recordings`)."""
        return self.recordings_dir or self.data_dir / "recordings"

    def server(self, name: str) -> AsteriskServer:
        for s in self.asterisk_servers:
            if s.name == name:
                return s
        raise KeyError(f"no Asterisk server named {name!r} in settings")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_path = Path(os.environ.get("DIALER_CONFIG_FILE", "dialer.toml"))
        if toml_path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    def redacted(self) -> dict[str, Any]:
        """What is safe to log: secrets masked, passwords in URLs removed."""
        data = self.model_dump(mode="json")
        data["database_url"] = _redact_url(self.database_url)
        if self.mqtt_url:
            data["mqtt_url"] = _redact_url(self.mqtt_url)
        return data


def _redact_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable url>"


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
