"""`vmsd-lint rules` and `vmsd-lint explain`: the failure catalogue on the command line.

Everything shown here is read from rules/*.toml through vmsd_lint.catalogue; docs/catalogue.md
is `vmsd-lint rules --format markdown`.
"""
from __future__ import annotations

import json
import re
import sys
import textwrap

import click

from .catalogue import DIRECTIONS, QemuError, Rule, error_values, load_catalogue, match_error_lines
from .errors import InputError

DIRECTION_LABELS = {"forward": "forward (OLD -> NEW)", "backward": "backward (NEW -> OLD)",
                    "both": "both directions"}
MANY_MATCHES = 5


def rule_dict(rule: Rule) -> dict:
    """A rule as JSON: the keys of its TOML file, with qemu_errors / recipes as lists."""
    return {
        "slug": rule.slug, "title": rule.title, "severity": rule.severity,
        "directions": list(rule.directions), "severities": list(rule.severities),
        "direction_sets": [list(d) for d in rule.direction_sets],
        "summary": rule.summary, "message": rule.message,
        "explanation": rule.explanation, "related": list(rule.related),
        "qemu_errors": [error_dict(error) for error in rule.qemu_errors],
        "example": {"bad": rule.example_bad, "good": rule.example_good},
        "recipes": [{"title": recipe.title, "body": recipe.body.strip()} for recipe in rule.recipes],
    }


def error_dict(error: QemuError) -> dict:
    entry = {"text": error.text, "source": error.source, "direction": error.direction, "note": error.note}
    if error.values:
        entry["values"] = list(error.values)
    return entry


def breaks(rule: Rule) -> str:
    """The direction sets a finding of the rule may break, the default first: "backward / -"."""
    return " / ".join(", ".join(sorted(d, key=DIRECTIONS.index)) if d else "-" for d in rule.direction_sets)


def severities(rule: Rule) -> str:
    return "/".join(rule.severities)


# --- text -----------------------------------------------------------------------------

def rules_text(catalogue: dict[str, Rule]) -> str:
    rows = [("SLUG", "SEVERITY", "BREAKS", "TITLE")]
    rows += [(r.slug, severities(r), breaks(r), r.title) for r in catalogue.values()]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "".join(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}\n"
                   for row in rows)


def _indent(text: str, prefix: str) -> str:
    return textwrap.indent(text.strip("\n"), prefix, lambda line: True).replace(prefix + "\n", "\n") + "\n"


def explain_text(rule: Rule) -> str:
    directions = " or ".join(", ".join(DIRECTION_LABELS[d] for d in dirs) or "none (wire-compatible)"
                             for dirs in rule.direction_sets)
    out = [f"{rule.slug}: {rule.title}\n",
           f"severity: {' or '.join(rule.severities)}    breaks: {directions}\n\n",
           f"{rule.summary}\n\n",
           f"Finding message: {rule.message}\n\n",
           "What happens\n", _indent(rule.explanation, "  "), "\n",
           "What QEMU prints\n"]
    for error in rule.qemu_errors:
        out.append(f"  {error.text}\n")
        out.append(f"      {error.source}; {DIRECTION_LABELS[error.direction]}\n")
        if error.values:
            out.append(f"      here: {', '.join(repr(v) if v else 'any' for v in error.values)}\n")
        if error.note:
            out.append(_indent(textwrap.fill(error.note, 84), "      "))
    out += ["\nExample that breaks\n", _indent(rule.example_bad, "    "),
            "\nThe compatible way\n", _indent(rule.example_good, "    "), "\nHow to fix\n"]
    for number, recipe in enumerate(rule.recipes, 1):
        out.append(f"  {number}. {recipe.title}\n")
        out.append(_indent(recipe.body, "     "))
    if rule.related:
        out.append(f"\nRelated: {', '.join(rule.related)} (vmsd-lint explain SLUG)\n")
    return "".join(out)


def matches_text(text: str, matches: list[tuple[Rule, QemuError, int]]) -> str:
    shown = " | ".join(line.strip() for line in text.splitlines() if line.strip())
    if not matches:
        return (f"No catalogue rule produces \"{shown}\".\n"
                "Paste the exact line QEMU printed (vmsd-lint rules lists what the catalogue covers).\n")
    most = max(lines for _, _, lines in matches)
    best = [(rule, error) for rule, error, lines in matches if lines == most]
    partial = [rule.slug for rule, _, lines in matches if lines < most]
    count = f"{len(best)} rule{'s' if len(best) > 1 else ''}"
    out = [f"\"{shown}\" is printed when these catalogue types happen ({count}, best first):\n\n"]
    for number, (rule, error) in enumerate(best, 1):
        out.append(f"{number}. {rule.slug} ({rule.severity}): {rule.summary}\n")
        out.append(f"   {DIRECTION_LABELS[error.direction]}: QEMU prints \"{error.text}\" ({error.source})\n")
        if error.note:
            out.append(f"   {error.note}\n")
    if partial:
        out.append(f"\nThese explain only some of the lines: {', '.join(partial)}.\n")
    if len(best) > MANY_MATCHES:
        out.append("\nQEMU prints this for many kinds of failure: paste the other lines it printed around "
                   "it as well to narrow the list down.\n")
    out.append("\nvmsd-lint explain SLUG shows what happens and how to fix it.\n")
    return "".join(out)


def matches_json(text: str, matches: list[tuple[Rule, QemuError, int]]) -> list[dict]:
    result = []
    for rule, error, lines in matches:
        line = next((ln for ln in text.splitlines() if error_values(error, ln)), "")
        result.append({"rule": rule.slug, "severity": rule.severity, "directions": list(rule.directions),
                       "title": rule.title, "summary": rule.summary, "qemu_error": error_dict(error),
                       "line": line.strip(), "values": error_values(error, line) if line else [],
                       "lines_explained": lines})
    return result


# --- markdown -------------------------------------------------------------------------

MARKDOWN_HEADER = """\
# The vmsd-lint failure catalogue

<!-- Generated from rules/*.toml by `vmsd-lint rules --format markdown > docs/catalogue.md`.
     Do not edit by hand: edit the rule files and regenerate. -->

Every finding vmsd-lint reports has one of these types. The slug is its stable id: it
appears in every output format, in `vmsd-lint explain SLUG` and in suppressions. Each
entry is generated from `rules/<slug>.toml`.

Directions: **forward** = OLD is the migration source and NEW the destination (upgrading a
host); **backward** = NEW is the source and OLD the destination (rollback, mixed
clusters). Severity: **error** breaks every stream in that direction; **warning** breaks it
under a condition (a `.needed()` or test that can be true, a value that can differ);
**info** is wire-compatible but worth knowing.

To find the type behind an error QEMU printed: `vmsd-lint explain --error "TEXT"`.
"""


_MD_SPECIAL = re.compile(r"[<*]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def _md_prose(text: str) -> str:
    """Plain text as Markdown: code fences and `spans` kept, <, * and word-edge _ escaped."""
    out, fenced = [], False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            out.append(line)
            continue
        if fenced:
            out.append(line)
            continue
        parts = line.split("`")
        for i in range(0, len(parts), 2):  # even parts are outside inline code
            parts[i] = _MD_SPECIAL.sub(lambda m: "&lt;" if m.group() == "<" else "\\" + m.group(), parts[i])
        out.append("`".join(parts))
    return "\n".join(out)


def _md_code(text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}c\n{text.strip(chr(10))}\n{fence}\n"


def _md_inline(text: str) -> str:
    ticks = "``" if "`" in text else "`"
    pad = " " if ticks == "``" else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def catalogue_markdown(catalogue: dict[str, Rule]) -> str:
    out = [MARKDOWN_HEADER, "\n| type | severity | breaks | what changed |\n|---|---|---|---|\n"]
    for rule in catalogue.values():
        summary = _md_prose(rule.summary).replace("|", "\\|")
        out.append(f"| [{rule.slug}](#{rule.slug}) | {severities(rule)} | {breaks(rule)} | {summary} |\n")
    for rule in catalogue.values():
        out.append(_rule_markdown(rule))
    return "".join(out)


def _rule_markdown(rule: Rule) -> str:
    summary = rule.summary[0].upper() + rule.summary[1:] + ("" if rule.summary.endswith(".") else ".")
    out = [f"\n## {rule.slug}\n\n",
           f"**{_md_prose(rule.title)}**. Severity: **{severities(rule)}**. Breaks: **{breaks(rule)}**.\n\n",
           f"{_md_prose(summary)}\n\n",
           f"Finding message: {_md_inline(rule.message)}\n\n",
           "### What happens\n\n", _md_prose(rule.explanation), "\n\n",
           "### What QEMU prints\n\n"]
    for error in rule.qemu_errors:
        line = f"- {_md_inline(error.text)} ({_md_prose(error.source)}; {DIRECTION_LABELS[error.direction]})"
        if error.values:
            line += f"; here {', '.join(_md_inline(v) if v else 'any' for v in error.values)}"
        out.append(line + (f". {_md_prose(error.note)}" if error.note else "") + "\n")
    out += ["\n### Example\n\nBreaks:\n\n", _md_code(rule.example_bad),
            "\nCompatible:\n\n", _md_code(rule.example_good), "\n### How to fix\n"]
    for recipe in rule.recipes:
        out.append(f"\n#### {_md_prose(recipe.title)}\n\n{_md_prose(recipe.body.strip())}\n")
    if rule.related:
        out.append("\n### Related\n\n" + ", ".join(f"[{slug}](#{slug})" for slug in rule.related) + "\n")
    return "".join(out)


# --- commands -------------------------------------------------------------------------

def _emit(text: str) -> None:
    from .output import write_report
    write_report(text, None)


@click.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True, help="text: one line per rule; json: every entry in full; "
                                      "markdown: the catalogue document (docs/catalogue.md).")
def rules_command(fmt: str) -> None:
    """List the failure catalogue: every finding type vmsd-lint reports."""
    catalogue = load_catalogue()
    if fmt == "json":
        _emit(json.dumps([rule_dict(rule) for rule in catalogue.values()], indent=2) + "\n")
    elif fmt == "markdown":
        _emit(catalogue_markdown(catalogue))
    else:
        _emit(rules_text(catalogue))


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
            _emit(json.dumps(matches_json(error_text, matches), indent=2) + "\n")
        else:
            _emit(matches_text(error_text, matches))
        click.get_current_context().exit(0 if matches else 1)
    catalogue = load_catalogue()
    rule = catalogue.get(slug)
    if rule is None:
        raise InputError(f"unknown rule '{slug}' (see vmsd-lint rules)")
    _emit(json.dumps(rule_dict(rule), indent=2) + "\n" if fmt == "json" else explain_text(rule))
