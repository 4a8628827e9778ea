import pytest
from pydantic import ValidationError

from dialer.settings import AsteriskServer, Settings


def test_defaults_use_sqlite_under_data_dir(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    s = Settings(data_dir=tmp_path / "d")
    assert s.database_url.startswith("sqlite+aiosqlite:///")
    assert s.database_url.endswith("/d/dialer.db")


def test_env_and_toml(monkeypatch, tmp_path):
    toml = tmp_path / "dialer.toml"
    toml.write_text(
        'default_region = "US"\n'
        "[[asterisk_servers]]\n"
        'name = "a"\nami_secret = "s3cret"\n'
        "[[asterisk_servers]]\n"
        'name = "b"\nami_host = "10.0.0.2"\n'
    )
    monkeypatch.setenv("DIALER_CONFIG_FILE", str(toml))
    monkeypatch.setenv("DIALER_HTTP__PORT", "9090")
    s = Settings()
    assert s.default_region == "US"
    assert [x.name for x in s.asterisk_servers] == ["a", "b"]
    assert s.server("b").ami_host == "10.0.0.2"
    assert s.http.port == 9090


def test_secrets_never_in_redacted_dump():
    s = Settings(
        database_url="postgresql+asyncpg://u:pw123@h/db",
        asterisk_servers=[AsteriskServer(ami_secret="topsecret")],
    )
    text = repr(s.redacted()) + repr(s.asterisk_servers)
    assert "pw123" not in text
    assert "topsecret" not in text


def test_bad_templates_are_rejected():
    with pytest.raises(ValidationError, match="number"):
        AsteriskServer(trunk_dial_template="PJSIP/x")
    with pytest.raises(ValidationError, match="ext"):
        AsteriskServer(agent_endpoint_template="PJSIP/x")
    with pytest.raises(ValidationError, match="unique"):
        Settings(asterisk_servers=[AsteriskServer(name="x"), AsteriskServer(name="x")])
