"""`vmsd-lint graph ENDPOINT`: the placement graph of an endpoint (or the neighbourhood of
one name) as DOT, GraphML or JSON."""
from __future__ import annotations

import click

from .options import default_jobs, source_options
from .run import open_cache, write_output


@click.command()
@click.argument("endpoint")
@click.option("--format", "fmt", type=click.Choice(["dot", "graphml", "json"]), default="dot", show_default=True)
@click.option("--focus", metavar="NAME", multiple=True,
              help="Only the neighbourhood of a QOM type, VMSD (name or C symbol), function or section, "
                   "with the init path of each registration in it (repeatable).")
@source_options
@click.option("--output", "-o", metavar="FILE", default=None, help="Write to FILE instead of stdout.")
def graph(endpoint, fmt, focus, target, repo, jobs, cache_dir, no_cache, output) -> None:
    """Export the placement graph of ENDPOINT: QOM types, VMSDs, functions, calls, class
    hooks and registration sites, each registration with its init context.

    Render DOT with graphviz: vmsd-lint graph v10.0.2 --focus spapr_cpu_state | dot -Tsvg > g.svg
    """
    from ..app.check import Options, extract_endpoint
    from ..placement import build_graph
    from ..report import graph as export

    extraction = extract_endpoint(endpoint, Options(repo, target, default_jobs(jobs), open_cache(cache_dir, no_cache)))
    full = build_graph(extraction)
    export.annotate(full, extraction)
    chosen = export.focus(full, list(focus)) if focus else full
    render = {"dot": export.to_dot, "graphml": export.to_graphml, "json": export.to_json}[fmt]
    write_output(render(chosen), output)
