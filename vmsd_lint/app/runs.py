"""`check`, `pre-commit` and `review` once their options are parsed (a RunConfig): the
report with --per-commit's attribution and the waivers applied, for the CLI to render."""
from __future__ import annotations

import os
from dataclasses import replace

from ..diff.cpuregs import ARM_TARGETS
from ..diff.findings import Report
from ..errors import InputError
from ..model import Severity
from ..processes import Progress, silent_progress
from ..sources.patches import Mail, Patch
from .check import Options, find_repo, run_check
from .config import RunConfig
from .percommit import attribute_commits
from .review import Review, review_series
from .streamrange import is_stream_file, stream_report
from .triage import Triage, apply_triage, check_rule_patterns
from .verdicts import MachinePolicy
from .waivers import Waiver, apply_waivers, load_config


def check_report(old_spec: str, new_spec: str, config: RunConfig, cache: object | None,
                 progress: Progress = silent_progress) -> Report:
    """OLD..NEW compared, read with CACHE (an open one, or None); PROGRESS shows the
    extractions and --per-commit's walk."""
    waivers, config = configured_run(config)  # a bad config file fails before anything is extracted
    options = replace(reading_options(config, cache), progress=progress)
    if is_stream_file(old_spec):  # STREAM..REV: what one real source sent, checked forward
        if config.per_commit:
            raise InputError("--per-commit needs two git revisions, not a migration stream")
        report = stream_report(old_spec, new_spec, options)
    else:
        report = run_check(old_spec, new_spec, options)
    report.notes += settings_notes(config)
    if config.per_commit:
        attribute_commits(report, old_spec, new_spec, options)
    apply_waivers(report, waivers)
    apply_triage(report, triage_of(config))
    return report


def review_report(patches: list[Patch], cover: Mail | None, base: str, config: RunConfig,
                  cache: object | None, base_why: str = "--base") -> Review:
    """The series applied onto BASE and checked patch by patch."""
    waivers, config = configured_run(config)
    options = reading_options(config, cache)
    review = review_series(patches, base, options, cover, base_why)
    if base_why != "--base":  # chosen from the mails: say which revision, and why
        review.report.notes.append(f"the series was applied to {base}: {base_why}")
    review.report.notes += settings_notes(config)
    apply_waivers(review.report, waivers)
    apply_triage(review.report, triage_of(config))  # [settings] select, ignore, severity
    return review


def reading_options(config: RunConfig, cache: object | None) -> Options:
    policy = MachinePolicy(config.machine, config.board_only or Severity.INFO)
    return Options(repo=config.repo, target=config.target, jobs=config.jobs, cache=cache, machines=policy,
                   cpu=config.cpu)


def config_waivers(config: RunConfig) -> list[Waiver]:
    """The waivers of --config, else of the repository's .vmsd-lint.toml, else none."""
    return configured_run(config)[0]


def configured_run(config: RunConfig) -> tuple[list[Waiver], RunConfig]:
    """The waivers of the config file (--config, else the repository's .vmsd-lint.toml)
    and CONFIG with the defaults of its [settings] table where no option was given."""
    check_rule_patterns(config.select, "--select")  # before anything is extracted
    check_rule_patterns(config.ignore, "--ignore")
    path = config.config or default_config(config.repo)
    if not path:
        return [], config
    waivers, settings = load_config(path)
    return waivers, replace(config, target=config.target or settings.target,
                            machine=config.machine or settings.machine, cpu=config.cpu or settings.cpu,
                            board_only=config.board_only or settings.board_only,
                            select=config.select or settings.select, ignore=config.ignore or settings.ignore,
                            severity=config.severity or settings.severity)


def triage_of(config: RunConfig) -> Triage:
    """The filters of a run: its options, with [settings] already merged (configured_run)."""
    return Triage(select=config.select, ignore=config.ignore, severity=config.severity, sections=config.section,
                  vmsds=config.vmsd, pathspec=config.pathspec)


def settings_notes(config: RunConfig) -> list[str]:
    if config.cpu and config.target not in (None, *ARM_TARGETS):
        return [f"cpu = '{config.cpu}': only Arm CPU models' register lists are checked yet (--target "
                f"{config.target}); the setting is ignored"]
    return []


def default_config(repo: str | None) -> str | None:
    """.vmsd-lint.toml at the root of the repository around --repo or the current directory."""
    try:
        root = find_repo(repo)
    except InputError:
        root = os.getcwd()
    path = os.path.join(root, ".vmsd-lint.toml")
    return path if os.path.isfile(path) else None
