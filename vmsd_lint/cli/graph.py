"""`vmsd-lint graph ENDPOINT`: the placement graph of an endpoint (or the neighbourhood of
one name) as DOT, GraphML or JSON."""
from __future__ import annotations

import click

from ..app.check import extract_endpoint
from ..app.config import RunConfig
from ..app.runs import reading_options
from ..placement import build_graph
from ..report import graph as export
from ..report.formats import GRAPH_FORMATS
from .options import configured, format_option, output_option, source_options
from .run import open_cache, write_rendered


@click.command()
@click.argument("endpoint")
@format_option(GRAPH_FORMATS, "dot")
@click.option("--focus", metavar="NAME", multiple=True,
              help="Only the neighbourhood of a QOM type, VMSD (name or C symbol), function or section, "
                   "with the init path of each registration in it (repeatable).")
@source_options
@output_option("Write to FILE instead of stdout.")
@configured
def graph(config: RunConfig, endpoint: str, focus: tuple[str, ...]) -> None:
    """Export the placement graph of ENDPOINT: QOM types, VMSDs, functions, calls, class
    hooks and registration sites, each registration with its init context.

    Render DOT with graphviz: vmsd-lint graph v10.0.2 --focus spapr_cpu_state | dot -Tsvg > g.svg
    """
    extraction = extract_endpoint(endpoint, reading_options(config, open_cache(config)))
    full = build_graph(extraction)
    export.annotate(full, extraction)
    chosen = export.focus(full, list(focus)) if focus else full
    write_rendered(GRAPH_FORMATS[config.format], chosen, config)
