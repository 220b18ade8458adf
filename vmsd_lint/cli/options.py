"""The options the commands share, and their parsing: click gives a command its options
by name, configured() gathers them once into a RunConfig (app/config.py), the one object
the command and the app stage read.  (main.py, graph.py, workflows.py and catalogue.py
import this; it imports none of them.)"""
from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any, TypeVar

import click

from ..app.config import RunConfig

F = TypeVar("F", bound=Callable[..., Any])

CONFIG_FIELDS = frozenset(f.name for f in fields(RunConfig))


def configured(command: Callable[..., None]) -> Callable[..., None]:
    """COMMAND receives its options as one RunConfig, `config`, first; its arguments and
    its own options (an endpoint, --focus, --base) by name."""
    @functools.wraps(command)
    def parsed(**params: Any) -> None:
        given = {name: value for name, value in params.items() if name in CONFIG_FIELDS}
        given["jobs"] = default_jobs(given.get("jobs"))
        command(RunConfig(**given), **{name: value for name, value in params.items() if name not in CONFIG_FIELDS})
    return parsed


def format_option(formats: Mapping[str, object], default: str, help: str | None = None) -> Callable[[F], F]:
    """--format, whose choices are a registry's names (report/formats.py), in its order."""
    return click.option("--format", "format", type=click.Choice(list(formats)), default=default,
                        show_default=True, help=help)


def source_options(func: F) -> F:
    """--target, --repo, --jobs, --cache-dir, --no-cache: how endpoints are read."""
    options = [
        click.option("--target", metavar="ARCH", default=None,
                     help="Target architecture (e.g. x86_64): picks target/<arch>/ where names collide."),
        click.option("--repo", metavar="PATH", default=None,
                     help="Git repository for revision endpoints (default: the one around the current directory)."),
        click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
                     help="Parallel parser processes (default: the CPUs this process may run on)."),
        click.option("--cache-dir", metavar="DIR", default=None, help="Cache directory (default: ~/.cache/vmsd-lint)."),
        click.option("--no-cache", is_flag=True, help="Neither read nor write the cache."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def policy_options(func: F) -> F:
    """--config, --strict, --machine: which findings are waived, whether warnings fail too,
    and which machine type judges them."""
    options = [
        click.option("--config", metavar="FILE", default=None,
                     help="Waivers and [settings] file (default: .vmsd-lint.toml at the repository root, if any)."),
        click.option("--strict", is_flag=True, help="Warnings fail too (exit status 1)."),
        click.option("--machine", metavar="NAME", default=None,
                     help="One versioned machine type (e.g. pc-q35-7.2): only the state it can hold, judged "
                          "with its compat properties."),
        click.option("--cpu", metavar="MODEL", default=None,
                     help="The Arm CPU model (e.g. cortex-a57) whose migrated register list is compared "
                          "(default: cortex-a53, cortex-a57, cortex-a72)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _comma_separated(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    """`--select a,b --select c` as ruff takes it: (a, b, c)."""
    return tuple(part.strip() for item in value for part in item.split(",") if part.strip())


def triage_options(func: F) -> F:
    """--select, --ignore, --severity, --section, --vmsd, --statistics, --exit-zero, --color:
    which findings are shown and counted (app/triage.py), and how the result is printed."""
    options = [
        click.option("--select", metavar="RULE|GLOB", multiple=True, callback=_comma_separated,
                     help="Only these rules (slugs or globs such as 'field-*'; repeat or separate with commas)."),
        click.option("--ignore", metavar="RULE|GLOB", multiple=True, callback=_comma_separated,
                     help="Leave out these rules (slugs or globs)."),
        click.option("--severity", type=click.Choice(["error", "warning", "info"]), default=None,
                     help="Only findings of this severity or a higher one."),
        click.option("--section", metavar="GLOB", multiple=True, callback=_comma_separated,
                     help="Only findings reaching a top-level section matching GLOB."),
        click.option("--vmsd", metavar="GLOB", multiple=True, callback=_comma_separated,
                     help="Only findings in a VMSD whose wire name matches GLOB."),
        click.option("--statistics", is_flag=True,
                     help="Print the counts per rule and per directory instead of the findings (text or json)."),
        click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings fail the run (2 stays 2)."),
        click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
                     help="Colour the text report: auto is on a terminal, unless NO_COLOR is set."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def output_option(help: str) -> Callable[[F], F]:
    return click.option("--output", "-o", metavar="FILE", default=None, help=help)


def quiet_option(help: str) -> Callable[[F], F]:
    return click.option("--quiet", "-q", is_flag=True, help=help)


def default_jobs(jobs: int | None) -> int:
    """--jobs, or the CPUs this process may run on (its affinity mask: a container or
    `taskset` gives it fewer than the machine has)."""
    if jobs:
        return jobs
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)
