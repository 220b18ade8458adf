"""The failure catalogue rendered: `vmsd-lint rules` (text, JSON, the Markdown of
docs/catalogue.md) and `vmsd-lint explain` (a rule, or the rules an error line matches).

Everything shown is read from rules/*.toml through vmsd_lint.catalogue; the Markdown
escaping here is also what SARIF's rule help uses.
"""
from __future__ import annotations

import re
import textwrap

from ..catalogue import DIRECTIONS, QemuError, Rule, error_values

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


def md_prose(text: str) -> str:
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


def md_code(text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}c\n{text.strip(chr(10))}\n{fence}\n"


def md_inline(text: str) -> str:
    ticks = "``" if "`" in text else "`"
    pad = " " if ticks == "``" else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def catalogue_markdown(catalogue: dict[str, Rule]) -> str:
    out = [MARKDOWN_HEADER, "\n| type | severity | breaks | what changed |\n|---|---|---|---|\n"]
    for rule in catalogue.values():
        summary = md_prose(rule.summary).replace("|", "\\|")
        out.append(f"| [{rule.slug}](#{rule.slug}) | {severities(rule)} | {breaks(rule)} | {summary} |\n")
    for rule in catalogue.values():
        out.append(_rule_markdown(rule))
    return "".join(out)


def _rule_markdown(rule: Rule) -> str:
    summary = rule.summary[0].upper() + rule.summary[1:] + ("" if rule.summary.endswith(".") else ".")
    out = [f"\n## {rule.slug}\n\n",
           f"**{md_prose(rule.title)}**. Severity: **{severities(rule)}**. Breaks: **{breaks(rule)}**.\n\n",
           f"{md_prose(summary)}\n\n",
           f"Finding message: {md_inline(rule.message)}\n\n",
           "### What happens\n\n", md_prose(rule.explanation), "\n\n",
           "### What QEMU prints\n\n"]
    for error in rule.qemu_errors:
        line = f"- {md_inline(error.text)} ({md_prose(error.source)}; {DIRECTION_LABELS[error.direction]})"
        if error.values:
            line += f"; here {', '.join(md_inline(v) if v else 'any' for v in error.values)}"
        out.append(line + (f". {md_prose(error.note)}" if error.note else "") + "\n")
    out += ["\n### Example\n\nBreaks:\n\n", md_code(rule.example_bad),
            "\nCompatible:\n\n", md_code(rule.example_good), "\n### How to fix\n"]
    for recipe in rule.recipes:
        out.append(f"\n#### {md_prose(recipe.title)}\n\n{md_prose(recipe.body.strip())}\n")
    if rule.related:
        out.append("\n### Related\n\n" + ", ".join(f"[{slug}](#{slug})" for slug in rule.related) + "\n")
    return "".join(out)


