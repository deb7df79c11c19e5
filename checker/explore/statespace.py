"""Breadth-first search of a model's reachable states, stored compactly.

The search keeps one dict (state -> index), and per state its parent index, the
action from the parent and its depth; per transition only two ints and a small
fairness-class id, in ``array`` columns. That is what the graph analyses need
(``checker.explore.graphs`` hands networkx the subgraphs it works on), at a fraction of a
full ``networkx.DiGraph``'s memory. Paths are rebuilt from parents and re-run on
the model (Stateright's way), so every path the explorer reports was replayed.

Checks run during the search through ``on_state(index, state)`` and
``on_step(src_index, action, state, next_state, observation)`` callbacks: the
search itself knows nothing of properties. Each transition's fairness class
comes from ``specs.fairness``.
"""
from __future__ import annotations

import time
from array import array
from dataclasses import dataclass, field
from typing import Callable

from bufring.specs.fairness import fairness_class


@dataclass
class StateSpace:
    """The explored graph: states by index, BFS parents, and the edge columns."""

    states: list = field(default_factory=list)
    parent: array = field(default_factory=lambda: array("l"))
    depth: array = field(default_factory=lambda: array("l"))
    via: list = field(default_factory=list)            # action from the parent (None at init)
    src: array = field(default_factory=lambda: array("l"))
    dst: array = field(default_factory=lambda: array("l"))
    fair: array = field(default_factory=lambda: array("l"))   # fairness class id, -1 none
    classes: dict = field(default_factory=dict)        # fairness class -> id
    capped: bool = False
    seconds: float = 0.0

    @property
    def transitions(self) -> int:
        return len(self.src)

    @property
    def max_depth(self) -> int:
        return max(self.depth) if self.depth else 0

    def path(self, index: int) -> list:
        """Actions from the initial state to state ``index`` (BFS: a shortest path)."""
        out = []
        while self.parent[index] >= 0:
            out.append(self.via[index])
            index = self.parent[index]
        out.reverse()
        return out

    def class_id(self, cls) -> int:
        if cls is None:
            return -1
        cid = self.classes.get(cls)
        if cid is None:
            cid = self.classes[cls] = len(self.classes)
        return cid


def bfs(model, *, max_states: int, canonical: Callable | None = None,
        on_state: Callable | None = None, on_step: Callable | None = None,
        progress: Callable | None = None, keep_edges: bool = True,
        until: Callable | None = None) -> StateSpace:
    """Explore every state reachable from ``model.init_states()``, breadth first.

    ``canonical`` (symmetry reduction) maps a state to its representative; the
    representative is what is stored and expanded. Stops with ``capped`` set once
    ``max_states`` states are stored, or as soon as a state satisfying ``until``
    is stored. ``progress(space, frontier)`` is called now and then.
    """
    started = time.perf_counter()
    space = StateSpace()
    index: dict = {}
    key = canonical or (lambda s: s)

    found = False

    def add(state, parent: int, action, d: int) -> int:
        nonlocal found
        idx = len(space.states)
        index[key(state)] = idx
        space.states.append(state if canonical is None else key(state))
        space.parent.append(parent)
        space.depth.append(d)
        space.via.append(action)
        if on_state is not None:
            on_state(idx, space.states[idx])
        if until is not None and until(space.states[idx]):
            found = True
        return idx

    for s in model.init_states():
        if key(s) not in index:
            add(s, -1, None, 0)
    cursor = 0
    last_report = time.perf_counter()
    successors = model.successors
    while cursor < len(space.states) and not found:
        state = space.states[cursor]
        d = space.depth[cursor] + 1
        for action, nxt, obs in successors(state):
            if on_step is not None:
                on_step(cursor, action, state, nxt, obs)
            k = key(nxt)
            j = index.get(k)
            if j is None:
                if len(space.states) >= max_states:
                    space.capped = True
                    continue
                j = add(nxt, cursor, action, d)
            if keep_edges:
                space.src.append(cursor)
                space.dst.append(j)
                space.fair.append(space.class_id(fairness_class(state, action)))
        cursor += 1
        if progress is not None and time.perf_counter() - last_report > 0.25:
            last_report = time.perf_counter()
            progress(space, len(space.states) - cursor)
    space.seconds = time.perf_counter() - started
    if progress is not None:
        progress(space, 0)
    return space
