"""Symmetry reduction (checker/explore/symmetry.py): request uniques are interchangeable.

Unit cases on hand-built states (which order, what is renamed, what is kept), then
the soundness argument of the module checked on whole default scopes: renaming a
state commutes with taking its successors, and every state predicate of the
catalog gives the same answer on a state and on its representative."""
from __future__ import annotations

import pytest

from bufring.checker.explore.statespace import bfs
from bufring.checker.explore.symmetry import canonical_uniques
from bufring.model.ring import initial_ring
from bufring.model.state import Ent, EntState, Queue, Req, State
from bufring.model.system import Model
from bufring.model.variant import V2
from bufring.specs.catalog import CATALOG
from bufring.specs.scopes import BY_NAME

US = EntState.USERSPACE
RING = initial_ring(headers=0x10000, queue_depth=2, nbufs=2, buf_size=8192, payload=0x100000,
                    headers_len=576, payload_len=16384, counter_start=0, bits=3)


def two_queues(a: int, b: int, c: int, d: int) -> State:
    """Queue 0: entry holding ``a``, ``b`` queued; queue 1: ``c`` queued, ``d`` in bg."""
    q0 = Queue(bufring=RING._replace(head=1), ents=(Ent(US, req=Req(a, True, False), buf=0),),
               req_queue=(Req(b, False, False),))
    q1 = Queue(bufring=None, ents=(Ent(EntState.AVAILABLE),), avail=(0,),
               req_queue=(Req(c, True, False),), bg_queue=(Req(d, True, True),))
    return State(queues=((0, q0), (1, q1)), ring=True, ready=True)


def uniques(s: State) -> list[int]:
    out = []
    for _, q in s.queues:
        out += [e.req.unique for e in q.ents if e.req is not None]
        out += [r.unique for r in q.req_queue] + [r.unique for r in q.bg_queue]
    return out


def test_canonical_renames_in_order_entries_queue_bg_queue_then_next_queue():
    s = canonical_uniques(two_queues(40, 7, 9, 3))
    assert uniques(s) == [1, 2, 3, 4]


def test_canonical_keeps_payload_background_buffers_and_everything_else():
    before = two_queues(40, 7, 9, 3)
    after = canonical_uniques(before)
    assert [r.payload for _, q in after.queues for r in q.req_queue] == [False, True]
    assert after.queues[1][1].bg_queue[0].background is True
    assert after.queues[0][1].bufring == before.queues[0][1].bufring
    assert after._replace(queues=()) == before._replace(queues=())


def test_an_already_canonical_state_is_returned_as_the_same_object():
    s = two_queues(1, 2, 3, 4)
    assert canonical_uniques(s) is s
    empty = State()
    assert canonical_uniques(empty) is empty


def test_canonical_is_idempotent():
    once = canonical_uniques(two_queues(8, 6, 4, 2))
    assert canonical_uniques(once) is once


def test_states_that_differ_by_a_renaming_of_uniques_share_their_representative():
    assert canonical_uniques(two_queues(5, 9, 2, 7)) == canonical_uniques(two_queues(11, 3, 8, 1))


def test_states_with_different_shapes_keep_different_representatives():
    assert canonical_uniques(two_queues(1, 2, 3, 4)) != canonical_uniques(
        two_queues(1, 2, 3, 4)._replace(ready=False))


# --- the soundness argument, on whole scopes --------------------------------------------------------

SCOPES = ["null-payload", "legacy", "race", "register"]


@pytest.fixture(scope="module", params=SCOPES)
def scope_space(request):
    scope = BY_NAME[request.param]
    model = Model(V2, scope.config, scope.env)
    return scope, model, bfs(model, max_states=100_000)


def test_renaming_commutes_with_successors_on_every_reachable_state(scope_space):
    _, model, space = scope_space
    for s in space.states:
        rep = canonical_uniques(s)
        if rep is s:
            continue
        assert ({canonical_uniques(t) for _, t, _ in model.successors(s)}
                == {canonical_uniques(t) for _, t, _ in model.successors(rep)})


def test_state_predicates_agree_on_a_state_and_its_representative(scope_space):
    scope, _, space = scope_space
    cfg = scope.config
    preds = [p.check_state or p.goal for p in CATALOG if (p.check_state or p.goal) is not None]
    for s in space.states:
        rep = canonical_uniques(s)
        assert [f(cfg, s) for f in preds] == [f(cfg, rep) for f in preds]


def test_reduced_search_stores_only_representatives(scope_space):
    scope, model, space = scope_space
    reduced = bfs(model, max_states=100_000, canonical=canonical_uniques)
    assert all(canonical_uniques(s) is s for s in reduced.states)
    assert len(reduced.states) == len({canonical_uniques(s) for s in space.states})
