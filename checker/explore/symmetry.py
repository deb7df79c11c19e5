"""Symmetry reduction: request uniques are interchangeable labels.

Why this is sound, and why it is the only symmetry used:

* The kernel compares a request's ``unique`` only for equality (the commit
  lookup in ``fpq.processing``); nothing orders, hashes into behaviour, or
  bounds uniques. Renaming the uniques of a state by any bijection therefore
  maps its successors to the successors of the renamed state, action for
  action (with the actions renamed the same way). Every invariant and step
  property of the catalog compares uniques only for equality or by queue
  position, so it holds in a state iff it holds in the renamed state: the
  quotient graph has a violation iff the full graph has one, at the same depth.
* Entries are not interchangeable: each has its own header slot (``id``) and
  ordinal, both observable. Buffers are not: each has its own address.
  Queues are not: qids are observable and scopes give queues different
  REGISTERs. Where two of them happen to be identical, the saving is small and
  the argument long, so the model does not use it.
* Liveness (``flow.eventually_dispatched``) follows one request around a cycle;
  a cycle of the quotient may permute requests, so it does not prove that one
  request waits forever. The explorer never uses this reduction for liveness:
  ``checker.explore.explorer`` runs liveness on the unreduced graph.
"""
from __future__ import annotations

from bufring.model.state import State


def canonical_uniques(state: State) -> State:
    """``state`` with uniques renamed 1, 2, ... in order of first appearance
    (queues by qid; in each, entries by ordinal, then fuse_req_queue, then
    fuse_req_bg_queue)."""
    order: dict[int, int] = {}
    for _, q in state.queues:
        for e in q.ents:
            if e.req is not None and e.req.unique not in order:
                order[e.req.unique] = len(order) + 1
        for r in q.req_queue:
            if r.unique not in order:
                order[r.unique] = len(order) + 1
        for r in q.bg_queue:
            if r.unique not in order:
                order[r.unique] = len(order) + 1
    if all(k == v for k, v in order.items()):
        return state
    queues = []
    for qid, q in state.queues:
        ents = tuple(e if e.req is None else e._replace(req=e.req._replace(unique=order[e.req.unique]))
                     for e in q.ents)
        queues.append((qid, q._replace(
            ents=ents,
            req_queue=tuple(r._replace(unique=order[r.unique]) for r in q.req_queue),
            bg_queue=tuple(r._replace(unique=order[r.unique]) for r in q.bg_queue))))
    return state._replace(queues=tuple(queues))
