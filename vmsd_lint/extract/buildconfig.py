"""The build configuration a static read assumes, since no configure step runs.

Host: a 64-bit little-endian Linux host (QEMU's release builds).  Target: the
TARGET_* symbols meson would put in config-target.h, read from the tree's own
``configs/targets/<arch>-softmmu.mak``.  Host features (CONFIG_*) are taken as
enabled, except CONFIG_USER_ONLY: we analyse system emulation.
"""
from __future__ import annotations

from dataclasses import dataclass, field

HOST_DEFINES = {
    "__linux__": 1, "__x86_64__": 1, "__LP64__": 1, "__GNUC__": 12, "__SIZEOF_POINTER__": 8,
    "__SIZEOF_LONG__": 8, "__CHAR_BIT__": 8, "HOST_BIG_ENDIAN": 0, "CONFIG_LINUX": 1,
    "CONFIG_POSIX": 1, "CONFIG_SYSTEM_ONLY": 1, "COMPILING_PER_TARGET": 1, "NEED_CPU_H": 1,
    "__STDC__": 1, "__STDC_VERSION__": 201112, "CONFIG_INT128": 1, "HOST_LONG_BITS": 64,
    # GCC's byte-order builtins (include/qemu/compiler.h derives HOST_BIG_ENDIAN from them)
    "__BYTE_ORDER__": 1234, "__ORDER_LITTLE_ENDIAN__": 1234, "__ORDER_BIG_ENDIAN__": 4321,
}
HOST_UNDEFINED = {"CONFIG_USER_ONLY", "_WIN32", "__APPLE__", "__FreeBSD__", "__OpenBSD__",
                  "__NetBSD__", "__sun__", "__MINGW32__", "CONFIG_BSD", "CONFIG_WIN32",
                  "CONFIG_DARWIN", "__cplusplus", "__mips__", "__sparc__", "__powerpc__", "__s390x__",
                  "__aarch64__", "__arm__", "__riscv", "__i386__", "__loongarch64", "QEMU_MODULE"}


@dataclass(frozen=True)
class BuildConfig:
    target: str | None = None  # e.g. "x86_64"
    base_arch: str | None = None  # e.g. "i386": the target/<dir> holding its sources
    defines: dict[str, int | str] = field(default_factory=dict)

    def key(self) -> str:
        return f"{self.target}:{self.base_arch}:{sorted(self.defines.items())}"

    def is_defined(self, name: str) -> bool | None:
        """True/False when the configuration decides; None when the tree must say."""
        if name in self.defines or name in HOST_DEFINES:
            return True
        if name in HOST_UNDEFINED:
            return False
        if name.startswith("TARGET_") and self.target:
            return False
        if name.startswith("CONFIG_"):
            return None
        return None

    def value(self, name: str) -> int | str | None:
        if name in self.defines:
            return self.defines[name]
        return HOST_DEFINES.get(name)


def target_config(target: str | None, mak_text: str | None) -> BuildConfig:
    """The TARGET_* symbols of a target, as meson derives them from its .mak file."""
    if not target:
        return BuildConfig()
    defines: dict[str, int | str] = {}
    settings: dict[str, str] = {}
    for line in (mak_text or "").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            settings[key.strip()] = value.strip()
    arch = settings.get("TARGET_ARCH", target)
    base = settings.get("TARGET_BASE_ARCH", arch)
    defines["TARGET_" + arch.upper()] = 1
    defines["TARGET_" + base.upper()] = 1
    for key, value in settings.items():
        if not key.startswith("TARGET_") or key in ("TARGET_ARCH", "TARGET_BASE_ARCH", "TARGET_XML_FILES"):
            continue
        if value == "y":
            defines[key] = 1
        elif value == "n" or value == "":
            continue
        elif value.isdigit():
            defines[key] = int(value)
    return BuildConfig(target, base, defines)
