"""The import graph is one-way: scripts -> session -> graph -> nodes -> algorithms -> {subtasks, learners} -> replay ->
{spaces, config, rng}. Every import counts, type-only ones (under ``TYPE_CHECKING``) and function-local ones included."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

RANK = {
    "api": 8,  # graph_rl/api.py: the Python API over session and evaluation
    "session": 7, "plotting": 7,  # plotting reads the logs back (logging.reader)
    "graph": 6, "logging": 6, "checkpoint": 6, "sweep": 6,
    "nodes": 5,
    "algorithms": 4,
    "subtasks": 3, "learners": 3,
    "replay": 2,
    "spaces": 1, "config": 1, "rng": 1,
    "": 1.5,  # graph_rl/__init__.py: the version and seed_everything (from rng)
}
"""Layer of each top-level package of graph_rl; an import must go to a strictly lower layer (or stay inside)."""


def imports(path: Path) -> set[str]:
    """Every graph_rl (or envs) module ``path`` imports, anywhere in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.split(".")[0] in ("graph_rl", "envs")}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def library_modules() -> dict[str, set[str]]:
    return {module_name(p): imports(p) for p in (ROOT / "graph_rl").rglob("*.py")}


def test_every_package_has_a_layer() -> None:
    packages = {package_of(m) for m in library_modules()}
    assert packages <= set(RANK), sorted(packages - set(RANK))


def test_imports_only_go_down_the_layers() -> None:
    upward = []
    for module, targets in library_modules().items():
        src = package_of(module)
        for target in targets:
            assert target.startswith("graph_rl"), f"{module} imports {target}: the library does not import envs"
            dst = package_of(target)
            if dst != src and RANK[dst] >= RANK[src]:
                upward.append(f"{module} -> {target}")
    assert not upward, upward


def test_no_import_cycles_between_modules() -> None:
    graph = library_modules()
    names = set(graph)

    def resolve(target: str) -> str | None:
        while target and target not in names:  # "from graph_rl.x import name" names a module or an attribute
            target = target.rpartition(".")[0]
        return target or None

    edges = {m: {t for t in map(resolve, targets) if t and t != m and not m.startswith(t + ".")}
             for m, targets in graph.items()}
    # a package's __init__ re-exports its modules: importing it is importing them, not a cycle through them
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(m: str, stack: list[str]) -> bool:
        state[m] = 1
        for t in edges[m]:
            if state.get(t) == 1:
                cycle.extend(stack[stack.index(t):] + [m, t] if t in stack else [m, t])
                return True
            if t not in state and visit(t, stack + [m]):
                return True
        state[m] = 2
        return False

    for m in sorted(edges):
        if m not in state and visit(m, []):
            break
    assert not cycle, " -> ".join(cycle)


def test_envs_import_nothing_from_the_library() -> None:
    offenders = [f"{p}: {t}" for p in (ROOT / "envs").rglob("*.py") for t in imports(p) if t.startswith("graph_rl")]
    assert not offenders, offenders


def test_type_only_imports_are_seen(tmp_path: Path) -> None:
    """An import under a never-true guard (as under TYPE_CHECKING) still counts."""
    source = tmp_path / "mod.py"
    source.write_text("if False:\n    from graph_rl.nodes.node import Node\n")
    assert imports(source) == {"graph_rl.nodes.node"}
