"""Where a section is registered, OLD against NEW: `registration-moved` when its init
context or mechanism changed (machine init -> CPU realize, a legacy vmstate_register()
-> qdev's dc->vmsd), `instance-id-changed` when the same path registers it with
another instance id.  A destination matches an incoming section by (name, instance
id), so either change leaves OLD's sections unmatched."""
from __future__ import annotations

from ..catalogue import qemu_prints
from ..model import Location, Placement, Severity
from .engine import Differ
from .findings import BACKWARD, FORWARD, new_finding
from .instances import instance_id
from .semantics import BOTH


def compare_placements(differ: Differ) -> None:
    old, new = differ.old.placements, differ.new.placements
    if old is None or new is None:
        return  # a -dump-vmstate file does not say where sections are registered
    for key in sorted(set(old) & set(new)):
        before, after = old[key], new[key]
        if any(_path(p)[1] is None for p in before + after):
            continue  # an unknown or ambiguous context cannot be compared (the graph command shows it)
        section = before[0].section
        target = key[len(section) + 1:] if key != section else None
        found = len(differ.drafts)
        old_paths, new_paths = {_path(p) for p in before}, {_path(p) for p in after}
        if old_paths - new_paths and new_paths - old_paths:
            _moved(differ, section, before, after)
        elif old_paths - new_paths:  # one way of registering it is gone, the others stay
            for gone in (p for p in before if _path(p) not in new_paths):
                _registration_removed(differ, gone)
        elif new_paths - old_paths:
            for came in (p for p in after if _path(p) not in old_paths):
                _registration_added(differ, came)
        else:
            _instance_ids(differ, section, before, after)
        if target:  # a target's own section: its findings say which target
            differ.drafts[found:] = [(pair, f.with_(target=target)) for pair, f in differ.drafts[found:]]


def _path(placement: Placement) -> tuple[str, str | None]:
    """(qdev or a registration call, the owner of the init path): moving between a
    device's instance_init and its realize keeps the owner, and the section with it."""
    if placement.mechanism == "qdev" or _device_owned(placement):
        return "qdev", "device"
    return "registration", placement.owner


def _moved(differ: Differ, section: str, before: list[Placement], after: list[Placement]) -> None:
    new_paths = {_path(p) for p in after}
    old_paths = {_path(p) for p in before}
    gone = next((p for p in before if _path(p) not in new_paths), before[0])
    came = next((p for p in after if _path(p) not in old_paths), after[0])
    args = {"section": section, "old_context": _words(gone), "old_function": gone.where,
            "new_context": _words(came), "new_function": came.where}
    differ.report(None, new_finding(
        "registration-moved", directions=BOTH, vmsd=section, path=section, args=args,
        old=Location(gone.file, gone.line), new=Location(came.file, came.line), sections=(section,),
        runtime_error=qemu_prints("registration-moved", "unknown-section", section, _instance_words(gone))))


def _registration_removed(differ: Differ, gone: Placement) -> None:
    """OLD also registered the section from a path NEW dropped (spapr's dummy ICPs):
    instances OLD sends from that path find nothing to load into."""
    owner = f"{gone.mechanism}() in {gone.where}"
    differ.report(None, new_finding(
        "section-removed", directions=(FORWARD,), vmsd=gone.section, path=f"{gone.section}@{gone.function}",
        args={"owner": owner, "section": gone.section}, old=Location(gone.file, gone.line),
        sections=(gone.section,),
        runtime_error=qemu_prints("section-removed", "unknown-section", gone.section, _instance_words(gone))))


def _registration_added(differ: Differ, came: Placement) -> None:
    """NEW also registers the section from a new path: OLD has nothing to load those into."""
    owner = f"{came.mechanism}() in {came.where}"
    differ.report(None, new_finding(
        "section-added", severity=Severity.WARNING, directions=(BACKWARD,), vmsd=came.section,
        path=f"{came.section}@{came.function}", args={"owner": owner, "section": came.section},
        new=Location(came.file, came.line), sections=(came.section,),
        runtime_error=qemu_prints("section-added", "unknown-section", came.section, _instance_words(came))))


def _legacy_aliases(differ: Differ, section: str, before: list[Placement], after: list[Placement]) -> None:
    """A device type whose qdev section gained, lost or changed its legacy alias instance id
    (qdev_set_legacy_instance_id): streams older than the alias's version are matched by it."""
    old, new = _qdev_instances(before), _qdev_instances(after)
    for qom_type in sorted(old.keys() & new.keys()):
        (old_id, old_p), (new_id, new_p) = old[qom_type], new[qom_type]
        if old_id == new_id:
            continue
        args = {"section": section, "old_instance": old_id, "new_instance": new_id}
        differ.report(None, new_finding(
            "instance-id-changed", severity=Severity.WARNING, directions=(FORWARD,), vmsd=section,
            path=f"{section}@{qom_type}", args=args, old=Location(old_p.file, old_p.line),
            new=Location(new_p.file, new_p.line), sections=(section,),
            types=(qom_type,), runtime_error=qemu_prints("instance-id-changed", "unknown-section", section, "<alias>")))


def _qdev_instances(placements: list[Placement]) -> dict[str, tuple[str, Placement]]:
    return {t: (p.instance_id, p) for p in placements if p.mechanism == "qdev"
            for t in p.function.removeprefix("dc->vmsd of ").split(", ")}


def _instance_ids(differ: Differ, section: str, before: list[Placement], after: list[Placement]) -> None:
    """Registrations on the same path (context, registering function) with another instance id."""
    _legacy_aliases(differ, section, before, after)
    new_by_path = {(_path(p), p.function): p for p in after if _path(p)[0] != "qdev"}
    for old in before:
        new = new_by_path.get((_path(old), old.function))
        if new is None or new.instance_id == old.instance_id:
            continue
        args = {"section": section, "old_instance": old.instance_id, "new_instance": new.instance_id}
        # VMSTATE_INSTANCE_ID_ANY numbers a name's instances from 0 in registration order:
        # for a single instance that is 0 again, so only a second instance would differ
        any_and_zero = {old.instance_id, new.instance_id} == {"0", ANY}
        differ.report(None, new_finding(
            "instance-id-changed", severity=Severity.WARNING if any_and_zero else Severity.ERROR, directions=BOTH,
            vmsd=section, path=f"{section}@{old.function}", args=args, old=Location(old.file, old.line),
            new=Location(new.file, new.line), sections=(section,),
            runtime_error=qemu_prints("instance-id-changed", "unknown-section", section, _instance_words(old))))


ANY = "VMSTATE_INSTANCE_ID_ANY"


def _device_owned(placement: Placement) -> bool:
    """vmstate_register(VMSTATE_IF(dev), 0 or ANY, ...) from a device's own init path names
    the section as qdev does (the device's path, then the VMSD name)."""
    return placement.mechanism.endswith("(owner)") and placement.instance_id in ("0", ANY) \
        and placement.owner == "device"


def _words(placement: Placement) -> str:
    if placement.mechanism == "qdev":
        return "qdev (dc->vmsd, at device realize)"
    return f"{placement.context}, {placement.mechanism}(instance {placement.instance_id})"


def _instance_words(placement: Placement) -> str:
    return str(instance_id(placement))  # VMSTATE_INSTANCE_ID_ANY: 0, the first of its idstr
