"""The `vmsd-lint` command line: a thin layer over the extractor and the reports.

Exit status: 0 success, 1 findings (later commands), 2 wrong input or invocation --
always as one line on stderr, never a traceback.
"""
from __future__ import annotations

import os
import sqlite3
import sys

import click

from . import __version__
from .errors import InputError

WORKTREE_ENDPOINTS = ("WORKTREE", ":worktree")
EXPECTED_ERRORS = (InputError, OSError, UnicodeError, sqlite3.DatabaseError)


def _fail(message: str) -> None:
    click.echo(f"vmsd-lint: error: {' '.join(str(message).split())}", err=True)
    sys.exit(2)


class _Group(click.Group):
    """Turns expected errors raised by any command into one line and exit status 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except EXPECTED_ERRORS as exc:
            _fail(_describe(exc))
        except Exception as exc:  # noqa: BLE001 - never show a traceback to a user
            if os.environ.get("VMSD_LINT_DEBUG"):
                raise
            _fail(f"internal error: {type(exc).__name__}: {exc} (set VMSD_LINT_DEBUG=1 for a traceback)")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror}"
    return str(exc) or type(exc).__name__


def find_repo(path: str | None) -> str:
    """The working directory of the git repository at (or around) path, default cwd."""
    import git  # gitpython; imported here so directory endpoints do not pay for it

    start = path or os.getcwd()
    if path is not None and not os.path.exists(path):
        raise InputError(f"{path}: no such file or directory")
    try:
        repo = git.Repo(start, search_parent_directories=True)
    except (git.exc.InvalidGitRepositoryError, git.exc.NoSuchPathError):
        raise InputError(f"{os.path.abspath(start)}: not a git repository (use --repo PATH)") from None
    if repo.bare or repo.working_tree_dir is None:
        return str(repo.git_dir)
    return str(repo.working_tree_dir)


def open_endpoint(endpoint: str, repo: str | None):
    """A SourceTree for ENDPOINT: a directory, the working tree, or a git revision."""
    from .sources.tree import directory_tree, git_revision_tree, worktree_tree

    if endpoint in WORKTREE_ENDPOINTS:
        return worktree_tree(find_repo(repo))
    if os.path.isdir(endpoint) and not endpoint.startswith("-"):
        return directory_tree(endpoint, label=endpoint)
    if os.path.isfile(endpoint):
        raise InputError(f"{endpoint}: JSON endpoints are not supported by this version yet")
    repo_dir = find_repo(repo)
    try:
        return git_revision_tree(repo_dir, endpoint)
    except InputError as exc:
        if "rev-parse" in str(exc):  # git says nothing useful with --quiet
            raise InputError(f"unknown revision '{endpoint}' in {repo_dir}") from None
        raise


def open_cache(cache_dir: str | None, no_cache: bool):
    if no_cache:
        return None
    from .extract.cache import Cache, default_cache_dir

    directory = cache_dir or default_cache_dir()
    try:
        return Cache(directory)
    except (OSError, sqlite3.Error) as exc:
        if cache_dir:  # asked for explicitly: that is an input error
            raise InputError(f"cache directory {directory}: {_describe(exc)}") from None
        click.echo(f"vmsd-lint: warning: running without a cache ({directory}: {_describe(exc)})", err=True)
        return None


def coverage_line(extraction) -> str:
    vmsds = list(extraction.vmsds.values())
    resolved = sum(1 for v in vmsds
                   if v.name is not None and all(f.name is not None and not f.unresolved for f in v.fields or ()))
    return (f"vmsd-lint: {len(vmsds)} VMSDs, {resolved} fully resolved, "
            f"{len(extraction.diagnostics)} diagnostics "
            f"({extraction.files_read} files read, {extraction.files_parsed} parsed)")


def _write(text: str, output: str | None) -> None:
    if output is None or output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    tmp = f"{output}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, output)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="vmsd-lint")
def main() -> None:
    """vmsd-lint: find QEMU live-migration breaks in the source, before they ship."""


@main.command()
@click.argument("endpoint")
@click.option("--format", "fmt", type=click.Choice(["native", "qemu"]), default="native", show_default=True,
              help="native: vmsd-lint's model; qemu: the JSON `qemu-system-* -dump-vmstate` writes.")
@click.option("--target", metavar="ARCH", default=None,
              help="Target architecture (e.g. x86_64): picks target/<arch>/ where names collide.")
@click.option("--repo", metavar="PATH", default=None,
              help="Git repository for revision endpoints (default: the one around the current directory).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Parallel parser processes (default: min(2, CPUs)).")
@click.option("--cache-dir", metavar="DIR", default=None, help="Cache directory (default: ~/.cache/vmsd-lint).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option("--output", "-o", metavar="FILE", default=None, help="Write the dump to FILE instead of stdout.")
@click.option("--quiet", "-q", is_flag=True, help="Do not print the coverage line on stderr.")
def dump(endpoint, fmt, target, repo, jobs, cache_dir, no_cache, output, quiet) -> None:
    """Dump the migration state model of ENDPOINT as JSON.

    ENDPOINT is a git revision of --repo (read from the object database, nothing is
    checked out), a directory holding a QEMU-like source tree, or WORKTREE (also
    spelled :worktree) for the repository's working tree including uncommitted changes.
    """
    from .extract.extractor import Extractor

    tree = open_endpoint(endpoint, repo)
    jobs = jobs or max(1, min(2, os.cpu_count() or 1))
    extraction = Extractor(target=target, jobs=jobs, cache=open_cache(cache_dir, no_cache)).run(tree)
    if fmt == "qemu":
        from .report.qemu_dump import dumps, qemu_dump
        text = dumps(qemu_dump(extraction))
    else:
        from .report.native import dumps_native, native_dump
        text = dumps_native(native_dump(extraction))
    _write(text, output)
    if not quiet:
        click.echo(coverage_line(extraction), err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
