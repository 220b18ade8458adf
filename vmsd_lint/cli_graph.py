"""`vmsd-lint graph ENDPOINT`: the placement graph of an endpoint (or the neighbourhood of
one name) as DOT, GraphML or JSON."""
from __future__ import annotations

import os

import click


@click.command()
@click.argument("endpoint")
@click.option("--format", "fmt", type=click.Choice(["dot", "graphml", "json"]), default="dot", show_default=True)
@click.option("--focus", metavar="NAME", multiple=True,
              help="Only the neighbourhood of a QOM type, VMSD (name or C symbol), function or section, "
                   "with the init path of each registration in it (repeatable).")
@click.option("--target", metavar="ARCH", default=None, help="Target architecture (e.g. ppc64).")
@click.option("--repo", metavar="PATH", default=None, help="Git repository for revision endpoints.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Parallel parser processes.")
@click.option("--cache-dir", metavar="DIR", default=None, help="Cache directory (default: ~/.cache/vmsd-lint).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option("--output", "-o", metavar="FILE", default=None, help="Write to FILE instead of stdout.")
def graph(endpoint, fmt, focus, target, repo, jobs, cache_dir, no_cache, output) -> None:
    """Export the placement graph of ENDPOINT: QOM types, VMSDs, functions, calls, class
    hooks and registration sites, each registration with its init context.

    Render DOT with graphviz: vmsd-lint graph v10.0.2 --focus spapr_cpu_state | dot -Tsvg > g.svg
    """
    from .check import open_tree
    from .cli import _write, open_cache
    from .extract.extractor import Extractor
    from .graph import build_graph
    from .graph import export

    tree = open_tree(endpoint, repo)
    jobs = jobs or max(1, min(2, os.cpu_count() or 1))
    extraction = Extractor(target=target, jobs=jobs, cache=open_cache(cache_dir, no_cache)).run(tree)
    full = build_graph(extraction)
    export.annotate(full, extraction)
    chosen = export.focus(full, list(focus)) if focus else full
    render = {"dot": export.to_dot, "graphml": export.to_graphml, "json": export.to_json}[fmt]
    _write(render(chosen), output)
