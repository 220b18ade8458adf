"""Which target's binary saved a stream, when `check-stream` is given no --target: read
from the stream's `cpu` section, as its JSON description lists it.

- The family: the target/<dir>/machine.c that names the most of the section's fields
  (`cpreg_vmstate_array_len` is Arm's, `env.eip` x86's, `env.psw.mask` s390x's), and its
  targets (configs/targets/*-softmmu.mak whose TARGET_BASE_ARCH is that dir).
- Within a family of a 32- and a 64-bit target (i386/x86_64, arm/aarch64): the 64-bit one
  (its name ends in 64) when the section shows 64-bit state (x86's `env.regs` of 8 bytes,
  an Arm register list holding AArch64 registers), the other when it shows 32-bit x86
  state; otherwise it is not guessed.
"""
from __future__ import annotations

from typing import Any

from ..extract.build.model import known_targets
from ..extract.buildconfig import target_config
from ..sources.stream import Stream, StreamData
from ..sources.tree import SourceTree
from .streamload import entries

AARCH64_GROUP = 0x6030000000130000 >> 16  # an AArch64 system register's index, bits 16-63


def guess_target(tree: SourceTree, data: StreamData, stream: Stream, desc: Any) -> tuple[str | None, str]:
    """(the target, how it was found), or (None, why it cannot be)."""
    cpu = _cpu_description(desc)
    if cpu is None:
        return None, "the stream has no described cpu section to tell its target by"
    names = [str(f.get("name")) for f in cpu["fields"] if isinstance(f, dict)]
    family, found = _family(tree, names)
    if family is None:
        return None, f"no target/*/machine.c names the stream's cpu fields ({', '.join(names[:4])}, ...)"
    targets = [t for t in known_targets(tree)
               if target_config(t, (tree.read_path(f"configs/targets/{t}-softmmu.mak") or b"").decode(
                   "utf-8", "replace")).base_arch == family]
    if len(targets) == 1:
        return targets[0], f"its cpu section's fields are target/{family}'s ({found} of {len(names)})"
    wide = _wide(data, stream, cpu)
    chosen = [t for t in targets if t.endswith("64") == wide] if wide is not None else []
    if len(chosen) != 1:
        return None, f"its cpu section is target/{family}'s, built by {', '.join(targets)}: which one is not shown"
    return chosen[0], (f"its cpu section is target/{family}'s and holds {'64' if wide else '32'}-bit state")


def _cpu_description(desc: Any) -> dict[str, Any] | None:
    devices = desc.get("devices") if isinstance(desc, dict) else None
    for entry in devices if isinstance(devices, list) else ():
        if isinstance(entry, dict) and "cpu" in (entry.get("name"), entry.get("vmsd_name")) \
                and isinstance(entry.get("fields"), list):
            return entry
    return None


def _family(tree: SourceTree, names: list[str]) -> tuple[str | None, int]:
    """The target/<dir> whose machine.c names the most of NAMES (more than half)."""
    counts = {}
    for name in tree.list_dir("target") or []:
        text = tree.read_path(f"target/{name}/machine.c")
        if text:
            counts[name] = sum(1 for field in set(names) if field.encode() in text)
    best = max(counts.values(), default=0)
    top = [d for d, n in counts.items() if n == best]
    return (top[0], best) if len(top) == 1 and best * 2 > len(set(names)) else (None, best)


def _wide(data: StreamData, stream: Stream, cpu: dict[str, Any]) -> bool | None:
    """Whether the cpu section shows 64-bit state (True), 32-bit (False), or cannot say."""
    regs = next((f for f in cpu["fields"] if isinstance(f, dict) and f.get("name") == "env.regs"), None)
    section = next((s for s in stream.sections if s.idstr == "cpu" and s.kind == "full"), None)
    if section is not None:
        placed = {e.name: e for e in entries(cpu, section.start).values()}
        indexes = placed.get("cpreg_vmstate_indexes")
        if indexes is not None and "cpreg_vmstate_array_len" in placed:
            raw = data[indexes.start:indexes.start + indexes.size * indexes.count]
            words = [int.from_bytes(raw[k:k + 8], "big") for k in range(0, len(raw) - 7, 8)]
            return any(w >> 16 == AARCH64_GROUP for w in words) or None
    if regs is not None and regs.get("size") in (4, 8):
        return regs["size"] == 8
    return None
