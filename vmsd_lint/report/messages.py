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


NOT_CHECKED = "not checked"  # an unresolved construct: nothing is known either way


def directions_words(finding: Finding) -> str:
    if finding.rule == "unresolved":  # breaks nothing known, but was not checked: never "compatible"
        return NOT_CHECKED
    if finding.was is not None:  # lowered by a machine verdict: what it breaks on the wire, and why
        verdict = finding.machines
        why = "board-only" if verdict is not None and verdict.board_only else \
            "gated by a compat property" if verdict is not None and verdict.gated is not None else "no machine type"
        return "breaks " + " and ".join(finding.broken_directions) + f" on the wire; {why}"
    if not finding.directions:
        return "wire-compatible"
    return "breaks " + " and ".join(finding.directions)


def machine_list(names: tuple[str, ...] | list[str], families: int = 4) -> str:
    """Machine type names, a family's versions as a range: "pc-q35-2.4..7.2, virt-2.6..7.2"."""
    grouped: dict[str, list[str]] = {}
    for name in names:
        family, _, version = name.rpartition("-")
        grouped.setdefault(family if family and version[:1].isdigit() else name, []).append(version)
    parts = []
    for family, versions in grouped.items():
        if len(versions) == 1 and versions[0] and f"{family}-{versions[0]}" in names:
            parts.append(f"{family}-{versions[0]}")
        elif len(versions) > 1:
            parts.append(f"{family}-{versions[-1]}..{versions[0]}" if _newer(versions[0], versions[-1])
                         else f"{family}-{versions[0]}..{versions[-1]}")
        else:
            parts.append(family)
    shown = ", ".join(parts[:families])
    return shown + (f" and {len(parts) - families} more famil{'y' if len(parts) - families == 1 else 'ies'}"
                    if len(parts) > families else "")


def _newer(a: str, b: str) -> bool:
    def key(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in v.split(".") if p.isdigit())
    return key(a) > key(b)


def machines_words(finding: Finding) -> str | None:
    """The machine-type verdict in a line: "breaks pc-q35-7.2, ...", "safe for machine types
    <= 8.1: gated by ...", "board-only: ..."; None without a verdict (or for a change that
    breaks nothing on the wire)."""
    verdict = finding.machines
    if verdict is None:
        return None
    if verdict.board_only:
        return finding.downgrade or "board-only: no versioned machine type can hold it"
    gated = verdict.gated
    gate = (f"gated by {gated.driver} {gated.property}, {gated.value} in {gated.compat} ({gated.file}:{gated.line})"
            if gated is not None else None)
    if verdict.breaks:
        words = f"breaks {machine_list(verdict.breaks)}"
        return words + (f"; safe for machine types <= {gated.up_to}: {gate}" if gated is not None else "")
    if gated is not None:
        return f"safe for machine types <= {gated.up_to}: {gate}"
    if not finding.broken_directions:
        return None
    return "breaks no versioned machine type of both releases"


def machine_counts_words(report) -> str:
    """"(3 board-only, 2 gated, 40 breaking versioned machine types[ of pc-q35-7.2])" of a
    report (diff.findings.Report) whose findings carry machine verdicts."""
    counts = report.machine_counts()
    scope = f" ({report.machine})" if report.machine else ""
    return (f"{counts['board_only']} board-only, {counts['gated']} gated, {counts['breaking']} breaking "
            f"versioned machine types{scope}")
