"""Commands for where users meet vmsd-lint: `vmsd-lint pre-commit` (what the hook in
.pre-commit-hooks.yaml runs).

`pre-commit` is `vmsd-lint HEAD..INDEX` in the repository around the current directory: the
staged index -- what `git commit` records -- against the last commit; unstaged edits are
left out. In a repository with no commit yet, the index is compared with an empty tree:
every section is new, which cannot break migration from anything (at most info findings).

This module must not import vmsd_lint.cli at import time (cli.py imports it at its end to
register the commands; `python -m vmsd_lint.cli` would import cli.py twice).
"""
from __future__ import annotations

import os

import click


def _default_jobs() -> int:
    return max(1, min(2, os.cpu_count() or 1))


@click.command("pre-commit")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--target", metavar="ARCH", default=None,
              help="Target architecture (e.g. x86_64): picks target/<arch>/ where names collide.")
@click.option("--repo", metavar="PATH", default=None,
              help="The git repository (default: the one around the current directory).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Parallel parser processes (default: min(2, CPUs)).")
@click.option("--cache-dir", metavar="DIR", default=None, help="Cache directory (default: ~/.cache/vmsd-lint).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option("--config", metavar="FILE", default=None,
              help="Waivers file (default: .vmsd-lint.toml at the repository root, if any).")
@click.option("--strict", is_flag=True, help="Warnings fail too (exit status 1).")
@click.option("--show-diagnostics", is_flag=True, help="List every construct that could not be resolved.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing when nothing fails.")
def pre_commit_command(fmt, target, repo, jobs, cache_dir, no_cache, config, strict, show_diagnostics,
                       quiet) -> None:
    """Check the staged changes (HEAD..INDEX): what .pre-commit-hooks.yaml runs.

    Compares the staged index -- what `git commit` would record, unstaged edits left
    out -- with HEAD, in the repository around the current directory (or --repo).
    Nothing in the repository is written.  With no commit yet, the index is compared with
    an empty tree (everything is new).

    Exit status: 0 no error finding (nor warning with --strict), 1 there is one, 2 bad input.
    """
    from .check import EMPTY_ENDPOINT, find_repo
    from .cli import run_check_command

    repo_dir = find_repo(repo)
    old_spec = "HEAD" if _has_head(repo_dir) else EMPTY_ENDPOINT
    if old_spec == EMPTY_ENDPOINT:
        if not quiet:
            click.echo("vmsd-lint: no commit yet: comparing the staged files with an empty tree", err=True)
    run_check_command(old_spec, "INDEX", fmt=fmt, target=target, repo=repo_dir, jobs=jobs or _default_jobs(),
                      cache_dir=cache_dir, no_cache=no_cache, config=config, strict=strict,
                      show_diagnostics=show_diagnostics, quiet=quiet)


def _has_head(repo_dir: str) -> bool:
    """Whether HEAD names a commit (not on an unborn branch, before the first commit)."""
    from .errors import InputError
    from .sources.tree import run_git

    try:
        run_git(repo_dir, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    except InputError as exc:
        if "rev-parse" not in str(exc):  # git said why: a real error, not an unborn branch
            raise
        return False
    return True
