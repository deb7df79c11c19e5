"""REGISTER checks, written once, in the kernel's order (SEMANTICS §3.2 to §3.4).

Each check is a :class:`Rule`: a name, the errno it returns, where it comes from,
and a ``rejects(c, p)`` predicate over the C integer operations ``c`` and the
REGISTER's values ``p`` (:class:`RegisterValues`, Python ints or z3 terms alike).
The concrete model runs a rule list in order and stops at the first rejection
(:func:`first_rejection`); the SMT engine folds the same list into one term
(:func:`symbolic_ret`, :func:`symbolic_accepts`). Variants replace whole lists.

Derived values (import_iovec's capped lengths, ``nr_bufs``) are functions of
``c`` and ``p`` too, so the SMT engine and the layout calculator compute them the
way the kernel does.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from bufring.model.cint import U16, U32, U64
from bufring.model.errno import Errno
from bufring.model.uapi import (FUSE_URING_BUFRING, MAX_RW_COUNT, NBUFS_MAX,
                                REQ_HEADER_SZ, TASK_SIZE_MAX, VALID_INIT_FLAGS)


@dataclass(frozen=True)
class RegisterValues:
    """What one REGISTER SQE carries, plus the ring values its checks read.

    Fields are Python ints (concrete) or z3 terms (symbolic), each of its C width:
    ``qid``, ``buf_index`` and ``queue_depth`` u16, ``buf_size`` u32, the rest u64.
    ``ring_queue_depth`` is the existing queue's ``bufring->queue_depth`` (the
    buf_index check of a later REGISTER reads it); for a REGISTER that creates
    the queue it equals ``queue_depth``.
    """

    qid: Any
    flags: Any
    buf_index: Any
    queue_depth: Any
    buf_size: Any
    headers_base: Any
    headers_len: Any
    payload_base: Any
    payload_len: Any
    nr_queues: Any
    max_payload_sz: Any
    ring_queue_depth: Any = None

    def ring_depth(self):
        return self.queue_depth if self.ring_queue_depth is None else self.ring_queue_depth


@dataclass(frozen=True)
class Rule:
    """One check of the REGISTER path: ``rejects(c, p)`` true means ``-errno``."""

    name: str                 # stable id, e.g. "bufring.headers_too_small"
    errno: Errno
    kernel: str               # the kernel function that makes the check
    section: str              # where SEMANTICS.md describes it
    text: str                 # one line for people
    rejects: Callable[[Any, RegisterValues], Any]


# --- import_iovec (lib/iov_iter.c) as SEMANTICS §3.3c and TRACE-FORMAT describe ----

def out_of_user_range(c, base, length):
    """``access_ok()`` fails: ``base + len > TASK_SIZE_MAX`` in exact arithmetic."""
    return c.or_(c.add_overflows(base, length, U64),
                 c.ugt(c.add(base, length, U64), c.const(TASK_SIZE_MAX, U64)))


def headers_size(c, p: RegisterValues):
    """iov[0].iov_len after import_iovec caps the running total at MAX_RW_COUNT."""
    return c.umin(p.headers_len, c.const(MAX_RW_COUNT, U64), U64)


def payload_size(c, p: RegisterValues):
    """iov[1].iov_len after the cap: at most what MAX_RW_COUNT leaves after iov[0]."""
    room = c.sub(c.const(MAX_RW_COUNT, U64), headers_size(c, p), U64)
    return c.umin(p.payload_len, room, U64)


def nr_bufs(c, p: RegisterValues):
    """``payload_size / buf_size`` narrowed to unsigned int (§8.2 item 4).

    Only meaningful once ``buf_size != 0`` passed; the quotient is below 2**32
    because payload_size <= MAX_RW_COUNT.
    """
    return c.trunc(c.udiv(payload_size(c, p), c.zext(p.buf_size, U32, U64), U64), U32)


def iovec_rules(section: str) -> tuple[Rule, ...]:
    """``fuse_uring_get_iovec_from_sqe()`` -> ``import_iovec()``: both lengths are
    checked for sign first, then each range (SEMANTICS §3.3 step 3c); ``section``
    is where the calling path is described."""
    return (
        Rule("iovec.headers_len_negative", Errno.EINVAL, "import_iovec", section,
             "iov[0].iov_len is negative as ssize_t",
             lambda c, p: c.is_negative_signed(p.headers_len, U64)),
        Rule("iovec.payload_len_negative", Errno.EINVAL, "import_iovec", section,
             "iov[1].iov_len is negative as ssize_t",
             lambda c, p: c.is_negative_signed(p.payload_len, U64)),
        Rule("iovec.headers_not_user", Errno.EFAULT, "import_iovec", section,
             "iov[0] ends above the user address limit (access_ok)",
             lambda c, p: out_of_user_range(c, p.headers_base, p.headers_len)),
        Rule("iovec.payload_not_user", Errno.EFAULT, "import_iovec", section,
             "iov[1] ends above the user address limit (access_ok)",
             lambda c, p: out_of_user_range(c, p.payload_base, p.payload_len)),
    )

GATE_RULES: tuple[Rule, ...] = (
    Rule("register.qid_range", Errno.EINVAL, "fuse_uring_register", "§3.2 step 3",
         "qid >= ring->nr_queues",
         lambda c, p: c.uge(c.zext(p.qid, U16, U32), p.nr_queues)),
    Rule("register.unknown_flags", Errno.EINVAL, "init_flags_valid", "§3.2 step 4",
         "flags has a bit other than FUSE_URING_BUFRING",
         lambda c, p: c.ne(c.band(p.flags, c.bnot(c.const(VALID_INIT_FLAGS, U64), U64), U64),
                           c.const(0, U64))),
)

BUFRING_SETUP_RULES: tuple[Rule, ...] = (
    Rule("bufring.zero_size", Errno.EINVAL, "fuse_uring_bufring_setup", "§3.3 step 3b",
         "init.queue_depth == 0 or init.buf_size == 0",
         lambda c, p: c.or_(c.eq(p.queue_depth, c.const(0, U16)),
                            c.eq(p.buf_size, c.const(0, U32)))),
    *iovec_rules("§3.3 step 3c"),
    Rule("bufring.headers_too_small", Errno.EINVAL, "fuse_uring_bufring_setup", "§3.3 step 3d",
         "headers_size < queue_depth * sizeof(struct fuse_uring_req_header)",
         lambda c, p: c.ult(headers_size(c, p),
                            c.mul(c.zext(p.queue_depth, U16, U64), REQ_HEADER_SZ, U64))),
    Rule("bufring.buf_size_too_small", Errno.EINVAL, "fuse_uring_bufring_setup", "§3.3 step 3e",
         "buf_size < ring->max_payload_sz",
         lambda c, p: c.ult(c.zext(p.buf_size, U32, U64), p.max_payload_sz)),
    Rule("bufring.nr_bufs_range", Errno.EINVAL, "fuse_uring_bufring_setup", "§3.3 step 3f",
         "nr_bufs = payload_size / buf_size is 0 or above U16_MAX",
         lambda c, p: c.or_(c.eq(nr_bufs(c, p), c.const(0, U32)),
                            c.ugt(nr_bufs(c, p), c.const(NBUFS_MAX, U32)))),
)

ENT_BUFRING_RULES: tuple[Rule, ...] = (
    Rule("ent.buf_index_range", Errno.EINVAL, "fuse_uring_create_ring_ent", "§3.4 step 2",
         "sqe->buf_index >= bufring->queue_depth",
         lambda c, p: c.uge(c.zext(p.buf_index, U16, U32), c.zext(p.ring_depth(), U16, U32))),
)

ENT_LEGACY_RULES: tuple[Rule, ...] = (
    *iovec_rules("§3.4 step 3"),
    Rule("ent.legacy_headers_too_small", Errno.EINVAL, "fuse_uring_create_ring_ent", "§3.4 step 3",
         "iov[0].iov_len < sizeof(struct fuse_uring_req_header)",
         lambda c, p: c.ult(headers_size(c, p), c.const(REQ_HEADER_SZ, U64))),
    Rule("ent.legacy_payload_too_small", Errno.EINVAL, "fuse_uring_create_ring_ent", "§3.4 step 3",
         "iov[1].iov_len < ring->max_payload_sz",
         lambda c, p: c.ult(payload_size(c, p), p.max_payload_sz)),
)


def wants_bufring(c, flags):
    """``init_flags & FUSE_URING_BUFRING`` as a bool (§8.2 item 16)."""
    return c.ne(c.band(flags, c.const(FUSE_URING_BUFRING, U64), U64), c.const(0, U64))


def first_rejection(c, rules: tuple[Rule, ...], p: RegisterValues) -> Rule | None:
    """The first rule that rejects ``p``, in list order, as the kernel checks them."""
    for rule in rules:
        if rule.rejects(c, p):
            return rule
    return None


def symbolic_accepts(c, rules: tuple[Rule, ...], p: RegisterValues):
    """A term that is true iff no rule of the list rejects ``p``."""
    return c.and_(*[c.not_(rule.rejects(c, p)) for rule in rules])


def symbolic_ret(c, rules: tuple[Rule, ...], p: RegisterValues, bits: int = 32):
    """The list's return value as a term: ``-errno`` of the first rejecting rule, else 0.

    Built from the last rule backwards, so a later rule's predicate is only ever
    meaningful under the earlier ones' acceptance (``nr_bufs`` divides by a
    ``buf_size`` that ``bufring.zero_size`` already required non-zero).
    """
    ret = c.const(0, bits)
    for rule in reversed(rules):
        ret = c.ite(rule.rejects(c, p), c.const(-int(rule.errno), bits), ret)
    return ret
