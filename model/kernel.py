"""The kernel paths one trace step runs (SEMANTICS §3 to §6), in the kernel's order.

Each function models the kernel function it is named after; its docstring says
which, and what it leaves out. They work on a :class:`Step`, the mutable working
copy of one transition: the touched queue is thawed into lists once, changed in
place by the kernel steps, and frozen again at the end. States themselves stay
immutable.

Every function here (and in ``model.register``) can be replaced by name in a
variant (``model.variant``): each variant runs its own copies of these functions
whose calls to one another resolve in the variant's table, so a replacement takes
effect everywhere; the functions of this module as imported are v2's originals.
The REGISTER rules and the ring arithmetic are read through ``k.v``, the variant;
code outside these modules reaches the variant's functions through ``k.fn``.
"""
from __future__ import annotations

from bufring.model.actions import (Commit, CommitBegin, CommitEnd, Dispatch, Event,
                                   Observation, Register, RegisterBegin, RegisterEnd,
                                   Request, Send, WarnCode)
from bufring.model.cint import CONCRETE, U64
from bufring.model.config import Config
from bufring.model.errno import Errno
from bufring.model.ring import BufRing, buffer_addr
from bufring.model.state import Ent, EntState, Queue, Req, State, get_queue, queues_with
from bufring.model.uapi import header_slot

AVAILABLE = EntState.AVAILABLE
COMMIT = EntState.COMMIT
FUSE_REQ = EntState.FUSE_REQ
USERSPACE = EntState.USERSPACE


class InvalidStep(Exception):
    """A step the run cannot take: not a kernel outcome but invalid input.

    Raised when the configuration cannot represent the run (TRACE-FORMAT's counter
    rule: ``field`` is ``config.counter_bits`` or ``config.counter_start``) or a
    split op names nothing to continue (``field`` is the step's argument). The
    trace runner turns it into one line naming file, line and field.
    """

    def __init__(self, field: str, message: str, header: bool = False):
        super().__init__(message)
        self.field = field
        self.header = header


class QueueW:
    """Mutable copy of a :class:`Queue` for the duration of one step."""

    __slots__ = ("bufring", "ents", "avail", "req_queue", "bg_queue",
                 "active_background", "stopped")

    def __init__(self, q: Queue):
        self.bufring: BufRing | None = q.bufring
        self.ents = list(q.ents)
        self.avail = list(q.avail)
        self.req_queue = list(q.req_queue)
        self.bg_queue = list(q.bg_queue)
        self.active_background = q.active_background
        self.stopped = q.stopped

    def freeze(self) -> Queue:
        return Queue(self.bufring, tuple(self.ents), tuple(self.avail),
                     tuple(self.req_queue), tuple(self.bg_queue),
                     self.active_background, self.stopped)


class Step:
    """One transition in progress: the variant (``v``) and its kernel functions
    (``fn``), the config, the fc fields, and the observation being collected."""

    __slots__ = ("v", "fn", "cfg", "bits", "num_background", "active_background",
                 "blocked", "dispatched", "recycled", "warnings", "events")

    def __init__(self, v, cfg: Config, state: State):
        self.v = v
        self.fn = v.fn
        self.cfg = cfg
        self.bits = cfg.counter_bits
        self.num_background = state.num_background
        self.active_background = state.active_background
        self.blocked = state.blocked
        self.dispatched: list[Dispatch] = []
        self.recycled: list[int] = []
        self.warnings: list[WarnCode] = []
        self.events: list[Event] = []

    def warn(self, code: WarnCode) -> None:
        """Record a warning code (see docs/warnings.md) once per step."""
        if code not in self.warnings:
            self.warnings.append(code)

    def event(self, name: Event) -> None:
        """Record something a witness looks for (``Observation.events``)."""
        if name not in self.events:
            self.events.append(name)

    def finish(self, state: State, qid: int | None, q: QueueW | None, **obs) -> tuple[State, Observation]:
        """Freeze the step into the next state and its observation: the queue ``q``
        written back as ``ring->queues[qid]`` and the fc fields of the step, in one
        new state."""
        queues = state.queues if q is None else queues_with(state.queues, qid, q.freeze())
        state = state._replace(queues=queues, num_background=self.num_background,
                               active_background=self.active_background, blocked=self.blocked)
        return state, Observation(dispatched=tuple(self.dispatched),
                                  recycled=tuple(self.recycled),
                                  warnings=tuple(self.warnings), events=tuple(self.events),
                                  **obs)


# --- payload_buf -------------------------------------------------------------------

def payload_buf_addr(q: QueueW | Queue, e: Ent) -> int:
    """``ent->payload_buf.addr``: the held buffer's address, 0 when zeroed."""
    if e.buf is None:
        return 0
    r = q.bufring
    return buffer_addr(CONCRETE, r.payload, r.buf_size, e.buf)


def payload_pointer(q: QueueW | Queue, e: Ent) -> int:
    """The pointer ``setup_fuse_copy_state()`` imports: ``payload_buf.addr`` in bufring
    mode, ``ent->payload`` in legacy mode (patch hunk of setup_fuse_copy_state)."""
    return payload_buf_addr(q, e) if q.bufring is not None else e.payload


def header_addr(q: QueueW | Queue, e: Ent) -> int:
    """User address of the entry's header: ``bufring->headers + 288 * ent->id`` in
    bufring mode (copy_header_to_ring), ``ent->headers`` in legacy mode."""
    if q.bufring is None:
        return e.headers
    return CONCRETE.trunc(header_slot(q.bufring.headers, e.id), U64)


# --- patch 10/14: buffer selection and recycling (the v2 hooks) ----------------------

def fuse_uring_select_buffer(k: Step, q: QueueW, i: int) -> int:
    """Models ``fuse_uring_select_buffer()``: copy slot ``head % nbufs`` into
    ``ent->payload_buf`` and advance ``head``; ``-ENOBUFS`` when ``tail == head``.
    It overwrites ``payload_buf`` without looking at it."""
    r = k.v.ring_select(q.bufring, k.bits)
    if r is None:
        k.event(Event.ENOBUFS)
        return -Errno.ENOBUFS
    if r[0].head < q.bufring.head:
        k.event(Event.WRAP)
    q.bufring, buf = r
    q.ents[i] = q.ents[i]._replace(buf=buf)
    return 0


def fuse_uring_recycle_buffer(k: Step, q: QueueW, i: int) -> None:
    """Models ``fuse_uring_recycle_buffer()``: nothing for a legacy queue or when
    ``payload_buf.addr == 0``; else WARN_ON_ONCE if full, write slot
    ``tail % nbufs``, advance ``tail``, zero ``payload_buf``."""
    e = q.ents[i]
    if q.bufring is None or not buffer_selected(q, e):
        return
    old_tail = q.bufring.tail
    q.bufring, warned = k.v.ring_recycle(q.bufring, e.buf, k.bits)
    if q.bufring.tail < old_tail:
        k.event(Event.WRAP)
    if warned:
        k.warn(WarnCode.RECYCLE_FULL)
    k.recycled.append(e.buf)
    q.ents[i] = e._replace(buf=None)


def buffer_selected(q: QueueW | Queue, e: Ent) -> bool:
    """``!!ent->payload_buf.addr``: the patch's only test of "holds a buffer" (§10)."""
    return payload_buf_addr(q, e) != 0


def fuse_uring_next_req_update_buffer(k: Step, q: QueueW, i: int, req: Req) -> int:
    """Models ``fuse_uring_next_req_update_buffer()`` (fetch-next path, §4.3):
    select when the request has payload and no buffer is held, recycle when it has
    none and one is held, otherwise keep what is held."""
    if q.bufring is None:
        return 0
    selected = buffer_selected(q, q.ents[i])
    if req.payload and not selected:
        return fuse_uring_select_buffer(k, q, i)
    if not req.payload and selected:
        fuse_uring_recycle_buffer(k, q, i)
    elif req.payload and selected:
        k.event(Event.BUFFER_KEPT)
    return 0


def fuse_uring_prep_buffer(k: Step, q: QueueW, i: int, req: Req) -> int:
    """Models ``fuse_uring_prep_buffer()`` (arrival path, §5.2): select a buffer for
    a payload request, without looking at what the entry already holds."""
    if q.bufring is None or not req.payload:
        return 0
    return fuse_uring_select_buffer(k, q, i)


def fuse_uring_ent_assign_req(k: Step, q: QueueW, i: int) -> Req | None:
    """Models ``fuse_uring_ent_assign_req()`` with the patch: take the head of
    ``fuse_req_queue`` if the buffer update allows, else recycle what the entry
    holds and stay AVAILABLE."""
    if q.req_queue:
        req = q.req_queue[0]
        if fuse_uring_next_req_update_buffer(k, q, i, req) == 0:
            fuse_uring_add_req_to_ring_ent(k, q, i, req)
            return req
    fuse_uring_recycle_buffer(k, q, i)
    return None


# --- the base: lists, states, requests ----------------------------------------------

def idle_entries_wait(k: Step, q: QueueW) -> None:
    """The patch's (and the base's) answer to "what does an idle entry do": nothing.

    An AVAILABLE entry takes work only when a request arrives while it heads
    ``ent_avail_queue``, or after its own next commit; requests already queued
    wait for a busy entry's fetch-next (SEMANTICS §3.5, §4.3, §5.2)."""


def fuse_uring_ent_avail(k: Step, q: QueueW, i: int) -> None:
    """Models ``fuse_uring_ent_avail()``: move the entry to the head of
    ``ent_avail_queue`` (a stack) and make it AVAILABLE."""
    if i in q.avail:
        q.avail.remove(i)
    q.avail.insert(0, i)
    q.ents[i] = q.ents[i]._replace(state=AVAILABLE)


def fuse_uring_add_req_to_ring_ent(k: Step, q: QueueW, i: int, req: Req) -> None:
    """Models ``fuse_uring_add_req_to_ring_ent()``: the request leaves whatever list
    it is on for ``fpq.processing``; the entry takes it, becomes FUSE_REQ and
    leaves ``ent_avail_queue``. WARNs if the entry was neither AVAILABLE nor COMMIT."""
    e = q.ents[i]
    if e.state not in (AVAILABLE, COMMIT):
        k.warn(WarnCode.ADD_REQ_BAD_STATE)
    if i in q.avail:
        q.avail.remove(i)
    if q.req_queue and q.req_queue[0] is req:
        del q.req_queue[0]
    elif req in q.req_queue:
        q.req_queue.remove(req)
    q.ents[i] = e._replace(state=FUSE_REQ, req=req)


def fuse_uring_send_to_user(k: Step, q: QueueW, i: int) -> None:
    """Models the request's trip to user space after assignment: the task work
    ``fuse_uring_send_in_task()`` -> ``fuse_uring_prepare_send()`` (the copies of
    §6.2, which cannot fail here: user memory never faults and uniques are
    non-zero) -> ``fuse_uring_send()`` (USERSPACE, the cmd completes with 0)."""
    e = q.ents[i]
    req = e.req
    if e.stale:
        k.warn(WarnCode.SEND_ENDED_REQUEST)
    payload_ptr = payload_pointer(q, e)
    if req.payload and payload_ptr == 0:
        k.warn(WarnCode.PAYLOAD_COPY_NULL)
    buf_id = None
    if q.bufring is not None:
        # fuse_uring_args_to_ring(): buf_id = payload_buf.id, 0 when zeroed; u16 field.
        buf_id = CONCRETE.trunc(e.buf if e.buf is not None else 0, 16)
    k.dispatched.append(Dispatch(ent=i, unique=req.unique, buf_id=buf_id,
                                 payload_addr=payload_ptr, header_addr=header_addr(q, e)))
    q.ents[i] = e._replace(state=USERSPACE)


def fuse_uring_get_next_fuse_req(k: Step, q: QueueW, i: int) -> bool:
    """Models ``fuse_uring_get_next_fuse_req()`` (§4.3): under the lock, make the
    entry available and try to assign the next request; unlocked, copy it to the
    ring. A failed copy would retry with the next request; copies cannot fail in
    the model, so the loop runs once."""
    fuse_uring_ent_avail(k, q, i)
    req = fuse_uring_ent_assign_req(k, q, i)
    return req is not None


def fuse_uring_flush_bg(k: Step, q: QueueW) -> None:
    """Models ``fuse_uring_flush_bg()`` (§5.3): promote bg requests to the tail of
    ``fuse_req_queue`` while the global limit allows, or while this queue has no
    active bg request (the one-per-queue rule)."""
    while q.bg_queue and (k.active_background < k.cfg.max_background
                          or q.active_background == 0):
        req = q.bg_queue.pop(0)
        k.active_background += 1
        q.active_background += 1
        q.req_queue.append(req)


def fuse_request_end(k: Step, req: Req) -> None:
    """Models the bg accounting of ``fuse_request_end()`` (dev.c): unblock when the
    count was at the limit, then drop ``num_background`` and ``active_background``."""
    if not req.background:
        return
    if k.num_background == k.cfg.max_background:
        k.blocked = False
    k.num_background -= 1
    k.active_background -= 1


def fuse_uring_req_end(k: Step, q: QueueW, i: int, req: Req) -> None:
    """Models ``fuse_uring_req_end()`` (§4.4): the entry drops the request; a bg
    request gives back its queue slot and flushes this queue's bg list before the
    global counter drops in ``fuse_request_end()``. No buffer handling."""
    q.ents[i] = q.ents[i]._replace(req=None)
    if req.background:
        q.active_background -= 1
        fuse_uring_flush_bg(k, q)
    fuse_request_end(k, req)


# --- request arrival (§5) -------------------------------------------------------------

def select_qid(k: Step, qid: int) -> int:
    """``fuse_uring_task_to_queue()``: a qid beyond ``nr_queues`` WARNs and uses 0."""
    if qid >= k.cfg.nr_queues:
        k.warn(WarnCode.QID_OUT_OF_RANGE)
        return 0
    return qid


def fuse_uring_dispatch_ent(k: Step, q: QueueW, i: int) -> None:
    """Models ``fuse_uring_dispatch_ent()``: queue the task work that copies the
    request to the ring and completes the cmd. It runs at once, unless
    ``deferred_send`` leaves it for a ``send`` step."""
    if not k.cfg.deferred_send:
        fuse_uring_send_to_user(k, q, i)


def try_dispatch(k: Step, q: QueueW, i: int, req: Req) -> bool:
    """The arrival paths' common tail: ``fuse_uring_prep_buffer()``, then on success
    ``fuse_uring_add_req_to_ring_ent()`` and ``fuse_uring_dispatch_ent()``."""
    if fuse_uring_prep_buffer(k, q, i, req) != 0:
        return False
    fuse_uring_add_req_to_ring_ent(k, q, i, req)
    fuse_uring_dispatch_ent(k, q, i)
    return True


def fuse_uring_queue_fuse_req(k: Step, q: QueueW, req: Req) -> None:
    """Models ``fuse_uring_queue_fuse_req()`` (§5.2): give the request to the head of
    ``ent_avail_queue`` if a buffer can be prepared, else append it at the tail of
    ``fuse_req_queue``. No other available entry is tried."""
    if q.avail and try_dispatch(k, q, q.avail[0], req):
        return
    q.req_queue.append(req)


def fuse_uring_queue_bq_req(k: Step, q: QueueW, req: Req) -> None:
    """Models ``fuse_uring_queue_bq_req()`` (§5.3): append to the bg list, count it,
    flush, then give the head of ``fuse_req_queue`` (maybe an older request) to
    the head of ``ent_avail_queue`` if a buffer can be prepared."""
    q.bg_queue.append(req)
    head_ent = q.avail[0] if q.avail else None
    k.num_background += 1
    if k.num_background == k.cfg.max_background:
        k.blocked = True
    fuse_uring_flush_bg(k, q)
    if head_ent is not None and q.req_queue:
        try_dispatch(k, q, head_ent, q.req_queue[0])


def request(v, cfg: Config, state: State, a: Request) -> tuple[State, Observation]:
    """A request reaches the queueing function: over the ring once it is ready,
    else ``"dev"`` (the TRACE-FORMAT abstraction: dropped, counters untouched)."""
    k = Step(v, cfg, state)
    if not state.ready:
        return k.finish(state, None, None, via="dev", queued=False)
    qid = select_qid(k, a.qid)
    queue = get_queue(state, qid)
    req = Req(a.unique, a.payload, a.background)
    if queue is None:
        # Unreachable once ready (readiness needs every queue); the kernel ends
        # the request (fg: -EINVAL, bg: the caller's -ENOTCONN).
        k.warn(WarnCode.NO_QUEUE)
        return k.finish(state, None, None, via="ring", queued=False)
    q = QueueW(queue)
    if a.background:
        fuse_uring_queue_bq_req(k, q, req)
    else:
        fuse_uring_queue_fuse_req(k, q, req)
    idle_entries_wait(k, q)
    queued = req in q.req_queue or req in q.bg_queue
    return k.finish(state, qid, q, via="ring", queued=queued)


# --- COMMIT_AND_FETCH (§4) -------------------------------------------------------------

def find_processing(q: QueueW, unique: int) -> int | None:
    """The entry whose request has this unique in ``fpq.processing``, if any. A
    request being committed (entry in COMMIT) was unlinked by the lookup."""
    for i, e in enumerate(q.ents):
        if e.req is not None and e.req.unique == unique and e.state != COMMIT and not e.stale:
            return i
    return None


def find_committing(q: QueueW, unique: int) -> int | None:
    """The entry between ``commit_begin`` and ``commit_end`` for this unique."""
    for i, e in enumerate(q.ents):
        if e.req is not None and e.req.unique == unique and e.state == COMMIT:
            return i
    return None


def commit_lookup(k: Step, state: State, qid: int, commit_id: int):
    """§4.1: validation, the locked lookup and T7. Returns ``(q, i, None)`` with the
    entry now in COMMIT, or ``(q_or_None, None, ret)`` for a command that ends here."""
    if not state.ring:
        return None, None, -Errno.ENOTCONN
    if qid >= k.cfg.nr_queues:
        return None, None, -Errno.EINVAL
    queue = get_queue(state, qid)
    if queue is None or queue.stopped:
        return None, None, -Errno.ENOTCONN
    q = QueueW(queue)
    i = find_processing(q, commit_id)
    if i is None:
        return None, None, -Errno.ENOENT
    e = q.ents[i]
    if e.state != USERSPACE:
        # fuse_ring_ent_set_commit() refuses: WARN, -EIO; the request leaves
        # fpq.processing and ends outside fuse_uring_req_end() while the entry
        # still points to it: a later send copies a freed request.
        k.warn(WarnCode.COMMIT_BAD_STATE)
        q.ents[i] = e._replace(stale=True)
        fuse_request_end(k, e.req)
        return q, None, -Errno.EIO
    q.ents[i] = e._replace(state=COMMIT)
    return q, i, None


def commit_finish(k: Step, q: QueueW, i: int, reply_error: int) -> None:
    """§4.2 and §4.3: the reply copy (unlocked), ``fuse_uring_req_end()``, then
    fetch-next and, if a request was assigned, its dispatch. The reply's own error
    only ends the request with it."""
    e = q.ents[i]
    req = e.req
    if reply_error == 0 and req.payload and payload_pointer(q, e) == 0:
        k.warn(WarnCode.PAYLOAD_COPY_NULL)
    fuse_uring_req_end(k, q, i, req)
    if fuse_uring_get_next_fuse_req(k, q, i):
        fuse_uring_dispatch_ent(k, q, i)
    idle_entries_wait(k, q)


def fuse_uring_commit_fetch(v, cfg: Config, state: State, a: Commit) -> tuple[State, Observation]:
    """Models ``fuse_uring_commit_fetch()`` whole: :func:`commit_lookup`, then
    :func:`commit_finish`. The command completes with 0 once the lookup passed."""
    k = Step(v, cfg, state)
    q, i, ret = commit_lookup(k, state, a.qid, a.commit_id)
    if ret is None:
        commit_finish(k, q, i, a.reply_error)
        ret = 0
    return k.finish(state, a.qid if q is not None else None, q, ret=ret)


def commit_begin(v, cfg: Config, state: State, a: CommitBegin) -> tuple[State, Observation]:
    """Split op: :func:`commit_lookup` alone; the entry waits in COMMIT."""
    k = Step(v, cfg, state)
    q, i, ret = commit_lookup(k, state, a.qid, a.commit_id)
    if ret is None:
        return k.finish(state, a.qid, q, pending=True)
    return k.finish(state, a.qid if q is not None else None, q, ret=ret)


def commit_end(v, cfg: Config, state: State, a: CommitEnd) -> tuple[State, Observation]:
    """Split op: :func:`commit_finish` for the entry a ``commit_begin`` left in COMMIT."""
    k = Step(v, cfg, state)
    queue = get_queue(state, a.qid) if a.qid < cfg.nr_queues else None
    i = find_committing(QueueW(queue), a.commit_id) if queue is not None else None
    if i is None:
        raise InvalidStep("commit_id", f"no commit_begin of {a.commit_id} on queue {a.qid} is pending")
    q = QueueW(queue)
    commit_finish(k, q, i, a.reply_error)
    return k.finish(state, a.qid, q, ret=0)


def send(v, cfg: Config, state: State, a: Send) -> tuple[State, Observation]:
    """Split op (``deferred_send``): the pending task work of entry ``a.ent``."""
    k = Step(v, cfg, state)
    queue = get_queue(state, a.qid)
    if queue is None or not a.ent < len(queue.ents) or queue.ents[a.ent].state != FUSE_REQ:
        raise InvalidStep("ent", f"entry {a.ent} of queue {a.qid} has no pending send")
    q = QueueW(queue)
    fuse_uring_send_to_user(k, q, a.ent)
    return k.finish(state, a.qid, q)
