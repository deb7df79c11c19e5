"""The ring abstraction of ``prove`` against the explorer (docs/smt.md, "The ring abstraction").

``prove``'s proofs are about an abstract ring: counters, slots, and the multiset of
buffers entries hold, changed only by select, select over an unseen buffer 0,
and recycle. They carry over to the model only if every ring the model can reach
is one the abstraction reaches too. This checks exactly that on the explorer's
scopes: every bufring queue of every explored state, projected to
``(nbufs, head, tail, slots, held)``, is reachable in the abstraction from the
same initial ring.
"""
from __future__ import annotations

from collections import deque

import pytest
from bufring.checker.smt.bmc import AbstractState, successors
from bufring.checker.smt.ringlogic import ring_logic_of
from bufring.checker.explore.statespace import bfs
from bufring.model.ring import V2_RING
from bufring.model.system import Model
from bufring.model.builtin import builtin_variants
from bufring.model.variant import V2
from bufring.specs.scopes import BY_NAME


def project(q) -> tuple[int, int, AbstractState]:
    """A model queue's ring as the abstraction sees it."""
    r = q.bufring
    slots = tuple((i, b) for i, b in enumerate(r.slots) if b != i)
    held = tuple(sorted(e.buf for e in q.ents if e.buf is not None))
    return r.nbufs, r.payload == 0, AbstractState(r.head, r.tail, slots, held)


def abstract_reach(logic, n: int, blind0: bool, start: AbstractState, bits: int) -> set:
    seen, todo = {start}, deque([start])
    while todo:
        s = todo.popleft()
        for *_, nxt in successors(logic, n, blind0, s, bits):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def rings_outside_abstraction(variant, scope_name: str) -> list:
    scope = BY_NAME[scope_name]
    bits = scope.config.counter_bits
    space = bfs(Model(variant, scope.config, scope.env), max_states=400_000)
    assert not space.capped
    logic = ring_logic_of(variant)
    reach: dict = {}
    outside = []
    for state in space.states:
        for _, q in state.queues:
            if q.bufring is None:
                continue
            n, blind0, ring = project(q)
            start = AbstractState(scope.config.counter_start, (scope.config.counter_start + n) % (1 << bits),
                                  (), ())
            key = (n, blind0)
            if key not in reach:
                reach[key] = abstract_reach(logic, n, blind0, start, bits)
            if ring not in reach[key]:
                outside.append((n, blind0, ring))
    assert reach, f"scope {scope_name} never creates a buffer ring"
    return outside


@pytest.mark.parametrize("scope", ["enobufs", "null-payload", "interleave", "fetch-on-register"])
def test_every_ring_the_explorer_reaches_is_reachable_in_the_abstraction(scope):
    assert rings_outside_abstraction(V2, scope) == []


@pytest.mark.slow
@pytest.mark.parametrize("scope", ["ring", "ring-pow2", "background"])
def test_every_ring_the_explorer_reaches_in_the_wrap_scopes_is_reachable_in_the_abstraction(scope):
    assert rings_outside_abstraction(V2, scope) == []


def test_wake_idle_fix_stays_inside_the_abstraction_in_the_enobufs_scope():
    assert rings_outside_abstraction(builtin_variants()["wake-idle-entries"], "enobufs") == []


def test_the_abstraction_reads_v2_ring_logic():
    assert ring_logic_of(V2) is V2_RING
