"""The architecture as a test: imports go one way and never come back.

Every ``import`` of a bufring module in model/, specs/ and checker/ is an edge,
function-level imports included; the graph must have no cycle, and no module of
a lower floor (model < specs < checker) may import one of a higher floor.
"""
from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
FLOORS = {"model": 0, "specs": 1, "checker": 2}


def _modules() -> dict[str, Path]:
    out = {}
    for folder in FLOORS:
        for path in (ROOT / folder).rglob("*.py"):
            parts = [p for p in path.relative_to(ROOT / folder).with_suffix("").parts if p != "__init__"]
            out[".".join(["bufring", folder, *parts])] = path
    return out


def _graph() -> nx.DiGraph:
    mods = _modules()
    g = nx.DiGraph()
    for name, path in mods.items():
        g.add_node(name)
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("bufring."):
                targets.append(node.module)
                targets += [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets += [a.name for a in node.names]
            g.add_edges_from((name, t) for t in targets if t in mods and t != name)
    return g


def test_no_import_cycle():
    cycles = list(nx.simple_cycles(_graph()))
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c) for c in cycles[:5])


def test_imports_go_down_the_floors():
    up = [(a, b) for a, b in _graph().edges
          if FLOORS[a.split(".")[1]] < FLOORS[b.split(".")[1]]]
    assert up == []


def test_checker_top_level_is_small():
    top = [p for p in (ROOT / "checker").iterdir() if p.suffix == ".py" or
           (p.is_dir() and (p / "__init__.py").exists())]
    assert len(top) <= 12, sorted(p.name for p in top)
