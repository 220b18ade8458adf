"""Options every command that reads endpoints shares (main.py, graph.py and
workflows.py import this; it imports none of them)."""
from __future__ import annotations

import os

import click


def source_options(func):
    """--target, --repo, --jobs, --cache-dir, --no-cache: how endpoints are read."""
    options = [
        click.option("--target", metavar="ARCH", default=None,
                     help="Target architecture (e.g. x86_64): picks target/<arch>/ where names collide."),
        click.option("--repo", metavar="PATH", default=None,
                     help="Git repository for revision endpoints (default: the one around the current directory)."),
        click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
                     help="Parallel parser processes (default: min(2, CPUs))."),
        click.option("--cache-dir", metavar="DIR", default=None, help="Cache directory (default: ~/.cache/vmsd-lint)."),
        click.option("--no-cache", is_flag=True, help="Neither read nor write the cache."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def policy_options(func):
    """--config, --strict: which findings are waived, and whether warnings fail too."""
    options = [
        click.option("--config", metavar="FILE", default=None,
                     help="Waivers file (default: .vmsd-lint.toml at the repository root, if any)."),
        click.option("--strict", is_flag=True, help="Warnings fail too (exit status 1)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def default_jobs(jobs: int | None) -> int:
    """--jobs, or min(2, CPUs): more workers than that cost memory for little time."""
    return jobs or max(1, min(2, os.cpu_count() or 1))
