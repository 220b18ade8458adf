"""Commands for where users meet vmsd-lint: `vmsd-lint pre-commit` (what the hook in
.pre-commit-hooks.yaml runs) and `vmsd-lint review` (a patch or series from the list).

`pre-commit` is `vmsd-lint HEAD..INDEX` in the repository around the current directory: the
staged index -- what `git commit` records -- against the last commit; unstaged edits are
left out. In a repository with no commit yet, the index is compared with an empty tree:
every section is new, which cannot break migration from anything (at most info findings).

This module must not import vmsd_lint.cli.main at import time (cli.py imports it at its end to
register the commands; `python -m vmsd_lint.cli.main` would import cli.py twice).
"""
from __future__ import annotations

import sys
from dataclasses import replace

import click

from ..app.check import EMPTY_ENDPOINT, find_repo
from ..app.config import RunConfig
from ..app.runs import review_report
from ..errors import InputError
from ..report.formats import PRE_COMMIT_FORMATS, REVIEW_FORMATS
from ..sources.bases import Base, choose_base
from ..sources.patches import read_series
from ..sources.tree import run_git
from .options import (
    configured,
    format_option,
    output_option,
    policy_options,
    quiet_option,
    source_options,
    triage_options,
)
from .run import open_cache, run_check_command, write_rendered


@click.command("pre-commit")
@format_option(PRE_COMMIT_FORMATS, "text")
@source_options
@policy_options
@triage_options
@click.option("--show-diagnostics", is_flag=True, help="List every construct that could not be resolved.")
@quiet_option("Print nothing when nothing fails.")
@configured
def pre_commit_command(config: RunConfig) -> None:
    """Check the staged changes (HEAD..INDEX): what .pre-commit-hooks.yaml runs.

    Compares the staged index -- what `git commit` would record, unstaged edits left
    out -- with HEAD, in the repository around the current directory (or --repo).
    Nothing in the repository is written.  With no commit yet, the index is compared with
    an empty tree (everything is new).

    Exit status: 0 no error finding (nor warning with --strict), 1 there is one, 2 bad input.
    """
    repo_dir = find_repo(config.repo)
    old_spec = "HEAD" if _has_head(repo_dir) else EMPTY_ENDPOINT
    if old_spec == EMPTY_ENDPOINT and not config.quiet:
        click.echo("vmsd-lint: no commit yet: comparing the staged files with an empty tree", err=True)
    run_check_command(old_spec, "INDEX", replace(config, repo=repo_dir))


def _has_head(repo_dir: str) -> bool:
    """Whether HEAD names a commit (not on an unborn branch, before the first commit)."""
    try:
        run_git(repo_dir, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    except InputError as exc:
        if "rev-parse" not in str(exc):  # git said why: a real error, not an unborn branch
            raise
        return False
    return True


@click.command("review")
@click.argument("source", metavar="PATCH|MBOX|-")
@click.option("--base", metavar="REV", default=None,
              help="The revision (or directory) the patches apply to.  Default: the series' base-commit "
                   "line (git format-patch --base, b4), else the commit holding the patches' preimage blobs, "
                   "else HEAD.")
@format_option(REVIEW_FORMATS, "email",
               help="email: a reply to each patch that breaks something; text, json: as a check.")
@source_options
@policy_options
@output_option("Write the reply or report to FILE.")
@quiet_option("Print nothing when nothing is found.")
@configured
def review_command(config: RunConfig, source: str, base: str | None) -> None:
    """Check a patch or a series from the mailing list before it is applied.

    PATCH|MBOX|- is a `git format-patch` file, an mbox holding a series (as `b4 am`
    writes it) or - for standard input.  The patches are applied onto --base in memory:
    nothing in the repository changes (working tree, index, refs, objects).  Each
    patch is checked against the tree before it; findings a later patch undoes are
    not reported, the others are attributed to the patch that introduced them.

    Exit status: 0 no error finding (nor warning with --strict), 1 there is one, 2 bad
    input (among which a patch that does not apply: the file and hunk are named).
    """
    patches, cover = read_series(source)
    chosen = Base(base, "--base") if base is not None else choose_base(find_repo(config.repo), patches, cover)
    review = review_report(patches, cover, chosen.revision, config, open_cache(config), chosen.why)
    failed = review.report.failed(config.strict)
    write_rendered(REVIEW_FORMATS[config.format], review, config, quiet=config.quiet and not failed)
    sys.exit(1 if failed else 0)
