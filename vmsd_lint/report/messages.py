"""A finding's message: its catalogue entry's template filled with the finding's arguments."""
from __future__ import annotations

import re

from ..catalogue import load_catalogue, render_message
from ..diff.findings import Finding

# Characters that would end a line or drive a terminal: C0 and C1 controls, DEL, and the
# Unicode line and paragraph separators.  File names and C strings may hold any of them.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": r"\n", "\r": r"\r", "\t": r"\t"}


def one_line(text: str) -> str:
    r"""TEXT with its control characters written as escapes (\n, \x1b, \u2028): a file
    named `a<newline>::error ...` must not start a report line of its own."""
    return _UNPRINTABLE.sub(lambda m: _escape(m.group()), text)


def _escape(char: str) -> str:
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def message(finding: Finding) -> str:
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
