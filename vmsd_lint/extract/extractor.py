"""Extraction of one endpoint: read → scan every header → parse files that can hold
migration state → resolve VMSDs, QOM types and registrations."""
from __future__ import annotations

import contextlib
import functools
import gc
import itertools
import multiprocessing
import posixpath
import re
import signal
import traceback
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import MISSING, dataclass, field, fields
from functools import partial

from ..errors import ChildDied
from ..model import Diagnostic, Extraction, FunctionInfo, OpsTable, QomType, Registration, Vmsd
from ..placement import placements
from ..processes import how_it_ended, name_process
from ..resolve import Resolved
from ..sources.tree import SOURCE_SUFFIXES, SourceFile, SourceTree
from .buildconfig import target_config
from .cache import Cache, pack, unpack
from .calls import CallIndex
from .cexpr import Unresolved
from .classes import ClassModel, member_chain
from .context import TreeIndex
from .implementations import check_implementations
from .lexer import join_tokens, tokenize
from .names import NameMap
from .parse import Decl, ParseFacts, is_interesting, parse_file, parse_tree
from .preprocess import ExpansionError
from .qemu import (
    CALLS_WITH_ARGS,
    EVALUATED_CALLS,
    HOOK_CALLS,
    REGISTRATION_CALLS,
    savevm_field_keys,
    target_mak_text,
    vms_flag_values,
)
from .qom import type_infos, virtio_pci_types, vmsd_assignment
from .registrars import (
    FileTypes,
    RegistrarFacts,
    included_arrays,
    passes_array_elements,
    registers_dynamically,
    registrar_facts,
)
from .rust import resolve_rust, rust_facts, rust_files
from .saves import model_saves
from .scan import TextFacts, scan_text
from .store import EXTRACTION, NAMES, PARSE, RUST, SCAN, Kind, ResolvedCache, Store, tree_key
from .vmsd import VmsdBuilder


@dataclass(slots=True)
class ParsedFile:
    """The tree-sitter facts of a file that can hold migration state."""
    parse: ParseFacts
    # for files registering types from data (arrays of descriptors, helpers): what that reads
    registrars: RegistrarFacts | None = None


def scan_facts(path: str, data: bytes) -> TextFacts:
    """The text facts of one file, from its bytes alone (so they can be cached by blob id)."""
    if path.endswith(".c") and not is_interesting(data):
        return TextFacts()  # nothing of a plain .c file is visible elsewhere
    return scan_source(path, data)


def scan_source(path: str, data: bytes) -> TextFacts:
    """The text facts of a file that is not a plain .c file."""
    return scan_text(data.decode("utf-8", "surrogateescape"))


def parse_facts(path: str, data: bytes) -> ParsedFile | None:
    """The parse of one file (None when it cannot hold migration state), from its bytes alone."""
    return parse_interesting(path, data) if worth_a_parse(path, data) else None


def worth_a_parse(path: str, data: bytes) -> bool:
    """Files that can hold migration state, and .c files that may register types by
    passing array elements to a function of another file (`arm_cpu_register(&arm_v7m_cpus[i])`
    in a file that has nothing else of QOM or migration)."""
    return is_interesting(data) or (path.endswith(".c") and passes_array_elements(data))


def parse_interesting(path: str, data: bytes) -> ParsedFile:
    """The parse of a file that can hold migration state (is_interesting)."""
    tree = parse_tree(data)
    parsed = ParsedFile(parse_file(data, CALLS_WITH_ARGS, tree))
    if registers_dynamically(parsed.parse, data):
        parsed.registrars = registrar_facts(tree, data, parsed.parse)
    return parsed


def _packed(compute, items: list[tuple[str, bytes]]) -> list[bytes]:
    """A worker's task: compute over a chunk of files, each result packed as the cache
    stores it (which is also how it travels back)."""
    return [pack(compute(path, data)) for path, data in items]


@contextlib.contextmanager
def _without_gc():
    """An extraction makes millions of small objects that live until its end, and
    hardly any reference cycles: the cyclic collector's passes over them (in the
    worker processes too, forked from here) would cost far more than they free.
    Afterwards they are frozen (left out of later passes) rather than handed back to
    the collector, whose next pass would otherwise walk them all once (0.3 s)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()


READ_SLICE = 512  # files read at a time (one git cat-file each) before their scans are queued
SCAN_CHUNK = 128  # files per worker task: scans are quick
PARSE_CHUNK = 8  # parses are slow: small tasks let the resolver start on the first files early


class Extractor:
    def __init__(self, target: str | None = None, jobs: int = 1, cache: Cache | None = None):
        self.target = target
        self.jobs = max(1, jobs)
        self.cache = cache
        self.store = Store(cache)

    def run(self, tree: SourceTree, base: tuple[SourceTree, Extraction] | None = None) -> Extraction:
        """Extract a tree.  With a cache, a tree whose files (by blob id) and options
        were seen before is answered from it; otherwise only the files not seen
        before are read and parsed.  BASE, a tree and its extraction: a tree that
        differs from it in a few .c files is derived from it (extract.derive)."""
        key = tree_key(tree, self.target)
        cached = self.store.get(EXTRACTION, key)
        if cached is not None:
            cached.endpoint, cached.commit = tree.label, tree.commit
            return cached
        if base is not None:
            from .derive import derive
            with _without_gc():
                derived = derive(self, tree, *base)
            if derived is not None:
                return _with_skipped_files(derived, tree)
        with _without_gc():
            result = _with_skipped_files(self._extract(tree, key), tree)
        if self.store.enabled:
            # the pool and the second resolver are gone: no thread runs, a fork is safe
            self.store.write_later(EXTRACTION, {key: result})
            self.store.flush_in_background()
        return result

    @staticmethod
    def source_files(tree: SourceTree) -> list[SourceFile]:
        """The files an extraction reads, in path order."""
        return sorted((f for f in tree.files if f.path.endswith(SOURCE_SUFFIXES)), key=lambda f: f.path)

    def is_cached(self, tree: SourceTree) -> bool:
        """Whether the cache holds the extraction of TREE."""
        return self.store.has(EXTRACTION, tree_key(tree, self.target))

    def cached_names(self, tree: SourceTree) -> NameMap | None:
        """The NameMap of a tree extracted before (None when the cache has none)."""
        return self.store.get(NAMES, tree_key(tree, self.target))

    def _extract(self, tree: SourceTree, key: str) -> Extraction:
        """Scan every file, index the scans, then resolve the parsed files one by one in
        path order while the worker processes are still parsing the later ones."""
        files = self.source_files(tree)
        cached_scans = self._cached(SCAN, files)
        cached_parses = self._cached(PARSE, files)
        missing = [f for f in files if f.blob not in cached_scans or f.blob not in cached_parses]
        with self._pool(len(missing)) as pool:
            contents, interesting, computed_scans = self._read_and_scan(pool, tree, missing)
            to_parse = [(f.path, contents[f.path]) for f in missing if f.path in interesting]
            computed_parses = self._compute(pool, parse_interesting, to_parse, PARSE_CHUNK)
            index = TreeIndex({}, target_config(self.target, target_mak_text(tree, self.target)))
            for path, scan in self._scans(files, missing, cached_scans, computed_scans):
                index.add(path, scan)  # while the workers scan the next files
            result = Extraction(tree.label, tree.commit, self.target, index.target_dir)
            result.dump_field_keys = savevm_field_keys(tree) or result.dump_field_keys
            result.c_includes = c_includes(index.files)
            self.store.write_later(NAMES, lambda: {key: NameMap.of(index)})  # made by the writer
            rust = rust_records(self.store, tree, index)  # a few small files, while the workers parse
            result.files_read = len(index.files) + len(rust_files(tree))
            parsed = self._parses(files, missing, {p for p, _ in to_parse}, cached_parses, computed_parses)
            reuse = ResolvedCache(self.store, {f.path: f.blob for f in files}, self.target)
            result.files_parsed = len(_resolve(index, parsed, result, reuse, rust, tree.read_path)) + len(rust)
        return result

    def _cached(self, kind: Kind, files: list[SourceFile]) -> dict:
        return self.store.get_many(kind, [f.blob for f in files])

    def _pool(self, count: int):
        if self.jobs > 1 and count > 50:
            return _worker_pool(self.jobs)
        return contextlib.nullcontext()

    def _read_and_scan(self, pool, tree: SourceTree, missing: list[SourceFile]):
        """Read the files by slices, the scans of each slice queued as soon as it is read
        (so the workers scan while the rest is read); returns the contents, the paths of
        the files worth a parse (is_interesting: each file is searched once) and the
        scans, as (value, packed value or None) in the order of MISSING."""
        contents: dict[str, bytes] = {}
        interesting: set[str] = set()
        scans = []
        for start in range(0, len(missing), READ_SLICE):
            part = missing[start:start + READ_SLICE]
            contents.update(tree.read(part))
            interesting.update(f.path for f in part if is_interesting(contents[f.path]))
            plain = {f.path for f in part if f.path.endswith(".c") and f.path not in interesting}
            computed = self._compute(pool, scan_source, [(f.path, contents[f.path]) for f in part
                                                         if f.path not in plain], SCAN_CHUNK)
            scans.append(_merged_scans(part, plain, computed))
            # parsed, though their scans stay those of plain files (worth_a_parse)
            interesting.update(path for path in plain if passes_array_elements(contents[path]))
        return contents, interesting, itertools.chain.from_iterable(scans)

    def _compute(self, pool, compute, items: list[tuple[str, bytes]], chunk: int):
        """compute(path, data) over items, in order, as (value, packed value or None):
        in the worker processes (the tasks are queued now, the results read lazily),
        or in this process (lazily)."""
        if pool is None:
            return ((value, pack(value) if self.store.enabled else None)
                    for value in (compute(path, data) for path, data in items))
        chunks = [items[i:i + chunk] for i in range(0, len(items), chunk)]
        results = pool.map(partial(_packed, compute), chunks)
        return ((unpack(packed), packed) for packed_chunk in results for packed in packed_chunk)

    def _scans(self, files, missing, cached, computed):
        """(path, TextFacts) of every file in path order, as the scans arrive; new ones
        are stored in the cache once all have."""
        missing_paths = {f.path for f in missing}
        fresh: dict[str, bytes] = {}
        for f in files:
            if f.path in missing_paths:
                scan, fresh[f.blob] = next(computed)
            else:
                scan = cached[f.blob]
            yield f.path, scan
        self.store.put_packed(SCAN, fresh)

    def _parses(self, files, missing, computing: set[str], cached, computed):
        """(path, ParsedFile, packed ParsedFile or None) of every parsed file in path
        order, as the parses arrive; new ones are stored in the cache once all have."""
        missing_paths = {f.path for f in missing}
        fresh: dict[str, bytes] = {}
        for f in files:
            packed = None
            if f.path not in missing_paths:
                parsed = cached[f.blob]
            elif f.path in computing:
                parsed, packed = next(computed)
                fresh[f.blob] = packed
            else:
                parsed, fresh[f.blob] = None, _NOT_PARSED
            if parsed is not None:
                yield f.path, parsed, packed
        self.store.put_packed(PARSE, fresh)


@contextlib.contextmanager
def _worker_pool(jobs: int):
    """A pool of JOBS worker processes; a worker that dies (the out-of-memory killer) is
    one ChildDied line naming it, not the pool's "terminated abruptly"."""
    with ProcessPoolExecutor(jobs, initializer=name_process, initargs=("vmsd-worker",)) as pool:
        try:
            yield pool
        except BrokenProcessPool:
            workers = list((pool._processes or {}).values())  # private, but nothing else names them
            pool.shutdown(wait=True)  # the pool ends the others (SIGTERM) and reaps them all
            raise ChildDied(_first_death(workers)) from None


def _first_death(workers) -> str:
    """Which worker died and how: the one the pool did not end itself."""
    ended = [w for w in workers if w.exitcode is not None]
    dead = [w for w in ended if w.exitcode != -signal.SIGTERM] or ended
    if not dead:
        return "a worker process ended without its result"
    return f"a worker process (pid {dead[0].pid}) {how_it_ended(dead[0].exitcode)}"


_NOT_PARSED = pack(None)  # None needs no record class: packed while this module is imported


@functools.cache
def _plain_scan() -> bytes:
    """The scan of a plain .c file, as cached (made once the codec can import this module)."""
    return pack(TextFacts())


def _merged_scans(files: list[SourceFile], plain: set[str], computed):
    """The scans of FILES in order: those computed, and the empty ones of plain .c files."""
    for f in files:
        yield (TextFacts(), _plain_scan()) if f.path in plain else next(computed)


def c_includes(files: dict[str, TextFacts]) -> dict[str, tuple[str, ...]]:
    """path -> the names of the .c files it #includes, for the files that include any."""
    found = {}
    for path, facts in files.items():
        names = tuple(posixpath.basename(inc) for inc in facts.includes if inc.endswith(".c"))
        if names:
            found[path] = names
    return found


def _resolve(index: TreeIndex, parsed_files: Iterable[tuple[str, ParsedFile, bytes | None]],
             result: Extraction, reuse: ResolvedCache, rust: dict[str, FileRecord],
             read=None) -> dict[str, ParsedFile]:
    """Resolve the parsed files (in path order) into `result`, with the records of the
    Rust files; returns the parsed C files by path.  READ(path) reads a file of the tree."""
    vms_flags = vms_flag_values(index)
    reuse.load(vms_flags)
    facts: dict[str, ParsedFile] = {}
    mine: dict[int, FileResult] = {}
    theirs: list[tuple[int, str]] = []  # (position, path) of the files the second resolver has
    with _SecondResolver(index, vms_flags) as second:
        for position, (path, ff, packed) in enumerate(parsed_files):
            facts[path] = ff
            reused = reuse.reusable(index, path)
            if reused is not None:
                mine[position] = reused
            elif second.active and position // RESOLVE_BLOCK % 2:
                second.send(path, ff, packed)
                theirs.append((position, path))
            else:
                mine[position], lookups = resolve_file(index, vms_flags, path, ff)
                reuse.keep(path, lookups, mine[position])
        for (position, path), (file_result, lookups) in zip(theirs, second.results()):
            mine[position] = file_result
            reuse.keep(path, lookups, file_result)
        files_results = mine
    reuse.save()
    records = {path: file_record(index, path, ff, files_results[position], read)
               for position, (path, ff) in enumerate(facts.items())}
    records.update(rust)
    assemble(result, index, {path: records[path] for path in sorted(records)})
    return facts


@dataclass(slots=True)
class FileRecord:
    """What one parsed file gives, before the tree-wide steps (merging, linking types to
    VMSDs, resolving registrations, placements): kept with the extraction, so that a
    tree differing in a few files can be assembled again without resolving the rest."""
    vmsds: list[Vmsd]
    types: list[QomType]  # from its TypeInfos, not yet linked to their VMSDs
    diagnostics: list[Diagnostic]
    functions: list[FunctionInfo]
    registrations: list[Registration]  # evaluated in the file's context; vmsd not resolved yet
    loop_types: list[QomType]  # registered by its functions from data (extract/registrars.py)
    loop_diagnostics: list[Diagnostic]
    tables: list[OpsTable] = field(default_factory=list)
    registrars: RegistrarFacts | None = None  # those functions, for calls from other files
    calls_elsewhere: tuple[str, ...] = ()  # functions of other files it passes array elements to
    uncalled: tuple[str, ...] = ()  # its functions registering types from their parameters, not called in it


def file_record(index: TreeIndex, path: str, ff: ParsedFile, file_result: FileResult, read=None) -> FileRecord:
    """READ(path) -> bytes | None reads the .inc files whose arrays its registrations use."""
    vmsds, types, diagnostics = file_result
    ctx = index.context(path)
    tables = [OpsTable(t.type, t.symbol, path, t.line, t.static, t.members) for t in ff.parse.tables]
    record = FileRecord(vmsds, types, diagnostics, [_function_info(ctx, path, fn) for fn in ff.parse.functions],
                        _file_registrations(ctx, path, ff), [], [], tables, ff.registrars)
    if ff.registrars is not None:
        run = FileTypes(path, ff.registrars, index.context, included_arrays(path, ff.registrars, read))
        run.run()
        record.loop_types, record.loop_diagnostics = run.types, run.diagnostics
        record.calls_elsewhere = tuple(sorted({p.callee for p in run.pending}))
        record.uncalled = tuple(fn.name for fn in run.uncalled_helpers())
    return record


def _with_skipped_files(result: Extraction, tree: SourceTree) -> Extraction:
    """The files the tree did not read, or read under another name, as diagnostics."""
    if tree.skipped:
        result.diagnostics = sorted(set(result.diagnostics) | {Diagnostic("unresolved", path, 0, why)
                                                               for path, why in tree.skipped},
                                    key=lambda d: (d.file, d.line, d.message))
    return result


def assemble(result: Extraction, index: TreeIndex, records: dict[str, FileRecord]) -> None:
    """The tree-wide steps over the file records (in path order) into `result`."""
    for record in records.values():  # merged in path order, as if resolved here one by one
        for vmsd in record.vmsds:
            result.vmsds[vmsd.key] = vmsd
        for qom in record.types:
            _add_type(result, qom)
        result.diagnostics.extend(record.diagnostics)
    for record in records.values():
        for info in record.functions:
            result.functions[info.key] = info
        for table in record.tables:
            result.tables[table.key] = table
    for record in _with_calls_elsewhere(index, records, result.target_dir).values():
        for qom in record.loop_types:
            if qom.name not in result.types:
                result.types[qom.name] = qom
        result.diagnostics.extend(record.loop_diagnostics)
    resolved = Resolved(result)
    _link_types(index, result, resolved)
    _resolve_registrations(records, result, resolved)
    calls = CallIndex(result)  # the call edges, for the saves' buses and the placements
    model_saves(result, resolved, index, calls)
    _check_references(resolved, result)
    _check_abstract_owners(resolved, result)
    check_implementations(resolved, result)
    result.placements = placements(result, calls)
    result.diagnostics.extend(Diagnostic("unreached", v.file, v.line, f"VMSD {v.symbol} ('{v.name}') is sent by no "
                                         f"section this tool knows: a change to it is reported without sections")
                              for v in Resolved(result).unreached())
    result.diagnostics = sorted(set(result.diagnostics), key=lambda d: (d.file, d.line, d.message))
    result.records = records


def rust_records(store: Store, tree: SourceTree, index: TreeIndex) -> dict[str, FileRecord]:
    """The records of the Rust files (extract/rust.py): resolved together, crate by crate.
    They hold VMSDs, types and diagnostics; every other list of a record stays empty."""
    facts = rust_facts(tree, rust_files(tree), store.cache, RUST.tag)
    empty = [f.name for f in fields(FileRecord) if f.default is MISSING and f.default_factory is MISSING][3:]
    return {path: FileRecord(vmsds, types, diagnostics, **{name: [] for name in empty})
            for path, (vmsds, types, diagnostics) in resolve_rust(facts, index).items()}


# What resolving one file gives: its VMSDs, QOM types and diagnostics.
FileResult = tuple[list[Vmsd], list[QomType], list[Diagnostic]]
RESOLVE_BLOCK = 16  # the two resolvers take turns by blocks of files (neighbours share headers)


def resolve_file(index: TreeIndex, vms_flags: dict[str, int], path: str,
                  ff: ParsedFile) -> tuple[FileResult, dict]:
    """A file's VMSDs, types and diagnostics, with the lookups they depended on."""
    ctx = index.context(path)
    ctx.record_lookups()
    try:
        return _resolve_decls(ctx, vms_flags, ff), ctx.recorded_lookups()
    finally:
        ctx.lookups = None


def _resolve_decls(ctx, vms_flags: dict[str, int], ff: ParsedFile) -> FileResult:
    decls = ff.parse.decls
    arrays = {d.symbol: d for d in decls if d.is_array or d.is_pointer}
    builder = VmsdBuilder(ctx, arrays, vms_flags)
    vmsds, types, diagnostics = [], [], []
    for decl in decls:
        if decl.type == "VMStateDescription" and not decl.is_array and not decl.is_pointer:
            vmsds.append(builder.build(decl))
        elif decl.type == "TypeInfo" and not _inside_function(decl, ff.parse):
            types.extend(type_infos(ctx, decl, diagnostics))
        elif decl.type == "VirtioPCIDeviceTypeInfo" and not decl.is_array and not _inside_function(decl, ff.parse):
            types.extend(virtio_pci_types(ctx, decl, diagnostics))
    for decl in macro_declarations(ctx, ff.parse.macro_calls, diagnostics):
        vmsds.append(builder.build(decl))
    diagnostics.extend(builder.diagnostics)
    return vmsds, types, diagnostics


def macro_declarations(ctx, calls: list[tuple[str, str, int]], diagnostics: list[Diagnostic]) -> list[Decl]:
    """The VMSDs a macro called at file level declares (`SPAPR_CAP_MIG_STATE(htm, ...)`
    defines `vmstate_spapr_cap_htm`): its expansion, parsed, placed on the call's line."""
    found = []
    for name, text, line in calls:
        macro = ctx.macro(name)
        if macro is None or not any(t.text == "VMStateDescription" for t in macro.body):
            continue
        try:
            expanded = join_tokens(ctx.expand(tokenize(text, line)))
        except (ExpansionError, RecursionError) as exc:
            diagnostics.append(Diagnostic("unresolved", ctx.path, line, f"{name}(...): not expanded: {exc}"))
            continue
        for decl in parse_file(expanded.encode("utf-8", "surrogateescape")).decls:
            if decl.type == "VMStateDescription" and not decl.is_array and not decl.is_pointer:
                found.append(decl._replace(line=line, init_line=line))
    return found


class _SecondResolver:
    """A process that resolves every other block of files, so that two cores share
    the resolution.  It is forked once the index is built, whatever --jobs is: a
    resolution fills caches (records, conditions) whose content can depend on what
    was resolved before, so the split must not depend on the number of workers."""

    def __init__(self, index: TreeIndex, vms_flags: dict[str, int]):
        self.active = False
        try:
            context = multiprocessing.get_context("fork")
        except ValueError:  # no fork on this platform: everything is resolved here
            return
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_second_resolver_main, args=(index, vms_flags, child, self._conn),
                                        daemon=True)
        try:
            self._process.start()
        except OSError:  # no room for a process: everything is resolved here
            self._conn.close()
            return
        finally:
            child.close()
        self.active = True

    def __enter__(self) -> _SecondResolver:
        return self

    def __exit__(self, *exc) -> None:
        if self.active and self._process.is_alive():
            self._process.kill()
        if self.active:
            self._process.join()
            self._conn.close()

    def send(self, path: str, ff: ParsedFile, packed: bytes | None) -> None:
        try:
            self._conn.send((path, packed if packed is not None else pack(ff)))
        except OSError:  # it died: say so, rather than "Broken pipe"
            raise self._died() from None

    def results(self) -> list[FileResult]:
        """The results of the files sent, in order."""
        if not self.active:
            return []
        try:
            self._conn.send(None)
            status, value = self._conn.recv()
        except (OSError, EOFError):
            raise self._died() from None
        if status != "ok":
            raise RuntimeError(f"second resolver: {value}")
        return value

    def _died(self) -> ChildDied:
        self._process.join(10)  # its end of the pipe is closed: it is dead or about to be
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
            return ChildDied(f"the second resolver (pid {self._process.pid}) closed its pipe")
        return ChildDied(f"the second resolver (pid {self._process.pid}) {how_it_ended(self._process.exitcode)}")


def _second_resolver_main(index: TreeIndex, vms_flags: dict[str, int], conn, parent_end) -> None:
    # The parent's end, copied by the fork: held here, this process would never read the
    # end of its input if the parent died.
    parent_end.close()
    name_process("vmsd-resolver")
    try:
        results = []
        while (item := conn.recv()) is not None:
            path, packed = item
            results.append(resolve_file(index, vms_flags, path, unpack(packed)))
        reply = ("ok", results)
    except EOFError:  # the parent ended (and says why): a traceback here would be a second line
        return
    except Exception:
        reply = ("error", traceback.format_exc())
    try:
        conn.send(reply)
    except OSError:  # the parent ended meanwhile
        pass


def _function_info(ctx, path: str, fn) -> FunctionInfo:
    hooks = [(h.lhs, h.rhs, h.line) for h in fn.hooks]
    for call in fn.calls:
        hook = HOOK_CALLS.get(call.callee)
        if hook and len(call.args) > hook[1] and call.args[hook[1]].strip().isidentifier():
            hooks.append((hook[0], call.args[hook[1]].strip(), call.line))
    classes = fn.class_vars
    vmsds = tuple((a.rhs, a.line, classes.get(_assigned_object(a.lhs))) for a in fn.vmsd_assignments) \
        if fn.vmsd_assignments else ()
    members = tuple((classes[m.object], m.member, m.value, m.line) for m in fn.members if m.object in classes) \
        if classes and fn.members else ()
    evaluated = tuple((call.callee, tuple(_argument_value(ctx, a) for a in call.args), call.line)
                      for call in fn.calls if call.callee in EVALUATED_CALLS) if fn.calls else ()
    if not fn.events:  # most functions: only what the call graph needs
        return FunctionInfo(fn.name, path, fn.line, fn.static, tuple(fn.callees), tuple(hooks), vmsds, members,
                            (), (), tuple(fn.version_checks), tuple(fn.copies), evaluated)
    return FunctionInfo(fn.name, path, fn.line, fn.static, tuple(fn.callees), tuple(hooks), vmsds, members,
                        tuple(fn.events), tuple(sorted(classes.items())), tuple(fn.version_checks),
                        tuple(fn.copies), evaluated)


def _argument_value(ctx, text: str):
    """An argument as a string or number where it evaluates to one (`TYPE_VIRTIO_NET`
    -> "virtio-net-device"), else as written."""
    try:
        value = ctx.evaluate(ctx.expand(tokenize(text)))
    except (Unresolved, ExpansionError, RecursionError, IndexError):
        return " ".join(text.split())
    return value if isinstance(value, (str, int)) and not isinstance(value, bool) else " ".join(text.split())


def _assigned_object(lhs: str) -> str:
    """`vdc->vmsd` -> `vdc`: the variable whose member is assigned."""
    return re.split(r"->|\.", lhs, maxsplit=1)[0].strip()


def _inside_function(decl: Decl, parse: ParseFacts) -> bool:
    return any(fn.line <= decl.line <= fn.end_line for fn in parse.functions)


def _add_type(result: Extraction, qom: QomType) -> None:
    existing = result.types.get(qom.name)
    if existing is None or _type_preference(qom, result.target) < _type_preference(existing, result.target):
        result.types[qom.name] = qom


def _type_preference(qom: QomType, target: str | None) -> tuple:
    in_target = qom.file.startswith("target/")
    return (in_target, qom.file)


def _with_calls_elsewhere(index: TreeIndex, records: dict[str, FileRecord],
                          target_dir: str | None) -> dict[str, FileRecord]:
    """The records, those that pass array elements to a registering function of another
    file (`arm_cpu_register(&arm_tcg_cpus[i])`) run again now that it is known."""
    helpers: dict[str, list] = {}
    for path, record in records.items():
        for fn in (record.registrars.functions.values() if record.registrars else ()):
            if fn.params and not fn.static:
                helpers.setdefault(fn.name, []).append((path, fn))

    def others(name: str):
        candidates = helpers.get(name)
        if not candidates:
            return None
        path, fn = _prefer_target(candidates, target_dir)
        return FileTypes(path, records[path].registrars, index.context), fn

    out = dict(records)
    called = set()
    for path, record in records.items():
        if any(name in helpers for name in record.calls_elsewhere):
            run = FileTypes(path, record.registrars, index.context, others=others)
            run.run()
            called |= run.called_elsewhere
            out[path] = _replace_record(record, run.types, run.diagnostics)
    # Called by no function the extractor read (xtensa_register_core(), called by the
    # REGISTER_CORE() macro): what they register is unknown, and that is said.
    called |= {callee for record in records.values() for fn in record.functions for callee in fn.calls}
    for path, record in records.items():
        for name in record.uncalled:
            if name not in called:
                note = FileTypes(path, record.registrars, index.context)
                note.note_uncalled(record.registrars.functions[name])
                out[path] = _replace_record(out[path], out[path].loop_types,
                                            out[path].loop_diagnostics + note.diagnostics)
    return out


def _replace_record(record: FileRecord, types: list[QomType], diagnostics: list[Diagnostic]) -> FileRecord:
    from dataclasses import replace
    return replace(record, loop_types=types, loop_diagnostics=diagnostics)


def _link_types(index: TreeIndex, result: Extraction, resolved: Resolved) -> None:
    """Attach to each type the VMSD its class_init assigns."""
    functions_by_file: dict[str, dict[str, FunctionInfo]] = {}
    global_functions: dict[str, list[tuple[str, FunctionInfo]]] = {}
    for fn in result.functions.values():
        functions_by_file.setdefault(fn.file, {})[fn.name] = fn
        global_functions.setdefault(fn.name, []).append((fn.file, fn))

    def elsewhere(name: str):
        candidates = [(p, f) for p, f in global_functions.get(name, []) if not f.static]
        if not candidates:
            return None
        path, fn = _prefer_target(candidates, index.target_dir)
        return index.context(path), fn, functions_by_file[path]

    for name, qom in list(result.types.items()):
        if not qom.class_init:
            continue
        fns = functions_by_file.get(qom.file, {})
        fn = fns.get(qom.class_init)
        path = qom.file
        if fn is None:
            candidates = global_functions.get(qom.class_init, [])
            if not candidates:
                continue
            path, fn = _prefer_target(candidates, index.target_dir)
            fns = functions_by_file[path]
        found = vmsd_assignment(index.context(path), fn, fns, None, elsewhere)
        if found is None and qom.data_vmsd:
            found = (qom.data_vmsd, qom.line, qom.file)  # the class_data descriptor names it
        if found:
            symbol, line, path = found
            key = resolve_vmsd(resolved, symbol, path)
            if key is None:
                result.diagnostics.append(Diagnostic("unresolved", path, line,
                                                     f"type {name}: vmsd '{symbol}' is not defined in the tree"))
                continue
            result.types[name] = _replace(qom, vmsd=key, vmsd_line=line)


def _prefer_target(candidates, target_dir):
    if target_dir:
        for path, fn in candidates:
            if path.startswith(target_dir):
                return path, fn
        others = [(p, f) for p, f in candidates if not p.startswith("target/")]
        if others:
            return others[0]
    return candidates[0]


def _replace(qom: QomType, **changes) -> QomType:
    from dataclasses import replace
    return replace(qom, **changes)


def resolve_vmsd(resolved: Resolved, symbol: str, from_path: str) -> str | None:
    """The key of the VMSD a C symbol names, as seen from `from_path`."""
    vmsd = resolved.ref(symbol, from_path)
    return vmsd.key if vmsd is not None else None


def _file_registrations(ctx, path: str, ff: ParsedFile) -> list[Registration]:
    """The registration calls of a file, evaluated in its context (VMSDs resolved later)."""
    found = []
    for fn in ff.parse.functions:
        if fn.name in REGISTRATION_CALLS:
            continue  # a wrapper's own body (vmstate_register() calls ..._with_alias_id())
        for call in fn.calls:
            spec = REGISTRATION_CALLS.get(call.callee)
            if spec is None:
                continue
            id_index, _, idstr_index = spec
            args = call.args
            instance = args[id_index] if id_index is not None and id_index < len(args) else "VMSTATE_INSTANCE_ID_ANY"
            idstr = None
            if idstr_index is not None and idstr_index < len(args):
                try:
                    value = ctx.evaluate(ctx.expand(tokenize(args[idstr_index])))
                    idstr = value if isinstance(value, str) else None
                except (Unresolved, ExpansionError, RecursionError, IndexError):
                    idstr = None
            version = _argument_value(ctx, args[2]) if call.callee == "register_savevm_live" and len(args) > 2 else None
            found.append(Registration(call.callee, path, call.line, fn.name, _instance_id(ctx, instance),
                                      None, idstr, tuple(args), version=version if isinstance(version, int) else None))
    return found


def _resolve_registrations(records: dict[str, FileRecord], result: Extraction, resolved: Resolved) -> None:
    """Every registration, in path order, with the VMSD its argument names; one whose
    argument is read from the class (`cpu->cc->sysemu_ops->legacy_vmsd`) is one
    registration per VMSD the classes give, naming the types that give it."""
    classes = None
    for record in records.values():
        for reg in record.registrations:
            vmsd_index = REGISTRATION_CALLS[reg.function][1]
            if vmsd_index is None or vmsd_index >= len(reg.args):
                result.registrations.append(reg)
                continue
            argument = reg.args[vmsd_index].strip()
            symbol = argument.lstrip("&").strip()
            key = resolve_vmsd(resolved, symbol, reg.file) if symbol.isidentifier() else None
            if key is not None:
                result.registrations.append(_replace(reg, vmsd=key))
                continue
            copy = _run_time_copy(result, resolved, reg, argument)
            if copy is not None:
                result.registrations.append(_replace(reg, vmsd=copy))
                continue
            chain = member_chain(argument)
            if chain is not None:
                classes = classes or ClassModel(result, resolved)
                by_class = _class_registrations(classes, result, reg, chain)
                if by_class:
                    result.registrations.extend(by_class)
                    continue
            result.diagnostics.append(Diagnostic(
                "unresolved", reg.file, reg.line,
                f"{reg.function}() in {reg.enclosing}: VMSD argument '{reg.args[vmsd_index]}' "
                f"is not a known VMSD"))
            result.registrations.append(reg)


def _run_time_copy(result: Extraction, resolved: Resolved, reg: Registration, argument: str) -> str | None:
    """`s->vmstate = g_memdup(&vmstate_eepro100, ...); s->vmstate->name = <run time>;
    vmstate_register_any(..., s->vmstate, s)`: a copy of that VMSD, under the name it is
    given (known only at run time: checked under a name that stands for it, `<...>`)."""
    fn = result.functions.get(f"{reg.file}:{reg.enclosing}")
    argument = " ".join(argument.split())
    for lhs, symbol, name, _ in fn.copies if fn is not None else ():
        original = resolved.ref(symbol, reg.file) if lhs == argument else None
        if original is None:
            continue
        if not name:
            return original.key
        copy = _replace(original, symbol=f"{original.symbol}@{reg.enclosing}", name=f"<{name}>",
                        copy_of=original.key, synthetic=f"a copy of {original.symbol} made at run time in "
                                                         f"{reg.enclosing}(), named {name}")
        result.vmsds[copy.key] = copy
        result.diagnostics.append(Diagnostic(
            "unresolved", reg.file, reg.line,
            f"{reg.function}() in {reg.enclosing}: registers a copy of {original.symbol} named at run time "
            f"({name}): it is checked as section '<{name}>'"))
        return copy.key
    return None


def _class_registrations(classes: ClassModel, result: Extraction, reg: Registration,
                         chain: list[str]) -> list[Registration]:
    """REG once per VMSD that the types' classes give through CHAIN, naming the concrete
    types that give it.  A VMSD only abstract types are known to give (their concrete
    types are built by code the extractor does not read) is still registered, so its
    section is checked, and that is said."""
    by_vmsd: dict[str, list[str]] = {}
    for name, qom in sorted(result.types.items()):
        found = classes.vmsd_through(name, chain)
        if found is not None:
            types = by_vmsd.setdefault(found[0], [])
            if not qom.abstract:
                types.append(name)
    for key, types in sorted(by_vmsd.items()):
        if not types:
            vmsd = result.vmsds[key]
            result.diagnostics.append(Diagnostic(
                "unresolved", reg.file, reg.line,
                f"{reg.function}() in {reg.enclosing} registers {vmsd.symbol} ('{chain[-1]}' of a class) "
                f"for abstract types only: no concrete type that inherits it was found"))
    return [_replace(reg, vmsd=key, types=tuple(types)) for key, types in sorted(by_vmsd.items())]


def _instance_id(ctx, text: str) -> str:
    """The instance id argument: a constant as its value (VMSTATE_INSTANCE_ID_ANY for -1,
    as vmstate.h defines it), anything else as written."""
    text = " ".join(text.split())
    try:
        value = ctx.evaluate(ctx.expand(tokenize(text)))
    except (Unresolved, ExpansionError, RecursionError, IndexError):
        return text
    if isinstance(value, int) and not isinstance(value, bool):
        return "VMSTATE_INSTANCE_ID_ANY" if value == -1 else str(value)
    return text


def _check_references(resolved: Resolved, result: Extraction) -> None:
    """Nested and subsection symbols must name VMSDs of the tree."""
    for vmsd in result.vmsds.values():
        for sub in vmsd.subsections or ():
            if resolve_vmsd(resolved, sub, vmsd.file) is None:
                message = f"VMSD {vmsd.symbol}: subsection '{sub}' is not defined in the tree"
                result.diagnostics.append(Diagnostic("unresolved", vmsd.file, vmsd.line, message))
        for member in vmsd.fields or ():
            if member.vmsd and resolve_vmsd(resolved, member.vmsd, vmsd.file) is None:
                message = f"VMSD {vmsd.symbol}: field '{member.name}' nests '{member.vmsd}', not defined in the tree"
                result.diagnostics.append(Diagnostic("unresolved", vmsd.file, member.line, message))


def _check_abstract_owners(resolved: Resolved, result: Extraction) -> None:
    """A VMSD installed by an abstract type reaches the wire only through the concrete
    types that inherit it: when none is known (they are built by C code the extractor
    does not read), its sections cannot be checked, and that must be said."""
    inherited = {vmsd.key for qom in result.types.values() if not qom.abstract
                 if (vmsd := resolved.type_vmsd(qom.name)) is not None}
    for qom in result.types.values():
        if qom.abstract and qom.vmsd and qom.vmsd not in inherited:
            vmsd = result.vmsds.get(qom.vmsd)
            result.diagnostics.append(Diagnostic(
                "unresolved", qom.file, qom.vmsd_line or qom.line,
                f"type '{qom.name}' is abstract and installs VMSD {vmsd.symbol if vmsd else qom.vmsd}, but no "
                f"concrete type that inherits it was found: its sections are not checked"))
