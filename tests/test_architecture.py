"""The package reads as the pipeline (ARCHITECTURE.md): each stage imports only earlier
stages and the base. A later stage imported by an earlier one fails here, with the line."""
from __future__ import annotations

import ast
import functools
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "vmsd_lint"

# stage -> its package, in pipeline order (ARCHITECTURE.md); the base is the package root's
# own modules (the records, the rule registry, errors, process handling, model queries)
BASE = ["vmsd_lint", "vmsd_lint.errors", "vmsd_lint.model", "vmsd_lint.catalogue", "vmsd_lint.processes",
        "vmsd_lint.resolve", "vmsd_lint.rules_data"]
STAGES = [
    ("base", BASE),
    ("sources", ["vmsd_lint.sources"]),
    ("extract", ["vmsd_lint.extract"]),
    ("placement", ["vmsd_lint.placement"]),
    ("diff", ["vmsd_lint.diff"]),
    ("report", ["vmsd_lint.report"]),
    ("app", ["vmsd_lint.app"]),
    ("cli", ["vmsd_lint.cli"]),
]
# Known debt, to be removed, not added to: (importing module, imported later module).
DEBT: set[tuple[str, str]] = set()


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stage_of(module: str) -> int | None:
    best = None
    for index, (_, prefixes) in enumerate(STAGES):
        for prefix in prefixes:
            below = prefix != "vmsd_lint" and module.startswith(prefix + ".")
            if (module == prefix or below) and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    return best[0] if best else None


def _runtime_imports(tree: ast.Module):
    """Import nodes, leaving out `if TYPE_CHECKING:` blocks (annotations only)."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            skipped.update(id(n) for child in node.body for n in ast.walk(child))
    return [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) and id(n) not in skipped]


def imports(root: Path = ROOT) -> list[tuple[str, str, str]]:
    """(importing module, imported module, file:line) for every import of vmsd_lint code."""
    package_dir = root / "vmsd_lint"
    modules = {module_name(p, root) for p in package_dir.rglob("*.py")}
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        module = module_name(path, root)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                names = [f"{target}.{alias.name}" for alias in node.names]
                targets = [n for n in names if n in modules] or [target]
            else:
                targets = [alias.name for alias in node.names]
            for target in targets:
                if target.startswith("vmsd_lint"):
                    found.append((module, target, f"{path.relative_to(root)}:{node.lineno}"))
    return found


def test_every_module_has_a_stage():
    missing = sorted({m for m, _, _ in repo_imports() if stage_of(m) is None})
    assert not missing, f"modules in no stage of ARCHITECTURE.md: {missing}"


@functools.cache
def repo_imports() -> list[tuple[str, str, str]]:
    """This checkout's imports, read once for the tests below."""
    return imports(ROOT)


def later_imports(root: Path | None = None) -> list[tuple[str, str, str]]:
    return [(a, b, where) for a, b, where in (imports(root) if root else repo_imports())
            if stage_of(b) is not None and stage_of(b) > stage_of(a) and (a, b) not in DEBT]


def test_no_stage_imports_a_later_one():
    later = later_imports()
    assert not later, "\n".join(f"{where}: {a} ({STAGES[stage_of(a)][0]}) imports {b} "
                                f"({STAGES[stage_of(b)][0]})" for a, b, where in later)


def test_the_known_debt_still_exists():
    """Remove an entry from DEBT when its import is gone."""
    edges = {(a, b) for a, b, _ in repo_imports()}
    assert edges >= DEBT, f"no longer imported, drop from DEBT: {sorted(DEBT - edges)}"


def test_a_later_import_would_be_caught(tmp_path):
    """An extract module importing the CLI, at run time or inside a function, is caught;
    under `if TYPE_CHECKING:` it is not (annotations only)."""
    shutil.copytree(PACKAGE, tmp_path / "vmsd_lint", ignore=shutil.ignore_patterns("__pycache__"))
    lexer = tmp_path / "vmsd_lint" / "extract" / "lexer.py"
    lexer.write_text(lexer.read_text() + "\n\ndef f():\n    from ..cli import main\n")
    assert [(a, b) for a, b, _ in later_imports(tmp_path)] == [("vmsd_lint.extract.lexer", "vmsd_lint.cli.main")]
    lexer.write_text(lexer.read_text().replace("def f():\n    from ..cli import main\n",
                                               "if TYPE_CHECKING:\n    from ..cli import main\n"))
    assert later_imports(tmp_path) == []


# Known cycles, to be removed, not added to (sets of modules).
CYCLE_DEBT: set[frozenset[str]] = set()


def test_no_import_cycles():
    """No two modules import each other, directly or around a loop, at run time -- an
    import inside a function included (that is how the CLI's cycle hid)."""
    import networkx as nx

    graph = nx.DiGraph((a, b) for a, b, _ in repo_imports() if a != b and not b.endswith("vmsd_lint"))
    cycles = [frozenset(c) for c in nx.simple_cycles(graph)]
    unexpected = sorted(sorted(c) for c in set(cycles) - CYCLE_DEBT)
    assert not unexpected, f"import cycles: {unexpected}"
    assert set(cycles) >= CYCLE_DEBT, "a cycle in CYCLE_DEBT is gone: drop it from the list"
