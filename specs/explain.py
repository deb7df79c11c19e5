"""One sentence on *what* fails, for the report: the part of a property that breaks.

``explain(prop, cfg, steps)`` finds the first step of a replayed run at which the
property fails and says what is wrong there in the property's own terms (which
buffer is where, which entries share a slot, which request waits beside which
idle entry). The predicates decide; this module only describes.
"""
from __future__ import annotations

from collections import Counter

from bufring.model.cint import CONCRETE
from bufring.model.errno import Errno
from bufring.model.ring import free_count
from bufring.model.state import EntState
from bufring.specs.catalog import Kind, Property
from bufring.specs.predicates import (bufring_queues, completed_register, could_take_now,
                                      dispatched_with_ent, waiting_by_choice, window)


def _places(cfg, q) -> dict:
    out: dict = {}
    for b in window(q.bufring, cfg.counter_bits):
        out.setdefault(b, []).append("the free window")
    for i, e in enumerate(q.ents):
        if e.buf is not None:
            out.setdefault(e.buf, []).append(f"ent {i}" + (" (idle)" if e.state == EntState.AVAILABLE else ""))
    return out


def _conservation(cfg, pre, a, post, obs) -> str:
    for qid, q in bufring_queues(post):
        places = _places(cfg, q)
        for b in range(q.bufring.nbufs):
            where = places.get(b, [])
            if len(where) != 1:
                return (f"queue {qid}: buffer {b} is " + ("nowhere: neither free nor held" if not where
                        else f"in {len(where)} places: {', '.join(where)}"))
    return ""


def _exclusive(cfg, pre, a, post, obs) -> str:
    for qid, q in bufring_queues(post):
        for b, where in _places(cfg, q).items():
            if len(where) > 1:
                return f"queue {qid}: buffer {b} is in {', '.join(where)} at once"
    return ""


def _count_bounded(cfg, pre, a, post, obs) -> str:
    for qid, q in bufring_queues(post):
        r = q.bufring
        n = free_count(CONCRETE, r.head, r.tail, cfg.counter_bits)
        if n > r.nbufs:
            return f"queue {qid}: tail - head = {n} > nbufs = {r.nbufs}"
    return ""


def _slot_unique(cfg, pre, a, post, obs) -> str:
    for qid, q in bufring_queues(post):
        ids = Counter(e.id for e in q.ents)
        for slot, n in ids.items():
            if n > 1:
                ents = [str(i) for i, e in enumerate(q.ents) if e.id == slot]
                return f"queue {qid}: entries {', '.join(ents)} all use header slot {slot}"
    return ""


def _idle_holds(cfg, pre, a, post, obs) -> str:
    for qid, q in bufring_queues(post):
        for i, e in enumerate(q.ents):
            if e.state == EntState.AVAILABLE and e.buf is not None:
                return f"queue {qid}: ent {i} is idle (AVAILABLE) and still holds buffer {e.buf}"
    return ""


def _work_conserving(cfg, pre, a, post, obs) -> str:
    for qid, q in post.queues:
        for r in waiting_by_choice(cfg, post, q):
            if q.avail and could_take_now(q, r, cfg.counter_bits):
                why = "it has no payload" if not r.payload else "a buffer is free"
                where = "in fuse_req_queue"
                if r in q.bg_queue:
                    why_free = (f"fc->active_background {post.active_background} < max_background "
                                f"{cfg.max_background}" if post.active_background < cfg.max_background
                                else "queue->active_background is 0")
                    where = f"in the bg list although the limits let it go ({why_free})"
                return (f"queue {qid}: ent {q.avail[0]} is idle while request {r.unique} waits "
                        f"{where}, and it could take it now ({why})")
    return ""


def _payload_has_buffer(cfg, pre, a, post, obs) -> str:
    for q, e, d in dispatched_with_ent(cfg, a, post, obs):
        if q.bufring is not None and e.req is not None and e.req.payload:
            if e.buf is None:
                return f"request {d.unique} (with payload) went to ent {d.ent} with no buffer"
            return (f"request {d.unique} (with payload) went to ent {d.ent} with buffer {e.buf} at "
                    f"address {d.payload_addr:#x}: the kernel skips the import of pointer 0")
    return ""


def _register_effect(cfg, pre, a, post, obs) -> str:
    reg = completed_register(pre, a, obs)
    if reg is None:
        return ""
    before, after = dict(pre.queues), dict(post.queues)
    if after.get(reg.qid) is not None and before.get(reg.qid) is None:
        kind = "bufring" if after[reg.qid].bufring is not None else "legacy"
        return (f"REGISTER returned {Errno.name_of(obs.ret)} but left queue {reg.qid} ({kind}) behind; "
                "its mode and init fields now bind every later REGISTER")
    return ""


def _init_consistent(cfg, pre, a, post, obs) -> str:
    reg = completed_register(pre, a, obs)
    q = dict(pre.queues).get(reg.qid) if reg is not None else None
    if q is None or q.bufring is None:
        return ""
    r = q.bufring
    return (f"REGISTER accepted with queue_depth {reg.queue_depth}, buf_size {reg.buf_size}, "
            f"headers {reg.headers[0]:#x}+{reg.headers[1]:#x}, payload {reg.payload[0]:#x}+{reg.payload[1]:#x}; "
            f"the queue was created with {r.queue_depth}, {r.buf_size}, {r.headers:#x}+{r.headers_len:#x}, "
            f"{r.payload:#x}+{r.payload_len:#x}, and only the mode is checked")


def _commit_matches(cfg, pre, a, post, obs) -> str:
    q = dict(post.queues).get(a.qid)
    owner = [i for i, e in enumerate(dict(pre.queues)[a.qid].ents)
             if e.req is not None and e.req.unique == a.commit_id]
    if q is None or not owner:
        return ""
    i = owner[0]
    buf = dict(pre.queues)[a.qid].ents[i].buf
    e = q.ents[i]
    state = "idle" if e.state == EntState.AVAILABLE else e.state.name
    return (f"after the commit of {a.commit_id}, its buffer {buf} is neither back in the ring nor kept "
            f"for ent {i}'s next request (ent {i} is {state}, holding {e.buf})")


def _recycle_full(cfg, pre, a, post, obs) -> str:
    return "a recycle found tail - head >= nbufs (the WARN_ON_ONCE fires)"


def _fifo(cfg, pre, a, post, obs) -> str:
    before = dict(pre.queues)
    for qid, q in post.queues:
        q_pre = before.get(qid)
        if q_pre is None:
            continue
        held = {e.req.unique for e in q_pre.ents if e.req is not None}
        taken = [e.req.unique for e in q.ents if e.req is not None and e.req.unique not in held]
        waiting = [r.unique for r in q.req_queue if r in q_pre.req_queue]
        if taken and waiting:
            return (f"queue {qid}: request(s) {taken} went to an entry while older request(s) "
                    f"{waiting} stay in fuse_req_queue")
    return ""


WHY = {
    "ring.conservation": _conservation, "ring.exclusive": _exclusive,
    "ring.count_bounded": _count_bounded, "hdr.slot_unique": _slot_unique,
    "flow.idle_holds_no_buffer": _idle_holds, "flow.work_conserving": _work_conserving,
    "flow.payload_has_buffer": _payload_has_buffer, "reg.no_partial_effect": _register_effect,
    "reg.init_consistent": _init_consistent, "flow.commit_matches": _commit_matches,
    "ring.never_full_on_recycle": _recycle_full, "flow.fifo": _fifo,
}


def explain(prop: Property, cfg, steps: list) -> str:
    """What fails, at the first step of ``steps`` ((pre, action, post, obs) tuples)
    where ``prop`` fails; "" when the property has no describer or never fails."""
    why = WHY.get(prop.id)
    if why is None or prop.kind is Kind.SOMETIMES:
        return ""
    for n, (pre, a, post, obs) in enumerate(steps, start=1):
        bad = ((prop.check_step is not None and not prop.check_step(cfg, pre, a, post, obs))
               or (prop.check_state is not None and not prop.check_state(cfg, post)))
        if bad:
            text = why(cfg, pre, a, post, obs)
            return f"at step {n}: {text}" if text else ""
    return ""
