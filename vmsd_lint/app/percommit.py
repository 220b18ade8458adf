"""`--per-commit`: which commit of OLD..NEW introduced each finding.

The commits are walked in order (first parent) and OLD is compared with each of them
(timeline.py: a finding belongs to the commit after which it persists to the end, so a
break introduced, fixed and reintroduced names the reintroducing commit; one fixed later
in the range is not reported at all).  Commits that touch no C source keep the previous commit's findings;
the others are derived from the commit before them (extract.derive) where they only
change .c files, else re-extract only what the cache has not seen.
"""
from __future__ import annotations

from dataclasses import replace

from ..diff.findings import Report
from ..errors import InputError
from ..processes import silent_progress
from ..sources.tree import resolve_commit, run_git
from .check import Options, detected, find_repo, load_endpoint
from .timeline import persisting_since

SOURCE_PATTERNS = ("*.c", "*.h", "*.inc", "configs/targets/*.mak", "rust/*.rs")


def attribute_commits(report: Report, old_spec: str, new_spec: str, options: Options) -> int:
    """Fill each finding's `commit`; returns the number of commits walked."""
    repo = find_repo(options.repo)
    try:
        previous, last = resolve_commit(repo, old_spec), resolve_commit(repo, new_spec)
    except InputError as exc:
        raise InputError(f"--per-commit needs two git revisions: {exc}") from None
    old, base = load_endpoint(old_spec, options)
    commits = _commits(repo, previous, last)
    schemas: list = []
    walking = replace(options, progress=silent_progress)  # one bar: the commits'
    with options.progress("per commit", len(commits)) as bar:
        for commit, _ in commits:
            if _touches_sources(repo, previous, commit):
                schema, base = load_endpoint(commit, walking, base)  # derived from the commit before
                schemas.append(schema)
            else:
                schemas.append(None)  # no C source touched: the previous commit's findings
            previous = commit
            bar.update(1)
    rules = {f.rule for f in report.findings}
    since = persisting_since(old, schemas, {f.fingerprint for f in report.findings},
                             lambda step, base_schema, schema: detected(step, base_schema, schema, options, rules))
    labels = [f"{commit[:12]} {subject}" for commit, subject in commits]
    report.findings = [f.with_(commit=labels[since[f.fingerprint]] if f.fingerprint in since else None)
                       for f in report.findings]
    return len(commits)


def _commits(repo: str, old: str, new: str) -> list[tuple[str, str]]:
    """(commit id, subject) of old..new along the first parent, oldest first."""
    # --no-show-signature: a signed commit would run the repository's gpg.program
    listing = run_git(repo, "log", "--no-show-signature", "--reverse", "--first-parent", "--format=%H %s",
                      f"{old}..{new}").decode()
    return [tuple(line.split(" ", 1)) if " " in line else (line, "") for line in listing.splitlines() if line]


def _touches_sources(repo: str, before: str, after: str) -> bool:
    names = run_git(repo, "diff", "--no-ext-diff", "--no-textconv", "--name-only", before, after, "--",
                    *SOURCE_PATTERNS)
    return bool(names.strip())
