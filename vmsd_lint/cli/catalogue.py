"""`vmsd-lint rules` and `vmsd-lint explain`: the failure catalogue on the command line.

Everything shown here is read from rules/*.toml through vmsd_lint.catalogue and rendered by
vmsd_lint.report.catalogue; docs/catalogue.md is `vmsd-lint rules --format markdown`.
"""
from __future__ import annotations

import json
import sys

import click

from ..catalogue import load_catalogue, match_error_lines
from ..errors import InputError
from ..report.catalogue import catalogue_markdown, explain_text, matches_json, matches_text, rule_dict, rules_text
from .run import write_output

# --- commands -------------------------------------------------------------------------

@click.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True, help="text: one line per rule; json: every entry in full; "
                                      "markdown: the catalogue document (docs/catalogue.md).")
def rules_command(fmt: str) -> None:
    """List the failure catalogue: every finding type vmsd-lint reports."""
    catalogue = load_catalogue()
    if fmt == "json":
        write_output(json.dumps([rule_dict(rule) for rule in catalogue.values()], indent=2) + "\n", None)
    elif fmt == "markdown":
        write_output(catalogue_markdown(catalogue), None)
    else:
        write_output(rules_text(catalogue), None)


@click.command("explain")
@click.argument("slug", required=False)
@click.option("--error", "error_text", metavar="TEXT",
              help="An error line QEMU printed (several lines are fine; '-' reads standard input): "
                   "which finding types produce it.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def explain_command(slug: str | None, error_text: str | None, fmt: str) -> None:
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
        if fmt == "json":
            write_output(json.dumps(matches_json(error_text, matches), indent=2) + "\n", None)
        else:
            write_output(matches_text(error_text, matches), None)
        click.get_current_context().exit(0 if matches else 1)
    catalogue = load_catalogue()
    rule = catalogue.get(slug)
    if rule is None:
        raise InputError(f"unknown rule '{slug}' (see vmsd-lint rules)")
    write_output(json.dumps(rule_dict(rule), indent=2) + "\n" if fmt == "json" else explain_text(rule), None)
