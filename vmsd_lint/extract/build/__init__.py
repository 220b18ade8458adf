"""The per-target build model: what qemu-system-TARGET compiles, read from meson and Kconfig.

    from vmsd_lint.extract.build import build_model, known_targets
    build = build_model(tree, "x86_64")      # TargetBuild: .configs, .files, .diagnostics
    build.compiles("hw/i386/pc_q35.c")       # True
"""
from .diagnostics import Diagnostic
from .model import (
    RELEASE,
    RELEASE_WITH_RUST,
    Profile,
    TargetBuild,
    UnknownTarget,
    build_model,
    cache_key,
    known_targets,
)

__all__ = ["RELEASE", "RELEASE_WITH_RUST", "Diagnostic", "Profile", "TargetBuild", "UnknownTarget", "build_model",
           "cache_key", "known_targets"]
