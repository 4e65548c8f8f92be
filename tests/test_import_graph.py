"""The import graph of dcgan_core is acyclic, and every import inside a function says why it is there.

Both module-level and function-level imports count as edges: an import hidden in a
function to dodge a cycle is still a cycle. An import inside a function is allowed only
with its reason in a comment on its line or the line above (a deliberately lazy heavy
import, such as torch in a module the UI imports cheaply).
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import pytest

PACKAGE = "dcgan_core"
ROOT = Path(__file__).resolve().parent.parent


def module_files(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every module of ``package`` under ``root``."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imported_names(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The dotted names an import statement may load: for ``from a import b``, both ``a.b`` and ``a``."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:  # relative: resolve against this module's package
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def import_edges(root: Path, package: str) -> dict[str, dict[str, list[tuple[int, bool]]]]:
    """module -> {imported module of the package -> [(line, inside a function), ...]}."""
    modules = module_files(root, package)
    graph: dict[str, dict[str, list[tuple[int, bool]]]] = {name: {} for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        inside = _function_level_nodes(tree)
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            targets = set()
            for target in _imported_names(node, name, path.name == "__init__.py"):
                # the deepest module of the package that the name denotes ("a.b.func" -> "a.b")
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != package:  # the package's own __init__ is loaded first by any of them
                    targets.add(target)
            for target in sorted(targets):
                graph[name].setdefault(target, []).append((node.lineno, id(node) in inside))
    return graph


def _function_level_nodes(tree: ast.AST) -> set[int]:
    ids = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            ids.update(id(node) for node in ast.walk(fn) if isinstance(node, (ast.Import, ast.ImportFrom)))
    return ids


def find_cycle(graph: dict[str, set[str] | dict]) -> list[str] | None:
    """One cycle of ``graph`` (node -> successors) as [a, b, …, a], or None if it is acyclic."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for succ in sorted(graph.get(node, ())):
            if state.get(succ) == 1:
                return path[path.index(succ) :] + [succ]
            if succ not in state and (cycle := visit(succ)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)) is not None:
            return cycle
    return None


def unexplained_function_imports(path: Path) -> list[int]:
    """Lines of imports inside functions with no comment on their line, on the line above, or on
    an import directly above them that has one (a group of lazy imports shares one reason)."""
    source = path.read_text(encoding="utf-8")
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    commented = {tok.start[0] for tok in tokens if tok.type == tokenize.COMMENT}
    lines = source.splitlines()
    comment_only = {n for n in commented if lines[n - 1].lstrip().startswith("#")}
    tree = ast.parse(source)
    inside = _function_level_nodes(tree)
    nodes = sorted(
        (n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) and id(n) in inside),
        key=lambda n: n.lineno,
    )
    explained_ends: set[int] = set()
    missing = []
    for node in nodes:
        own = any(line in commented for line in range(node.lineno, node.end_lineno + 1))
        above = node.lineno - 1 in comment_only or node.lineno - 1 in explained_ends
        if own or above:
            explained_ends.add(node.end_lineno)
        else:
            missing.append(node.lineno)
    return missing


# ---- the checker itself ----------------------------------------------------------------------


def test_find_cycle_on_small_graphs():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None  # a diamond is no cycle
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"a"}}) == ["a", "a"]
    assert find_cycle({"x": set(), "a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]


def test_a_planted_cycle_through_a_function_level_import_is_found(tmp_path):
    package = tmp_path / "planted"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "config.py").write_text("import math\n")
    (package / "trainer.py").write_text("from planted.config import *\nfrom planted import cli\n")
    (package / "cli.py").write_text("def main():\n    from planted.sub.job import run\n    return run()\n")
    (package / "sub" / "job.py").write_text("from ..trainer import Trainer\n")
    graph = import_edges(tmp_path, "planted")
    assert graph["planted.cli"] == {"planted.sub.job": [(2, True)]}
    assert graph["planted.sub.job"] == {"planted.trainer": [(1, False)]}
    assert find_cycle(graph) == ["planted.cli", "planted.sub.job", "planted.trainer", "planted.cli"]
    assert unexplained_function_imports(package / "cli.py") == [2]

    (package / "cli.py").write_text("def main():\n    return 0\n")
    assert find_cycle(import_edges(tmp_path, "planted")) is None


def test_reasons_on_the_line_or_above_are_accepted(tmp_path):
    module = tmp_path / "lazy.py"
    module.write_text(
        "def a():\n"
        "    import torch  # lazily: heavy\n"
        "    from torch import nn\n"
        "def b():\n"
        "    # lazily: only this reference needs it\n"
        "    import numpy\n"
        "def c():\n"
        "    x = 1  # a comment on code is no reason\n"
        "    import json\n"
    )
    assert unexplained_function_imports(module) == [9]


# ---- dcgan_core --------------------------------------------------------------------------------


def test_dcgan_core_imports_form_no_cycle():
    graph = import_edges(ROOT, PACKAGE)
    assert {"dcgan_core.config", "dcgan_core.trainer", "dcgan_core.rundir", "dcgan_core.cli"} <= set(graph)
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize("name", sorted(module_files(ROOT, PACKAGE)))
def test_every_import_inside_a_function_says_why(name):
    path = module_files(ROOT, PACKAGE)[name]
    assert unexplained_function_imports(path) == [], f"{path.relative_to(ROOT)}: give the reason in a comment"


def test_the_training_core_is_layered():
    """config knows no other training module; each layer imports only the layers below it."""
    graph = import_edges(ROOT, PACKAGE)
    layers = [
        {"config"},
        {"step"},
        {"fastpath"},
        {"trainer"},
        {"rundir"},
        {"loop"},
        {"job", "distributed", "ablations"},
        {"job_process", "registry", "ablation_process"},
        {"cli"},
        {"train"},
    ]
    level = {f"{PACKAGE}.{m}": i for i, group in enumerate(layers) for m in group}
    for module, targets in graph.items():
        if module not in level:
            continue
        for target in targets:
            if target in level:
                assert level[target] <= level[module], f"{module} imports {target}, a layer above it"
