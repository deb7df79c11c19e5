"""REGISTER, end to end (SEMANTICS §3): ``fuse_uring_register()`` and what it calls.

Split in two halves at the point where two REGISTERs can race to create one queue
(§3.3): the unlocked lookup and setup, then the publication under ``fc->lock``.
The whole command runs both halves at once; the split ops (``register_begin``,
``register_end``) let other steps run in between.
"""
from __future__ import annotations

from bufring.model.actions import Event, Observation, Register, RegisterBegin, RegisterEnd
from bufring.model.cint import CONCRETE
from bufring.model.config import Config
from bufring.model.errno import Errno
from bufring.model.kernel import (InvalidStep, QueueW, Step, fuse_uring_dispatch_ent,
                                  fuse_uring_ent_avail, fuse_uring_get_next_fuse_req,
                                  idle_entries_wait)
from bufring.model.ring import BufRing, initial_ring
from bufring.model.rules import RegisterValues, first_rejection, nr_bufs, wants_bufring
from bufring.model.state import (Ent, EntState, PendingRegister, Queue, State, get_queue,
                                 with_queue)


def register_values(cfg: Config, a: Register, ring_queue_depth: int | None = None) -> RegisterValues:
    """The REGISTER SQE's values as the rules read them."""
    return RegisterValues(qid=a.qid, flags=a.flags, buf_index=a.buf_index,
                          queue_depth=a.queue_depth, buf_size=a.buf_size,
                          headers_base=a.headers[0], headers_len=a.headers[1],
                          payload_base=a.payload[0], payload_len=a.payload[1],
                          nr_queues=cfg.nr_queues, max_payload_sz=cfg.max_payload_sz,
                          ring_queue_depth=ring_queue_depth)


def fuse_uring_bufring_setup(k: Step, p: RegisterValues) -> BufRing | int:
    """Models ``fuse_uring_bufring_setup()`` (§3.3 step 3): the checks of
    ``v.bufring_setup_rules`` in order, then the ring with ``nr_bufs`` buffers of
    ``buf_size`` bytes from the payload base. Returns the ring or ``-errno``."""
    c = CONCRETE
    rule = first_rejection(c, k.v.bufring_setup_rules, p)
    if rule is not None:
        return -rule.errno
    n = nr_bufs(c, p)
    bits = k.bits
    if n >= (1 << bits):
        raise InvalidStep("config.counter_bits", f"a buffer ring of {n} buffers needs nbufs < 2^counter_bits "
                                         f"(counter_bits is {bits})", header=True)
    if k.cfg.counter_start + n > (1 << bits):
        raise InvalidStep("config.counter_start", f"counter_start + nbufs = {k.cfg.counter_start + n} "
                                          f"exceeds 2^{bits}", header=True)
    return initial_ring(headers=p.headers_base, queue_depth=p.queue_depth, nbufs=n,
                        buf_size=p.buf_size, payload=p.payload_base,
                        headers_len=p.headers_len, payload_len=p.payload_len,
                        counter_start=k.cfg.counter_start, bits=bits)


def fuse_uring_create_ring_ent(k: Step, bufring: BufRing | None, p: RegisterValues) -> Ent | int:
    """Models ``fuse_uring_create_ring_ent()`` (§3.4): in bufring mode only
    ``buf_index < queue_depth`` is checked (no uniqueness, no count limit); in
    legacy mode the entry's own iovecs are imported and sized."""
    c = CONCRETE
    if bufring is not None:
        rule = first_rejection(c, k.v.ent_bufring_rules, p)
        if rule is not None:
            return -rule.errno
        return Ent(state=EntState.INVALID, id=p.buf_index)
    rule = first_rejection(c, k.v.ent_legacy_rules, p)
    if rule is not None:
        return -rule.errno
    return Ent(state=EntState.INVALID, headers=p.headers_base, payload=p.payload_base)


def is_ring_ready(state: State, cfg: Config, qid: int) -> bool:
    """Models ``is_ring_ready()``: every other queue exists and has an available entry."""
    existing = dict(state.queues)
    for other in range(cfg.nr_queues):
        if other == qid:
            continue
        queue = existing.get(other)
        if queue is None or not queue.avail:
            return False
    return True


def register_begin_half(k: Step, state: State, a: Register):
    """The part of ``fuse_uring_register()`` before the queue is published: ring
    creation, the gate rules, the unlocked lookup, and for a missing queue the
    unlocked half of ``fuse_uring_create_queue()`` (allocation and bufring setup).

    Returns ``(state, existing_queue, new_queue, ret)``: ``ret`` is set when the
    command ends here with an error; otherwise exactly one of the queues is set.
    """
    c = CONCRETE
    if not state.ring:
        state = state._replace(ring=True)          # fuse_uring_create()
    existing = get_queue(state, a.qid)
    p = register_values(k.cfg, a, existing.bufring.queue_depth
                        if existing is not None and existing.bufring is not None else None)
    rule = first_rejection(c, k.v.gate_rules, p)
    if rule is not None:
        return state, None, None, -rule.errno
    if existing is not None:
        return state, existing, None, None
    bufring = None
    if wants_bufring(c, a.flags):
        bufring = fuse_uring_bufring_setup(k, p)
        if isinstance(bufring, int):
            return state, None, None, bufring
    return state, None, Queue(bufring=bufring), None


def register_end_half(k: Step, state: State, a: Register, existing: Queue | None,
                      new_queue: Queue | None) -> tuple[State, Observation]:
    """The rest of ``fuse_uring_register()``: for a new queue, publish it under
    ``fc->lock`` unless another REGISTER published one meanwhile (then this one
    frees its copy and joins the winner, if the modes agree); for an existing
    queue, ``queue_init_flags_consistent()``; then ``fuse_uring_create_ring_ent()``
    and ``fuse_uring_do_register()``. A queue published here stays when the entry
    check fails; any failure clears ``fc->io_uring``."""
    if new_queue is not None:
        winner = get_queue(state, a.qid)
        if winner is None:
            if k.v.ent_before_publish:
                # A fix: the entry is checked before the queue becomes visible.
                p = register_values(k.cfg, a, None)
                ent = fuse_uring_create_ring_ent(k, new_queue.bufring, p)
                if isinstance(ent, int):
                    return k.finish(state._replace(io_uring=False), None, None, ret=ent)
            state = with_queue(state, a.qid, new_queue)
            queue = new_queue
        else:
            k.event(Event.REGISTER_RACE)
            existing = winner
    if existing is not None:
        if not k.v.queue_init_consistent(existing, a):
            return k.finish(state._replace(io_uring=False), None, None, ret=-Errno.EINVAL)
        queue = existing
    p = register_values(k.cfg, a, queue.bufring.queue_depth if queue.bufring is not None else None)
    ent = fuse_uring_create_ring_ent(k, queue.bufring, p)
    if isinstance(ent, int):
        return k.finish(state._replace(io_uring=False), None, None, ret=ent)
    return fuse_uring_do_register(k, state, a.qid, queue, ent)


def fuse_uring_register(v, cfg: Config, state: State, a: Register) -> tuple[State, Observation]:
    """Models ``fuse_uring_cmd()`` -> ``fuse_uring_register()`` (§3.1 to §3.5) with
    no other step in between: :func:`register_begin_half`, then
    :func:`register_end_half`. The gate of §3.1 passes (an initialised, connected
    fc); the ring is created on the first REGISTER and stays even when a later
    check fails."""
    k = Step(v, cfg, state)
    state, existing, new_queue, ret = register_begin_half(k, state, a)
    if ret is not None:
        return k.finish(state._replace(io_uring=False), None, None, ret=ret)
    return register_end_half(k, state, a, existing, new_queue)


def register_begin(v, cfg: Config, state: State, a: RegisterBegin) -> tuple[State, Observation]:
    """Split op: :func:`register_begin_half`. A REGISTER that meets an existing
    queue, or fails, completes here; one that set up a new queue is parked under
    ``a.thread`` with that queue until its ``register_end``."""
    k = Step(v, cfg, state)
    if any(p.thread == a.thread for p in state.pending):
        raise InvalidStep("thread", f"REGISTER thread {a.thread} is already in flight")
    reg = a.register()
    state, existing, new_queue, ret = register_begin_half(k, state, reg)
    if ret is not None:
        return k.finish(state._replace(io_uring=False), None, None, ret=ret)
    if existing is not None:
        return register_end_half(k, state, reg, existing, None)
    parked = PendingRegister(a.thread, a.qid, reg, new_queue)
    state = state._replace(pending=tuple(sorted(state.pending + (parked,))))
    return k.finish(state, None, None, pending=True)


def register_end(v, cfg: Config, state: State, a: RegisterEnd) -> tuple[State, Observation]:
    """Split op: :func:`register_end_half` for the REGISTER parked as ``a.thread``."""
    k = Step(v, cfg, state)
    parked = next((p for p in state.pending if p.thread == a.thread), None)
    if parked is None:
        raise InvalidStep("thread", f"no register_begin of thread {a.thread} is pending")
    state = state._replace(pending=tuple(p for p in state.pending if p.thread != a.thread))
    return register_end_half(k, state, parked.register, None, parked.queue)


def fuse_uring_do_register(k: Step, state: State, qid: int, queue: Queue,
                           ent: Ent) -> tuple[State, Observation]:
    """Models ``fuse_uring_do_register()`` (§3.5): the entry becomes AVAILABLE at
    the head of ``ent_avail_queue``, without looking at queued requests; then the
    readiness check. With ``fetch_on_register`` (newer trees) the entry then runs
    fetch-next at once."""
    q = QueueW(queue)
    q.ents.append(ent)
    i = len(q.ents) - 1
    fuse_uring_ent_avail(k, q, i)
    if not state.ready and is_ring_ready(state, k.cfg, qid):
        state = state._replace(ready=True)
    if k.cfg.fetch_on_register and fuse_uring_get_next_fuse_req(k, q, i):
        fuse_uring_dispatch_ent(k, q, i)
    idle_entries_wait(k, q)
    return k.finish(state, qid, q, ret=0, ent=i)
