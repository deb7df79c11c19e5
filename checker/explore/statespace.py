"""Breadth-first search of a model's reachable states, stored compactly.

Visited states live in a store (``checker.explore.store``): for the FUSE model one
packed int of interned parts per state. Per state the search keeps its parent
index, its depth and the id of the action from the parent; per transition two
ints and a small fairness-class id, all in ``array`` columns. That is what the
graph analyses need (``checker.explore.graphs`` hands networkx the subgraphs it
works on). Paths are rebuilt from parents and re-run on the model (Stateright's
way), so every path the explorer reports was replayed.

Checks run during the search, in one of two forms: ``on_state(index, state)`` and
``on_step(src_index, action, state, next_state, observation)`` callbacks (this
process only), or a ``checks`` object (see :class:`Checks`) whose answers the
search records as the first state or step showing each id: that form also runs
in worker processes (``checker.explore.parallel``), with the same results. The
search itself knows nothing of properties. Each transition's fairness class
comes from ``specs.fairness``.
"""
from __future__ import annotations

import time
from array import array
from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

from bufring.checker.explore.store import Interner, PlainStore, store_for
from bufring.specs.fairness import fairness_class


class Checks(Protocol):
    """What a search checks on the way. Ids are any hashable names; a state id is
    never also a step id. ``done`` holds ids already shown (they may be skipped)."""

    def state(self, state, done) -> list: ...

    def step(self, pre, action, post, obs, done) -> list: ...


class ActionColumn:
    """The action from each state's parent, one int per state (None at the roots)."""

    def __init__(self):
        self.ids = array("i")
        self.actions = Interner()

    def append(self, action) -> None:
        self.ids.append(-1 if action is None else self.actions.id(action))

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, idx: int):
        i = self.ids[idx]
        return None if i < 0 else self.actions.objs[i]

    def __iter__(self):
        return (self[i] for i in range(len(self.ids)))


@dataclass
class StateSpace:
    """The explored graph: states by index, BFS parents, and the edge columns."""

    states: Sequence = field(default_factory=PlainStore)
    parent: array = field(default_factory=lambda: array("i"))
    depth: array = field(default_factory=lambda: array("i"))
    via: ActionColumn = field(default_factory=ActionColumn)   # action from the parent
    src: array = field(default_factory=lambda: array("i"))
    dst: array = field(default_factory=lambda: array("i"))
    fair: array = field(default_factory=lambda: array("i"))   # fairness class id, -1 none
    classes: dict = field(default_factory=dict)        # fairness class -> id
    first: dict = field(default_factory=dict)          # check id -> ("state", idx) | ("step", src, action)
    capped: bool = False
    seconds: float = 0.0
    jobs: int = 1                                      # worker processes that expanded states

    @property
    def transitions(self) -> int:
        return len(self.src)

    @property
    def max_depth(self) -> int:
        return self.depth[-1] if self.depth else 0     # BFS: depths never decrease

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

    def visit(self, src: int, action, nxt, depth: int, max_states: int) -> tuple[int | None, bool]:
        """Store ``nxt`` (reached from ``src`` by ``action``) unless it is known or
        the cap is reached: ``(index or None when capped out, is new)``."""
        j, new = self.states.find_or_add(nxt, len(self.states) < max_states)
        if j is None:
            self.capped = True
        elif new:
            self.parent.append(src)
            self.depth.append(depth)
            self.via.append(action)
        return j, new

    def edge(self, src: int, dst: int, cls) -> None:
        self.src.append(src)
        self.dst.append(dst)
        self.fair.append(self.class_id(cls))

    def note(self, ids, where: tuple) -> None:
        """Record ``where`` for each id not shown before."""
        for cid in ids:
            if cid not in self.first:
                self.first[cid] = where


def bfs(model, *, max_states: int, canonical: Callable | None = None,
        on_state: Callable | None = None, on_step: Callable | None = None,
        progress: Callable | None = None, keep_edges: bool = True,
        until: Callable | None = None, checks: Checks | None = None) -> StateSpace:
    """Explore every state reachable from ``model.init_states()``, breadth first.

    ``canonical`` (symmetry reduction) maps a state to its representative; the
    representative is what is stored and expanded. Stops with ``capped`` set once
    ``max_states`` states are stored, or as soon as a state satisfying ``until``
    is stored. ``progress(space, frontier)`` is called now and then.
    ``checker.explore.parallel.search`` runs the same search on several processes.
    """
    started = time.perf_counter()
    space = StateSpace(states=store_for(model.init_states()))
    key = canonical or (lambda s: s)
    states = space.states
    done = space.first
    found = False

    def added(idx: int, state) -> None:
        nonlocal found
        if on_state is not None:
            on_state(idx, state)
        if checks is not None:
            space.note(checks.state(state, done), ("state", idx))
        if until is not None and until(state):
            found = True

    for s in model.init_states():
        j, new = space.visit(-1, None, key(s), 0, max_states)
        if new and j is not None:
            added(j, key(s))
    cursor = 0
    last_report = time.perf_counter()
    successors, visit, edge = model.successors, space.visit, space.edge
    while cursor < len(states) and not found:
        state = states[cursor]
        d = space.depth[cursor] + 1
        for action, nxt, obs in successors(state):
            if on_step is not None:
                on_step(cursor, action, state, nxt, obs)
            if checks is not None:
                ids = checks.step(state, action, nxt, obs, done)
                if ids:
                    space.note(ids, ("step", cursor, action))
            k = nxt if canonical is None else canonical(nxt)
            j, new = visit(cursor, action, k, d, max_states)
            if j is None:
                continue
            if new:
                added(j, k)
            if keep_edges:
                edge(cursor, j, fairness_class(state, action))
        cursor += 1
        if progress is not None and time.perf_counter() - last_report > 0.25:
            last_report = time.perf_counter()
            progress(space, len(states) - cursor)
    space.seconds = time.perf_counter() - started
    if progress is not None:
        progress(space, 0)
    return space
