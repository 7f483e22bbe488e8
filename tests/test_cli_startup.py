"""The command line starts without the heavy libraries: subcommands are loaded when they run."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from symbackprop.cli.main import COMMANDS, load_command, main

HEAVY = ("sympy", "numpy", "networkx", "jinja2")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_registry_entry_loads_the_command_and_carries_its_short_help(name):
    command = load_command(name)
    assert command.name == name
    assert COMMANDS[name].short_help == command.get_short_help_str(10**6)


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["no-such-command"], ["--bogus"]])
def test_help_version_and_usage_errors_import_no_heavy_library(args):
    code = ("import json, sys\nfrom symbackprop.cli import main\n"
            "try:\n    main(sys.argv[1:], prog_name='symbackprop')\nexcept SystemExit as exc:\n"
            f"    print(json.dumps([exc.code, sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})]))\n")
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60)
    status, heavy = json.loads(proc.stdout.splitlines()[-1])
    assert heavy == []
    assert status in (0, 2)


def test_help_lists_every_registered_command_without_loading_it():
    from click.testing import CliRunner

    loaded = set(main.commands)
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.output.split("Commands:")[1].splitlines() if line[:3].strip()]
    assert listed == sorted(COMMANDS)
    assert set(main.commands) == loaded  # --help imported none of them
