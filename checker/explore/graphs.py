"""Graph analyses over an explored state space: deadlock and fair cycles.

``stuck_states`` answers ``flow.no_deadlock`` (AG EF goal) by backward
reachability over the compact edge columns. ``fair_lasso`` answers
``flow.eventually_dispatched``: for each request it finds a reachable cycle
(networkx strongly connected components of the states where that request
waits) that satisfies the scope's weak fairness (``specs.fairness``: which
classes a cycle may leave untaken), or a state where stuttering forever is fair.

Weak fairness on an SCC C is exact this way: a fair cycle inside C exists iff
for every fairness class f, C has a state where f is disabled or an edge inside
C that takes f, because one cycle can tour all of C's states and edges. The
classes that fail this are the fewest any cycle of C leaves untaken, so a
fairness that tolerates some untaken classes is decided exactly too.
"""
from __future__ import annotations

from collections import deque

import networkx as nx


def coreachable(space, goal: list[bool]) -> list[bool]:
    """Per state: can a goal state be reached from it (along explored edges)?"""
    n = len(space.states)
    preds: list[list[int]] = [[] for _ in range(n)]
    for s, d in zip(space.src, space.dst):
        preds[d].append(s)
    seen = list(goal)
    queue = deque(i for i in range(n) if goal[i])
    while queue:
        d = queue.popleft()
        for s in preds[d]:
            if not seen[s]:
                seen[s] = True
                queue.append(s)
    return seen


def stuck_states(space, goal: list[bool]) -> list[int]:
    """States from which no goal state is reachable, shallowest first."""
    ok = coreachable(space, goal)
    stuck = [i for i in range(len(space.states)) if not ok[i]]
    stuck.sort(key=lambda i: space.depth[i])
    return stuck


def _tour(graph: nx.DiGraph, start: int, targets: list) -> list[int]:
    """A closed walk from ``start`` through every target (a node, or an edge (u, v))
    and back, as a node list whose first and last elements are ``start``."""
    walk = [start]
    here = start
    for t in targets:
        if isinstance(t, tuple):
            u, v = t
            walk += nx.shortest_path(graph, here, u)[1:]
            walk.append(v)
            here = v
        else:
            walk += nx.shortest_path(graph, here, t)[1:]
            here = t
    walk += nx.shortest_path(graph, here, start)[1:] if here != start else []
    if len(walk) == 1:            # a single-node SCC with a self-loop
        walk.append(start)
    return walk


def fair_lasso(space, waiting: list[bool], enabled, tolerates=None,
               visit: list[bool] | None = None) -> tuple[int, list[int]] | None:
    """A fair lasso inside the states where ``waiting`` holds, or None.

    Returns ``(entry, cycle_nodes)``: the cycle starts and ends at ``entry``
    (``[entry]`` alone means stuttering at ``entry`` forever, fair because every
    fairness class enabled there may stay untaken). ``enabled(i)`` gives the
    fairness class ids enabled in state i; edges carry their class in
    ``space.fair``. ``tolerates(unfair_ids, i)`` says whether a cycle through
    state i may leave the classes ``unfair_ids`` enabled forever and untaken
    (default: none may, plain weak fairness). With ``visit``, the cycle must pass
    a state where ``visit`` holds (a stutter must be one): an acceptance condition
    met again and again. Shallowest entry first.
    """
    if tolerates is None:
        def tolerates(unfair, i):
            return not unfair
    graph = nx.DiGraph()
    edge_classes: dict = {}
    for e, (s, d) in enumerate(zip(space.src, space.dst)):
        if waiting[s] and waiting[d]:
            graph.add_edge(s, d)
            cid = space.fair[e]
            if cid >= 0:
                edge_classes.setdefault((s, d), set()).add(cid)
    # Stuttering: a waiting state may stay forever when what is enabled there may stay untaken.
    stutters = [i for i in range(len(space.states))
                if waiting[i] and (visit is None or visit[i]) and tolerates(set(enabled(i)), i)]
    best = None
    if stutters:
        i = min(stutters, key=lambda i: space.depth[i])
        best = (i, [i])
    for comp in nx.strongly_connected_components(graph):
        if len(comp) == 1:
            (only,) = comp
            if not graph.has_edge(only, only):
                continue
        sub = graph.subgraph(comp)
        targets = []
        if visit is not None:
            accepting = next((i for i in comp if visit[i]), None)
            if accepting is None:
                continue
            targets.append(accepting)
        classes = set()
        for i in comp:
            classes |= enabled(i)
        unfair = set()
        for cid in sorted(classes):
            off = next((i for i in comp if cid not in enabled(i)), None)
            if off is not None:
                targets.append(off)
                continue
            edge = next(((u, v) for (u, v) in sub.edges if cid in edge_classes.get((u, v), ())), None)
            if edge is None:
                unfair.add(cid)
                continue
            targets.append(edge)
        entry = min(comp, key=lambda i: space.depth[i])
        if not tolerates(unfair, entry):
            continue
        if best is not None and space.depth[best[0]] <= space.depth[entry]:
            continue
        best = (entry, _tour(sub, entry, targets))
    return best
