"""Predicates of the property catalog, over a state or over one transition.

A state predicate is ``f(cfg, state) -> bool``; a step predicate is
``f(cfg, pre, action, post, obs) -> bool`` and sees the action and its
observation too (for what happens *during* a step: a recycle, a dispatch, a
commit). Every predicate returns True when the property holds there (for a
witness: when the witness is reached there). They read the model's state and
never change it; the catalog (``specs.catalog``) attaches them to ids.

"Holds a buffer" means ``ent->payload_buf`` is a copy of one of the ring's
buffers (``Ent.buf`` is not None), whatever its address: with a payload region
at address 0, buffer 0 has address 0 and the kernel's own test (``addr != 0``)
no longer sees it (SEMANTICS §10). Properties speak of the buffers themselves.
"""
from __future__ import annotations

from collections import Counter

from bufring.model.actions import (Commit, CommitBegin, CommitEnd, Event, Register,
                                   RegisterBegin, RegisterEnd, Request, WarnCode)
from bufring.model.cint import CONCRETE
from bufring.model.kernel import header_addr, payload_buf_addr
from bufring.model.ring import free_count, free_window
from bufring.model.rules import wants_bufring
from bufring.model.state import EntState, get_queue
from bufring.model.errno import Errno
from bufring.model.uapi import REQ_HEADER_SZ, VALID_INIT_FLAGS

AVAILABLE = EntState.AVAILABLE
USERSPACE = EntState.USERSPACE


# --- views ---------------------------------------------------------------------------

def bufring_queues(state):
    """(qid, queue) of every queue in buffer-ring mode."""
    return [(qid, q) for qid, q in state.queues if q.bufring is not None]


def window(ring, bits: int) -> tuple[int, ...]:
    """Buffer ids in the free window ``[head, tail)`` (``model.ring.free_window``)."""
    return free_window(ring, bits)


def held(q) -> list[int]:
    """Buffer ids held by the queue's entries (one per holding entry)."""
    return [e.buf for e in q.ents if e.buf is not None]


def step_qid(cfg, action) -> int:
    """The queue a step acts on (a request beyond nr_queues goes to queue 0)."""
    if isinstance(action, Request) and action.qid >= cfg.nr_queues:
        return 0
    return action.qid


def dispatched_with_ent(cfg, action, post, obs):
    """(queue, entry, dispatch) for every request the step handed to user space."""
    q = get_queue(post, step_qid(cfg, action)) if obs.dispatched else None
    return [(q, q.ents[d.ent], d) for d in obs.dispatched]


# --- buffer ring -------------------------------------------------------------------------

def never_full_on_recycle(cfg, pre, action, post, obs) -> bool:
    return WarnCode.RECYCLE_FULL not in obs.warnings


def count_bounded(cfg, state) -> bool:
    bits = cfg.counter_bits
    return all(free_count(CONCRETE, q.bufring.head, q.bufring.tail, bits) <= q.bufring.nbufs
               for _, q in bufring_queues(state))


def conservation(cfg, state) -> bool:
    for _, q in bufring_queues(state):
        places = Counter(window(q.bufring, cfg.counter_bits)) + Counter(held(q))
        if any(places[b] != 1 for b in range(q.bufring.nbufs)) or len(places) != q.bufring.nbufs:
            return False
    return True


def exclusive(cfg, state) -> bool:
    for _, q in bufring_queues(state):
        holders = held(q)
        if len(holders) != len(set(holders)):
            return False
        if set(holders) & set(window(q.bufring, cfg.counter_bits)):
            return False
    return True


def buf_id_fits(cfg, pre, action, post, obs) -> bool:
    for q, e, d in dispatched_with_ent(cfg, action, post, obs):
        if q.bufring is None or e.buf is None:
            continue
        if d.buf_id != e.buf or not 0 <= d.buf_id <= 0xFFFF:
            return False
    return True


def completed_register(pre, action, obs) -> Register | None:
    """The REGISTER SQE whose command completes in this step (its ``ret`` is
    known), whether whole, or the begin or end half of a split one."""
    if obs.ret is None:
        return None
    kind = type(action)
    if kind is Register:
        return action
    if kind is RegisterBegin:
        return action.register()
    if kind is RegisterEnd:
        return next(p.register for p in pre.pending if p.thread == action.thread)
    return None


def created_bufring(cfg, pre, action, post, obs):
    """(REGISTER, buffer ring) when this step published a new bufring queue."""
    reg = completed_register(pre, action, obs)
    if reg is None:
        return None
    before = get_queue(pre, reg.qid)
    after = get_queue(post, reg.qid)
    if before is None and after is not None and after.bufring is not None:
        return reg, after.bufring
    return None


def buf_in_region(cfg, pre, action, post, obs) -> bool:
    created = created_bufring(cfg, pre, action, post, obs)
    if created is None:
        return True
    reg, r = created
    base, length = reg.payload
    starts = [CONCRETE.add(r.payload, b * r.buf_size, 64) for b in range(r.nbufs)]
    inside = all(base <= s and s + r.buf_size <= base + length for s in starts)
    disjoint = all(starts[i] + r.buf_size <= starts[i + 1] for i in range(len(starts) - 1))
    return inside and disjoint and r.buf_size >= cfg.max_payload_sz


# --- registration ----------------------------------------------------------------------------

def flags_consistent(cfg, pre, action, post, obs) -> bool:
    reg = completed_register(pre, action, obs)
    if reg is None or obs.ret != 0:
        return True
    q = get_queue(post, reg.qid)
    return bool(wants_bufring(CONCRETE, reg.flags)) == (q.bufring is not None)


def unknown_flags_rejected(cfg, pre, action, post, obs) -> bool:
    # A split REGISTER with unknown flags must be rejected at once, never parked.
    reg = action.register() if isinstance(action, RegisterBegin) else completed_register(pre, action, obs)
    if reg is None or reg.flags & ~VALID_INIT_FLAGS == 0:
        return True
    return obs.ret == -Errno.EINVAL and post.queues == pre.queues and post.pending == pre.pending


def no_partial_effect(cfg, pre, action, post, obs) -> bool:
    reg = completed_register(pre, action, obs)
    if reg is None or obs.ret == 0:
        return True
    return post.queues == pre.queues


def init_consistent(cfg, pre, action, post, obs) -> bool:
    reg = completed_register(pre, action, obs)
    if reg is None or obs.ret != 0:
        return True
    # The queue this REGISTER joined: the one it found, or the one that won its race.
    before = get_queue(pre, reg.qid)
    if before is None and isinstance(action, RegisterEnd):
        before = get_queue(post, reg.qid)
        if any(p.thread == action.thread and p.queue is before for p in pre.pending):
            return True                      # it published its own queue
    if before is None or before.bufring is None:
        return True
    r = before.bufring
    return (reg.queue_depth == r.queue_depth and reg.buf_size == r.buf_size
            and reg.headers == (r.headers, r.headers_len)
            and reg.payload == (r.payload, r.payload_len))


def slot_bounds(cfg, state) -> bool:
    for _, q in bufring_queues(state):
        r = q.bufring
        for e in q.ents:
            start = header_addr(q, e)
            if not (r.headers <= start and start + REQ_HEADER_SZ <= r.headers + r.headers_len):
                return False
    return True


def slot_unique(cfg, state) -> bool:
    for _, q in bufring_queues(state):
        ids = [e.id for e in q.ents if e.state != EntState.RELEASED]
        if len(ids) != len(set(ids)):
            return False
    return True


# --- request flow --------------------------------------------------------------------------------

def idle_holds_no_buffer(cfg, state) -> bool:
    return all(e.buf is None for _, q in bufring_queues(state)
               for e in q.ents if e.state == AVAILABLE)


def payload_has_buffer(cfg, pre, action, post, obs) -> bool:
    for q, e, d in dispatched_with_ent(cfg, action, post, obs):
        if q.bufring is not None and e.req is not None and e.req.payload:
            if e.buf is None or payload_buf_addr(q, e) == 0:
                return False
    return True


def commit_matches(cfg, pre, action, post, obs) -> bool:
    """Accepted only for an entry in user space (whole commit, or its begin half);
    afterwards the request's buffer is back in the ring or kept by the same entry
    for its next request (whole commit, or its end half)."""
    kind = type(action)
    if kind not in (Commit, CommitBegin, CommitEnd):
        return True
    accepted = obs.ret == 0 if kind is not CommitBegin else obs.pending is True
    if not accepted:
        return True
    q = get_queue(pre, action.qid)
    owner = [i for i, e in enumerate(q.ents) if e.req is not None and e.req.unique == action.commit_id
             and not e.stale]
    if len(owner) != 1:
        return False
    i = owner[0]
    if kind is not CommitEnd and q.ents[i].state != USERSPACE:
        return False
    if kind is CommitBegin:
        return True
    buf = q.ents[i].buf
    if q.bufring is None or buf is None:
        return True
    after = get_queue(post, action.qid)
    e_after = after.ents[i]
    kept = e_after.req is not None and e_after.buf == buf
    returned = buf in window(after.bufring, cfg.counter_bits)
    held_elsewhere = any(e.buf == buf for j, e in enumerate(after.ents) if j != i)
    return (kept or returned) and not held_elsewhere


def could_take_now(q, req, bits: int) -> bool:
    """An idle entry could take ``req`` now: it needs no buffer, or one is free."""
    if q.bufring is None or not req.payload:
        return True
    return free_count(CONCRETE, q.bufring.head, q.bufring.tail, bits) > 0


def limits_hold(cfg, state, q) -> bool:
    """The background limits hold back ``q``'s bg list now: ``fuse_uring_flush_bg()``
    run at this moment would promote nothing (``fc->active_background`` is at
    ``max_background`` and the queue already has an active bg request).

    This is the kernel's own rule, read on the state as it is, not as the last
    flush saw it: the counters can drop after a flush (``fuse_request_end()``
    decrements ``fc->active_background`` after ``fuse_uring_req_end()`` flushed),
    and a request the limits would now let go is not held back by them."""
    return not (state.active_background < cfg.max_background or q.active_background == 0)


def waiting_by_choice(cfg, state, q):
    """The requests of ``q`` that wait although the limits would let them go: every
    request of ``fuse_req_queue``, and those of the bg list unless
    :func:`limits_hold`."""
    if not q.bg_queue or limits_hold(cfg, state, q):
        return q.req_queue
    return q.req_queue + q.bg_queue


def work_conserving(cfg, state) -> bool:
    """No idle entry beside a request it could take now, in any queue a request can
    wait in: ``fuse_req_queue``, and the bg list while the limits let it go."""
    for _, q in state.queues:
        if q.avail and any(could_take_now(q, r, cfg.counter_bits) for r in waiting_by_choice(cfg, state, q)):
            return False
    return True


def nothing_queued(cfg, state) -> bool:
    """No request waits in any ``fuse_req_queue`` or ``fuse_req_bg_queue``."""
    return all(not q.req_queue and not q.bg_queue for _, q in state.queues)


def queued_uniques(state) -> set[int]:
    """The uniques of every request waiting in either list of any queue."""
    return {r.unique for _, q in state.queues for r in q.req_queue + q.bg_queue}


def request_wait(cfg, state, unique: int) -> str | None:
    """Where request ``unique`` waits: None (not queued), ``"limits"`` (in a bg
    list the background limits hold back now: a wait by design) or ``"queued"``
    (any other wait)."""
    for _, q in state.queues:
        if any(r.unique == unique for r in q.req_queue):
            return "queued"
        if any(r.unique == unique for r in q.bg_queue):
            return "limits" if limits_hold(cfg, state, q) else "queued"
    return None


def fifo(cfg, pre, action, post, obs) -> bool:
    """No request is assigned to an entry (taken from, or bypassing, its queue's
    ``fuse_req_queue``) while an older one, queued before this step, stays queued.
    Assignment, not the later send, is where the order is decided."""
    before = dict(pre.queues)
    for qid, q_post in post.queues:
        q_pre = before.get(qid)
        if q_pre is None or not q_pre.req_queue:
            continue
        held = {e.req.unique for e in q_pre.ents if e.req is not None}
        assigned = [e.req.unique for e in q_post.ents if e.req is not None and e.req.unique not in held]
        if not assigned:
            continue
        order = [r.unique for r in q_pre.req_queue]
        still = {r.unique for r in q_post.req_queue}
        for u in assigned:
            older = order[:order.index(u)] if u in order else order
            if any(o in still for o in older):
                return False
    return True


# --- premises: the step shows the situation a property speaks of (non-vacuity) -------------------

def ex_bufring_created(cfg, pre, action, post, obs) -> bool:
    return created_bufring(cfg, pre, action, post, obs) is not None


def ex_unknown_flags_sent(cfg, pre, action, post, obs) -> bool:
    reg = action.register() if isinstance(action, RegisterBegin) else completed_register(pre, action, obs)
    return reg is not None and reg.flags & ~VALID_INIT_FLAGS != 0


def ex_register_rejected(cfg, pre, action, post, obs) -> bool:
    return completed_register(pre, action, obs) is not None and obs.ret not in (0, None)


def ex_register_joined(cfg, pre, action, post, obs) -> bool:
    """An accepted REGISTER joined a queue that existed before it."""
    reg = completed_register(pre, action, obs)
    return reg is not None and obs.ret == 0 and (
        get_queue(pre, reg.qid) is not None or isinstance(action, RegisterEnd)
        and obs.events and Event.REGISTER_RACE in obs.events)


def ex_bufring_register_joined(cfg, pre, action, post, obs) -> bool:
    reg = completed_register(pre, action, obs)
    q = get_queue(pre, reg.qid) if reg is not None else None
    return obs.ret == 0 and q is not None and q.bufring is not None


def ex_payload_dispatched(cfg, pre, action, post, obs) -> bool:
    return any(q.bufring is not None and e.req is not None and e.req.payload
               for q, e, _ in dispatched_with_ent(cfg, action, post, obs))


def ex_buffer_dispatched(cfg, pre, action, post, obs) -> bool:
    return any(q.bufring is not None and e.buf is not None
               for q, e, _ in dispatched_with_ent(cfg, action, post, obs))


def ex_commit_accepted(cfg, pre, action, post, obs) -> bool:
    return isinstance(action, (Commit, CommitEnd)) and obs.ret == 0


def ex_bufring_entries(cfg, pre, action, post, obs) -> bool:
    return any(q.ents for _, q in bufring_queues(post))


def ex_two_bufring_entries(cfg, pre, action, post, obs) -> bool:
    return any(len(q.ents) >= 2 for _, q in bufring_queues(post))


# --- witnesses (sometimes) ---------------------------------------------------------------------------

def w_recycle(cfg, pre, action, post, obs) -> bool:
    return bool(obs.recycled)


def w_select_enobufs(cfg, pre, action, post, obs) -> bool:
    return Event.ENOBUFS in obs.events


def w_counter_wrap(cfg, pre, action, post, obs) -> bool:
    return Event.WRAP in obs.events


def w_register_race(cfg, pre, action, post, obs) -> bool:
    return Event.REGISTER_RACE in obs.events


def w_buffer_reused(cfg, pre, action, post, obs) -> bool:
    return Event.BUFFER_KEPT in obs.events


def w_ring_empty(cfg, state) -> bool:
    return any(free_count(CONCRETE, q.bufring.head, q.bufring.tail, cfg.counter_bits) == 0
               for _, q in bufring_queues(state))
