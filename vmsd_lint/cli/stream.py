"""`vmsd-lint check-stream STREAM [REV]`: would REV load this real migration stream, and
if not, where and why (app/streamcheck.py); `--describe`: the stream's sections."""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import click

from ..app.check import is_json_endpoint, load_endpoint, open_tree
from ..app.config import RunConfig
from ..app.runs import reading_options
from ..app.streamcheck import check_stream, fixed_instances, load_hooks
from ..app.streamcpu import ArmRegisters
from ..app.streamreport import describe_json, describe_text, verdict_json, verdict_text
from ..app.streamtarget import guess_target
from ..errors import InputError
from ..sources.stream import FileBytes, read_stream, read_vmdesc
from .options import configured, output_option, source_options
from .run import open_cache, write_output


@contextmanager
def stream_data(path: str) -> Iterator[bytes | FileBytes]:
    """The stream's bytes: standard input read whole for `-`, a file read in place
    (FileBytes: a multi-GB stream's RAM pages pass through a window, never held)."""
    if path == "-":
        yield sys.stdin.buffer.read()
        return
    if os.path.isdir(path):
        raise InputError(f"{path}: is a directory, not a migration stream")
    with open(path, "rb") as file:
        yield FileBytes(file.fileno())


@click.command("check-stream")
@click.argument("stream", metavar="STREAM")
@click.argument("revision", metavar="[REV]", required=False)
@click.option("--describe", is_flag=True, help="List the stream's sections (no REV needed).")
@click.option("--format", "format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--machine", metavar="NAME", default=None,
              help="The machine type REV would run (e.g. pc-q35-7.2): a stream of another one is noted.")
@click.option("--cpu", metavar="MODEL", default=None,
              help="The Arm CPU model the destination runs (default: the one whose MIDR the stream's list holds).")
@source_options
@output_option("Write the report to FILE instead of stdout.")
@configured
def check_stream_command(config: RunConfig, stream: str, revision: str | None, describe: bool) -> None:
    """Would REV load the migration stream STREAM (a file written by `migrate
    "exec:cat > FILE"` or `migrate file:FILE`, or - for standard input)?

    Each section is decoded with REV's own model, as vmstate_load_state() would, using the
    JSON description QEMU appends to the stream where the model leaves sizes to run time.
    Hooks (pre_load/post_load, *_EQUAL checks) are listed, not judged.

    Exit status: 0 every section loads (or is not judged), 1 one fails, 2 the stream is
    unreadable, truncated or damaged (one line: the offset and what was wrong).
    """
    if not describe and not revision:
        raise InputError("check-stream needs a revision to check the stream against (or --describe)")
    name = "<stdin>" if stream == "-" else stream
    with stream_data(stream) as data:
        split = read_stream(data)
        desc = read_vmdesc(data, split)
        if describe:
            render = describe_json if config.format == "json" else describe_text
            write_output(render(name, split, desc), config.output)
            return
        assert revision is not None
        options = reading_options(config, open_cache(config))
        guessed = None
        if options.target is None and not is_json_endpoint(revision, options.repo):
            target, how = guess_target(open_tree(revision, options.repo), data, split, desc)
            if target is None:
                raise InputError(f"--target not given and not guessed from the stream ({how}): give --target")
            options, guessed = replace(options, target=target), f"--target {target} guessed: {how}"
        schema, source = load_endpoint(revision, options)
        if source is None:  # a -dump-vmstate file or a snapshot: no tests, hooks or registrations
            raise InputError(f"{revision}: check-stream reads a source endpoint (a revision, a directory, "
                             f"WORKTREE), not a JSON file")
        # the machine type the destination runs decides its CPU options: --machine, else the stream's
        arm = ArmRegisters(source[0], schema.machines, options.cache, config.cpu, config.machine or split.machine)
        verdict = check_stream(data, split, desc, schema, load_hooks(source[1]), config.machine, arm,
                               fixed_instances(source[1]))
        verdict.notes[:0] = [guessed] if guessed else []
    text = verdict_json(name, verdict) if config.format == "json" else verdict_text(name, verdict)
    write_output(text, config.output)
    sys.exit(1 if verdict.failure else 0)
