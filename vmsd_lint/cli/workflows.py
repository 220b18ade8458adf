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

import os

import click

from .options import default_jobs, policy_options, source_options
from .run import default_config, open_cache, run_check_command, write_output


@click.command("pre-commit")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@source_options
@policy_options
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
    from ..app.check import EMPTY_ENDPOINT, find_repo

    repo_dir = find_repo(repo)
    old_spec = "HEAD" if _has_head(repo_dir) else EMPTY_ENDPOINT
    if old_spec == EMPTY_ENDPOINT and not quiet:
        click.echo("vmsd-lint: no commit yet: comparing the staged files with an empty tree", err=True)
    run_check_command(old_spec, "INDEX", fmt=fmt, target=target, repo=repo_dir, jobs=default_jobs(jobs),
                      cache_dir=cache_dir, no_cache=no_cache, config=config, strict=strict,
                      show_diagnostics=show_diagnostics, quiet=quiet)


def _has_head(repo_dir: str) -> bool:
    """Whether HEAD names a commit (not on an unborn branch, before the first commit)."""
    from ..errors import InputError
    from ..sources.tree import run_git

    try:
        run_git(repo_dir, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    except InputError as exc:
        if "rev-parse" not in str(exc):  # git said why: a real error, not an unborn branch
            raise
        return False
    return True


@click.command("review")
@click.argument("source", metavar="PATCH|MBOX|-")
@click.option("--base", metavar="REV", default="HEAD", show_default=True,
              help="The revision (or directory) the patches apply to.")
@click.option("--format", "fmt", type=click.Choice(["email", "text", "json"]), default="email", show_default=True,
              help="email: a reply to each patch that breaks something; text, json: as a check.")
@source_options
@policy_options
@click.option("--output", "-o", metavar="FILE", default=None, help="Write the reply or report to FILE.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing when nothing is found.")
def review_command(source, base, fmt, target, repo, jobs, cache_dir, no_cache, config, strict, output,
                   quiet) -> None:
    """Check a patch or a series from the mailing list before it is applied.

    PATCH|MBOX|- is a `git format-patch` file, an mbox holding a series (as `b4 am`
    writes it) or - for standard input.  The patches are applied onto --base in memory:
    nothing in the repository changes (working tree, index, refs, objects).  Each
    patch is checked against the tree before it; findings a later patch undoes are
    not reported, the others are attributed to the patch that introduced them.

    Exit status: 0 no error finding (nor warning with --strict), 1 there is one, 2 bad
    input (among which a patch that does not apply: the file and hunk are named).
    """
    import sys

    from ..app.check import Options
    from ..app.review import review_series
    from ..app.waivers import apply_waivers, load_waivers
    from ..sources.patches import read_series
    from .output import stdout_is_terminal

    patches, cover = read_series(source)
    options = Options(repo=repo, target=target, jobs=default_jobs(jobs), cache=open_cache(cache_dir, no_cache))
    config_path = config or default_config(repo)
    waivers = load_waivers(config_path) if config_path else []
    result = review_series(patches, base, options, cover)
    apply_waivers(result.report, waivers)
    failed = result.report.failed(strict)
    text = _render_review(result, fmt, quiet and not failed)
    colour = fmt == "text" and output in (None, "-") and stdout_is_terminal() and not os.environ.get("NO_COLOR")
    if text:
        write_output(text if colour else click.unstyle(text), output)
    sys.exit(1 if failed else 0)


def _render_review(result, fmt: str, quiet: bool) -> str:
    """The report in FMT; nothing for a quiet run that found nothing to act on."""
    if fmt == "email":
        from ..report.email import render_email
        return render_email(result, quiet)
    if fmt == "json":
        import json

        from ..report.check_json import report_dict
        data = report_dict(result.report)
        data["patches"] = [_patch_dict(step.patch) for step in result.steps]
        return json.dumps(data, indent=2) + "\n"
    if quiet:
        return ""
    from ..report.text import render_text
    return render_text(result.report)


def _patch_dict(patch) -> dict:
    return {"number": patch.number, "total": patch.total, "subject": patch.subject, "author": patch.author,
            "date": patch.date, "message_id": patch.message_id, "files": sorted({d.path for d in patch.files})}
