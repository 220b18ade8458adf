"""`vmsd-lint review`: check a patch or a series as it would land on a base revision.

Every patch is applied in memory (sources/apply.py) onto the tree the previous one left:
base -> p1 -> p2 -> ...  The last tree is compared with the base, to know which findings
survive the series (a break that a later patch undoes is not reported); each surviving
finding is attributed with `--per-commit`'s policy (timeline.py): to the patch after which
it persists to the end. Each step is also compared with the one before it, so that a
reply quotes the finding with the lines of the patch that introduced it.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..diff.findings import Finding, Report
from ..placement.wire import WireSchema
from ..sources.apply import PatchDoesNotApply, apply_patch, changed_paths
from ..sources.patches import Mail, Patch
from ..sources.tree import DEFAULT_EXCLUDES, SourceTree, wanted_path
from .check import Options, build_report, detected, extract_tree, judged, open_tree, schema_of
from .timeline import persisting_since


@dataclass(frozen=True, slots=True)
class Step:
    patch: Patch
    tree: SourceTree
    schema: WireSchema
    report: Report  # the tree before this patch -> the tree after it


@dataclass(frozen=True, slots=True)
class Shown:
    """A surviving finding as the patch that introduced it shows it: old/new lines are
    that patch's own (its diff's) lines, so a reply can quote them."""
    step: int  # index into Review.steps
    finding: Finding
    in_patch: bool = True  # False: its lines are the final tree's, not the patch's


@dataclass(slots=True)
class Review:
    """Not frozen: made first, then _attribute() fills `shown` and the report's findings."""
    base: str  # the --base revision as given
    base_schema: WireSchema
    steps: list[Step]
    report: Report  # base -> last tree: the findings that survive, each with its patch in `introduced_by`
    shown: dict[str, Shown] = field(default_factory=dict)  # by fingerprint
    cover: Mail | None = None

    @property
    def final_schema(self) -> WireSchema:
        return self.steps[-1].schema


def review_series(patches: list[Patch], base: str, options: Options, cover: Mail | None = None,
                  base_why: str = "--base") -> Review:
    """BASE_WHY: how the base was chosen, for the error of a patch that does not apply."""
    base_tree = open_tree(base, options.repo)
    trees = [base_tree]
    for patch in patches:  # all applied before any extraction: a bad patch fails fast
        try:
            trees.append(apply_patch(trees[-1], patch, tree_label(base, patch)))
        except PatchDoesNotApply as exc:
            raise PatchDoesNotApply(f"{exc}; tried on {base} ({base_why}): pass --base REV to apply the series to "
                                    f"another revision") from None
    extracted = (base_tree, extract_tree(base_tree, options))
    schemas = [schema_of(base_tree, extracted[1], options)]
    changed = []  # per patch: whether it changed what the extractor reads
    for patch, tree in zip(patches, trees[1:]):
        changed.append(_reaches_extractor(patch))
        if not changed[-1]:
            schemas.append(_relabel(schemas[-1], tree))
            continue
        extracted = (tree, extract_tree(tree, options, base=extracted))  # derived from the tree before
        schemas.append(schema_of(tree, extracted[1], options))
    steps = [Step(patch, tree, schema, build_report(before.label, before, schema.label, schema))
             for patch, tree, before, schema in zip(patches, trees[1:], schemas, schemas[1:])]
    final = judged(build_report(base, schemas[0], schemas[-1].label, schemas[-1]), schemas[0], schemas[-1], options)
    review = Review(base, schemas[0], steps, final, cover=cover)
    _attribute(review, [s if c else None for s, c in zip(schemas[1:], changed)], options)
    return review


def tree_label(base: str, patch: Patch) -> str:
    if patch.total == 1:
        return f"{base} + patch"
    return f"{base} + patch 1/{patch.total}" if patch.number == 1 else \
        f"{base} + patches 1-{patch.number}/{patch.total}"


def _reaches_extractor(patch: Patch) -> bool:
    """Whether the patch changes a file the extractor reads (sources, target configs):
    a documentation-only patch leaves the schema as it was, so it is not extracted again."""
    return any(wanted_path(p, DEFAULT_EXCLUDES) or p.startswith("configs/targets/") for p in changed_paths(patch))


def _relabel(schema: WireSchema, tree: SourceTree) -> WireSchema:
    return replace(schema, label=tree.label, commit=None)


def _attribute(review: Review, steps: list[WireSchema | None], options: Options) -> None:
    """Fill each surviving finding's `introduced_by` with its patch, and review.shown (the
    finding as that patch's own step shows it, else with the final tree's lines)."""
    rules = {f.rule for f in review.report.findings}
    since = persisting_since(review.base_schema, steps, {f.fingerprint for f in review.report.findings},
                             lambda step, base, schema: detected(step, base, schema, options, rules))
    attributed = []
    for finding in review.report.findings:
        index = since.get(finding.fingerprint)
        own = None if index is None else next(
            (f for f in review.steps[index].report.findings if f.fingerprint == finding.fingerprint), None)
        shown = Shown(index, own) if own is not None else _fallback(review, finding, index)
        label = patch_label(review.steps[shown.step].patch)
        attributed.append(finding.with_(introduced_by=label))
        review.shown[finding.fingerprint] = Shown(shown.step, shown.finding.with_(introduced_by=label),
                                                  shown.in_patch)
    review.report.findings = attributed


def _fallback(review: Review, finding: Finding, index: int | None) -> Shown:
    """A finding its patch's own step does not show (only the patches together make it):
    that patch, else the last patch that touched its file, else the last patch. Its lines
    are the final tree's."""
    if index is None:
        files = {loc.file for loc in (finding.old, finding.new) if loc}
        touching = [i for i, step in enumerate(review.steps) if files & changed_paths(step.patch)]
        index = touching[-1] if touching else len(review.steps) - 1
    return Shown(index, finding, in_patch=False)


def patch_label(patch: Patch) -> str:
    """'[PATCH 2/3] hw/char/serial: ...': the subject, with a [PATCH] tag when it has none."""
    return patch.subject if patch.subject.startswith("[") else f"[PATCH {patch.number}/{patch.total}] " \
        f"{patch.subject or '(no subject)'}"
