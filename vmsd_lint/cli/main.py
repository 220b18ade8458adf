"""The `vmsd-lint` command line: a thin layer over the extractor and the reports.

Exit status: 0 success, 1 findings (later commands), 2 wrong input or invocation, or a
process of the run killed; 130, 143, 129 when SIGINT, SIGTERM, SIGHUP end the run
(processes.py) -- always as one line on stderr, never a traceback.
"""
from __future__ import annotations

import difflib
import os
import sqlite3
import sys

import click

from .. import __version__
from ..app.check import extract_endpoint, find_repo, parse_range
from ..app.config import RunConfig
from ..app.runs import reading_options
from ..errors import ChildDied, InputError
from ..extract.cache import clean, default_cache_dir, info
from ..processes import signals_handled
from ..report.formats import CHECK_FORMATS, DUMP_FORMATS
from ..sources.tree import resolve_commit
from .catalogue import explain_command, rules_command
from .graph import graph
from .options import (
    configured,
    format_option,
    output_option,
    policy_options,
    quiet_option,
    source_options,
    triage_options,
)
from .run import cache_cap, close_caches, describe_error, open_cache, run_check_command, write_rendered
from .stream import check_stream_command
from .workflows import pre_commit_command, review_command

EXPECTED_ERRORS = (InputError, ChildDied, OSError, UnicodeError, sqlite3.DatabaseError)


MAX_ERROR_LENGTH = 2000  # an error quotes the user's input, which may be huge


def _fail(message: str) -> None:
    text = " ".join(str(message).split())
    if len(text) > MAX_ERROR_LENGTH:
        text = text[:MAX_ERROR_LENGTH] + " [...]"
    click.echo(f"vmsd-lint: error: {text}", err=True)
    sys.exit(2)


class _Group(click.Group):
    """Turns expected errors raised by any command into one line and exit status 2,
    and runs `check` when the first argument is not a command (`vmsd-lint OLD..NEW`)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if any("\0" in arg for arg in args):  # not from a real command line: git and open() would choke
            _fail("an argument contains a NUL character")
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help", "--version"):
            near = misspelt_command(args, list(self.commands))
            if near:
                _fail(f"no such command '{args[0]}'; did you mean '{near}'? (a revision range is OLD..NEW)")
            args = ["check", *args]
        return super().parse_args(ctx, args)

    def main(self, *args, **kwargs):
        with signals_handled():
            try:
                return super().main(*args, **kwargs)
            finally:
                close_caches()  # waits for the cache writers while a signal still ends the run

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # one line too (a revision that looks like an option lands here)
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            _fail(f"{exc.format_message()}{hint}")
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except EXPECTED_ERRORS as exc:
            _fail(describe_error(exc))
        except Exception as exc:
            if os.environ.get("VMSD_LINT_DEBUG"):
                raise
            _fail(f"internal error: {type(exc).__name__}: {exc} (set VMSD_LINT_DEBUG=1 for a traceback)")


def misspelt_command(args: list[str], commands: list[str]) -> str | None:
    """The command ARGS[0] is a typo of (`exlpain`: explain), or None.  A word that is also
    an endpoint -- a path, a range, a revision of --repo -- is checked, as it always was."""
    word = args[0]
    close = difflib.get_close_matches(word, commands, n=1, cutoff=0.7)
    if not close or word.startswith("-") or ".." in word or os.path.exists(word):
        return None
    try:
        resolve_commit(find_repo(_repo_argument(args)), word)
    except InputError:
        return close[0]
    return None


def _repo_argument(args: list[str]) -> str | None:
    """--repo's value among ARGS, parsed before click does: a typo is judged in that repository."""
    for n, arg in enumerate(args):
        if arg == "--repo" and n + 1 < len(args):
            return args[n + 1]
        if arg.startswith("--repo="):
            return arg.split("=", 1)[1]
    return None


def coverage_line(extraction) -> str:
    vmsds = [v for v in extraction.vmsds.values() if not v.synthetic]
    resolved = sum(1 for v in vmsds
                   if v.name is not None and all(f.name is not None and not f.unresolved for f in v.fields or ()))
    modelled = len(extraction.vmsds) - len(vmsds)
    unreached = sum(1 for d in extraction.diagnostics if d.kind == "unreached")
    return (f"vmsd-lint: {len(vmsds)} VMSDs, {resolved} fully resolved, {unreached} reached by no section, "
            f"{modelled} modelled from hand-written code; {len(extraction.diagnostics) - unreached} diagnostics "
            f"({extraction.files_read} files read, {extraction.files_parsed} parsed)")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="vmsd-lint")
def main() -> None:
    """vmsd-lint: find QEMU live-migration breaks in the source, before they ship."""


@main.command()
@click.argument("endpoint")
@format_option(DUMP_FORMATS, "native",
               help="native: vmsd-lint's model; qemu: the JSON `qemu-system-* -dump-vmstate` writes.")
@source_options
@output_option("Write the dump to FILE instead of stdout.")
@quiet_option("Do not print the coverage line on stderr.")
@configured
def dump(config: RunConfig, endpoint: str) -> None:
    """Dump the migration state model of ENDPOINT as JSON.

    ENDPOINT is a git revision of --repo (read from the object database, nothing is
    checked out), a directory holding a QEMU-like source tree, or WORKTREE (also
    spelled :worktree) for the repository's working tree including uncommitted changes.
    """
    extraction = extract_endpoint(endpoint, reading_options(config, open_cache(config)))
    write_rendered(DUMP_FORMATS[config.format], extraction, config)
    if not config.quiet:
        click.echo(coverage_line(extraction), err=True)


@main.command()
@click.argument("revision_range", metavar="OLD..NEW")
@click.argument("pathspec", nargs=-1, metavar="[-- PATHSPEC...]")
@format_option(CHECK_FORMATS, "text")
@source_options
@policy_options
@triage_options
@click.option("--show-waived", is_flag=True, help="List the findings that waivers matched.")
@click.option("--show-diagnostics", is_flag=True, help="List every construct that could not be resolved.")
@click.option("--write-baseline", metavar="FILE", default=None,
              help="Write a waiver for every current finding to FILE, print one line and exit 0 "
                   "(then give each a real reason).")
@click.option("--per-commit", is_flag=True,
              help="Attribute each finding to the commit of OLD..NEW that introduced it (git revisions only).")
@output_option("Write the report to FILE instead of stdout.")
@quiet_option("Print nothing when nothing fails.")
@configured
def check(config: RunConfig, revision_range: str) -> None:
    """Report every change between two endpoints that breaks migration (the default command).

    OLD..NEW compares two endpoints, OLD.. compares OLD with HEAD, and a single REV checks
    the change that commit made (REV^..REV); WORKTREE alone is HEAD..WORKTREE.  An endpoint
    is a git revision, a directory, WORKTREE, a -dump-vmstate JSON file or a `vmsd-lint
    dump` snapshot.  Paths after `--` (git pathspecs; ':!PATH' excludes) limit the findings
    to those whose VMSD's file matches.

    Exit status: 0 no error finding (nor warning with --strict), 1 there is one, 2 bad input.
    """
    old_spec, new_spec = parse_range(revision_range, config.repo)
    run_check_command(old_spec, new_spec, config)


main.add_command(rules_command)
main.add_command(explain_command)
main.add_command(pre_commit_command)
main.add_command(review_command)
main.add_command(graph)
main.add_command(check_stream_command)


@main.group()
def cache() -> None:
    """The cache of extracted facts: `cache info`, `cache clean`."""


_CACHE_DIR = click.option("--cache-dir", metavar="DIR", default=None,
                          help="Cache directory (default: ~/.cache/vmsd-lint).")


@cache.command("info")
@_CACHE_DIR
def cache_info(cache_dir: str | None) -> None:
    """Print the cache's location, entries, size and size cap."""
    for name, value in info(cache_dir or default_cache_dir(), cache_cap()).items():
        click.echo(f"{name}: {value}")


@cache.command("clean")
@_CACHE_DIR
def cache_clean(cache_dir: str | None) -> None:
    """Remove the whole cache (every file of vmsd-lint's caches in its directory)."""
    directory = cache_dir or default_cache_dir()
    click.echo(f"vmsd-lint: removed {clean(directory)} file(s) from {directory}")

if __name__ == "__main__":  # pragma: no cover
    main()
