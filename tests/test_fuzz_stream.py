"""Damaged migration streams through `check-stream`: truncated at many offsets, bytes
flipped, a wrong magic, a RAM size of 2 GB in the ram section's header, random data. Each
ends in a verdict (a section loads or fails) or one clear error (exit status 2, one
`vmsd-lint: error: offset N ...` line), never a traceback, never a hang.

The seed is the real stream QEMU 10.0.2 saved (x86_64, pc-q35-7.2), checked against the
v10.0.2 model read once; the command line runs on a few of each kind.
"""
from __future__ import annotations

import lzma
import os
import random
import signal
import subprocess
import sys
from contextlib import contextmanager

import pytest
from conftest import shared_dir
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vmsd_lint.app.streamcheck import FAILS, check_stream, load_hooks
from vmsd_lint.placement.wire import from_extraction
from vmsd_lint.sources.stream import StreamError, read_stream, read_vmdesc

SEED = shared_dir() / "qemu" / "streams" / "x86_64-v10.0.2-pc-q35-7.2.mig.xz"
TIME_LIMIT = 10  # seconds for one damaged stream: a hang is a failure
EXAMPLES = int(os.environ.get("VMSD_LINT_FUZZ_EXAMPLES", "150"))


@pytest.fixture(scope="module")
def seed() -> bytes:
    if not SEED.exists():
        pytest.skip(f"{SEED} not found")
    return lzma.decompress(SEED.read_bytes())


@pytest.fixture(scope="module")
def model(release_extractions):
    extraction = release_extractions("v10.0.2", "x86_64")
    return from_extraction(extraction), load_hooks(extraction)


@contextmanager
def time_limit(seconds: int):
    def expired(signum, frame):
        raise TimeoutError(f"no answer in {seconds} s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def judge(data: bytes, model) -> str:
    """'error' (a StreamError: the one line exit status 2 prints), 'fails' or 'loads'."""
    schema, hooks = model
    with time_limit(TIME_LIMIT):
        try:
            stream = read_stream(data)
            desc = read_vmdesc(data, stream)
        except StreamError as exc:
            assert 0 <= exc.offset <= len(data) + 16, exc
            return "error"
        verdict = check_stream(data, stream, desc, schema, hooks)
    failed = [s for s in verdict.sections if s.status == FAILS]
    assert len(failed) <= 1 and bool(failed) == bool(verdict.failure)
    if verdict.failure:
        body = failed[0].section
        assert body.header_start <= verdict.failure["offset"] <= body.footer_end, verdict.failure
        assert verdict.failure["qemu_prints"] and verdict.failure["rule"]
    return "fails" if verdict.failure else "loads"


def ram_start(data: bytes):
    return next(s for s in read_stream(data).sections if s.idstr == "ram" and s.kind == "start")


def test_the_seed_loads(seed, model):
    assert judge(seed, model) == "loads"


def test_truncated_at_many_offsets(seed, model):
    """Every cut is an error (a stream ends with QEMU_VM_EOF and its description), but the
    one just after QEMU_VM_EOF: a whole stream without a description, as a machine with
    suppress-vmdesc writes; what the model cannot size without it is left undecoded."""
    stream = read_stream(seed)
    offsets = sorted(set(range(600)) | set(range(0, len(seed), 997))
                     | {s.footer_end + d for s in stream.sections for d in (-5, -1, 0, 1)})
    outcomes = {judge(seed[:n], model) for n in offsets if n < len(seed) and n != stream.eof + 1}
    assert outcomes == {"error"}
    assert judge(seed[:stream.eof + 1], model) == "loads"


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(flips=st.lists(st.tuples(st.integers(0, 10**9), st.integers(1, 255)), min_size=1, max_size=4),
       device_part=st.booleans())
def test_flipped_bytes(seed, model, flips, device_part):
    """Damage in the device sections (where decoding happens) or anywhere."""
    data = bytearray(seed)
    low = ram_start(seed).footer_end + 509_200 if device_part else 0  # past the RAM pages, mostly
    for where, mask in flips:
        at = low + where % (len(data) - low)
        data[at] ^= mask
    judge(bytes(data), model)


def test_wrong_magic_and_random_data(seed, model):
    assert judge(b"QEVN" + seed[4:], model) == "error"
    rng = random.Random(16)
    for size in (0, 1, 7, 8, 100, 4096, 65536):
        assert judge(bytes(rng.randrange(256) for _ in range(size)), model) == "error"
        assert judge(seed[:8] + bytes(rng.randrange(256) for _ in range(size)), model) == "error"


def test_a_ram_section_header_of_2_gb(seed, model):
    """The ram section's START begins with the total RAM size (be64, flag 0x4 set); 2 GB
    there is not what the source had, but only ram's own handlers read it."""
    start = ram_start(seed)
    size = int.from_bytes(seed[start.start:start.start + 8], "big")
    assert size & 0x4  # RAM_SAVE_FLAG_MEM_SIZE
    data = seed[:start.start] + ((2 << 30) | 0x4).to_bytes(8, "big") + seed[start.start + 8:]
    assert judge(data, model) == "loads"


def run_cli(args: list[str], stdin: bytes | None = None) -> tuple[int, str, str]:
    proc = subprocess.run([sys.executable, "-m", "vmsd_lint.cli", *args], input=stdin, capture_output=True,
                          timeout=120, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def test_the_command_line_on_damaged_streams(seed, qemu_repo, tmp_path):
    cases = {"truncated": seed[:300_000], "magic": b"XXXX" + seed[4:], "empty": b"",
             "random": random.Random(1).randbytes(5000), "flipped": seed[:-100] + b"\x00" + seed[-99:]}
    for name, data in cases.items():
        path = tmp_path / f"{name}.mig"
        path.write_bytes(data)
        for args in (["check-stream", "--describe", str(path)],
                     ["check-stream", str(path), "v10.0.2", "--repo", qemu_repo, "--target", "x86_64",
                      "--cache-dir", str(tmp_path / "cache")]):
            code, out, err = run_cli(args)
            assert "Traceback" not in err and "internal error" not in err, (name, err)
            assert code == 2, (name, code, out, err)
            assert out == "" and len(err.strip().splitlines()) == 1 and "offset" in err, (name, err)


def test_the_command_line_reads_standard_input(seed):
    code, out, err = run_cli(["check-stream", "--describe", "-"], stdin=seed[:1000])
    assert code == 2 and out == "" and err.startswith("vmsd-lint: error: offset ") and len(err.splitlines()) == 1
