"""`vmsd-lint review --format email`: a plain-text reply to a patch, ready for qemu-devel.

One reply per patch that introduced a finding: the patch quoted with "> ", trimmed to
the hunks that hold the findings ("[...]" where something is cut), each finding written
right below the quoted line it concerns, in the catalogue's words (type, directions, what
QEMU prints, the first fix recipe), our own lines wrapped at 72 columns.  Several replies
are printed as an mbox, one message each.
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .. import __version__
from ..catalogue import load_catalogue
from ..diff.findings import Finding
from ..sources.patches import FileDiff, Hunk, Patch

if TYPE_CHECKING:  # the review the reply renders (app stage): used for annotations only
    from ..app.review import Review, Shown
from ..model import Severity
from .messages import headline, machines_words, one_line
from .reply import reply_message

WIDTH = 72
SHOWN_SEVERITIES = (Severity.ERROR, Severity.WARNING)  # info findings are wire-compatible: counted, not quoted
LONG_HUNK = 20  # longer hunks are cut to a few lines around each finding
BEFORE, AFTER = 6, 3  # quoted lines kept before and after a finding's line in a long hunk
CUT = "[...]"
MBOX_SEPARATOR = "From vmsd-lint Mon Sep 17 00:00:00 2001"
DIRECTION_WORDS = {
    "forward": "forward (from a QEMU without this patch to one with it)",
    "backward": "backward (from a QEMU with this patch to one without it)",
}


def render_email(review: Review, quiet: bool = False) -> str:
    by_step = replies_by_step(review)
    if not by_step:
        return "" if quiet else no_findings_note(review)
    replies = [render_reply(review, step, shown) for step, shown in sorted(by_step.items())]
    if len(replies) == 1:
        return replies[0]
    return "\n".join(f"{MBOX_SEPARATOR}\n{_mbox_escape(reply)}" for reply in replies)


def _mbox_escape(message: str) -> str:
    """In an mbox a body line starting with "From " would start a new message (mboxrd)."""
    return re.sub(r"^(>*From )", r">\1", message, flags=re.M)


def replies_by_step(review: Review) -> dict[int, list[Shown]]:
    """The shown findings (not waived, error or warning) grouped by the patch that made them."""
    by_step: dict[int, list[Shown]] = {}
    for finding in review.report.findings:
        if finding.severity in SHOWN_SEVERITIES:
            shown = review.shown[finding.fingerprint]
            by_step.setdefault(shown.step, []).append(shown)
    return by_step


def render_reply(review: Review, step: int, shown: list[Shown]) -> str:
    """One reply: headers and MIME framing by the standard library (report/reply.py)."""
    patch = review.steps[step].patch
    lines = wrap(f"On {patch.date or 'an unknown date'}, {patch.author or 'the author'} wrote:")
    lines += quote_patch(patch, shown)
    lines += [""] + closing(review, step, [s.finding for s in shown])
    lines += ["", "-- ", f"vmsd-lint {__version__}"]
    return reply_message(patch, "\n".join(_squeeze_blank_lines(lines)) + "\n")


# -- where each finding goes ------------------------------------------------------------

@dataclass
class QuotePlan:
    """Where the reply quotes each finding: at a changed line, after a hunk, or apart."""
    on_line: dict[tuple[int, int, int], list[Finding]] = field(default_factory=dict)  # (file, hunk, raw line)
    after_hunk: dict[tuple[int, int], list[Finding]] = field(default_factory=dict)  # (file, hunk)
    loose: list[Finding] = field(default_factory=list)  # its file is not in the patch

    def hunks(self, file_index: int) -> set[int]:
        keys = list(self.on_line) + list(self.after_hunk)
        return {key[1] for key in keys if key[0] == file_index}


def place(files: list[FileDiff], shown: list[Shown]) -> QuotePlan:
    placement = QuotePlan()
    for item in shown:
        line = anchor_line(files, item.finding) if item.in_patch else None
        if line is not None:
            placement.on_line.setdefault(line, []).append(item.finding)
            continue
        hunk = nearest_hunk(files, item.finding)
        if hunk is not None:
            placement.after_hunk.setdefault(hunk, []).append(item.finding)
        else:
            placement.loose.append(item.finding)
    return placement


def numbered(hunk: Hunk):
    """(raw index, tag, old line number or None, new line number or None) per diff line."""
    old, new = hunk.old_start, hunk.new_start
    for index, raw in enumerate(hunk.raw):
        tag = raw[:1] or " "
        if tag == "\\":
            continue
        yield index, tag, (old if tag != "+" else None), (new if tag != "-" else None)
        old += tag != "+"
        new += tag != "-"


def anchor_line(files: list[FileDiff], finding: Finding) -> tuple[int, int, int] | None:
    """The diff line a finding points at: its new line when the patch adds it, its old line
    when the patch removes it (a removal has only an old place), else an unchanged line."""
    candidates = []
    for fi, diff in enumerate(files):
        for hi, hunk in enumerate(diff.hunks):
            for ri, tag, old, new in numbered(hunk):
                if finding.new and diff.new_path == finding.new.file and new == finding.new.line:
                    candidates.append((0 if tag == "+" else 2, fi, hi, ri))
                if finding.old and diff.old_path == finding.old.file and old == finding.old.line:
                    candidates.append((1 if tag == "-" else 3, fi, hi, ri))
    return min(candidates)[1:] if candidates else None


def nearest_hunk(files: list[FileDiff], finding: Finding) -> tuple[int, int] | None:
    """The hunk of the finding's file closest to its line, for a finding on a line the patch
    does not show (say a field whose type changed in a header)."""
    best = None
    for loc, new_side in ((finding.new, True), (finding.old, False)):
        if loc is None:
            continue
        for fi, diff in enumerate(files):
            if (diff.new_path if new_side else diff.old_path) != loc.file:
                continue
            for hi, hunk in enumerate(diff.hunks):
                start, count = (hunk.new_start, hunk.new_count) if new_side else (hunk.old_start, hunk.old_count)
                distance = max(start - loc.line, loc.line - (start + max(count, 1) - 1), 0)
                best = min(best or (distance, fi, hi), (distance, fi, hi))
        if best is not None:
            return best[1:]
    return None


# -- quoting ----------------------------------------------------------------------------

def quote_patch(patch: Patch, shown: list[Shown]) -> list[str]:
    placement = place(patch.files, shown)
    out: list[str] = []
    cut = bool(patch.message.strip())  # the commit message is not quoted
    for fi, diff in enumerate(patch.files):
        wanted = placement.hunks(fi)
        if not wanted:
            cut = True
            continue
        cut = _flush_cut(out, cut)
        out += [f"> {line}" for line in diff.header]
        for hi, hunk in enumerate(diff.hunks):
            if hi not in wanted:
                cut = True
                continue
            cut = _flush_cut(out, cut)
            out += quote_hunk(hunk, {ri: found for (f, h, ri), found in placement.on_line.items()
                                     if (f, h) == (fi, hi)})
            for finding in placement.after_hunk.get((fi, hi), []):
                out += [""] + comment(finding, located=False) + [""]
    _flush_cut(out, cut)
    for finding in placement.loose:
        out += [""] + comment(finding, located=False)
    return out


def _flush_cut(out: list[str], cut: bool) -> bool:
    if cut:
        out.append(CUT)
    return False


def quote_hunk(hunk: Hunk, findings_at: dict[int, list[Finding]]) -> list[str]:
    keep = _kept_lines(hunk, set(findings_at))
    out = [f"> {hunk.header}"]
    previous = -1
    for index in sorted(keep):
        if index != previous + 1:
            out.append(CUT)
        out.append(f"> {hunk.raw[index]}".rstrip() if not hunk.raw[index] else f"> {hunk.raw[index]}")
        previous = index
        for finding in findings_at.get(index, []):
            out += [""] + comment(finding, located=True) + [""]
    if previous != len(hunk.raw) - 1:
        out.append(CUT)
    return out


def _kept_lines(hunk: Hunk, anchors: set[int]) -> set[int]:
    """Every line of a short hunk; around each finding's line in a long one (the start of
    a long hunk when the finding is not on one of its lines)."""
    count = len(hunk.raw)
    if count <= LONG_HUNK:
        return set(range(count))
    if not anchors:
        return set(range(BEFORE + AFTER + 1))
    keep = set()
    for anchor in anchors:
        keep.update(range(max(anchor - BEFORE, 0), min(anchor + AFTER + 1, count)))
    return keep


# -- the words --------------------------------------------------------------------------

def wrap(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent,
                         break_on_hyphens=False) or [""]


def comment(finding: Finding, located: bool) -> list[str]:
    """A finding in the catalogue's words; LOCATED: it sits below its own quoted line."""
    rule = load_catalogue().get(finding.rule)
    place_ = "" if located or finding.location is None else f"{finding.location}: "
    # a file name or C string may hold a newline: one line, so that it cannot start one
    lines = wrap(one_line(f"{place_}[{finding.rule}] {headline(finding)}. {direction_sentence(finding)}"))
    error = finding.runtime_error or _catalogue_error(rule, finding)
    if error:
        lines += [""] + wrap(f"QEMU will print: {error}")
    machines = machines_words(finding)
    if machines:
        lines += [""] + wrap(one_line(f"Machine types: {machines}."))
    if finding.fix:
        lines += [""] + wrap(one_line(f"Suggested fix: {finding.fix}."))
        if rule is not None:
            lines += wrap(f"(all fixes: vmsd-lint explain {rule.slug})", indent="  ")
    elif rule is not None and rule.recipes:
        lines += [""] + recipe_lines(rule)
    return lines


def direction_sentence(finding: Finding) -> str:
    if finding.rule == "unresolved":
        return "This part was not checked (info): vmsd-lint could not resolve it."
    if not finding.directions:
        return "This is wire-compatible (info)."
    verb = "This breaks" if finding.severity == Severity.ERROR else "This can break"
    return f"{verb} migration {' and '.join(DIRECTION_WORDS[d] for d in finding.directions)}."


def _catalogue_error(rule, finding: Finding) -> str | None:
    if rule is None:
        return None
    for error in rule.qemu_errors:
        if error.direction == "both" or error.direction in finding.directions:
            return error.text
    return None


def recipe_lines(rule) -> list[str]:
    """The first fix recipe: its title and the first sentences of its body."""
    recipe = rule.recipes[0]
    lines = wrap(f"Suggested fix: {recipe.title.rstrip('.')}.")
    first_paragraph = " ".join(recipe.body.strip().split("\n\n")[0].split())
    lines += wrap(_sentences(first_paragraph, 240), indent="  ")
    lines += wrap(f"(all fixes: vmsd-lint explain {rule.slug})", indent="  ")
    return lines


def _sentences(text: str, limit: int) -> str:
    """Whole sentences of TEXT, at least one, up to about LIMIT characters."""
    taken = ""
    for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z(])", text):
        if taken and len(taken) + len(sentence) > limit:
            break
        taken = f"{taken} {sentence}".strip()
    return taken


def closing(review: Review, step: int, findings: list[Finding]) -> list[str]:
    counts = {s: sum(f.severity == s for f in findings) for s in SHOWN_SEVERITIES}
    sections = sorted({s for f in findings for s in f.sections}) or sorted({f.vmsd for f in findings})
    patch = review.steps[step].patch
    where = f"as patch {patch.number} of {patch.total}, " if patch.total > 1 else ""
    text = (f"vmsd-lint found {_count(counts['error'], 'error')} and {_count(counts['warning'], 'warning')} "
            f"in this patch (section{'s' if len(sections) != 1 else ''} {', '.join(sections)}), "
            f"{where}applied to {_base(review)}.")
    others = sum(1 for f in review.report.findings if f.severity in SHOWN_SEVERITIES) - len(findings)
    if others:
        text += (" 1 other finding of the series is in the reply to its patch." if others == 1 else
                 f" {others} other findings of the series are in the replies to their patches.")
    infos = _info_words(review.report.findings)
    if infos:
        text += f" {infos} (info) not shown: vmsd-lint review --format text."
    return wrap(text) + [""] + wrap("Each type is explained, with what QEMU prints and every fix, "
                                    "by `vmsd-lint explain TYPE`.")


def no_findings_note(review: Review) -> str:
    """One paragraph: what was checked, and what could not be."""
    before, after = review.base_schema, review.final_schema
    patches = [step.patch for step in review.steps]
    if len(patches) == 1:
        what = f'"{patches[0].subject}"'
    elif review.cover is not None:
        what = f'the {len(patches)} patches of "{review.cover.subject}" (each compared with the tree before it)'
    else:
        what = f"{len(patches)} patches (each compared with the tree before it)"
    text = (f"vmsd-lint {__version__} found no migration-breaking change in {what}, applied to "
            f"{_base(review)}: {_count(len(before.vmsds), 'VMSD')} in {_count(len(before.sections), 'section')} "
            f"before, {_count(len(after.vmsds), 'VMSD')} in {_count(len(after.sections), 'section')} after.")
    infos = _info_words(review.report.findings)
    if infos:
        text += f" {infos} noted (info; see --format text)."
    if review.report.waived:
        text += f" {_count(len(review.report.waived), 'finding')} waived by the configuration."
    if after.diagnostics:
        text += (f" {_count(len(after.diagnostics), 'construct')} of the patched tree could not be "
                 f"resolved and were not checked ({len(before.diagnostics)} before).")
    return "\n".join(wrap(text)) + "\n"


def _info_words(findings: list[Finding]) -> str:
    """"2 wire-compatible changes and 1 construct not checked": an unresolved construct is
    info too, but nothing says it is compatible."""
    infos = [f for f in findings if f.severity == Severity.INFO]
    unchecked = sum(1 for f in infos if f.rule == "unresolved")
    parts = [_count(len(infos) - unchecked, "wire-compatible change") if len(infos) > unchecked else "",
             _count(unchecked, "construct") + " not checked" if unchecked else ""]
    return " and ".join(p for p in parts if p)


def _base(review: Review) -> str:
    commit = review.base_schema.commit
    if not commit or commit.startswith(review.base):  # a base chosen by its id: said once
        return review.base
    return f"{review.base} ({commit[:12]})"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _squeeze_blank_lines(lines: list[str]) -> list[str]:
    """No two blank lines in a row, no "[...]" right after another."""
    out: list[str] = []
    for line in lines:
        if line == "" and (not out or out[-1] == ""):
            continue
        if line == CUT and CUT in out[-2:] and all(x in ("", CUT) for x in out[-2:]):
            continue
        out.append(line)
    return out
