"""Every output format by the name `--format` gives it: for each kind of thing a command
prints (a check's report, a review, a dump, the placement graph, the catalogue), a
registry from the format's name to its renderer.

The CLI takes its `--format` choices from these registries, in their order, and renders
through them: a new output format is one renderer in report/ and one entry here.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Generic, TypeVar

from ..catalogue import QemuError, Rule
from ..diff.findings import Report
from ..model import Extraction
from .catalogue import catalogue_markdown, explain_text, matches_json, matches_text, rule_dict, rules_text
from .check_json import render_json, render_review_json
from .email import render_email
from .github import render_github
from .graph import to_dot, to_graphml, to_json
from .html import render_html
from .markdown import render_markdown
from .native import dumps_native, native_dump
from .qemu_dump import dumps, qemu_dump
from .sarif import render_sarif
from .statistics import render_statistics_json, render_statistics_text
from .text import render_text

if TYPE_CHECKING:  # annotations only: the review (app stage) and the graph (networkx, imported late)
    import networkx as nx

    from ..app.review import Review

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """What a renderer is told besides the thing it renders."""
    show_waived: bool = False  # list the findings waivers matched
    show_diagnostics: bool = False  # list every construct that could not be resolved
    quiet: bool = False  # -q and nothing fails: a format that honours it renders nothing ("")


class Styles(StrEnum):
    """What becomes of click's styles (terminal escapes) in a format's text."""
    NONE = "none"  # it has none: written as rendered
    TERMINAL = "terminal"  # kept when written to a colour terminal (not -o FILE, not NO_COLOR), else removed
    REMOVED = "removed"  # always removed (an e-mail reply quotes patch lines as they are)


@dataclass(frozen=True, slots=True)
class Format(Generic[T]):
    render: Callable[[T, RenderOptions], str]
    styles: Styles = Styles.NONE


def _text(report: Report, options: RenderOptions) -> str:
    return "" if options.quiet else render_text(report, options.show_waived, options.show_diagnostics)


# `check` (and `pre-commit`, which offers the first two)
CHECK_FORMATS: dict[str, Format[Report]] = {
    "text": Format(_text, Styles.TERMINAL),
    "json": Format(lambda report, options: render_json(report, options.show_waived)),
    "sarif": Format(lambda report, options: render_sarif(report)),
    "markdown": Format(lambda report, options: render_markdown(report)),
    "github": Format(lambda report, options: render_github(report)),
    "html": Format(lambda report, options: render_html(report, options.show_waived)),
}
PRE_COMMIT_FORMATS = {name: CHECK_FORMATS[name] for name in ("text", "json")}
# `check --statistics`: counts per rule and per directory instead of the findings
STATISTICS_FORMATS: dict[str, Format[Report]] = {
    "text": Format(lambda report, options: render_statistics_text(report)),
    "json": Format(lambda report, options: render_statistics_json(report)),
}

REVIEW_FORMATS: dict[str, Format[Review]] = {
    "email": Format(lambda review, options: render_email(review, options.quiet), Styles.REMOVED),
    "text": Format(lambda review, options: "" if options.quiet else render_text(review.report), Styles.TERMINAL),
    "json": Format(lambda review, options: render_review_json(review)),
}

DUMP_FORMATS: dict[str, Format[Extraction]] = {
    "native": Format(lambda extraction, options: dumps_native(native_dump(extraction))),
    "qemu": Format(lambda extraction, options: dumps(qemu_dump(extraction))),
}

GRAPH_FORMATS: dict[str, Format[nx.MultiDiGraph]] = {
    "dot": Format(lambda graph, options: to_dot(graph)),
    "graphml": Format(lambda graph, options: to_graphml(graph)),
    "json": Format(lambda graph, options: to_json(graph)),
}

RULES_FORMATS: dict[str, Format[dict[str, Rule]]] = {
    "text": Format(lambda catalogue, options: rules_text(catalogue)),
    "json": Format(lambda catalogue, options: _json([rule_dict(rule) for rule in catalogue.values()])),
    "markdown": Format(lambda catalogue, options: catalogue_markdown(catalogue)),
}

# `explain SLUG`, and `explain --error TEXT`: (the text, the rules that print it); one set of names
EXPLAIN_FORMATS: dict[str, Format[Rule]] = {
    "text": Format(lambda rule, options: explain_text(rule)),
    "json": Format(lambda rule, options: _json(rule_dict(rule))),
}
ErrorMatches = tuple[str, list[tuple[Rule, QemuError, int]]]
ERROR_MATCH_FORMATS: dict[str, Format[ErrorMatches]] = {
    "text": Format(lambda found, options: matches_text(*found)),
    "json": Format(lambda found, options: _json(matches_json(*found))),
}


def _json(data: object) -> str:
    return json.dumps(data, indent=2) + "\n"
