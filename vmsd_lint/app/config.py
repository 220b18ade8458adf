"""What a run was asked: the command line's options, parsed once (cli/options.py) into one
frozen record that the commands and the app stage read."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RunConfig:
    # how endpoints are read
    target: str | None = None  # --target ARCH
    machine: str | None = None  # --machine NAME: one versioned machine type
    board_only: str | None = None  # [settings] board_only: a board-only finding's severity at most
    cpu: str | None = None  # --cpu MODEL, [settings] cpu: the Arm CPU model whose register list is compared
    repo: str | None = None  # --repo; None: the repository around the current directory
    jobs: int = 1  # --jobs, or its default (cli/options.py)
    cache_dir: str | None = None  # None: the default cache directory
    no_cache: bool = False
    # which findings are waived, and which fail
    config: str | None = None  # the waivers file; None: .vmsd-lint.toml at the repository's root, if any
    strict: bool = False  # warnings fail too
    per_commit: bool = False  # attribute each finding to a commit of OLD..NEW
    # what is written, and where
    format: str = "text"  # a name in one of report/formats.py's registries
    output: str | None = None  # -o FILE; None: standard output
    quiet: bool = False
    show_waived: bool = False
    show_diagnostics: bool = False
    write_baseline: str | None = None  # a waivers file for every current finding
    # which findings are shown and counted (app/triage.py); [settings] select, ignore, severity
    select: tuple[str, ...] = ()  # --select RULE|GLOB; empty: every rule
    ignore: tuple[str, ...] = ()  # --ignore RULE|GLOB
    severity: str | None = None  # --severity MIN
    section: tuple[str, ...] = ()  # --section GLOB
    vmsd: tuple[str, ...] = ()  # --vmsd GLOB
    pathspec: tuple[str, ...] = ()  # the paths after `--`
    statistics: bool = False  # counts per rule and per directory instead of the findings
    exit_zero: bool = False  # exit 0 even when findings fail the run (2 stays 2)
    color: str = "auto"  # auto: on a terminal without NO_COLOR; always; never
