#!/usr/bin/env python3
"""Scaffold a catalogue type: `python scripts/new_rule.py SLUG [--like SAMPLE]`.

Writes rules/SLUG.toml (every key, to fill in), samples/SLUG/old and new (a copy of the
trees of samples/SAMPLE, default field-removed, whose NEW side you then edit to show the
change), samples/SLUG/README.md and an empty snapshot samples/SLUG/expected.json. The
catalogue tests fail until the TOML is filled in and a detector emits the type
(`new_finding("SLUG", ...)` in vmsd_lint/diff/); then regenerate the snapshot with
`VMSD_LINT_UPDATE_SNAPSHOTS=1 pytest tests/test_samples.py` and the docs with
`vmsd-lint rules --format markdown > docs/catalogue.md`.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")

TOML = '''slug = "{slug}"
title = "TODO: a title"
severity = "error"  # error, warning or info (the default of a finding of this type)
directions = ["forward", "backward"]  # what it breaks; [] for info
# severities = ["warning"]            # other severities a finding may carry
# direction_sets = [["forward"]]      # other direction sets a finding may carry
summary = "TODO: one line: what changed"
message = "TODO: the finding's message, with {{placeholders}} the detector fills in"
explanation = \'\'\'
TODO: what happens on the wire, in plain English. Explain each direction it breaks:
Forward (OLD source, NEW destination): ...
Backward (NEW source, OLD destination): ...
\'\'\'
related = []

[[qemu_error]]
text = "TODO: the printf format QEMU prints, as in its source"
source = "migration/TODO.c: function()"
direction = "both"

[example]
bad = \'\'\'
TODO: the change, as C
\'\'\'
good = \'\'\'
TODO: the compatible way to make it
\'\'\'

[[recipe]]
title = "TODO: how to restore compatibility"
body = \'\'\'
TODO
\'\'\'
'''

README = """# {slug}

**Change:** TODO: what the NEW tree changes, in which file.

**Breaks:** TODO: which directions, and how the stream goes wrong.

**Expected findings:** TODO: `{slug}` on VMSD ..., field ...
"""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("slug")
    parser.add_argument("--like", default="field-removed", help="the sample whose trees are copied")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to write into")
    args = parser.parse_args(argv)
    root = args.root
    if not SLUG.match(args.slug):
        parser.error(f"'{args.slug}' is not lower-case words joined by '-'")
    rule = root / "rules" / f"{args.slug}.toml"
    sample = root / "samples" / args.slug
    like = root / "samples" / args.like
    if rule.exists() or sample.exists():
        parser.error(f"{rule.relative_to(root)} or {sample.relative_to(root)} exists already")
    if not (like / "old").is_dir():
        parser.error(f"samples/{args.like} has no old/ tree to copy")
    rule.write_text(TOML.format(slug=args.slug), encoding="utf-8")
    for side in ("old", "new"):
        shutil.copytree(like / side, sample / side, symlinks=True)  # `include` stays a link
    (sample / "README.md").write_text(README.format(slug=args.slug), encoding="utf-8")
    (sample / "expected.json").write_text("[]\n", encoding="utf-8")
    print(f"wrote {rule.relative_to(root)} and {sample.relative_to(root)}/: fill in the TODOs, edit new/, "
          f"emit new_finding(\"{args.slug}\", ...) from vmsd_lint/diff/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
