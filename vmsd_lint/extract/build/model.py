"""What `qemu-system-TARGET` compiles: QEMU's meson.build files and Kconfig, read (never run)
for one target under a build profile, give the enabled CONFIG_* symbols and the source files
linked into the binary or loaded by it as modules.

The default profile is a distribution's release build (Debian's): default devices, every
module built and loaded, Rust off, every host feature present, on an x86_64 Linux host.
"""
from __future__ import annotations

import difflib
import posixpath
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...errors import InputError
from ...sources.tree import SourceTree
from .diagnostics import Diagnostic
from .kconfig import evaluate_kconfig
from .values import Dependency, Feature, File, Library, Objects, SourceFiles

if TYPE_CHECKING:  # meson's parser is imported where a model is computed: a run reading cached models spares it
    from mesonbuild import mparser

OPTION_FILES = ("meson_options.txt", "meson.options")


@dataclass(frozen=True)
class Profile:
    """The choices configure would be given.  Another distribution's build changes these:
    `options` are meson -D values (a feature option is "enabled", "disabled" or "auto"; auto
    with every host library present behaves as enabled), `config_host` is what configure
    writes into config-host.mak besides TARGET_DIRS."""
    # Debian builds Xen support as a separate flavour (qemu-system-xen): not in this binary
    options: tuple[tuple[str, Any], ...] = (("modules", "enabled"), ("default_devices", True),
                                            ("fuzzing", False), ("xen", "disabled"))
    config_host: tuple[tuple[str, str], ...] = (
        ("CONFIG_POSIX", "y"), ("CONFIG_LINUX", "y"), ("CONFIG_MODULES", "y"), ("CONFIG_COROUTINE_BACKEND", "ucontext"),
        # tools and flags configure records (QEMU 7.2 reads them from config-host.mak): no effect on what is built
        *((name, "") for name in ("QEMU_CFLAGS", "QEMU_OBJCFLAGS", "QEMU_LDFLAGS", "GLIB_CFLAGS", "GLIB_LIBS",
                                  "GLIB_BINDIR", "PYTHON", "GIT", "GIT_SUBMODULES", "MAKE", "GENISOIMAGE",
                                  "EXESUF", "MESON", "NINJA", "RUST_TARGET_TRIPLE")),
        ("GLIB_VERSION", "2.74.6"))
    rust: bool = False
    host_cpu: str = "x86_64"
    # pkg-config names of host libraries the build lacks: the measured release binaries have
    # no u2f-emulated, no rutabaga GPUs and no virtio-nsm-device, which need these
    absent: tuple[str, ...] = ("u2f-emu", "rutabaga_gfx_ffi", "libcbor")


RELEASE = Profile()
RELEASE_WITH_RUST = Profile(rust=True)


@dataclass(frozen=True)
class TargetBuild:
    target: str  # e.g. "x86_64"
    configs: frozenset[str]  # the CONFIG_* symbols set for the target (devices, accelerators, host)
    files: frozenset[str]  # the source files compiled into qemu-system-TARGET or its modules
    modules: frozenset[str]  # of those, the files built as loadable modules
    diagnostics: tuple[Diagnostic, ...]  # constructs not evaluated
    assumptions: tuple[Diagnostic, ...] = field(default=(), repr=False)  # conditions the profile decided

    def compiles(self, path: str) -> bool:
        return posixpath.normpath(path) in self.files

    def enabled(self, symbol: str) -> bool:
        return symbol in self.configs

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON, msgpack) for a cache: from_dict() gives the same record."""
        return {"target": self.target, "configs": sorted(self.configs), "files": sorted(self.files),
                "modules": sorted(self.modules),
                "diagnostics": [[d.file, d.line, d.message] for d in self.diagnostics],
                "assumptions": [[d.file, d.line, d.message] for d in self.assumptions]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TargetBuild:
        return cls(data["target"], frozenset(data["configs"]), frozenset(data["files"]), frozenset(data["modules"]),
                   tuple(Diagnostic(*d) for d in data["diagnostics"]),
                   tuple(Diagnostic(*d) for d in data["assumptions"]))


class UnknownTarget(InputError):
    """An InputError, so that the command line ends with exit status 2 and this one line."""

    def __init__(self, target: str, known: list[str]) -> None:
        close = difflib.get_close_matches(target, known, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        super().__init__(f"unknown target '{target}'{hint} (known: {', '.join(known)})")
        self.target, self.known = target, known


def known_targets(tree: SourceTree) -> list[str]:
    """The system-emulation targets of a tree: configs/targets/*-softmmu.mak."""
    names = tree.list_dir("configs/targets") or []
    return sorted(n[: -len("-softmmu.mak")] for n in names if n.endswith("-softmmu.mak"))


# Bump when the model computes something else for the same tree (a cache key part).
MODEL_VERSION = 1


def cache_key(tree: SourceTree, target: str, profile: Profile = RELEASE) -> str | None:
    """A key under which a revision's TargetBuild (to_dict) may be cached; None for a tree
    that is not a commit (a directory, the working tree), whose files may change."""
    if not tree.commit or tree.layers is not None:
        return None
    return f"build-model:{MODEL_VERSION}:{tree.commit}:{target}:{profile!r}"


def build_model(tree: SourceTree, target: str, profile: Profile = RELEASE) -> TargetBuild:
    from .meson import Host, Interpreter
    known = known_targets(tree)
    if target not in known:
        raise UnknownTarget(target, known)
    softmmu = f"{target}-softmmu"
    tree.prefetch(["meson.build", *OPTION_FILES, "Kconfig", f"configs/targets/{softmmu}.mak",
                   f"configs/devices/{softmmu}/default.mak"])
    kconfig_diagnostics: list[Diagnostic] = []

    def run_kconfig(inputs: list[str], words: list[str], defconfig: bool) -> dict[str, str]:
        assigns = [w for w in words if w.startswith("CONFIG_") and "=" in w]
        values, diags = evaluate_kconfig(tree.read_path, inputs, assigns, defconfig, tree.prefetch)
        kconfig_diagnostics.extend(diags)
        external = {w.split("=", 1)[0][7:] for w in assigns}
        # minikconf prints the symbols that are on, less those given on its command line
        return {f"CONFIG_{name}": "y" for name, on in sorted(values.items()) if on and name not in external}

    host = Host(read_options(tree, profile), {**dict(profile.config_host), "TARGET_DIRS": softmmu},
                cpu=profile.host_cpu, rust=profile.rust, absent=profile.absent)
    interp = Interpreter(tree.read_path, host, run_kconfig, tree.prefetch)
    interp.run_file("meson.build")
    config = interp.vars.get("config_target_mak", {}).get(softmmu) if isinstance(
        interp.vars.get("config_target_mak"), dict) else None
    diagnostics = interp.diagnostics + kconfig_diagnostics
    if not isinstance(config, dict):
        diagnostics.append(Diagnostic("meson.build", 0, f"no configuration computed for {softmmu}"))
        config = {}
    exe = next((lib for lib in interp.libraries if lib.kind == "executable" and lib.name == f"qemu-system-{target}"),
               None)
    if exe is None:
        diagnostics.append(Diagnostic("meson.build", 0, f"no executable qemu-system-{target} declared"))
    files = linked_files([exe] if exe else [])
    modules = linked_files([lib for lib in interp.libraries if lib.kind == "shared_module"])
    return TargetBuild(target, frozenset(k for k, v in config.items() if k.startswith("CONFIG_") and v not in
                                         ("n", "", False)),
                       frozenset(files | modules), frozenset(modules), tuple(diagnostics), tuple(interp.assumptions))


def linked_files(roots: list[Any]) -> set[str]:
    """The source files reachable from libraries and executables: their sources, extracted
    objects, and the objects, libraries and dependencies they link (declare_dependency)."""
    files: set[str] = set()
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        item = stack.pop()
        if isinstance(item, File):
            files.add(item.path)
            continue
        if isinstance(item, list):
            stack.extend(item)
            continue
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, Library):
            stack.extend(item.parts)
        elif isinstance(item, Objects):
            stack.append(item.library)
        elif isinstance(item, Dependency):
            stack.extend(item.parts)
        elif isinstance(item, SourceFiles):
            stack.extend(item.sources + item.deps)
    return files


def read_options(tree: SourceTree, profile: Profile) -> dict[str, Any]:
    """Every option's default from meson_options.txt (or meson.options), then the profile's."""
    from mesonbuild import mparser

    options: dict[str, Any] = {}
    for name in OPTION_FILES:
        data = tree.read_path(name)
        if data is None:
            continue
        for node in mparser.Parser(data.decode("utf-8", "replace"), name).parse().lines:
            if isinstance(node, mparser.FunctionNode) and node.func_name.value == "option":
                option_default(node, options)
    for name, value in profile.options:
        options[name] = Feature(name, value) if isinstance(value, str) and isinstance(options.get(name), Feature) \
            else value
    options["rust"] = Feature("rust", "enabled" if profile.rust else "disabled")
    # meson's own options, which QEMU's files read too
    options.update({"buildtype": "release", "debug": False, "optimization": "2", "b_lto": False,
                    "b_sanitize": "none", "b_pie": True, "b_coverage": False, "default_library": "static",
                    "prefix": "/usr", "bindir": "bin", "libdir": "lib", "datadir": "share",
                    "sysconfdir": "/etc", "localstatedir": "/var", "libexecdir": "libexec",
                    "includedir": "include", "mandir": "share/man", "localedir": "share/locale",
                    "wrap_mode": "default", "werror": False, "warning_level": "1", "c_std": "gnu11",
                    "cpp_std": "gnu++11", "prefer_static": False, "strip": False, "c_args": [],
                    "c_link_args": [], "cpp_args": [], "cpp_link_args": [], "objc_args": [],
                    "auto_features": Feature("auto_features", "auto")})
    return options


def option_default(node: mparser.FunctionNode, options: dict[str, Any]) -> None:
    from mesonbuild import mparser

    args = node.args
    if not args.arguments or not isinstance(args.arguments[0], mparser.StringNode):
        return
    name = args.arguments[0].value
    kw = {k.value: v for k, v in args.kwargs.items()}
    kind = kw["type"].value if isinstance(kw.get("type"), mparser.StringNode) else ""
    value = literal(kw.get("value"))
    if kind == "feature":
        options[name] = Feature(name, value if isinstance(value, str) else "auto")
    elif kind == "boolean":
        options[name] = True if value is None else value
    elif kind == "combo":
        choices = literal(kw.get("choices")) or [""]
        options[name] = value if value is not None else choices[0]
    elif kind == "array":
        options[name] = value if value is not None else (literal(kw.get("choices")) or [])
    elif kind == "integer":
        options[name] = value if value is not None else 0
    else:
        options[name] = value if value is not None else ""


def literal(node: Any) -> Any:
    from mesonbuild import mparser

    if isinstance(node, mparser.StringNode | mparser.BooleanNode | mparser.NumberNode):
        return node.value
    if isinstance(node, mparser.ArrayNode):
        return [literal(a) for a in node.args.arguments]
    return None


__all__ = [
    "MODEL_VERSION",
    "RELEASE",
    "RELEASE_WITH_RUST",
    "Profile",
    "TargetBuild",
    "UnknownTarget",
    "build_model",
    "cache_key",
    "known_targets",
]
