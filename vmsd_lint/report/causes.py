"""Findings grouped by their cause (diff/causes.py): the one definition whose change
made them, such as a macro of a header that many devices' fields expand.  A maintainer
reads such a change once, at the changed line; every format groups them (text and
Markdown under one heading, GitHub as one annotation at the definition, SARIF as a
related location of each result, HTML as a column)."""
from __future__ import annotations

from ..catalogue import SEVERITIES
from ..diff.causes import Cause
from ..diff.findings import Finding


def by_cause(findings: list[Finding]) -> dict[Cause, list[Finding]]:
    """The findings that have a cause, by cause: worst severity first, then by symbol."""
    groups: dict[Cause, list[Finding]] = {}
    for finding in findings:
        if finding.cause is not None:
            groups.setdefault(finding.cause, []).append(finding)
    return dict(sorted(groups.items(), key=lambda item: (worst(item[1]), item[0].symbol, str(item[0].location))))


def worst(findings: list[Finding]) -> int:
    """The index in SEVERITIES of the most severe of FINDINGS."""
    return min(SEVERITIES.index(f.severity) for f in findings)


def sections_of(findings: list[Finding]) -> list[str]:
    """The wire sections the findings reach (the VMSD's name where none is known), sorted."""
    return sorted({s for f in findings for s in (f.sections or (f.vmsd,))}, key=lambda s: (s.casefold(), s))


def cause_words(cause: Cause, findings: list[Finding]) -> str:
    """"ASPEED_I2C_NEW_NUM_REG changed at include/hw/i2c/aspeed_i2c.h:41, 1 section"."""
    where = f"changed at {cause.new}" if cause.new else f"removed from {cause.old}"
    if cause.old and cause.new and cause.old != cause.new:
        where += f" (line {cause.old.line} in OLD)" if cause.old.file == cause.new.file else f" (was {cause.old})"
    count = len(sections_of(findings))
    return f"{cause.symbol} {where}, {count} section{'s' if count != 1 else ''}"
