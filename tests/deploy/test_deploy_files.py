"""The deployment files agree with each other and with the code, without running Docker:
the compose stack mounts what exists, the dialer's lab settings match the Asterisk lab
configuration, the image installs every package and runs migrations before `dialer run`."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from dialer.settings import Settings
from pbxsim.contexts import EXTENSIONS_CONF
from tests.agi.conf_parser import Section, dialplan, parse_conf, sections_by_name

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
LAB = DEPLOY / "asterisk"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return data


@pytest.fixture(scope="module")
def lab_settings() -> Settings:
    data = tomllib.loads((DEPLOY / "dialer.toml").read_text())
    return Settings(**data)


def _section(path: Path, name: str) -> Section:
    found = sections_by_name(parse_conf(path)).get(name)
    assert found, f"no [{name}] in {path.name}"
    return found[-1]


def _mounts(service: dict[str, Any]) -> dict[str, Path]:
    """Container path -> host path of a service's bind mounts."""
    mounts: dict[str, Path] = {}
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith("."):
            mounts[target] = (REPO / source).resolve()
    return mounts


def test_compose_services_and_mounts(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"dialer", "postgres", "mosquitto", "asterisk"}
    for name, service in services.items():
        for target, source in _mounts(service).items():
            assert source.is_file(), f"{name}: {source} (mounted at {target}) does not exist"
    asterisk = _mounts(services["asterisk"])
    for conf in sorted((REPO / "asterisk-conf").glob("*.conf")):
        assert asterisk.get(f"/etc/asterisk/{conf.name}") == conf, f"{conf.name} is not mounted"
    for conf in sorted(LAB.glob("*.conf")):
        assert asterisk.get(f"/etc/asterisk/{conf.name}") == conf, f"{conf.name} is not mounted"
    dialer = services["dialer"]
    assert dialer["build"] == "."
    env = dialer["environment"]
    assert _mounts(dialer)[env["DIALER_CONFIG_FILE"]] == DEPLOY / "dialer.toml"
    assert env["DIALER_DATABASE_URL"].startswith("postgresql+asyncpg://dialer:")
    assert "@postgres:5432/dialer" in env["DIALER_DATABASE_URL"]
    assert dialer["depends_on"]["postgres"]["condition"] == "service_healthy"
    # The integration test's default password is the compose file's default.
    test_source = (REPO / "tests" / "compose" / "test_stack.py").read_text()
    default = re.search(r":-([^}]+)\}", env["DIALER_ADMIN_PASSWORD"])
    assert default and f'"DIALER_COMPOSE_PASSWORD", "{default[1]}"' in test_source


def test_lab_settings_match_the_lab_asterisk(
    compose: dict[str, Any], lab_settings: Settings
) -> None:
    (server,) = lab_settings.asterisk_servers
    assert server.ami_host == "asterisk" and "asterisk" in compose["services"]
    assert server.agi_public_host == "dialer" and "dialer" in compose["services"]
    assert server.agi_bind_host == "0.0.0.0"
    assert lab_settings.mqtt_url == "mqtt://mosquitto:1883"
    assert lab_settings.http.host == "0.0.0.0"
    # AMI: the lab appends its secret to the shipped user.
    manager = _section(LAB / "manager.conf", "dialer")
    assert manager.templates == ["+"]
    assert manager.value("secret") == server.ami_secret.get_secret_value()
    assert "#include manager_dialer.conf" in (LAB / "manager.conf").read_text()
    general = _section(LAB / "manager.conf", "general")
    assert general.value("enabled") == "yes"
    assert general.value("port") == str(server.ami_port)
    # FastAGI: legs the dialer did not originate find it through the global.
    globals_ = _section(LAB / "extensions.conf", "globals")
    assert globals_.value("DIALER_AGI") == f"{server.agi_public_host}:{server.agi_bind_port}"
    text = (LAB / "extensions.conf").read_text()
    assert "#include extensions_dialer.conf" in text and "#include extensions_lab.conf" in text
    # Dial strings land in the lab contexts.
    lab = sections_by_name(parse_conf(LAB / "extensions_lab.conf"))
    for template in (server.trunk_dial_template, server.agent_endpoint_template):
        context = template.split("@", 1)[1]
        assert context in lab, f"{template} needs [{context}] in extensions_lab.conf"


def _branches(section: Section) -> dict[str, str]:
    """`LAST` value -> label of the callee's GotoIf branches."""
    steps = dialplan(section)["_X."]
    found: dict[str, str] = {}
    for step in steps:
        match = re.fullmatch(r"\$\[\$\{LAST\} = (\d)\]\?(\w+)", step.args)
        if step.app == "GotoIf" and match:
            found[match[1]] = match[2]
    return found


def test_lab_callees_follow_the_simulators_rule(tmp_path: Path) -> None:
    """The lab dialplan picks callees by the last digit as pbxsim's `last_digit` mode does."""
    sim = tmp_path / "pbxsim.conf"
    sim.write_text(EXTENSIONS_CONF)
    expected = _branches(_section(sim, "sim-pstn"))
    assert expected == {"0": "noanswer", "1": "busy", "2": "machine", "3": "congestion"}
    lab = _section(LAB / "extensions_lab.conf", "sim-pstn")
    assert _branches(lab) == expected
    assert dialplan(lab)["_X."][1].args == "LAST=${EXTEN:-1}"
    agents = dialplan(_section(LAB / "extensions_lab.conf", "sim-agents"))["_X."]
    assert [s.app for s in agents] == ["Answer", "Wait", "Hangup"]


def test_image_installs_every_package_and_migrates_before_running() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages = [p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]]
    for package in packages:
        assert f"COPY {package} ./{package}" in dockerfile, f"the image lacks {package}/"
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    assert re.search(r"^USER dialer$", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    assert 'ENTRYPOINT ["dialer-entrypoint"]' in dockerfile
    assert 'CMD ["dialer", "run"]' in dockerfile
    entrypoint = DEPLOY / "docker-entrypoint.sh"
    assert entrypoint.stat().st_mode & 0o111, "the entrypoint must be executable"
    script = entrypoint.read_text()
    assert script.index("dialer migrate") < script.index('exec "$@"')
    subprocess.run(["sh", "-n", str(entrypoint)], check=True)
    subprocess.run(["bash", "-n", str(DEPLOY / "compose-test.sh")], check=True)
