"""`vmsd-lint rules` and `vmsd-lint explain`: the failure catalogue on the command line.

Everything shown here is read from rules/*.toml through vmsd_lint.catalogue and rendered by
vmsd_lint.report.catalogue; docs/catalogue.md is `vmsd-lint rules --format markdown`.
"""
from __future__ import annotations

import sys

import click

from ..app.config import RunConfig
from ..catalogue import load_catalogue, match_error_lines
from ..errors import InputError
from ..report.formats import ERROR_MATCH_FORMATS, EXPLAIN_FORMATS, RULES_FORMATS
from .options import configured, format_option
from .run import write_rendered

# --- commands -------------------------------------------------------------------------

@click.command("rules")
@format_option(RULES_FORMATS, "text", help="text: one line per rule; json: every entry in full; "
                                           "markdown: the catalogue document (docs/catalogue.md).")
@configured
def rules_command(config: RunConfig) -> None:
    """List the failure catalogue: every finding type vmsd-lint reports."""
    write_rendered(RULES_FORMATS[config.format], load_catalogue(), config)


@click.command("explain")
@click.argument("slug", required=False)
@click.option("--error", "error_text", metavar="TEXT",
              help="An error line QEMU printed (several lines are fine; '-' reads standard input): "
                   "which finding types produce it.")
@format_option(EXPLAIN_FORMATS, "text")
@configured
def explain_command(config: RunConfig, slug: str | None, error_text: str | None) -> None:
    """Explain the finding type SLUG, or which types produce an error QEMU printed.

    \b
    vmsd-lint explain field-removed
    vmsd-lint explain --error "savevm: unsupported version 4 for 'serial' v3"

    With --error the exit status is 0 when some rule matches and 1 when none does.
    """
    if (slug is None) == (error_text is None):
        raise click.UsageError("give either a SLUG or --error TEXT")
    if error_text is not None:
        if error_text == "-":
            error_text = sys.stdin.read()
        matches = match_error_lines(error_text)
        write_rendered(ERROR_MATCH_FORMATS[config.format], (error_text, matches), config)
        click.get_current_context().exit(0 if matches else 1)
    rule = load_catalogue().get(slug or "")
    if rule is None:
        raise InputError(f"unknown rule '{slug}' (see vmsd-lint rules)")
    write_rendered(EXPLAIN_FORMATS[config.format], rule, config)
