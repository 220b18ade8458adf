"""The CLI is thin: each command's options become one RunConfig (cli/options.py), and its
--format choices and dispatch are a registry of report/formats.py."""
from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from vmsd_lint.app.config import RunConfig
from vmsd_lint.cli.main import main
from vmsd_lint.cli.options import CONFIG_FIELDS
from vmsd_lint.model import InitContext, context_owner
from vmsd_lint.report import formats

ROOT = Path(__file__).resolve().parents[1]
REGISTRIES = {
    ("check",): formats.CHECK_FORMATS, ("pre-commit",): formats.PRE_COMMIT_FORMATS,
    ("review",): formats.REVIEW_FORMATS, ("dump",): formats.DUMP_FORMATS, ("graph",): formats.GRAPH_FORMATS,
    ("rules",): formats.RULES_FORMATS, ("explain",): formats.EXPLAIN_FORMATS,
}


def command(path: tuple[str, ...]) -> click.Command:
    found: click.Command = main
    for name in path:
        assert isinstance(found, click.Group)
        found = found.commands[name]
    return found


@pytest.mark.parametrize("path", list(REGISTRIES), ids=" ".join)
def test_format_choices_are_the_registry(path):
    [option] = [p for p in command(path).params if p.name == "format"]
    assert isinstance(option.type, click.Choice)
    assert list(option.type.choices) == list(REGISTRIES[path])
    assert option.default in REGISTRIES[path]


def test_explain_renders_a_rule_and_error_matches_in_the_same_formats():
    assert list(formats.EXPLAIN_FORMATS) == list(formats.ERROR_MATCH_FORMATS)


def commands(group: click.Group = main):
    for sub in group.commands.values():
        if isinstance(sub, click.Group):
            yield from commands(sub)
        else:
            yield sub


@pytest.mark.parametrize("cmd", [c for c in commands() if c.name not in ("info", "clean")], ids=lambda c: c.name)
def test_every_option_reaches_the_config_or_the_command(cmd):
    """configured() gives a RunConfig field by name and the rest as the command's own
    arguments: an option that is neither would fail every run of the command."""
    callback = inspect.unwrap(cmd.callback)
    own = set(inspect.signature(callback).parameters) - {"config"}
    names = {p.name for p in cmd.params}
    assert names <= CONFIG_FIELDS | own, names - CONFIG_FIELDS - own
    assert own <= names


def test_a_format_is_one_registry_entry(tmp_path):
    """A renderer added to CHECK_FORMATS is offered by `check --format` and used, with
    nothing else changed."""
    script = (
        "import sys\n"
        "from vmsd_lint.report import formats\n"
        "formats.CHECK_FORMATS['count'] = formats.Format(lambda report, options: f'{len(report.findings)}\\n')\n"
        "from vmsd_lint.cli.main import main\n"
        "main(sys.argv[1:])\n")
    sample = ROOT / "samples" / "field-removed"
    proc = subprocess.run([sys.executable, "-c", script, "check", "--no-cache", "--format", "count",
                           f"{sample}/old..{sample}/new"], capture_output=True, text=True, cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "1\n", "")


def test_json_kinds_are_plain_strings():
    """EndpointKind is a str enum: the JSON says "source", as it always did."""
    sample = ROOT / "samples" / "field-removed"
    result = CliRunner().invoke(main, ["check", "--no-cache", "--format", "json", f"{sample}/old..{sample}/new"])
    assert '"kind": "source"' in result.output
    assert json.loads(result.output)["old"]["kind"] == "source"


def test_config_defaults_are_the_options_defaults():
    """A command without an option gets the RunConfig default; the two must agree."""
    parsed = command(("check",)).make_context("check", ["OLD..NEW"]).params
    defaults = {name: value for name, value in parsed.items() if name in CONFIG_FIELDS and name != "jobs"}
    config = RunConfig()
    assert {name: getattr(config, name) for name in defaults} == defaults


def test_init_context_owners():
    owners = {context: context_owner(context.value) for context in InitContext}
    assert owners == {
        InitContext.MACHINE_INIT: "machine", InitContext.MACHINE_INSTANCE_INIT: "machine",
        InitContext.CPU_REALIZE: "CPU", InitContext.CPU_INSTANCE_INIT: "CPU",
        InitContext.DEVICE_REALIZE: "device", InitContext.DEVICE_INSTANCE_INIT: "device",
        InitContext.QDEV: "device", InitContext.MIGRATION_CORE: "migration core",
        InitContext.NOT_PARSED: None, InitContext.NO_ENTRY_POINT: None}
    both = InitContext.ambiguous([InitContext.MACHINE_INIT, InitContext.CPU_REALIZE])
    assert (both, type(both), context_owner(both)) == ("ambiguous: CPU realize or machine init", str, None)
