"""Actions (trace steps) and observations (what one step shows).

Actions are NamedTuples whose ``repr`` is valid Python, so a shrunk failure pastes
into a test. Their fields are the TRACE-FORMAT step arguments, with their C types
noted; ``headers`` and ``payload`` are ``(base, len)`` pairs (iov[0] and iov[1]).
"""
from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple, Union


class WarnCode(StrEnum):
    """The warning codes of ``Observation.warnings`` (docs/warnings.md): where the
    kernel would WARN or run into undefined behaviour. A ``StrEnum``, so a code is
    also its trace-format string and compares equal to it."""

    RECYCLE_FULL = "recycle_full"
    PAYLOAD_COPY_NULL = "payload_copy_null"
    QID_OUT_OF_RANGE = "qid_out_of_range"
    NO_QUEUE = "no_queue"
    ADD_REQ_BAD_STATE = "add_req_bad_state"
    COMMIT_BAD_STATE = "commit_bad_state"
    SEND_ENDED_REQUEST = "send_ended_request"


class Event(StrEnum):
    """What ``Observation.events`` records: checker instrumentation that the
    catalog's witnesses look for (docs/warnings.md, "Events are not warnings")."""

    ENOBUFS = "enobufs"              # a select found the ring empty
    BUFFER_KEPT = "buffer_kept"      # fetch-next kept the held buffer
    WRAP = "wrap"                    # head or tail wrapped at the counter width
    REGISTER_RACE = "register_race"  # register_end found the queue published by another


class Register(NamedTuple):
    """A FUSE_IO_URING_CMD_REGISTER SQE, through to its completion or parking."""

    qid: int                          # u16 cmd_req.qid
    flags: int = 0                    # u64 cmd_req.flags
    buf_index: int = 0                # u16 sqe->buf_index
    queue_depth: int = 0              # u16 cmd_req.init.queue_depth
    buf_size: int = 0                 # u32 cmd_req.init.buf_size
    headers: tuple[int, int] = (0, 0)  # iov[0]: (u64 base, u64 len)
    payload: tuple[int, int] = (0, 0)  # iov[1]: (u64 base, u64 len)


class Request(NamedTuple):
    """The queueing call of one allocated fuse request (fg or bg)."""

    qid: int                          # the CPU the requesting task runs on
    unique: int                       # u64, non-zero, not in use
    payload: bool                     # in_numargs > 1 || out_numargs > 0
    background: bool = False
    opcode: str | None = None         # informational


class Commit(NamedTuple):
    """A FUSE_IO_URING_CMD_COMMIT_AND_FETCH SQE, through to its completion or parking."""

    qid: int                          # u16 cmd_req.qid
    commit_id: int                    # u64: unique of the request answered
    reply_error: int = 0              # s32 fuse_out_header.error


# --- split ops: finer interleavings of the same kernel paths (docs/trace-format.md) ---

class RegisterBegin(NamedTuple):
    """The unlocked first half of a REGISTER: gate, ring creation, the unlocked
    lookup of ``ring->queues[qid]`` and, when it is NULL, the new queue's setup.
    ``thread`` names this REGISTER until its ``RegisterEnd``."""

    thread: int
    qid: int
    flags: int = 0
    buf_index: int = 0
    queue_depth: int = 0
    buf_size: int = 0
    headers: tuple[int, int] = (0, 0)
    payload: tuple[int, int] = (0, 0)

    def register(self) -> Register:
        return Register(*self[1:])


class RegisterEnd(NamedTuple):
    """The rest of REGISTER ``thread``: publish under ``fc->lock`` (or lose the
    race to a queue published meanwhile), create the entry, ``do_register``."""

    thread: int


class Send(NamedTuple):
    """The task work of an assigned entry: ``fuse_uring_send_in_task()`` (the copy to
    the ring, unlocked) and ``fuse_uring_send()``. Only with ``deferred_send``."""

    qid: int
    ent: int


class CommitBegin(NamedTuple):
    """The locked first part of COMMIT_AND_FETCH: validation, lookup, T7 (§4.1)."""

    qid: int
    commit_id: int


class CommitEnd(NamedTuple):
    """The rest of the commit: the unlocked reply copy, ``fuse_uring_req_end()``,
    fetch-next (§4.2, §4.3)."""

    qid: int
    commit_id: int
    reply_error: int = 0


Action = Union[Register, Request, Commit, RegisterBegin, RegisterEnd, Send, CommitBegin, CommitEnd]

OP_NAMES = {Register: "register", Request: "request", Commit: "commit",
            RegisterBegin: "register_begin", RegisterEnd: "register_end", Send: "send",
            CommitBegin: "commit_begin", CommitEnd: "commit_end"}


class Dispatch(NamedTuple):
    """One request handed to user space: what the server reads from the ring."""

    ent: int                 # the entry's ordinal on its queue
    unique: int
    buf_id: int | None       # fuse_uring_ent_in_out.buf_id; None in legacy mode
    payload_addr: int        # payload pointer of the copy (0 when none)
    header_addr: int         # user address of the entry's header

    def to_json(self) -> dict:
        return self._asdict()


class Observation(NamedTuple):
    """What one step produced, with the TRACE-FORMAT observation keys.

    ``None`` marks a key that does not apply to the op.
    """

    ret: int | None = None
    ent: int | None = None
    pending: bool | None = None     # split ops: the command is parked mid-way
    via: str | None = None
    queued: bool | None = None
    dispatched: tuple[Dispatch, ...] = ()
    recycled: tuple[int, ...] = ()
    warnings: tuple[WarnCode | str, ...] = ()  # str: read from a trace, maybe another
                                               # implementation's own code
    events: tuple[Event, ...] = ()  # checker instrumentation, not part of the trace format

    def to_json(self) -> dict:
        out: dict = {}
        for key in ("ret", "ent", "via", "queued", "pending"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out["dispatched"] = [d.to_json() for d in self.dispatched]
        out["recycled"] = list(self.recycled)
        out["warnings"] = list(self.warnings)
        return out
