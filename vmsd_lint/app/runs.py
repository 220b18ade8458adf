"""`check`, `pre-commit` and `review` once their options are parsed (a RunConfig): the
report with --per-commit's attribution and the waivers applied, for the CLI to render."""
from __future__ import annotations

import os

from ..diff.findings import Report
from ..errors import InputError
from ..sources.patches import Mail, Patch
from .check import Options, find_repo, run_check
from .config import RunConfig
from .percommit import attribute_commits
from .review import Review, review_series
from .waivers import Waiver, apply_waivers, load_waivers


def check_report(old_spec: str, new_spec: str, config: RunConfig, cache: object | None) -> Report:
    """OLD..NEW compared, read with CACHE (an open one, or None)."""
    options = reading_options(config, cache)
    waivers = config_waivers(config)  # a bad waivers file fails before anything is extracted
    report = run_check(old_spec, new_spec, options)
    if config.per_commit:
        attribute_commits(report, old_spec, new_spec, options)
    apply_waivers(report, waivers)
    return report


def review_report(patches: list[Patch], cover: Mail | None, base: str, config: RunConfig,
                  cache: object | None) -> Review:
    """The series applied onto BASE and checked patch by patch."""
    options = reading_options(config, cache)
    waivers = config_waivers(config)
    review = review_series(patches, base, options, cover)
    apply_waivers(review.report, waivers)
    return review


def reading_options(config: RunConfig, cache: object | None) -> Options:
    return Options(repo=config.repo, target=config.target, jobs=config.jobs, cache=cache)


def config_waivers(config: RunConfig) -> list[Waiver]:
    """The waivers of --config, else of the repository's .vmsd-lint.toml, else none."""
    path = config.config or default_config(config.repo)
    return load_waivers(path) if path else []


def default_config(repo: str | None) -> str | None:
    """.vmsd-lint.toml at the root of the repository around --repo or the current directory."""
    try:
        root = find_repo(repo)
    except InputError:
        root = os.getcwd()
    path = os.path.join(root, ".vmsd-lint.toml")
    return path if os.path.isfile(path) else None
