"""Fuzz and property tests (hypothesis): broken or hostile input ends in findings,
diagnostics or one clear error (exit status 2, one `vmsd-lint: error: ...` line) --
never a traceback, never an "internal error", never a hang.

What is generated:
- real VMSD sources (v10.0.2 device files from $VMSD_LINT_QEMU_REPO, else the samples'
  sources) with tokens deleted, duplicated, swapped, inserted and the file truncated, in a
  directory tree: through the extractor, and `vmsd-lint OLD..NEW` (OLD the intact tree);
- `#define` sets built from a small grammar (self-reference, mutual recursion, '#', '##',
  __VA_ARGS__, deep chains) used in fields, names, versions and #if conditions;
- arbitrary bytes, non-UTF-8 and CRLF text as source files and as vmstate.h;
- malformed -dump-vmstate files and snapshots (truncated, wrong types, deep nesting, huge
  numbers, non-UTF-8 bytes) as endpoints;
- odd revision strings (leading '-', '..', '...', spaces, NUL, '@{...}', very long) for
  check, dump and graph: exit 2 with one line, and no user text reaches git as an option;
- patches and mboxes for `vmsd-lint review`, when that command exists;
plus fixed pathological trees (recursive and very deep macros, huge files and lines).

Every example runs under a time limit (a hang is a failure). The default run is bounded:
about DEFAULT_TOTAL generated inputs, well under a minute. A longer run spreads N inputs
over the tests in the same proportions:

    VMSD_LINT_FUZZ_EXAMPLES=3000 pytest tests/test_fuzz.py

VMSD_LINT_FUZZ_STATS=FILE writes how many inputs each test ran (JSON); the count is also
printed at the end of the module.
"""
from __future__ import annotations

import collections
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import unittest.mock
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import QEMU_REPO_ENV, ROOT
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from vmsd_lint.cli.main import main
from vmsd_lint.placement.extraction import placing_extractor
from vmsd_lint.placement.wire import from_extraction
from vmsd_lint.report.native import dumps_native, native_dump
from vmsd_lint.report.qemu_dump import dumps as qemu_dumps
from vmsd_lint.report.qemu_dump import qemu_dump
from vmsd_lint.sources.tree import directory_tree

SAMPLES = ROOT / "samples"
INCLUDE = SAMPLES / "qemu-include" / "include"
QEMU_SEEDS = ("hw/char/serial.c", "hw/gpio/pl061.c", "hw/rtc/mc146818rtc.c", "hw/timer/hpet.c", "hw/input/ps2.c")
SAMPLE_SEEDS = ("serial-device/hw/char/serial.c", "field-removed/old/hw/gpio/pl061.c",
                "subsection-added-unconditional/new/hw/timer/hpet.c", "subsection-renamed/old/hw/input/pckbd.c",
                "field-condition-changed/new/hw/watchdog/wdt_i6300esb.c")

# -- budget -------------------------------------------------------------------------------

SHARES = {  # default examples per test: the expensive tests get fewer
    "extract": 80, "check": 40, "macros": 60, "bytes": 40, "json": 100, "revision": 80, "review": 40,
    "rust": 60, "rust-check": 20, "names": 30,
}
DEFAULT_TOTAL = sum(SHARES.values())
EXAMPLE_TIME_LIMIT = 60  # seconds per generated input; a sample-sized tree takes well under 1 s


def examples(name: str) -> int:
    total = os.environ.get("VMSD_LINT_FUZZ_EXAMPLES")
    if not total:
        return SHARES[name]
    return max(1, round(int(total) * SHARES[name] / DEFAULT_TOTAL))


settings.register_profile("vmsd-lint-fuzz", deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                 HealthCheck.filter_too_much, HealthCheck.large_base_example])
FUZZ = settings.get_profile("vmsd-lint-fuzz")


def budget(name: str) -> settings:
    return settings(FUZZ, max_examples=examples(name))


COUNTS: collections.Counter = collections.Counter()  # generated inputs run, per test
OUTCOMES: collections.Counter = collections.Counter()  # exit statuses of the CLI runs


@pytest.fixture(scope="module", autouse=True)
def _report_counts(request):
    yield
    total = sum(COUNTS.values())
    stats = os.environ.get("VMSD_LINT_FUZZ_STATS")
    if stats:
        Path(stats).write_text(json.dumps({"total": total, "inputs": COUNTS, "outcomes": OUTCOMES}, indent=1,
                                          sort_keys=True) + "\n")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\nvmsd-lint fuzz: {total} generated inputs ({dict(sorted(COUNTS.items()))})")


# -- running one input --------------------------------------------------------------------

class _Hang(BaseException):
    """Raised by the alarm; a BaseException so that no `except Exception` swallows it."""


@contextlib.contextmanager
def time_limit(seconds: float = EXAMPLE_TIME_LIMIT):
    def expired(signum, frame):
        raise _Hang()

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _Hang:
        raise AssertionError(f"hang: no answer within {seconds} s") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_cli(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """vmsd-lint ARGS in this process (click's runner), under the time limit."""
    with time_limit(), contextlib.chdir(cwd):
        result = CliRunner().invoke(main, args, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"vmsd-lint {args!r} raised {result.exception!r}") from result.exception
    return result.exit_code, result.stdout, result.stderr


def assert_clean(code: int, stdout: str, stderr: str, json_report: bool = False, label: str = "other") -> None:
    """Findings (0/1, a report) or one clear error line (2); never a traceback."""
    OUTCOMES[f"{label}: exit {code}"] += 1
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    if code == 2:
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("vmsd-lint: error: "), stderr
        return
    assert code in (0, 1), (code, stderr)
    if json_report:
        report = json.loads(stdout)
        assert {"findings", "summary"} <= report.keys()


def extract_clean(tree: Path):
    """The extractor and both dump renderers on a directory tree, in this process."""
    with time_limit():
        extraction = placing_extractor(jobs=1).run(directory_tree(str(tree)))
        from_extraction(extraction)
        dumps_native(native_dump(extraction))
        qemu_dumps(qemu_dump(extraction))
    return extraction


# -- trees --------------------------------------------------------------------------------

def seed_sources() -> dict[str, bytes]:
    """{path in the tree: bytes}: real v10.0.2 device files, else the samples' sources."""
    repo = os.environ.get(QEMU_REPO_ENV)
    if repo:
        return {path: subprocess.run(["git", "-C", repo, "show", f"v10.0.2:{path}"], check=True,
                                     capture_output=True).stdout for path in QEMU_SEEDS}
    return {"/".join(p.split("/")[-3:]): (SAMPLES / p).read_bytes() for p in SAMPLE_SEEDS}


SEEDS = seed_sources()
VMSTATE_H = "include/migration/vmstate.h"


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    """A fresh tree at root: the samples' shared headers plus FILES (which may replace one)."""
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(INCLUDE, root / "include")
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    return root


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def seed_trees(work) -> dict[str, Path]:
    """One intact tree per seed file (the OLD side of a check)."""
    return {path: write_tree(work / f"seed{i}", {path: data}) for i, (path, data) in enumerate(SEEDS.items())}


# -- token mutations ----------------------------------------------------------------------

TOKEN_RE = re.compile(rb"\s+|[A-Za-z_]\w*|\d[\w.]*|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'|/\*|\*/|//|##|#|->|.",
                      re.S)
INSERTS = [b"(", b")", b"{", b"}", b"[", b"]", b",", b";", b"#", b"##", b"\\\n", b'"', b"'", b"/*", b"*/", b"//",
           b"\n#define ", b"\n#define X X\n", b"\n#undef VMSTATE_UINT32\n", b"\n#if 0\n", b"\n#if 1\n",
           b"\n#ifdef CONFIG_X\n", b"\n#else\n", b"\n#elif\n", b"\n#endif\n", b"\n#include \"migration/vmstate.h\"\n",
           b"\n#include SELF\n", b"VMSTATE_END_OF_LIST()", b"VMSTATE_UINT32(", b"VMSTATE_STRUCT(", b"VMSTATE_ARRAY(",
           b"VMSTATE_UNUSED(4)", b".fields = ", b".subsections = ", b".name = ", b".version_id = ",
           b"(const VMStateField[])", b"(const VMStateDescription * const [])", b"&vmstate_", b"NULL",
           b"static const VMStateDescription vmstate_x = {", b"__VA_ARGS__", b"\0", b"\xff", b"\r\n", b"\r",
           b"0x7fffffffffffffffffffffff", b"-1", b"1e999", b"sizeof(", b"typedef ", b"struct ", b"enum { A = A };",
           b"\xc3\xa9", b"\xef\xbb\xbf", b"type_init(", b"dc->vmsd = &", b"vmstate_register(NULL, 0, &",
           b".class_init = ", b"TYPE_"]

mutation = st.one_of(
    st.tuples(st.just("delete"), st.integers(0, 1 << 20), st.integers(1, 6)),
    st.tuples(st.just("duplicate"), st.integers(0, 1 << 20), st.integers(1, 12)),
    st.tuples(st.just("swap"), st.integers(0, 1 << 20), st.integers(0, 1 << 20)),
    st.tuples(st.just("insert"), st.integers(0, 1 << 20), st.sampled_from(INSERTS)),
    st.tuples(st.just("bytes"), st.integers(0, 1 << 20), st.binary(min_size=1, max_size=4)),
    st.tuples(st.just("truncate"), st.integers(0, 1 << 20), st.just(0)),
)


def hot_indices(tokens: list[bytes]) -> list[int]:
    """Token positions inside or near VMSDs, type infos and field macros, where mutations matter."""
    hot = set()
    for i, tok in enumerate(tokens):
        if tok in (b"VMStateDescription", b"TypeInfo", b"VMStateField") or tok.startswith(b"VMSTATE_"):
            hot.update(range(max(0, i - 5), min(len(tokens), i + 120)))
    return sorted(hot) or list(range(len(tokens)))


def mutate(data: bytes, ops: list[tuple], focus: bool, path: str) -> bytes:
    tokens = TOKEN_RE.findall(data)
    hot = hot_indices(tokens)
    for op, where, arg in ops:
        if not tokens:
            break
        i = hot[where % len(hot)] if focus else where % len(tokens)
        i = min(i, len(tokens) - 1)
        if op == "delete":
            del tokens[i:i + arg]
        elif op == "duplicate":
            tokens[i:i] = tokens[i:i + arg]
        elif op == "swap":
            j = arg % len(tokens)
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif op == "insert":
            tokens.insert(i, arg.replace(b"SELF", f'"{path.split("/")[-1]}"'.encode()))
        elif op == "bytes":
            tokens.insert(i, arg)
        else:  # truncate
            del tokens[i:]
        hot = [h for h in hot if h < len(tokens)] or list(range(len(tokens))) or [0]
    return b"".join(tokens)


mutated_source = st.tuples(
    st.sampled_from(sorted(SEEDS)),  # which device file
    st.sampled_from(["device"] * 4 + ["vmstate.h"]),  # which file of its tree is mutated
    st.lists(mutation, min_size=1, max_size=6),
    st.booleans(),  # near the VMSDs, or anywhere
)


def mutated_tree(root: Path, seed: str, target: str, ops, focus: bool) -> Path:
    if target == "device":
        files = {seed: mutate(SEEDS[seed], ops, focus, seed)}
    else:
        files = {seed: SEEDS[seed], VMSTATE_H: mutate((INCLUDE / "migration" / "vmstate.h").read_bytes(), ops,
                                                      focus, VMSTATE_H)}
    return write_tree(root, files)


@budget("extract")
@given(mutated_source)
def test_mutated_sources_extract(work, case):
    COUNTS["extract"] += 1
    seed, target, ops, focus = case
    extract_clean(mutated_tree(work / "extract", seed, target, ops, focus))


@budget("check")
@given(mutated_source, st.sampled_from(["json", "json", "text", "sarif", "markdown", "github"]))
def test_mutated_sources_check(work, seed_trees, case, fmt):
    COUNTS["check"] += 1
    seed, target, ops, focus = case
    new = mutated_tree(work / "check-new", seed, target, ops, focus)
    code, out, err = run_cli(["--format", fmt, "--cache-dir", str(work / "cache"), "--show-diagnostics",
                              f"{seed_trees[seed]}..{new}"], cwd=work)
    assert_clean(code, out, err, json_report=fmt == "json", label="check")


# -- macro definitions from a grammar -----------------------------------------------------

MACRO_NAMES = ["A", "B", "C", "F", "G", "N_REGS", "VMSTATE_UINT32", "TYPE_X"]
BODY_TOKENS = MACRO_NAMES + ["x", "y", "__VA_ARGS__", "#", "##", "(", ")", ",", "1", "4", "+", "*", "<<", '"s"',
                             "sizeof(uint32_t)", "defined", "A##B", "#x", "x##x", "F(x)", "F(F(x))", "G(", ")"]


@st.composite
def macro_set(draw):
    lines = []
    for _ in range(draw(st.integers(1, 8))):
        name = draw(st.sampled_from(MACRO_NAMES))
        params = draw(st.one_of(st.none(), st.lists(st.sampled_from(["x", "y", "...", "x..."]), max_size=3)))
        body = " ".join(draw(st.lists(st.sampled_from(BODY_TOKENS), max_size=10)))
        head = name if params is None else f"{name}({', '.join(params)})"
        cond = draw(st.sampled_from(["", "", "defined(A)", "A", "!defined(B)", "F(1)", "C > 1", "defined(F)"]))
        define = f"#define {head} {body}"
        lines.append(f"#if {cond}\n{define}\n#endif" if cond else define)
    chain = draw(st.integers(0, 3))
    if chain:  # a long chain of definitions: object-like, function-like or conditional
        n = draw(st.sampled_from([50, 500, 3000]))
        kind = ["#define D{i} D{j}", "#define D{i}(x) D{j}(x)", "#if defined(D{j})\n#define D{i} 1\n#endif"][chain - 1]
        lines += [kind.format(i=i, j=i + 1) for i in range(n)] + [f"#define D{n} 8"]
    return "\n".join(lines) + "\n"


USES = ["A", "B", "C", "F(1)", "G(1, 2)", "F(F(F(A)))", "N_REGS", "D0", "D0(2)", "F(" * 200 + "1" + ")" * 200]


@budget("macros")
@given(macro_set(), st.sampled_from(USES), st.sampled_from(USES), st.sampled_from(["num", "name", "version", "if"]))
def test_macro_definitions(work, defines, use, other, where):
    COUNTS["macros"] += 1
    source = (SAMPLES / "field-removed/old/hw/gpio/pl061.c").read_text()
    field = "VMSTATE_UINT32(data, PL061State),"
    if where == "num":
        source = source.replace(field, f"{field} VMSTATE_UINT32_ARRAY(out, PL061State, {use}),")
    elif where == "name":
        source = source.replace('.name = "pl061"', f".name = {use}").replace("TYPE_PL061 \"pl061\"",
                                                                             f"TYPE_PL061 {other}")
    elif where == "version":
        source = source.replace(".version_id = 4", f".version_id = {use}")
    else:
        source = source.replace(field, f"{field}\n#if {use}\nVMSTATE_UINT32(dir, PL061State),\n#elif {other}\n"
                                       f"VMSTATE_UINT32(im, PL061State),\n#endif\n")
    extract_clean(write_tree(work / "macros", {"hw/gpio/pl061.c": (defines + source).encode()}))


# -- arbitrary bytes ----------------------------------------------------------------------

@budget("bytes")
@given(st.one_of(
    st.binary(max_size=4096),
    st.builds(lambda seed, crlf, junk, at: _with_bytes(SEEDS[seed], crlf, junk, at),
              st.sampled_from(sorted(SEEDS)), st.booleans(), st.binary(min_size=1, max_size=8),
              st.integers(0, 1 << 20)),
), st.sampled_from(["hw/x/dev.c", "hw/x/dev.h", "hw/x/dev.inc", VMSTATE_H, "include/qemu/osdep.h"]))
def test_arbitrary_bytes_as_source(work, data, path):
    COUNTS["bytes"] += 1
    files = {"hw/gpio/pl061.c": (SAMPLES / "field-removed/old/hw/gpio/pl061.c").read_bytes(), path: data}
    extract_clean(write_tree(work / "bytes", files))


def _with_bytes(data: bytes, crlf: bool, junk: bytes, at: int) -> bytes:
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    at %= len(data) + 1
    return data[:at] + junk + data[at:]


# -- pathological trees (fixed cases) -----------------------------------------------------

PL061 = (SAMPLES / "field-removed/old/hw/gpio/pl061.c").read_text()
FIELD = "VMSTATE_UINT32(data, PL061State),"


def _count(expr: str, defines: str = "") -> str:
    return defines + "\n" + PL061.replace(FIELD, f"{FIELD} VMSTATE_UINT32_ARRAY(out, PL061State, {expr}),")


def _nested_vmsds(depth: int, version: int, device: bool = False) -> str:
    """DEPTH VMSDs, each nesting the next with VMSTATE_STRUCT_POINTER; the innermost has
    VERSION.  The outermost is registered with vmstate_register(), or is a device's dc->vmsd."""
    parts = ['#include "migration/vmstate.h"', '#include "hw/qdev-core.h"',
             "typedef struct S { int v; struct S *n; } S;"]
    for i in range(depth, -1, -1):
        fields = (f"VMSTATE_STRUCT_POINTER(n, S, vmstate_n{i + 1}, S)," if i < depth else
                  "VMSTATE_INT32(v, S),")
        parts.append(f"static const VMStateDescription vmstate_n{i} = {{ .name = \"n{i}\", .version_id = "
                     f"{version if i == depth else 1}, .fields = (const VMStateField[]) {{ {fields} "
                     f"VMSTATE_END_OF_LIST() }} }};")
    if device:
        parts.append("static void n_class_init(ObjectClass *klass, void *data)\n{\n"
                     "    DeviceClass *dc = DEVICE_CLASS(klass);\n    dc->vmsd = &vmstate_n0;\n}\n"
                     "static const TypeInfo n_info = { .name = \"nest-dev\", .parent = TYPE_DEVICE, "
                     ".class_init = n_class_init };\n"
                     "static void n_register_types(void) { type_register_static(&n_info); }\n"
                     "type_init(n_register_types)")
    else:
        parts.append("static void init(void) { vmstate_register(NULL, 0, &vmstate_n0, NULL); }")
    return "\n".join(parts) + "\n"


CHAIN = "\n".join(f"#if defined(C{i + 1})\n#define C{i} 1\n#endif" for i in range(3000)) + "\n#define C3000 1\n"
PATHOLOGICAL = {  # name: (source of hw/gpio/pl061.c, text a diagnostic must contain or None)
    "self-object": (_count("A", "#define A A"), "'A' is not a constant"),
    "mutual": (_count("A", "#define A B\n#define B A"), "'A' is not a constant"),
    "self-function": (_count("F(1)", "#define F(x) F(x)"), "F()"),
    "self-paste": (_count("X", "#define CAT(a, b) a##b\n#define X CAT(X, )"), "'X' is not a constant"),
    "paste-to-self": (_count("AB", "#define CAT(a, b) a##b\n#define AB CAT(A, B)"), "'AB' is not a constant"),
    "chain-5000": (_count("A0", "\n".join(f"#define A{i} A{i + 1}" for i in range(5000)) + "\n#define A5000 8"),
                   None),
    "function-chain-5000": (_count("F0(8)", "\n".join(f"#define F{i}(x) F{i + 1}(x)" for i in range(5000)) +
                                   "\n#define F5000(x) x"), None),
    "argument-nesting-3000": (_count("F(" * 3000 + "8" + ")" * 3000, "#define F(x) x"), "nested more than"),
    "exponential": (_count("E0", "#define D(x) x x\n" + "\n".join(f"#define E{i} D(E{i + 1})" for i in range(40)) +
                           "\n#define E40 1"), "exceeds"),
    "condition-chain-3000": (CHAIN + _count("C0"), "nested conditional definitions"),
    "condition-chain-in-initializer": (CHAIN + PL061.replace(FIELD, f"{FIELD}\n#if C0\nVMSTATE_UINT32(dir, "
                                                                    f"PL061State),\n#endif\n"),
                                       "nested conditional definitions"),
    "parentheses-5000": (_count("(" * 5000 + "8" + ")" * 5000), None),
    "if-nesting-3000": ("#if 1\n" * 3000 + PL061 + "#endif\n" * 3000, None),
    "braces-5000": (PL061 + "int y = " + "{" * 5000 + "}" * 5000 + ";\n", None),
    "unterminated": (PL061 + "\n/* unterminated\n#define Q (\n\"abc\n", None),
    "long-name": (_count("A" * 1_000_000, "#define " + "A" * 1_000_000 + " 1"), None),
    "huge-line": (PL061 + "/* " + "x" * 8_000_000 + " */\nstatic const char s[] = \"" + "y" * 4_000_000 + "\";\n",
                  None),
    "huge-file": (PL061 + "\n".join(f"static int v{i} = {i}; /* padding */" for i in range(250_000)), None),
    "attributes-40": (PL061 + "struct " + "__attribute__((x)) " * 40 + "name ;\ntypedef struct { int a; } " +
                      "__attribute__((aligned(8))) " * 40 + ";\n", None),
    "typedef-run": (PL061 + "typedef " * 100_000 + "(;\n", None),
    "unclosed-structs": (PL061 + "struct a {" * 50_000, None),
    "nested-structs": (PL061 + "struct a {" * 50_000 + "}" * 50_000 + ";\n", None),
    "crlf": (PL061.replace("\n", "\r\n"), None),
    "nul-bytes": (PL061.replace("uint32_t dir;", "uint32_t d\0ir;"), None),
    "non-utf8": (PL061.encode().replace(b"pl061", b"pl\xff\xfe61").decode("utf-8", "surrogateescape"), None),
    "self-include": ('#include "pl061.c"\n' + PL061, None),
    "vmsd-nesting-300": (_nested_vmsds(300, 1), None),
    "device-vmsd-nesting-600": (_nested_vmsds(600, 1, device=True), None),
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_tree(work, name):
    COUNTS["pathological"] += 1
    source, needle = PATHOLOGICAL[name]
    data = source.encode("utf-8", "surrogateescape")
    tree = write_tree(work / f"patho-{name}", {"hw/gpio/pl061.c": data})
    extraction = extract_clean(tree)
    if needle:
        messages = [d.message for d in extraction.diagnostics]
        assert any(needle in m for m in messages), messages
    old = write_tree(work / "patho-old", {"hw/gpio/pl061.c": PL061.encode()})
    code, out, err = run_cli(["--format", "json", "--no-cache", f"{old}..{tree}"], cwd=work)
    assert_clean(code, out, err, json_report=True, label="pathological")


@pytest.mark.parametrize("device", [False, True])
def test_deep_vmsd_nesting_is_reported_not_crashed(work, device):
    """A chain of 600 nested VMSDs whose innermost changed: the comparison stops at a depth
    limit with an `unresolved` note instead of overflowing the stack, and so does the
    -dump-vmstate rendering of a device's (which is then compared as an endpoint)."""
    COUNTS["pathological"] += 1
    old = write_tree(work / "nest-old", {"hw/x/n.c": _nested_vmsds(600, 1, device).encode()})
    new = write_tree(work / "nest-new", {"hw/x/n.c": _nested_vmsds(600, 2, device).encode()})
    code, out, err = run_cli(["--format", "json", "--no-cache", f"{old}..{new}"], cwd=work)
    assert_clean(code, out, err, json_report=True, label="pathological")
    assert any("nested more than" in f["message"] for f in json.loads(out)["findings"])
    if device:
        code, out, err = run_cli(["dump", "--format", "qemu", "--no-cache", str(old)], cwd=work)
        assert code == 0 and "(nested more than 64 deep)" in out, err
        dump = work / "nest-old.json"
        dump.write_text(out)
        code, out, err = run_cli(["--format", "json", "--no-cache", f"{dump}..{new}"], cwd=work)
        assert_clean(code, out, err, json_report=True, label="pathological")


def test_fifo_and_device_files_in_a_tree(work):
    """A FIFO named like a header and a link to /dev/zero: read, they would block or never
    end; they are not regular files, so they are not read."""
    COUNTS["pathological"] += 1
    tree = write_tree(work / "special", {"hw/gpio/pl061.c": PL061.encode()})
    os.mkfifo(tree / "include" / "fifo.h")
    os.symlink("/dev/zero", tree / "include" / "zero.h")
    os.mkfifo(tree / "hw" / "gpio" / "pl061-fifo.c")
    (tree / "configs" / "targets").mkdir(parents=True)
    os.mkfifo(tree / "configs" / "targets" / "x86_64-softmmu.mak")
    extract_clean(tree)
    code, out, err = run_cli(["--format", "json", "--no-cache", "--target", "x86_64", f"{tree}..{tree}"], cwd=work)
    assert_clean(code, out, err, json_report=True, label="pathological")


def test_links_and_special_files_in_a_tree(work):
    """Links out of the tree (to /, /proc/kmsg, a file and a directory elsewhere), a link
    loop, a dangling link, a FIFO and a 65 MB file named like sources: none is read or
    followed, each file skipped is a diagnostic naming it, and the run ends quickly."""
    COUNTS["pathological"] += 1
    tree = write_tree(work / "links", {"hw/gpio/pl061.c": PL061.encode()})
    outside = work / "links-outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.c").write_text(PL061.replace('"pl061"', '"secret"'))
    for target, link in (("/", "hw/root"), ("/proc/kmsg", "hw/kmsg.c"), (outside / "secret.c", "hw/secret.c"),
                         (outside, "hw/outside"), ("..", "hw/loop"), ("missing.c", "hw/dangling.c")):
        os.symlink(target, tree / link)
    os.mkfifo(tree / "hw" / "fifo.c")
    with open(tree / "hw" / "huge.c", "wb") as fh:
        fh.truncate(65 * 1024 * 1024)  # sparse
    extraction = extract_clean(tree)
    assert {v.name for v in extraction.vmsds.values()} >= {"pl061"}
    assert "secret" not in {v.name for v in extraction.vmsds.values()}
    skipped = {d.file for d in extraction.diagnostics if "not read" in d.message}
    assert skipped == {"hw/root", "hw/kmsg.c", "hw/secret.c", "hw/outside", "hw/fifo.c", "hw/huge.c"}, skipped
    code, out, err = run_cli(["--format", "json", "--no-cache", f"{tree}..{tree}"], cwd=work)
    assert_clean(code, out, err, json_report=True, label="pathological")


LINE_BREAKS = "\r\x0b\x0c\x1b\x1c\x1d\x1e\x85\u2028\u2029"  # what str.splitlines() splits on, and ESC


@budget("names")
@given(name=st.binary(min_size=1, max_size=40).filter(lambda b: b"/" not in b and b"\0" not in b),
       fmt=st.sampled_from(["text", "github", "markdown", "json"]))
@example(name=b"\x0b", fmt="github")  # found by CI: a vertical tab in an annotation's file= property
@example(name=b"\x0b\x80", fmt="github")  # ... and in its message, quoting a diagnostic
def test_odd_file_names(work, name, fmt):
    """Any bytes as a file name (not UTF-8, newlines, backticks, control characters): the
    file is read (under an escaped spelling when it is not UTF-8) and no report line of
    any format is broken by it."""
    COUNTS["names"] += 1
    tree = write_tree(work / "names", {"hw/gpio/pl061.c": PL061.encode()})
    with open(os.fsencode(tree / "hw" / "gpio") + b"/" + name + b".c", "wb") as fh:
        fh.write(PL061.replace('"pl061"', '"odd"').replace(FIELD, "VMSTATE_NOPE(data, PL061State),").encode())
    assert "odd" in {v.name for v in extract_clean(tree).vmsds.values()}
    old = write_tree(work / "names-old", {"hw/gpio/pl061.c": PL061.encode()})
    code, out, err = run_cli(["--format", fmt, "--no-cache", "--show-diagnostics", f"{old}..{tree}"], cwd=work)
    assert_clean(code, out, err, json_report=fmt == "json", label="names")
    assert not [c for c in LINE_BREAKS if c in out], out
    if fmt == "markdown":
        assert all(line.endswith(" |") for line in out.splitlines() if line.startswith("| ")), out


@pytest.mark.parametrize("name", ["argument-nesting-3000", "condition-chain-3000", "huge-file"])
def test_pathological_tree_real_entry_point(work, name):
    """The installed entry point in its own process, with a wall-clock limit."""
    COUNTS["pathological"] += 1
    tree = write_tree(work / f"proc-{name}", {"hw/gpio/pl061.c": PATHOLOGICAL[name][0].encode()})
    old = write_tree(work / "proc-old", {"hw/gpio/pl061.c": PL061.encode()})
    proc = subprocess.run([sys.executable, "-m", "vmsd_lint.cli.main", "--format", "json", "--no-cache",
                           f"{old}..{tree}"], cwd=work, capture_output=True, text=True, timeout=300)
    assert_clean(proc.returncode, proc.stdout, proc.stderr, json_report=True, label="pathological")


# -- Rust sources -------------------------------------------------------------------------

RUST_SAMPLE = SAMPLES / "rust-device"
RUST_QEMU_FILES = ("rust/hw/char/pl011/src/device_class.rs", "rust/hw/char/pl011/src/device.rs",
                   "rust/hw/char/pl011/src/registers.rs", "rust/hw/char/pl011/src/lib.rs",
                   "rust/hw/timer/hpet/src/hpet.rs", "rust/hw/timer/hpet/src/lib.rs",
                   "rust/qemu-api/src/vmstate.rs", "rust/qemu-api/src/sysbus.rs")
RUST_SEED_FILES = ("rust/hw/char/pl011/src/device_class.rs", "rust/hw/char/pl011/src/device.rs",
                   "rust/hw/char/pl011/src/registers.rs", "rust/hw/timer/hpet/src/hpet.rs",
                   "rust/qemu-api/src/vmstate.rs")


def rust_base() -> dict[str, bytes]:
    """The files of a tree holding Rust devices beside C ones: samples/rust-device, with
    the real v10.0.2 Rust files over it when $VMSD_LINT_QEMU_REPO is set."""
    files = {str(p.relative_to(RUST_SAMPLE)): p.read_bytes() for p in sorted(RUST_SAMPLE.rglob("*"))
             if p.is_file() and p.relative_to(RUST_SAMPLE).parts[0] != "include"}
    repo = os.environ.get(QEMU_REPO_ENV)
    if repo:
        files.update({path: subprocess.run(["git", "-C", repo, "show", f"v10.0.2:{path}"], check=True,
                                           capture_output=True).stdout for path in RUST_QEMU_FILES})
    return files


RUST_BASE = rust_base()
RUST_SEEDS = sorted(p for p in RUST_SEED_FILES if p in RUST_BASE)
RUST_INSERTS = [b"vmstate_of!(", b"vmstate_struct!(", b"vmstate_unused!(", b"vmstate_clock!(", b"vmstate_validate!(",
                b"vmstate_fields! {", b"vmstate_subsections! {", b"c_str!(", b'c"x"', b'b"x\\0"', b'r#"x"#', b"[0 .. ",
                b" * ", b"::", b"<", b">", b"&", b"!", b"#[bitsize(", b"#[bitsize(4096)]",
                b"#[derive(qemu_api_macros::Object)]", b"impl_vmstate_forward!(", b"impl_vmstate_bitsized!(",
                b"impl_vmstate_scalar!(", b".with_version_id(", b"..Zeroable::ZERO",
                b"static X: VMStateDescription = VMStateDescription {", b"const TYPE_NAME: &CStr = ",
                b"type ParentType = ", b"fn vmsd() -> Option<&'static VMStateDescription> { Some(&", b"1 << 200",
                b"0x", b"u128", b"usize", b"Box<", b"[", b"]", b"(", b")", b"{", b"}", b",", b";", b"'", b'"',
                b"/*", b"*/", b"//", b"mod tests {", b"\0", b"\xff", b"\r\n", b"9" * 5000]

rust_mutation = st.one_of(
    st.tuples(st.just("delete"), st.integers(0, 1 << 20), st.integers(1, 6)),
    st.tuples(st.just("duplicate"), st.integers(0, 1 << 20), st.integers(1, 12)),
    st.tuples(st.just("swap"), st.integers(0, 1 << 20), st.integers(0, 1 << 20)),
    st.tuples(st.just("insert"), st.integers(0, 1 << 20), st.sampled_from(RUST_INSERTS)),
    st.tuples(st.just("bytes"), st.integers(0, 1 << 20), st.binary(min_size=1, max_size=4)),
    st.tuples(st.just("truncate"), st.integers(0, 1 << 20), st.just(0)),
)
mutated_rust = st.tuples(st.sampled_from(RUST_SEEDS), st.lists(rust_mutation, min_size=1, max_size=6), st.booleans())


def rust_tree(root: Path, files: dict[str, bytes] | None = None) -> Path:
    """A fresh Rust tree at root (the samples' headers, RUST_BASE, then FILES over it)."""
    return write_tree(root, {**RUST_BASE, **(files or {})})


@budget("rust")
@given(mutated_rust)
def test_mutated_rust_sources_extract(work, case):
    COUNTS["rust"] += 1
    seed, ops, focus = case
    extract_clean(rust_tree(work / "rust", {seed: mutate(RUST_BASE[seed], ops, focus, seed)}))


@budget("rust-check")
@given(mutated_rust, st.sampled_from(["json", "text", "sarif"]))
def test_mutated_rust_sources_check(work, case, fmt):
    COUNTS["rust-check"] += 1
    seed, ops, focus = case
    old = work / "rust-old"
    if not old.exists():
        rust_tree(old)
    new = rust_tree(work / "rust-new", {seed: mutate(RUST_BASE[seed], ops, focus, seed)})
    code, out, err = run_cli(["--format", fmt, "--no-cache", "--show-diagnostics", f"{old}..{new}"], cwd=work)
    assert_clean(code, out, err, json_report=fmt == "json", label="rust-check")


CLASS_RS = "rust/hw/char/pl011/src/device_class.rs"
RUST_CLASS = (RUST_SAMPLE / CLASS_RS).read_text()
RUST_UNUSED = "vmstate_unused!(core::mem::size_of::<u32>())"


def _rust_unused(expr: str, items: str = "") -> dict[str, str]:
    """The sample's device_class.rs with vmstate_unused!(EXPR) and ITEMS."""
    return {CLASS_RS: RUST_CLASS.replace(RUST_UNUSED, f"vmstate_unused!({expr})") + "\n" + items}


def _rust_struct_fan(depth: int) -> dict[str, str]:
    """VMSTATE_PL011 nests F0, each Fi nests F(i+1) twice: 2**DEPTH copies of the last."""
    items = [f"static F{depth}: VMStateDescription = VMStateDescription {{ name: c\"f{depth}\".as_ptr(), fields: "
             f"vmstate_fields! {{ vmstate_of!(PL011Registers, dmacr), }}, ..Zeroable::ZERO }};"]
    for i in range(depth):
        items.append(f"static F{i}: VMStateDescription = VMStateDescription {{ name: c\"f{i}\".as_ptr(), fields: "
                     f"vmstate_fields! {{ vmstate_struct!(S, a, &F{i + 1}, S), vmstate_struct!(S, b, &F{i + 1}, S), "
                     f"}}, ..Zeroable::ZERO }};")
    source = RUST_CLASS.replace("&VMSTATE_PL011_REGS", "&F0") + "\n".join(items) + "\n"
    return {CLASS_RS: source}


RUST_PATHOLOGICAL = {  # name: (files over the Rust sample, text a diagnostic must contain or None)
    "const-chain-5000": (_rust_unused("A0", "\n".join(f"const A{i}: usize = A{i + 1};" for i in range(5000)) +
                                      "\nconst A5000: usize = 4;"), "more than 32 deep"),
    "const-cycle": (_rust_unused("A", "const A: usize = B;\nconst B: usize = A;"), "more than 32 deep"),
    "parentheses-100000": (_rust_unused("(" * 100_000 + "4" + ")" * 100_000), None),
    "shift": (_rust_unused("1 << 100000"), "shift out of range"),
    "digits": (_rust_unused("9" * 50_000), "not an integer literal"),
    "array-nesting-3000": ({"rust/hw/char/pl011/src/device.rs": (RUST_SAMPLE / "rust/hw/char/pl011/src/device.rs")
                            .read_text().replace("pub dmacr: u32,", "pub dmacr: " + "[" * 3000 + "u32" +
                                                 "; 1]" * 3000 + ",")}, None),
    "self-nesting": ({CLASS_RS: RUST_CLASS.replace("vmstate_of!(PL011Registers, flags),",
                                                   "vmstate_struct!(PL011Registers, flags, &VMSTATE_PL011_REGS, X),")},
                     None),
    "struct-fan-40": (_rust_struct_fan(40), None),
    "forward-cycle": ({"rust/hw/char/pl011/src/device.rs": (RUST_SAMPLE / "rust/hw/char/pl011/src/device.rs")
                       .read_text().replace("pub struct Fifo([registers::Data; PL011_FIFO_DEPTH as usize]);",
                                            "pub struct Fifo([Fifo; 1]);")}, "more than 32 deep"),
    "parent-cycle": ({"rust/hw/char/pl011/src/device.rs": (RUST_SAMPLE / "rust/hw/char/pl011/src/device.rs")
                      .read_text().replace("type ParentType = SysBusDevice;", "type ParentType = PL011Luminary;")},
                     None),
    "long-value": (_rust_unused("4", "static BIG: [u32; 3] = [" + "1, " * 1_000_000 + "];"), None),
    "unclosed": ({CLASS_RS: RUST_CLASS[:RUST_CLASS.index("vmstate_of!(PL011Registers, ibrd)") + 20]}, None),
    "non-utf8-nul-crlf": ({CLASS_RS: RUST_CLASS.replace("pl011/regs", "pl\udcff\0/regs").replace("\n", "\r\n")},
                          None),
}


@pytest.mark.parametrize("name", sorted(RUST_PATHOLOGICAL))
def test_pathological_rust_tree(work, name):
    COUNTS["pathological"] += 1
    files, needle = RUST_PATHOLOGICAL[name]
    tree = write_tree(work / f"rust-patho-{name}", {**RUST_BASE, **{path: text.encode("utf-8", "surrogateescape")
                                                                     for path, text in files.items()}})
    extraction = extract_clean(tree)
    if needle:
        messages = [d.message for d in extraction.diagnostics]
        assert any(needle in m for m in messages), messages
    old = rust_tree(work / "rust-patho-old")
    code, out, err = run_cli(["--format", "json", "--no-cache", f"{old}..{tree}"], cwd=work)
    assert_clean(code, out, err, json_report=True, label="pathological")


# -- malformed -dump-vmstate files and snapshots ------------------------------------------

@pytest.fixture(scope="module")
def json_bases(work) -> dict[str, Path]:
    """A -dump-vmstate file and a native snapshot of the serial sample (the intact side)."""
    extraction = placing_extractor(jobs=1).run(directory_tree(str(SAMPLES / "serial-device")))
    bases = {"qemu": work / "base-qemu.json", "native": work / "base-native.json"}
    bases["qemu"].write_text(qemu_dumps(qemu_dump(extraction)))
    bases["native"].write_text(dumps_native(native_dump(extraction)))
    return bases


JSON_KEYS = ["name", "version_id", "minimum_version_id", "Fields", "Subsections", "Description", "field", "size",
             "num", "field_exists", "vmschkmachine", "Name", "vmsds", "types", "endpoint", "fields", "subsections",
             "flags", "unresolved", "registrations", "placements", "diagnostics", "entries", "symbol", "file", "line"]
json_scalar = (st.none() | st.booleans() | st.integers(-(1 << 70), 1 << 70) | st.floats() | st.text(max_size=12)
               | st.sampled_from(JSON_KEYS))
json_value = st.recursive(json_scalar, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.sampled_from(JSON_KEYS) | st.text(max_size=6), inner, max_size=4),
                          max_leaves=16)

json_mutation = st.one_of(
    st.tuples(st.just("retype"), st.lists(st.integers(0, 1 << 16), min_size=1, max_size=8),
              st.tuples(st.integers(-(1 << 65), 1 << 65), st.text(max_size=12))),
    st.tuples(st.just("replace"), st.lists(st.integers(0, 1 << 16), min_size=1, max_size=8), json_value),
    st.tuples(st.just("delete"), st.lists(st.integers(0, 1 << 16), min_size=1, max_size=8), st.none()),
    st.tuples(st.just("nest"), st.lists(st.integers(0, 1 << 16), min_size=1, max_size=8),
              st.tuples(st.sampled_from(["list", "Description", "Fields"]), st.sampled_from([10, 300, 5000]))),
    st.tuples(st.just("bignum"), st.lists(st.integers(0, 1 << 16), min_size=1, max_size=8),
              st.sampled_from([5000, 50_000])),
)


def _walk(doc, path: list[int]):
    """The container and key `path` leads to (indices taken modulo each container's size)."""
    parent, key = None, None
    node = doc
    for step in path:
        if isinstance(node, dict) and node:
            keys = sorted(node)
            parent, key = node, keys[step % len(keys)]
        elif isinstance(node, list) and node:
            parent, key = node, step % len(node)
        else:
            break
        node = parent[key]
    return parent, key


def mutate_json(text: str, ops) -> bytes:
    doc = json.loads(text)
    raw: list[str] = []
    for op, path, arg in ops:
        parent, key = _walk(doc, path)
        if parent is None:
            continue
        if op == "replace":
            parent[key] = arg
        elif op == "retype":  # another value of the same type: still a well-formed file
            old = parent[key]
            if isinstance(old, int) and not isinstance(old, bool):
                parent[key] = arg[0]
            elif isinstance(old, str):
                parent[key] = arg[1]
        elif op == "delete":
            del parent[key]
        elif op == "nest":  # written raw: json.dumps itself cannot nest that deep
            shape, depth = arg
            opening, closing = NESTING[shape]
            raw.append(opening * depth + json.dumps(parent[key]) + closing * depth)
            parent[key] = f"@@RAW{len(raw) - 1}@@"
        else:  # a number too long to convert, written raw
            raw.append("9" * arg)
            parent[key] = f"@@RAW{len(raw) - 1}@@"
    out = json.dumps(doc)
    for i, text in enumerate(raw):
        out = out.replace(f'"@@RAW{i}@@"', text)
    return out.encode()


NESTING = {"list": ("[", "]"), "Fields": ('{"Fields": [', "]}"),
           "Description": ('{"name": "n", "version_id": 1, "minimum_version_id": 1, "Fields": [{"field": "f", '
                           '"version_id": 0, "field_exists": false, "size": 4, "Description": ', "}]}")}


malformed_json = st.one_of(
    st.tuples(st.sampled_from(["qemu", "native"]), st.lists(json_mutation, min_size=1, max_size=4), st.none()),
    st.tuples(st.sampled_from(["qemu", "native"]), st.just([]), st.one_of(
        st.tuples(st.just("truncate"), st.integers(0, 1 << 20)),
        st.tuples(st.just("bytes"), st.integers(0, 1 << 20), st.binary(min_size=1, max_size=6)),
        st.tuples(st.just("raw"), st.binary(max_size=200)),
        st.tuples(st.just("deep"), st.sampled_from(["[", "{\"a\":", "{\"vmschkmachine\": {}, \"x\":"]),
                  st.sampled_from([1000, 100_000])),
    )),
)


@budget("json")
@given(malformed_json, st.booleans(), st.sampled_from(["json", "text"]))
def test_malformed_json_endpoints(work, json_bases, case, as_old, fmt):
    COUNTS["json"] += 1
    base, ops, raw = case
    text = json_bases[base].read_text()
    if raw is None:
        data = mutate_json(text, ops)
    elif raw[0] == "truncate":
        data = text.encode()[:raw[1] % (len(text) + 1)]
    elif raw[0] == "bytes":
        at = raw[1] % (len(text) + 1)
        data = text.encode()[:at] + raw[2] + text.encode()[at:]
    elif raw[0] == "raw":
        data = raw[1]
    else:
        data = (raw[1] * raw[2]).encode()
    endpoint = work / "mutated.json"
    endpoint.write_bytes(data)
    other = json_bases["qemu"]
    spec = f"{endpoint}..{other}" if as_old else f"{other}..{endpoint}"
    code, out, err = run_cli(["--format", fmt, "--no-cache", spec], cwd=work)
    assert_clean(code, out, err, json_report=fmt == "json", label="json")


# -- odd revision strings -----------------------------------------------------------------

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t",
           "GIT_CONFIG_NOSYSTEM": "1", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}


@pytest.fixture(scope="module")
def rev_repo(work) -> Path:
    """A git repository with two commits of the serial sample (tags v1, v2)."""
    repo = work / "rev-repo"
    shutil.copytree(SAMPLES / "serial-device", repo)
    env = {**GIT_ENV, "HOME": str(work)}
    for cmd in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-qm", "one"], ["tag", "v1"]):
        subprocess.run(["git", *cmd], cwd=repo, check=True, env=env, capture_output=True)
    (repo / "hw/char/serial.c").write_text((repo / "hw/char/serial.c").read_text().replace("VMSTATE_UINT8(lsr",
                                                                                           "VMSTATE_UINT16(lsr"))
    for cmd in (["commit", "-qam", "two"], ["tag", "v2"]):
        subprocess.run(["git", *cmd], cwd=repo, check=True, env=env, capture_output=True)
    return repo


REV_PIECES = ["-", "--", "..", "...", " ", "\0", "@{", "}", "@{-1}", "@{u}", "@{1}", "@{now}", "^", "^{}", "^{tree}",
              "^!", "^@", "~", "~1", ":", ":/", ":/two", "/", "HEAD", "v1", "v2", "main", "--output=x", "-o", "-h",
              "--help", "--upload-pack=touch fuzz-marker", "--exec=x", "--git-dir=/", "$(touch fuzz-marker)",
              "`touch fuzz-marker`", ";", "\n", "\t", "'", '"', "*", "?", "[", "\\", "WORKTREE", ":worktree", "INDEX",
              ":index", ":empty", "refs/heads/main", "FETCH_HEAD", "ORIG_HEAD", ".json", "é", "%s", "{}"]
VALID_REVISIONS = ["v1", "v2", "HEAD", "main", "HEAD~1", "v2^", "v1..v2", "v1..", "v2..v1", "HEAD@{0}", ":/two",
                   "main@{0}..v2", "v1^{commit}..v2", "v2~1..v2", "refs/tags/v1..refs/tags/v2", "WORKTREE", "INDEX",
                   "v1..WORKTREE", "v1..:index", ":empty..v1"]
revision = st.one_of(
    st.sampled_from(VALID_REVISIONS),
    st.tuples(st.sampled_from(VALID_REVISIONS), st.sampled_from(REV_PIECES)).map("".join),
    st.lists(st.sampled_from(REV_PIECES) | st.text(max_size=4), min_size=1, max_size=8).map("".join),
    st.builds(lambda piece, n: piece * n, st.sampled_from(["-", "a", "..", "@{", "v1..", "HEAD~"]),
              st.sampled_from([1000, 20_000, 200_000])),
)
# Options vmsd-lint itself gives git: anything else starting with '-' came from user input.
OUR_GIT_OPTIONS = {"-c", "-C", "--verify", "--quiet", "--end-of-options", "-r", "-z", "--full-tree", "--batch",
                   "--is-bare-repository", "--absolute-git-dir", "--show-toplevel", "-s", "--full-name", "--cached",
                   "--others", "--exclude-standard", "-p", "-t", "-l"}


@budget("revision")
@given(revision, st.sampled_from(["check", "check --", "dump --", "graph --", "dump", "plain"]))
def test_odd_revision_strings(work, rev_repo, spec, command):
    COUNTS["revision"] += 1
    calls = []
    real_run = subprocess.run

    def recording_run(argv, *args, **kwargs):
        if argv and argv[0] == "git":
            calls.append(list(argv))
        return real_run(argv, *args, **kwargs)

    # A spec naming a directory outside the test's is a directory endpoint ('/' is the whole
    # file system): out of scope here.
    pieces = [spec, *spec.split("..")]
    assume(not any(p and os.path.isdir(p) and not os.path.realpath(p).startswith(str(work)) for p in pieces
                   if "\0" not in p and len(p) < 4096))
    words = command.split()
    head = [] if words[0] == "plain" else [words[0]]
    args = [*head, "--repo", str(rev_repo), "--cache-dir", str(work / "rev-cache"), *words[1:], spec]
    with unittest.mock.patch.object(subprocess, "run", recording_run):
        code, out, err = run_cli(args, cwd=work)
    if spec in ("-h", "--help") and "--" not in words:  # an option of vmsd-lint's own
        assert code == 0 and out.startswith("Usage:")
        return
    assert_clean(code, out, err, label="revision")
    if spec.startswith("-"):
        assert code == 2
    for argv in calls:
        options = argv[1:argv.index("--end-of-options")] if "--end-of-options" in argv else argv[1:]
        injected = [a for a in options if a.startswith("-") and a not in OUR_GIT_OPTIONS]
        assert not injected, (spec, argv)
    assert not (work / "fuzz-marker").exists() and not (rev_repo / "fuzz-marker").exists()


# -- vmsd-lint review (patches and mboxes) ------------------------------------------------

HAS_REVIEW = "review" in main.commands
PATCH_INSERTS = ["\n", "diff --git a/../x b/../x\n", "--- /etc/passwd\n", "+++ /etc/passwd\n", "--- a/../../x\n",
                 "+++ b//tmp/x\n", "@@ -0,0 +1 @@\n", "@@ -1,99999999999999999999 +1 @@\n", "@@ @@\n", "+", "-", " ",
                 "\\ No newline at end of file\n", "From nobody Mon Sep 17 00:00:00 2001\n", "Subject: [PATCH 2/1]\n",
                 "rename from hw/char/serial.c\nrename to ../serial.c\n", "new file mode 100644\n",
                 "deleted file mode 100644\n", "GIT binary patch\nliteral 5\nHcmZ?\n", "index 1111111..2222222\n",
                 "\0", "\udcff", "\r\n", "=?utf-8?q?=FF?=", "Content-Transfer-Encoding: base64\n", "From ", ">From "]


@pytest.fixture(scope="module")
def series(rev_repo) -> str:
    """`git format-patch v1..v2` of the revision repository: one valid patch onto v1."""
    return subprocess.run(["git", "-C", str(rev_repo), "format-patch", "--stdout", "v1..v2"], check=True,
                          capture_output=True, text=True, env={**GIT_ENV, "HOME": str(rev_repo)}).stdout


@pytest.mark.skipif(not HAS_REVIEW, reason="no `vmsd-lint review` command yet")
@budget("review")
@given(st.lists(st.tuples(st.integers(0, 1 << 20), st.one_of(st.sampled_from(PATCH_INSERTS), st.text(max_size=6)),
                          st.sampled_from(["insert", "delete", "truncate", "duplicate"])), max_size=5),
       st.integers(1, 3))
def test_malformed_patches_for_review(work, rev_repo, series, edits, copies):
    COUNTS["review"] += 1
    text = series * copies  # an mbox of COPIES messages
    for at, piece, op in edits:
        at %= len(text) + 1
        if op == "insert":
            text = text[:at] + piece + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + len(piece) + 1:]
        elif op == "duplicate":
            text = text[:at] + text[at:at + 40] + text[at:]
        else:
            text = text[:at]
    patch = work / "fuzz.patch"
    patch.write_bytes(text.encode("utf-8", "surrogateescape"))
    before = _tree_state(rev_repo)
    code, out, err = run_cli(["review", "--repo", str(rev_repo), "--cache-dir", str(work / "review-cache"),
                              "--base", "v1", str(patch)], cwd=work)
    assert_clean(code, out, err, label="review")
    assert _tree_state(rev_repo) == before
    assert not Path("/etc/passwd.orig").exists()


def _tree_state(repo: Path) -> list[tuple[str, int, float]]:
    return sorted((str(p.relative_to(repo)), p.stat().st_size, p.stat().st_mtime) for p in repo.rglob("*")
                  if p.is_file())
