"""Every `dialer` subcommand points at a function that exists."""

import importlib

import pytest

from dialer.cli import COMMANDS, main


@pytest.mark.parametrize("words", sorted(COMMANDS), ids=lambda w: " ".join(w))
def test_command_target_exists(words: tuple[str, ...]) -> None:
    module_name, func_name = COMMANDS[words][0].split(":")
    assert callable(getattr(importlib.import_module(module_name), func_name))


def test_unknown_command_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no-such-command"]) == 2
    assert "unknown command" in capsys.readouterr().err
