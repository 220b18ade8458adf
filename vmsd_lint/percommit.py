"""`--per-commit`: which commit of OLD..NEW introduced each finding.

The commits are walked in order (first parent) and OLD is compared with each of them; a
finding is attributed to the last commit where it appeared (absent before it, present
from it on), so a break introduced, fixed and reintroduced names the reintroducing
commit.  Only findings of OLD..NEW are attributed: one fixed later in the range is not
reported at all.  Commits that touch no C source keep the previous commit's findings;
the others are derived from the commit before them (extract.derive) where they only
change .c files, else re-extract only what the cache has not seen.
"""
from __future__ import annotations

from .check import Options, find_repo, load_endpoint
from .diff import compare
from .errors import InputError
from .findings import Report
from .sources.tree import resolve_commit, run_git

SOURCE_PATTERNS = ("*.c", "*.h", "*.inc", "configs/targets/*.mak", "rust/*.rs")


def attribute_commits(report: Report, old_spec: str, new_spec: str, options: Options) -> int:
    """Fill each finding's `commit`; returns the number of commits walked."""
    repo = find_repo(options.repo)
    try:
        previous, last = resolve_commit(repo, old_spec), resolve_commit(repo, new_spec)
    except InputError as exc:
        raise InputError(f"--per-commit needs two git revisions: {exc}") from None
    wanted = {f.fingerprint for f in report.findings}
    introduced: dict[str, str] = {}
    old, base = load_endpoint(old_spec, options)
    present: set[str] = set()
    commits = _commits(repo, previous, last)
    for commit, subject in commits:
        if _touches_sources(repo, previous, commit):
            schema, base = load_endpoint(commit, options, base)  # derived from the commit before
            found = {f.fingerprint for f in compare(old, schema)} & wanted
            for fingerprint in found - present:
                introduced[fingerprint] = f"{commit[:12]} {subject}"
            present = found
        previous = commit
    report.findings = [f.with_(commit=introduced.get(f.fingerprint)) for f in report.findings]
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
