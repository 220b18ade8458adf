"""The main job: read two endpoints, compare their wire schemas, apply waivers.

Endpoints: a git revision, a directory, the working tree, a -dump-vmstate JSON file or a
`vmsd-lint dump` snapshot -- mixed freely.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from ..diff import compare
from ..diff.cpumodels import cpu_model_findings
from ..diff.cpuregs import AARCH64, ARM_TARGETS, UNSTABLE_MODELS, arm_code_differs, cpu_register_findings
from ..diff.findings import DIAGNOSTICS_LISTED, Endpoint, Finding, Report, new_finding
from ..diff.othermodels import other_model_findings
from ..errors import InputError
from ..extract.build.model import UnknownTarget, known_targets
from ..extract.build.targets import target_builds
from ..extract.extractor import Extractor
from ..extract.machines import MachineType, target_hw_dir
from ..extract.pair import extract_pair
from ..model import IMPLEMENTATIONS_DIFFER, EndpointKind, Location
from ..placement.extraction import placing_extractor
from ..placement.machines import MachineSource, Verdict
from ..placement.targets import with_targets
from ..placement.wire import WireSchema, from_extraction
from ..processes import Progress, silent_progress
from ..report.jsonfiles import read_json_endpoint
from ..sources.tree import (
    SourceTree,
    directory_tree,
    files_differ,
    git_revision_tree,
    index_tree,
    resolve_commit,
    run_git,
    worktree_tree,
)
from .verdicts import DEFAULT_POLICY, MachinePolicy, apply_machine_verdicts, property_findings

WORKTREE_ENDPOINTS = ("WORKTREE", ":worktree")
INDEX_ENDPOINTS = ("INDEX", ":index")
EMPTY_ENDPOINT = ":empty"  # a tree with no files (the parent of a repository's first commit)
MAX_RANGE_LENGTH = 8192  # two paths of PATH_MAX (4096) and the '..'
EXPLICIT_PATH_PREFIXES = ("./", "../", "/")  # a word starting so is a path: no git revision does


@dataclass(frozen=True, slots=True)
class Options:
    """How endpoints are read: the repository of revisions, the target, the parser
    processes and the cache (an open one, or None)."""
    repo: str | None = None
    target: str | None = None
    jobs: int = 1
    cache: object | None = None
    machines: MachinePolicy = DEFAULT_POLICY  # --machine, [settings] board_only
    cpu: str | None = None  # --cpu, [settings] cpu: the CPU model whose register list is compared
    progress: Progress = silent_progress  # a bar on the terminal, for extractions and --per-commit


def parse_range(spec: str, repo: str | None = None) -> tuple[str, str]:
    """OLD..NEW, OLD.. (NEW is HEAD), REV (the change REV made: REV^..REV), or WORKTREE or
    INDEX alone (HEAD against it: the uncommitted or staged change); REPO (--repo) says
    what a single word is (is_path_endpoint)."""
    if spec.startswith("-"):
        raise InputError(f"'{spec[:80]}' is not a revision range (it starts with '-')")
    if len(spec) > MAX_RANGE_LENGTH:  # each '..' is tried as the split: keep that cheap
        raise InputError(f"'{spec[:40]}...': a revision range of {len(spec)} characters is too long "
                         f"(at most {MAX_RANGE_LENGTH})")
    if "..." in spec.replace("../", "").replace("/..", ""):
        raise InputError(f"'{spec}': symmetric ranges (A...B) are not supported; use OLD..NEW")
    splits = [(spec[:i], spec[i + 2:]) for i in range(1, len(spec) - 1) if spec.startswith("..", i)]
    existing = [(o, n) for o, n in splits if os.path.exists(o) and (not n or os.path.exists(n))]
    plausible = [(o, n) for o, n in splits if _endpoint_like(o, n)]
    if existing or plausible:
        old, new = (existing or plausible)[0]
        return old, new or "HEAD"
    if spec in WORKTREE_ENDPOINTS + INDEX_ENDPOINTS:  # not a commit: its change is against HEAD
        return "HEAD", spec
    if is_path_endpoint(spec, repo):
        raise InputError(f"'{spec}' is a single endpoint; compare two with OLD..NEW")
    return f"{spec}^", spec


def _endpoint_like(old: str, new: str) -> bool:
    if not old or old.endswith("/") or new.startswith(("/", ".")):
        return False
    return not old.endswith(".")


def is_path_endpoint(spec: str, repo: str | None) -> bool:
    """Whether SPEC is read from disk -- a directory or a JSON file, relative to the current
    directory -- rather than as a git revision of REPO (default: the repository around the
    current directory).  A word that is both is refused, as git refuses an ambiguous
    argument: a branch named `hw` must not silently become the hw/ folder.  Other files are
    no endpoints, so the HEAD file of a bare repository leaves HEAD a revision."""
    if spec.startswith("-") or not (os.path.isdir(spec) or _is_json_file(spec)):
        return False
    if spec.startswith(EXPLICIT_PATH_PREFIXES):
        return True
    repo_dir = _repo_with_revision(spec, repo)
    if repo_dir is not None:
        kind = "directory" if os.path.isdir(spec) else "file"
        raise InputError(f"'{spec}' is both a {kind} and a revision of {repo_dir}: write './{spec}' for the "
                         f"{kind} or '{spec}^{{commit}}' for the revision")
    return True


def _repo_with_revision(spec: str, repo: str | None) -> str | None:
    """The repository (REPO or the one around the current directory) in which SPEC names a
    commit, or None: no such repository, or no such commit in it."""
    try:
        repo_dir = find_repo(repo)
        resolve_commit(repo_dir, spec)
    except InputError:
        return None
    return repo_dir


def load_endpoint(spec: str, options: Options, base=None, expand: bool = True) -> tuple[WireSchema, tuple | None]:
    """The schema of an endpoint and, for a source endpoint, its (tree, extraction): the
    base from which the extraction of a tree a few .c files away is derived.  Without
    EXPAND, what a -dump-vmstate file can be compared with (wire.from_extraction)."""
    if is_json_endpoint(spec, options.repo):
        return read_json_endpoint(spec, expand), None
    tree = open_tree(spec, options.repo)
    extraction = extract_tree(tree, options, base)
    return schema_of(tree, extraction, options, expand), (tree, extraction)


def schema_of(tree, extraction, options: Options, expand: bool = True) -> WireSchema:
    """The wire schema of a source endpoint's extraction, with the build models of its
    targets (only --target's, when given: then the schema holds what that binary compiles)."""
    builds = _restrict(tree, extraction, options)
    schema = from_extraction(extraction, expand=expand)
    schema.builds = builds
    schema.machines = MachineSource(tree, extraction, options.cache)
    return schema


def _restrict(tree, extraction, options: Options):
    """The build models (every target's, or --target's) of TREE; with --target, EXTRACTION
    is restricted to the files that target compiles."""
    builds = target_builds(tree, options.cache, [options.target] if options.target else None)
    if options.target:
        extraction.built = builds[options.target].files if builds else None
    return builds


def extract_endpoint(spec: str, options: Options):
    """The extraction of a source endpoint (revision, directory, WORKTREE, INDEX)."""
    return extract_tree(open_tree(spec, options.repo), options)


def extract_tree(tree, options: Options, base=None):
    """The extraction of TREE; with --target, restricted to what that target's binary
    compiles (extract/build; an unknown target is an input error)."""
    check_target(tree, options.target)
    extraction = _extractor(options).run(tree, base)
    if options.target:
        _restrict(tree, extraction, options)
    return extraction


def check_target(tree: SourceTree, target: str | None) -> None:
    """--target must be a target TREE builds (configs/targets/*-softmmu.mak): said before a
    minute of extraction, not after.  A tree with no build description (a sample) cannot say."""
    if target is not None and tree.build_digest() is not None:
        known = known_targets(tree)
        if target not in known:
            raise InputError(f"{tree.label}: {UnknownTarget(target, known)}")


def _extractor(options: Options) -> Extractor:
    return placing_extractor(target=options.target, jobs=options.jobs, cache=options.cache,
                             progress=options.progress)


def _is_json_file(spec: str) -> bool:
    return spec.endswith(".json") and os.path.isfile(spec)


def is_json_endpoint(spec: str, repo: str | None) -> bool:
    return _is_json_file(spec) and is_path_endpoint(spec, repo)


def open_tree(endpoint: str, repo: str | None):
    """A SourceTree for ENDPOINT: a directory, the working tree, the staged index, or a git revision."""
    if endpoint in WORKTREE_ENDPOINTS:
        return worktree_tree(find_repo(repo))
    if endpoint in INDEX_ENDPOINTS:
        return index_tree(find_repo(repo))
    if endpoint == EMPTY_ENDPOINT:
        return SourceTree("empty tree", None, [], lambda wanted: {}, lambda path: None)
    if is_path_endpoint(endpoint, repo):
        return directory_tree(endpoint, label=endpoint)  # a JSON file has no tree: "not a directory"
    if os.path.isfile(endpoint) and _repo_with_revision(endpoint, repo) is None:
        raise InputError(f"{endpoint}: a file endpoint must be a JSON dump or snapshot (*.json)")
    repo_dir = find_repo(repo)
    try:
        return git_revision_tree(repo_dir, endpoint)
    except InputError as exc:
        if "rev-parse" in str(exc):  # git says nothing useful with --quiet
            raise InputError(f"unknown revision '{endpoint}' in {repo_dir}") from None
        raise


def find_repo(path: str | None) -> str:
    """The working directory of the git repository at (or around) path, default cwd
    (the git directory of a bare repository).  Found by `git rev-parse` under the safe
    configuration (run_git): nothing of the repository's own configuration runs."""
    start = path or os.getcwd()
    if path is not None and not os.path.exists(path):
        raise InputError(f"{path}: no such file or directory")
    if not os.path.isdir(start):
        start = os.path.dirname(os.path.abspath(start))
    try:
        bare, git_dir = run_git(start, "rev-parse", "--is-bare-repository", "--absolute-git-dir").decode(
            "utf-8", "surrogateescape").splitlines()[:2]
    except (InputError, ValueError) as exc:
        if "not a git repository" in str(exc) or isinstance(exc, ValueError):
            raise InputError(f"{os.path.abspath(start)}: not a git repository (use --repo PATH)") from None
        raise InputError(f"{os.path.abspath(start)}: {exc}") from None
    if bare == "true":
        return git_dir
    try:
        return run_git(start, "rev-parse", "--show-toplevel").decode("utf-8", "surrogateescape").rstrip("\n")
    except InputError:  # inside the .git directory of a repository with a working tree
        return os.path.dirname(git_dir)


def run_check(old_spec: str, new_spec: str, options: Options) -> Report:
    if is_json_endpoint(old_spec, options.repo) or is_json_endpoint(new_spec, options.repo):
        old, old_source = load_endpoint(old_spec, options)
        new, new_source = load_endpoint(new_spec, options, base=old_source)
        if EndpointKind.DUMP in (old.kind, new.kind):  # a binary's dump shows no hand-written bytes: as declared
            old = old if old.kind == EndpointKind.DUMP else _unexpanded(old_spec, old_source, options)
            new = new if new.kind == EndpointKind.DUMP else _unexpanded(new_spec, new_source, options)
        return judged(build_report(old_spec, old, new_spec, new), old, new, options)
    old_tree, new_tree = open_tree(old_spec, options.repo), open_tree(new_spec, options.repo)
    check_target(old_tree, options.target)
    check_target(new_tree, options.target)
    old, new = extract_pair(_extractor(options), old_tree, new_tree)
    old_schema, new_schema = schema_of(old_tree, old, options), schema_of(new_tree, new, options)
    return judged(build_report(old_spec, old_schema, new_spec, new_schema), old_schema, new_schema, options)


X86_TARGETS = ("x86_64", "i386")  # the builds of target/i386/


def judged(report: Report, old: WireSchema, new: WireSchema, options: Options) -> Report:
    """REPORT with the property defaults compared and each finding's verdict for versioned
    machine types (app/verdicts.py)."""
    found = detected(report, old, new, options)
    if found:
        report.findings = sorted(report.findings + found, key=Finding.sort_key)
    apply_machine_verdicts(report, old, new, options.machines, options.target)
    return report


def _other_model_findings(report: Report, old: WireSchema, new: WireSchema, options: Options) -> list[Finding]:
    """`cpu-model-changed` findings of the named CPU models of the targets other than x86
    and Arm (diff/othermodels.py: their definitions compared as text), in --target's
    directory only when given; notes (a directory whose models were not found) go to REPORT."""
    if old.machines is None or new.machines is None:
        return []
    old_tree, new_tree = old.machines.tree, new.machines.tree
    only = target_hw_dir(old_tree, options.target) if options.target else None
    if options.target and only is None:
        return []
    found, notes = other_model_findings(old_tree, new_tree, options.cpu, options.cache, only)
    report.notes += notes
    builds = built_targets(old, new)
    if builds is None:
        return found
    dirs = {t: target_hw_dir(new_tree, t) or target_hw_dir(old_tree, t) for t in sorted(builds)}
    return [f.with_(targets=tuple(t for t, d in dirs.items() if d == f.target and
                                  options.target in (None, t)) or None) for f in found]


CPU_RULES = ("cpu-registers-changed", "cpu-register-value-changed", "cpu-model-changed")


def detected(report: Report, old: WireSchema, new: WireSchema, options: Options,
             rules: set[str] | None = None) -> list[Finding]:
    """The findings of the detectors that read both endpoints' machine facts (property
    defaults, CPU register lists and models), not yet judged; notes go to REPORT.  RULES
    runs only the detectors of those rules (a --per-commit step needs only the ones whose
    findings the whole range has)."""
    if old.machines is not None and new.machines is not None:
        new.machines.base = old.machines  # NEW's facts derived from OLD's where a few .c files apart
    found: list[Finding] = []
    if rules is None or "property-default-changed" in rules:
        found += property_findings(report, old, new)
    if rules is None or rules & set(CPU_RULES):
        found += _cpu_findings(report, old, new, options)
    if rules is None or "cpu-model-changed" in rules:
        found += _x86_model_findings(old, new, options)
        found += _other_model_findings(report, old, new, options)
    return found


def built_targets(old: WireSchema, new: WireSchema) -> set[str] | None:
    """The targets either endpoint builds; None when neither can say (a dump, a sample)."""
    if old.builds is None and new.builds is None:
        return None
    return set(old.builds or ()) | set(new.builds or ())


def _cpu_findings(report: Report, old: WireSchema, new: WireSchema, options: Options) -> list[Finding]:
    """`cpu-registers-changed` findings (diff/cpuregs.py) of two source trees that build
    aarch64 (--target's, else either tree's, if they can say); notes go to REPORT.  The
    lists are estimated as the aarch64 build compiles target/arm: --target arm (32-bit
    models, other #ifdefs) gets a note, not an estimate of another build."""
    if old.machines is None or new.machines is None or options.target not in (None, *ARM_TARGETS):
        return []
    builds = built_targets(old, new)
    if options.target is None and builds is not None and AARCH64 not in builds:
        return []  # (trees that cannot say what they build: target/arm/ decides, cpuregs.arm_code_differs)
    if options.target not in (None, AARCH64):
        if arm_code_differs(old.machines.tree, new.machines.tree):
            report.notes.append(f"--target {options.target}: Arm CPU register lists are estimated for the "
                                f"{AARCH64} build only; not compared")
        return []
    hw_dir = target_hw_dir(old.machines.tree, AARCH64)
    # the lists follow target/arm, and the CPU options of the machine files and compat arrays
    if not arm_code_differs(old.machines.tree, new.machines.tree) and not files_differ(
            old.machines.tree, new.machines.tree, (f"hw/{hw_dir}/", "hw/core/machine.c")):
        return []
    machines = _arm_machines(report, old.machines, new.machines, options.machines.machine)
    found, notes = cpu_register_findings(old.machines.tree, new.machines.tree, options.cpu, options.cache, machines)
    report.notes += notes
    runnable = _models_of_versioned_machines((old.machines, new.machines), hw_dir)
    return [_board_only_if_unrunnable(f, runnable).with_(targets=(AARCH64,) if builds is not None else None)
            for f in found]


def _models_of_versioned_machines(sources: tuple[MachineSource, MachineSource], hw_dir: str) -> bytes:
    """The text of both trees' files defining versioned machine types of hw/HW_DIR (virt.c):
    the CPU models such a machine type can run are the ones it names (`valid_cpus[]`)."""
    files = {(source, m.file) for source in sources for m in source.facts().machines if m.hw_dir == hw_dir}
    return b"\n".join(source.tree.read_path(path) or b"" for source, path in sorted(files, key=lambda x: x[1]))


def _board_only_if_unrunnable(finding: Finding, machine_files: bytes) -> Finding:
    """FINDING, board-only when its CPU model is one no versioned machine type names
    (ARM_CPU_TYPE_NAME("cortex-a9"): vexpress-a9 and the other boards QEMU promises no
    migration between releases for)."""
    model = dict(finding.args).get("model")
    if not machine_files:  # no versioned machine type at all (a sample tree): nothing to say
        return finding
    if model is None or model in UNSTABLE_MODELS or f'ARM_CPU_TYPE_NAME("{model}")'.encode() in machine_files:
        return finding
    return finding.with_(machines=Verdict((), None, board_only=True), types=(f"{model} CPU model",))


def _arm_machines(report: Report, old: MachineSource, new: MachineSource,
                  name: str | None) -> tuple[MachineType | None, MachineType | None]:
    """The machine type whose CPU options the register lists are estimated under, on each
    side: --machine's when it is one of aarch64's, else the newest versioned one OLD has
    (what a VM migrating from OLD runs); None (the CPU's own defaults) without one."""
    hw_dir = target_hw_dir(old.tree, AARCH64)  # "arm"
    ours = [m for m in old.facts().machines if m.hw_dir == hw_dir]
    chosen = next((m for m in ours if m.name == name), None) if name else \
        max(ours, key=lambda m: (m.version, m.name), default=None)
    if chosen is None:
        return None, None
    theirs = next((m for m in new.facts().machines if m.key == chosen.key), None)
    if theirs is None:
        report.notes.append(f"Arm CPU register lists: NEW has no machine type {chosen.name}; NEW's list is "
                            f"estimated under the CPU's own defaults")
    return chosen, theirs


def _x86_model_findings(old: WireSchema, new: WireSchema, options: Options) -> list[Finding]:
    """`cpu-model-changed` findings (diff/cpumodels.py) of two source trees that build an
    x86 target (--target's, else either tree's, when they can say)."""
    if old.machines is None or new.machines is None or options.target not in (None, *X86_TARGETS):
        return []
    builds = built_targets(old, new)
    x86 = sorted(builds & set(X86_TARGETS)) if builds is not None else None
    if x86 == []:
        return []
    found = cpu_model_findings(old.machines.tree, new.machines.tree, options.cpu, options.cache)
    return [f.with_(targets=tuple(x86) if x86 is not None and options.target is None else
                    (options.target,) if options.target else None) for f in found]


def _unexpanded(spec: str, source, options: Options) -> WireSchema:
    if source is not None:
        return from_extraction(source[1], expand=False)
    return load_endpoint(spec, options, expand=False)[0]


def build_report(old_spec: str, old: WireSchema, new_spec: str, new: WireSchema) -> Report:
    report = Report(Endpoint(old_spec, old.commit, old.kind), Endpoint(new_spec, new.commit, new.kind))
    findings = with_targets(compare(old, new) + _changed_unresolved(old, new), old, new)
    report.findings, one_sided = _outside_common_targets(findings, old, new)
    report.diagnostics = [("old", d) for d in old.diagnostics] + [("new", d) for d in new.diagnostics]
    report.notes = _notes(old, new) + one_sided
    targets = built_targets(old, new)
    if targets is not None:
        report.targets = tuple(sorted(targets))
    return report


def _outside_common_targets(findings: list[Finding], old: WireSchema,
                            new: WireSchema) -> tuple[list[Finding], list[str]]:
    """A target one side has and the other lacks (added or removed between them) would
    make a finding of every section only it sends: one note says so instead."""
    if old.builds is None or new.builds is None:
        return findings, []
    only = {"OLD": set(old.builds) - set(new.builds), "NEW": set(new.builds) - set(old.builds)}
    one_sided = only["OLD"] | only["NEW"]
    kept = [f for f in findings if not f.targets or not set(f.targets) <= one_sided]
    notes = []
    for side, targets in only.items():
        for target in sorted(targets):
            count = sum(1 for f in findings if f.targets and target in f.targets and set(f.targets) <= one_sided)
            notes.append(f"target {target} exists in {side} only: {count} finding(s) on state only its binary "
                         f"holds are not reported")
    return kept, notes


def _changed_unresolved(old: WireSchema, new: WireSchema) -> list[Finding]:
    """Constructs that could not be resolved on one side only: NEW's may hide a break the
    change made; OLD's are gone from NEW, so whatever replaced them was compared with
    nothing known.  A construct unresolved alike on both sides did not change."""
    findings = [new_finding("unresolved", vmsd=diag.file, path=diag.message, args={"what": diag.message},
                            new=Location(diag.file, diag.line))
                for diag in _one_side(new, old)]
    findings += [new_finding("unresolved", vmsd=diag.file, path=f"OLD: {diag.message}",
                             args={"what": f"OLD could not resolve this and NEW no longer has it, so the change "
                                           f"was not checked: {diag.message}"},
                             old=Location(diag.file, diag.line))
                 for diag in _one_side(old, new) if diag.kind != "unreached"]  # (now reached: checked)
    first: dict[str, Finding] = {}  # one per fingerprint: the same construct at several lines
    for finding in sorted(findings, key=Finding.sort_key):
        first.setdefault(finding.fingerprint, finding)
    return list(first.values())


def _one_side(side: WireSchema, other: WireSchema) -> list:
    """SIDE's diagnostics that OTHER lacks (messages name the symbol: stable when files
    move).  None when either side is a dump: a dump has no diagnostics to compare."""
    if side.kind == EndpointKind.DUMP or other.kind == EndpointKind.DUMP:
        return []
    elsewhere = {d.message for d in other.diagnostics}
    # (two implementations of a device differ: each is compared with its own past)
    return [d for d in side.diagnostics if d.message not in elsewhere and d.kind != IMPLEMENTATIONS_DIFFER]


def _notes(old: WireSchema, new: WireSchema) -> list[str]:
    notes = []
    for side, schema in (("OLD", old), ("NEW", new)):
        unreached = sum(1 for d in schema.diagnostics if d.kind == "unreached")
        if len(schema.diagnostics) > unreached:
            notes.append(f"{side}: {len(schema.diagnostics) - unreached} construct(s) could not be resolved and "
                         f"were not checked {DIAGNOSTICS_LISTED}")
        if unreached:
            notes.append(f"{side}: {unreached} VMSD(s) are sent by no section this tool knows: a change to one is "
                         f"reported without sections, at most a warning {DIAGNOSTICS_LISTED}")
        if schema.kind == EndpointKind.DUMP:
            notes.append(f"{side} is a -dump-vmstate file: test and .needed functions, infos and registrations "
                         f"are unknown; only device types it lists are compared")
            if not schema.counts_known:
                notes.append(f"{side} comes from QEMU before 8.0 (no \"num\"): array lengths are not compared")
    return notes
