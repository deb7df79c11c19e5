"""Immutable, hashable states of the model (SEMANTICS §1, §2).

Every state is a tree of NamedTuples: cheap to hash and compare, which is what the
explorer does millions of times. Lists of the kernel are tuples in list order,
index 0 being the list head.

What is kept and what is derived:

* ``ent_avail_queue`` order is kept (``Queue.avail``): it is a LIFO stack and
  decides which entry takes the next request.
* ``ent_w_req_queue``, ``ent_in_userspace`` and ``ent_commit_queue`` order is
  not kept: their membership is ``Ent.state``, and their order is only read by
  teardown (SEMANTICS §7), which this model does not run yet. Adding it is a new
  field, not a change of meaning.
* ``fpq.processing`` membership is ``Ent.req`` (a request is linked there from
  ``fuse_uring_add_req_to_ring_ent`` until ``fuse_uring_req_end``); lookup is by
  exact unique, so bucket order never shows.
* ``ring->queue_refs`` is the number of entries, ``len(Queue.ents)``.
* ``fc->ring`` and ``ring->ready`` are ``State.ring`` and ``State.ready``.
"""
from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

from bufring.model.actions import Register
from bufring.model.ring import BufRing


class EntState(IntEnum):
    """``enum fuse_ring_req_state`` (dev_uring_i.h), same numbering."""

    INVALID = 0
    COMMIT = 1
    AVAILABLE = 2
    FUSE_REQ = 3
    USERSPACE = 4
    TEARDOWN = 5
    RELEASED = 6


class Req(NamedTuple):
    """A ``struct fuse_req`` as far as the ring sees it."""

    unique: int          # req->in.h.unique, u64, non-zero
    payload: bool        # fuse_uring_req_has_payload(): in_numargs > 1 || out_numargs
    background: bool     # FR_BACKGROUND


class Ent(NamedTuple):
    """A ``struct fuse_ring_ent``. Its ordinal is its index in ``Queue.ents``."""

    state: EntState
    req: Req | None = None     # ent->fuse_req
    id: int = 0                # bufring: header slot index, from sqe->buf_index
    buf: int | None = None     # bufring: payload_buf as the id of the buffer it copies,
                               # None when zeroed (a new ent, or after recycle)
    headers: int = 0           # legacy: iov[0].iov_base
    payload: int = 0           # legacy: iov[1].iov_base
    stale: bool = False        # ``req`` was ended by the -EIO commit path while the
                               # entry still points to it (split ops only)


class Queue(NamedTuple):
    """A ``struct fuse_ring_queue``: the fields under ``queue->lock``."""

    bufring: BufRing | None                    # None: legacy (iovec) mode
    ents: tuple[Ent, ...] = ()
    avail: tuple[int, ...] = ()                # ent_avail_queue, head first (a stack)
    req_queue: tuple[Req, ...] = ()            # fuse_req_queue, head first (FIFO)
    bg_queue: tuple[Req, ...] = ()             # fuse_req_bg_queue, head first (FIFO)
    active_background: int = 0
    stopped: bool = False


class PendingRegister(NamedTuple):
    """A split REGISTER between ``register_begin`` and ``register_end``: it set up a
    new queue unlocked and has not yet taken ``fc->lock`` to publish it (§3.3)."""

    thread: int                # the trace's name for the REGISTER's task
    qid: int
    register: Register         # the SQE, read again by register_end
    queue: Queue | None        # the queue it set up, to publish if it wins the race


class State(NamedTuple):
    """The connection, its ring and its queues."""

    queues: tuple[tuple[int, Queue], ...] = ()  # ring->queues[]: the non-NULL ones as
                                                # (qid, queue), by qid; nr_queues is config
    ring: bool = False                         # fc->ring is published
    ready: bool = False                        # ring->ready
    io_uring: bool = True                      # fc->io_uring (cleared by a failed REGISTER)
    num_background: int = 0                    # fc->num_background
    active_background: int = 0                 # fc->active_background
    blocked: bool = False                      # fc->blocked
    pending: tuple[PendingRegister, ...] = ()  # split REGISTERs between begin and end,
                                               # by thread


_KEEP = object()


def one_step_replace(cls: type) -> None:
    """Give the NamedTuple ``cls`` a ``_replace`` that builds the new tuple in one
    step, with the same meaning as the generic one (fields by keyword, the others
    kept; an unknown name is a ``TypeError``). The generic one goes through
    ``_make``, ``map`` and a dict of the changes, at about twice the cost, and the
    kernel steps call it for :class:`Ent` and :class:`State` some 4 times per
    transition. Generated from the field names, as ``namedtuple`` builds its own
    methods."""
    fields = cls._fields
    params = ", ".join(f"{name}=_KEEP" for name in fields)
    values = ", ".join(f"self[{i}] if {name} is _KEEP else {name}" for i, name in enumerate(fields))
    namespace = {"_KEEP": _KEEP, "_new": tuple.__new__, "_cls": cls}
    exec(f"def _replace(self, /, *, {params}):\n    return _new(_cls, ({values},))", namespace)
    replace = namespace["_replace"]
    replace.__doc__ = f"A copy of this {cls.__name__} with the given fields changed."
    replace.__qualname__ = f"{cls.__name__}._replace"
    cls._replace = replace


one_step_replace(Ent)
one_step_replace(State)

INITIAL_STATE = State()
"""An initialised, connected fuse_conn with no ring yet."""


def get_queue(state: State, qid: int) -> Queue | None:
    """``ring->queues[qid]``, None while the queue does not exist."""
    for q_id, queue in state.queues:
        if q_id == qid:
            return queue
    return None


def queues_with(queues: tuple[tuple[int, Queue], ...], qid: int, queue: Queue) -> tuple[tuple[int, Queue], ...]:
    """``ring->queues`` with entry ``qid`` set to ``queue`` (queues stay in qid order)."""
    for n, (q_id, _) in enumerate(queues):
        if q_id == qid:
            return queues[:n] + ((qid, queue),) + queues[n + 1:]
    return tuple(sorted(queues + ((qid, queue),)))


def with_queue(state: State, qid: int, queue: Queue) -> State:
    """The state with ``ring->queues[qid]`` set to ``queue`` (queues stay in qid order)."""
    return state._replace(queues=queues_with(state.queues, qid, queue))
