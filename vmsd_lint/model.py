"""The extracted model of one revision: small immutable records, easy to cache and compare."""
from __future__ import annotations

import operator
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import NamedTuple


def _pickled_as_values(cls):
    """Pickle a record as (class, field values): the extraction a forked process sends
    back (extract/pair.py) is then made by the constructor, several times quicker than
    dataclasses' own __setstate__ for slotted classes, which looks the fields up again
    for every object.  (The cache stores no pickles: extract/codec.py.)"""
    names = [f.name for f in fields(cls)]
    getter = operator.attrgetter(*names)
    values = getter if len(names) > 1 else lambda obj: (getter(obj),)  # one name: attrgetter gives the bare value
    cls.__reduce__ = lambda self: (cls, values(self))
    return cls


def target_of(path: str | None) -> str | None:
    """The target whose directory holds PATH (`target/arm/machine.c` -> "arm"), or None:
    a section whose VMSD lives there is that target's own (its CPU), and several targets
    send sections of one name ("cpu") that are never the same section."""
    if path and path.startswith("target/"):
        parts = path.split("/", 2)
        return parts[1] if len(parts) == 3 else None
    return None


def section_key(name: str, target: str | None) -> str:
    """How a section is keyed in placements and wire schemas: its wire name, and the
    target for a target's own section (`cpu@arm`)."""
    return f"{name}@{target}" if target else name


class Severity(StrEnum):
    """How sure a break is: every stream (error), under a condition (warning), none (info)."""
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Direction(StrEnum):
    """forward: OLD source, NEW destination; backward: NEW source, OLD destination."""
    FORWARD = "forward"
    BACKWARD = "backward"


class EndpointKind(StrEnum):
    """What an endpoint was read from, and so how much its wire schema can say."""
    SOURCE = "source"  # a revision, directory, WORKTREE or INDEX, read as C and Rust
    DUMP = "dump"  # a -dump-vmstate file
    SNAPSHOT = "snapshot"  # vmsd-lint dump's native JSON


class InitContext(StrEnum):
    """The init path a wire section is registered from (placement/contexts.py): the hook
    of the framework that the walk back from the registration site reaches.

    Placement.context holds the value as a plain string -- the cache stores strings, not
    enums (extract/codec.py), and a snapshot is read back as strings -- or, when several
    contexts reach one site, ambiguous() of them."""
    MACHINE_INIT = "machine init"  # a machine's mc->init
    MACHINE_INSTANCE_INIT = "machine instance_init"
    CPU_REALIZE = "CPU realize"  # dc->realize of a CPU or a CPU core
    CPU_INSTANCE_INIT = "CPU instance_init"
    DEVICE_REALIZE = "device realize"  # dc->realize of any other device
    DEVICE_INSTANCE_INIT = "device instance_init"
    QDEV = "device realize (qdev registers dc->vmsd)"  # a dc->vmsd: qdev registers it
    MIGRATION_CORE = "migration core"  # no entry point, in migration/: the core's own
    NOT_PARSED = "unknown (the function was not parsed)"
    NO_ENTRY_POINT = "unknown (no entry point found in the tree)"

    @staticmethod
    def ambiguous(contexts: list[InitContext]) -> str:
        """The context of a site that several contexts reach: never one guessed."""
        return "ambiguous: " + " or ".join(sorted(contexts))


_CONTEXT_OWNERS: dict[str, str] = {  # by the value: a str enum hashes and compares as its value
    InitContext.MACHINE_INIT: "machine", InitContext.MACHINE_INSTANCE_INIT: "machine",
    InitContext.CPU_REALIZE: "CPU", InitContext.CPU_INSTANCE_INIT: "CPU",
    InitContext.DEVICE_REALIZE: "device", InitContext.DEVICE_INSTANCE_INIT: "device", InitContext.QDEV: "device",
    InitContext.MIGRATION_CORE: "migration core",
}


def context_owner(context: str) -> str | None:
    """Whose init path a Placement.context is: "machine", "CPU", "device" or "migration
    core"; None when unknown or ambiguous.  A section that moves between a device's
    instance_init and its realize keeps its owner (diff/placement.py)."""
    return _CONTEXT_OWNERS.get(context)


# VMStateField flags whose element count is a run-time value (vmstate.h)
VARIABLE_COUNT = {"VMS_VARRAY_INT32", "VMS_VARRAY_UINT32", "VMS_VARRAY_UINT16", "VMS_VARRAY_UINT8", "VMS_VBUFFER"}


@_pickled_as_values
@dataclass(frozen=True, slots=True)
class Location:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@_pickled_as_values
@dataclass(frozen=True, slots=True)
class Definitions:
    """The macro and enum constant definitions a field's expansion and evaluation used, in
    first-use order, each "NAME\tfile:line\tdigest of its parameters and body (of a
    constant: its value)\tdigests of its lines".  A record, not a bare
    tuple, so that the fields using the same ones share one object, which the cache then
    stores once (a tree's 7,700 fields use 565 distinct lists: stored per field, they
    added 2 MB to each extraction and 0.15 s to a warm check)."""
    entries: tuple[str, ...]


@_pickled_as_values
@dataclass(frozen=True, slots=True)
class Field:
    """One VMStateField after macro expansion."""
    name: str | None
    line: int
    macro: str  # the macro written in the source, e.g. VMSTATE_UINT32_V
    version_id: int | None = 0
    field_exists: str | None = None  # name of the test function, None when there is none
    size: int | None = None
    num: int | None = None  # element count of a fixed array (VMS_ARRAY)
    num_field: str | None = None  # the state member holding the count of a VARRAY (the size of a VBUFFER;
    # for bytes written by hand, the length expression of `qemu_put_buffer(f, buf, len)`)
    flags: tuple[str, ...] = ()  # VMS_* flag names, as the tree's enum defines them
    info: str | None = None  # vmstate_info_* symbol
    vmsd: str | None = None  # nested description: C symbol (resolved to a name in Vmsd.refs)
    struct_version_id: int | None = None
    start: int | None = None
    unresolved: tuple[str, ...] = ()  # members that could not be evaluated
    # What names the cause of a change the field's own lines do not show (diff/causes.py);
    # not compared: two fields are the same field whatever their macros' homes.
    # A digest of the field's own tokens as written, before expansion:
    text: str | None = field(default=None, compare=False)
    # the definitions its expansion and evaluation used (extract/context.py)
    depends: Definitions | None = field(default=None, compare=False)


HAND_WRITTEN = "written by hand"  # how Vmsd.synthetic starts for the bytes a function writes


@_pickled_as_values
@dataclass(frozen=True, slots=True)
class Vmsd:
    symbol: str
    file: str
    line: int
    name: str | None
    version_id: int | None = 0
    minimum_version_id: int | None = 0
    fields: tuple[Field, ...] | None = None  # None: no .fields at all (QEMU prints no "Fields")
    subsections: tuple[str, ...] | None = None  # C symbols; None: no .subsections
    hooks: dict = field(default_factory=dict)  # pre_load/post_load/pre_save/post_save/needed → function
    unmigratable: bool = False
    priority: str | None = None
    early_setup: bool = False
    static: bool = True
    # Not declared in C but what a function writes by hand, modelled (extract.saves):
    # says which function and for which device and transport, e.g.
    # "virtio_save() of virtio-net-device over virtio-pci-bus"
    synthetic: str | None = None  # starts with HAND_WRITTEN for a function's own bytes
    copy_of: str | None = None  # for a copy with hand-written fields expanded: the declared VMSD's key

    @property
    def key(self) -> str:
        return f"{self.file}:{self.symbol}"


@_pickled_as_values
@dataclass(frozen=True, slots=True)
class QomType:
    name: str
    symbol: str  # the TypeInfo variable
    file: str
    line: int
    parent: str | None
    class_init: str | None
    abstract: bool = False
    vmsd: str | None = None  # key of the VMSD assigned in class_init (own), or None
    vmsd_line: int | None = None
    data_vmsd: str | None = None  # symbol in the class_data descriptor (`dc->vmsd = info->vmsd`)
    instance_init: str | None = None  # the TypeInfo's .instance_init function
    class_struct: str | None = None  # the C struct of its class (`.class_size = sizeof(VirtioDeviceClass)`)


class Step(NamedTuple):
    """One step of a function that writes a migration stream by hand, in body order."""
    kind: str  # "put" (qemu_put_*), "save" (vmstate_save_state*), "call", "dispatch" (x->member(...))
    name: str  # the callee, or the member called through
    args: tuple[str, ...]  # argument texts; for a dispatch, the object it is called on first
    line: int
    # inside a loop: (line, counter, count) of the innermost one (parse._loop_of), () outside
    loop: tuple
    conditions: tuple[str, ...]  # the enclosing `if` conditions, outermost first ("!(c)" in an else)


@_pickled_as_values
@dataclass(frozen=True, slots=True)
class FunctionInfo:
    """A function of a parsed file, as the placement graph walks it."""
    name: str
    file: str
    line: int
    static: bool
    calls: tuple[str, ...] = ()  # direct callees, each once, in order
    hooks: tuple[tuple[str, str, int], ...] = ()  # (member, function, line) of `x->member = function;`
    # (value, line, class struct or None) of each `x->vmsd = value;`: the struct is the
    # declared type of x (`VirtioDeviceClass *vdc`), None when it is not a declared class pointer
    vmsd_assignments: tuple[tuple[str, int, str | None], ...] = ()
    # (class struct, member, value, line) of `x->member = function | &variable | true | false;`
    # on a declared class pointer x (`cc->sysemu_ops = &arm_sysemu_ops;`)
    class_members: tuple[tuple[str, str, str, int], ...] = ()
    steps: tuple[Step, ...] = ()  # for a function that writes a stream by hand (qemu_put_*, ...)
    class_vars: tuple[tuple[str, str], ...] = ()  # (variable, class struct) of such a function
    version_checks: tuple[tuple[str, str], ...] = ()  # (operator, value) of each `version_id OP value`
    # (lhs, VMSD symbol, run-time name or "", line) of `lhs = g_memdup(&vmsd, ...)` (and `lhs->name = ...`)
    copies: tuple[tuple[str, str, str, int], ...] = ()
    # calls whose arguments the tree-wide steps read (extract.qemu.EVALUATED_CALLS):
    # (callee, arguments evaluated to a string or number where they can be, else as written, line)
    evaluated_calls: tuple[tuple[str, tuple, int], ...] = ()

    @property
    def key(self) -> str:
        return f"{self.file}:{self.name}"


@_pickled_as_values
@dataclass(frozen=True, slots=True)
class OpsTable:
    """A table of operations (`SysemuCPUOps`, `VMStateInfo`, `SCSIBusInfo`...): the members
    that name a function or the address of a variable."""
    type: str
    symbol: str
    file: str
    line: int
    static: bool
    members: tuple[tuple[str, str, int], ...]  # (member, "function" or "&variable", line)

    @property
    def key(self) -> str:
        return f"{self.file}:{self.symbol}"

    def member(self, name: str) -> str | None:
        return next((value for member, value, _ in self.members if member == name), None)


@_pickled_as_values
@dataclass(frozen=True, slots=True)
class Registration:
    """A call that registers migration state outside qdev."""
    function: str  # the registering call: vmstate_register, register_savevm_live, ...
    file: str
    line: int
    enclosing: str  # the function the call is in
    instance_id: str
    vmsd: str | None  # VMSD key when resolved
    idstr: str | None  # section name for register_savevm_live
    args: tuple[str, ...] = ()
    # the QOM types whose class gives this VMSD (`cpu->cc->sysemu_ops->legacy_vmsd`), or
    # to which a condition limits it; empty: whatever runs the call
    types: tuple[str, ...] = ()
    version: int | None = None  # register_savevm_live(): the version its handlers save and load
    # the `if` conditions around the call, outermost first ("!(c)" in an else): a device
    # property may decide whether it registers (virtio-mem's early_migration)
    conditions: tuple[str, ...] = ()


@_pickled_as_values
@dataclass(frozen=True, slots=True)
class Placement:
    """Where a wire section is registered (computed by vmsd_lint.placement.contexts)."""
    section: str
    mechanism: str  # "qdev", or the registering call: vmstate_register, register_savevm_live, ...
    context: str  # an InitContext's value, or InitContext.ambiguous() of several
    function: str  # the function holding the registration (for qdev: the device types)
    entries: tuple[str, ...]  # the entry-point functions the walk reached
    instance_id: str
    file: str
    line: int
    vmsd: str | None = None  # key of the VMSD it sends (None: a register_savevm_live handler)

    @property
    def where(self) -> str:
        return f"{self.function} ({self.file}:{self.line})"

    @property
    def owner(self) -> str | None:
        """Whose init path registers it (context_owner): None when unknown or ambiguous."""
        return context_owner(self.context)


# The Diagnostic kind of a device whose C and Rust implementations differ on the wire
# (extract/rust.py): not a change between two revisions, so never a finding.
IMPLEMENTATIONS_DIFFER = "implementations-differ"


@_pickled_as_values
@dataclass(frozen=True, slots=True)
class Diagnostic:
    kind: str  # "unresolved", "parse-error", "ambiguous", IMPLEMENTATIONS_DIFFER
    file: str
    line: int
    message: str


@dataclass(slots=True)
class Extraction:
    """Everything extracted from one endpoint.

    Not frozen: the extractor fills it in steps (the files' facts, then the tree-wide
    linking adds VMSDs and diagnostics, then the placements; extract/derive.py the same
    from a base), and a snapshot is read back into it entry by entry (report/jsonfiles.py).
    The records it holds are frozen; once returned by the extractor it is not changed."""
    endpoint: str
    commit: str | None
    target: str | None
    target_dir: str | None = None  # target/<base arch>/ preferred where names collide
    vmsds: dict[str, Vmsd] = field(default_factory=dict)  # key: file:symbol
    types: dict[str, QomType] = field(default_factory=dict)  # key: QOM type name
    registrations: list[Registration] = field(default_factory=list)
    functions: dict[str, FunctionInfo] = field(default_factory=dict)  # key: file:name (parsed files)
    tables: dict[str, OpsTable] = field(default_factory=dict)  # key: file:symbol
    # type name -> key of the VMSD its section sends when that is not its own dc->vmsd as
    # declared (a virtio device over one transport: extract.saves)
    variants: dict[str, str] = field(default_factory=dict)
    placements: dict[str, list[Placement]] = field(default_factory=dict)  # section name -> where registered
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # the keys this revision's -dump-vmstate writes for a field (migration/savevm.c)
    dump_field_keys: tuple[str, ...] = ("field", "version_id", "field_exists", "num", "size")
    files_read: int = 0
    files_parsed: int = 0
    # per parsed file, what it gave before the tree-wide steps (extract.perfile.FileRecord)
    records: dict | None = None
    # path -> names of the .c files it #includes (those are not derived: extract.derive)
    c_includes: dict | None = None
    names: object = None  # extract.names.NameMap of a derived extraction (kept in the cache otherwise)
    # with --target, the files its binary compiles (extract/build), set after the extraction;
    # None: every file counts (no target, or a tree without a build description)
    built: frozenset[str] | None = None

    def in_build(self, path: str | None) -> bool:
        """With --target, what its binary does not compile is not there: another target's
        own state (target/<other>/), and with the build model every .c or .rs file it
        leaves out (a header is in whatever includes it)."""
        if self.built is not None and path is not None and path.endswith((".c", ".rs")):
            return path in self.built
        target = target_of(path)
        return target is None or self.target_dir is None or self.target_dir == f"target/{target}/"

    def to_dict(self) -> dict:
        return asdict(self)
