"""The build models of a tree's targets, cached by a digest of its build description.

A revision's meson.build, Kconfig and configs/**.mak files decide what each
qemu-system-TARGET compiles; two trees whose build description is the same (most commits
of a range, the staged index and HEAD) share their models, so a range or a pre-commit run
computes them once.  Without a cache each run computes them again (about 0.2-1 s a target).
"""
from __future__ import annotations

from ...sources.tree import SourceTree
from ..cache import Cache
from ..store import Kind
from .model import RELEASE, Profile, TargetBuild, UnknownTarget, build_model, known_targets

BUILDS: Kind[dict] = Kind("build-model", "the build description's digest, the target and the profile")
_MADE: dict[str, TargetBuild] = {}  # key -> model, for the trees of one run (the commits of a range)


def target_builds(tree: SourceTree, cache: Cache | None, targets: list[str] | None = None,
                  profile: Profile = RELEASE) -> dict[str, TargetBuild] | None:
    """TARGETS' build models (every known target when None), by name; None for a tree that
    has no build description (not a QEMU tree: a sample, a directory of a few files).
    An unknown target is UnknownTarget (an input error naming the known ones)."""
    digest = tree.build_digest()
    if digest is None:
        return None
    known = known_targets(tree)
    for target in targets or ():
        if target not in known:
            raise UnknownTarget(target, known)
    wanted = targets or known
    kind = _kind()
    keys = {target: f"{digest}:{target}:{profile!r}" for target in wanted}
    missing = [key for key in keys.values() if key not in _MADE]
    stored = cache.get_many(kind, missing) if cache is not None and missing else {}
    builds: dict[str, TargetBuild] = {}
    made: dict[str, object] = {}
    for target, key in keys.items():
        data = stored.get(key)
        if key in _MADE:
            builds[target] = _MADE[key]
        elif isinstance(data, dict):
            builds[target] = _MADE[key] = TargetBuild.from_dict(data)
        else:
            builds[target] = _MADE[key] = build_model(tree, target, profile)
            made[key] = builds[target].to_dict()
    if made and cache is not None:
        cache.write_later(kind, made)
    return builds


def _kind() -> str:
    """The cache kind, tied to the code that computes the models (as every kind is)."""
    return BUILDS.tag
