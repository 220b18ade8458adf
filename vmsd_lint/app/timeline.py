"""A sequence of trees after a base (the commits of `--per-commit`, the patches of
`review`): which step introduced each finding of base -> last.

One attribution policy for both: a finding belongs to the step after which it persists
to the end -- absent (compared with the base) just before it, present from it on. A break
introduced, fixed and reintroduced names the reintroducing step; one fixed before the end
is not a finding of base -> last at all. Every step is compared with the base through the
same report builder as a plain run (check.build_report), so `unresolved` findings are
attributed like any other.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from ..diff.findings import Finding, Report
from ..placement.wire import WireSchema
from .check import build_report

# the findings of detectors run after the report is built (check.detected)
MoreFindings = Callable[[Report, WireSchema, WireSchema], list[Finding]]


def persisting_since(base: WireSchema, steps: Sequence[WireSchema | None], wanted: set[str],
                     more: MoreFindings | None = None) -> dict[str, int]:
    """fingerprint -> index of the step after which it persists, for the WANTED fingerprints:
    those of the report base -> last step, which the caller has already built (so the last
    step is not compared again). A step given as None left the sources as they were.
    MORE adds the findings of the detectors that need both endpoints' machine facts (CPU
    models, property defaults), so that those are attributed too."""
    since: dict[str, int] = {}
    present: set[str] = set()
    for index, schema in enumerate(steps):
        if schema is None:
            continue  # nothing the extractor reads changed: the same findings
        if index == len(steps) - 1:
            found = wanted
        else:
            report = build_report(base.label, base, schema.label, schema)
            findings = report.findings + (more(report, base, schema) if more is not None else [])
            found = {f.fingerprint for f in findings} & wanted
        for fingerprint in found - present:
            since[fingerprint] = index
        present = found
    return {fingerprint: index for fingerprint, index in since.items() if fingerprint in present}
