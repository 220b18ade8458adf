"""A finding's message: its catalogue entry's template filled with the finding's arguments."""
from __future__ import annotations

from ..findings import Finding


def message(finding: Finding) -> str:
    from ..catalogue import load_catalogue, render_message

    rule = load_catalogue().get(finding.rule)
    if rule is None:  # a finding must name a catalogue type; say so rather than hide it
        return f"{finding.rule}: " + ", ".join(f"{k}={v}" for k, v in finding.args)
    return render_message(rule, finding.arguments)


def headline(finding: Finding) -> str:
    """'vmstate 'serial': <message>' -- what every one-line format prints."""
    return f"vmstate '{finding.vmsd}': {message(finding)}" if finding.rule != "unresolved" else message(finding)


def directions_words(finding: Finding) -> str:
    if not finding.directions:
        return "wire-compatible"
    return "breaks " + " and ".join(finding.directions)
