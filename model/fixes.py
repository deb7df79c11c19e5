"""Fix variants: the smallest change a kernel developer would propose for each
property the patch as posted (``v2``) violates, each named after what it changes.

Each is ``V2`` with one or two hooks replaced (``model.variant``); ``all-fixes``
applies every one of them. What each costs a FUSE server (a new REGISTER
constraint, a changed order) is in its ``doc`` and in docs/variants.md ("The built-in fix variants").
"""
from __future__ import annotations

from bufring.model.actions import Register
from bufring.model.cint import CONCRETE, U32, U64
from bufring.model.errno import Errno
from bufring.model import kernel
from bufring.model.kernel import QueueW, Step
from bufring.model.state import Req
from bufring.model.ring import free_count
from bufring.model.rules import BUFRING_SETUP_RULES, Rule, nr_bufs
from bufring.model.variant import V2, Variant, same_mode

# --- rules the fixes add to fuse_uring_bufring_setup() ---------------------------------------

PAYLOAD_NULL = Rule(
    "fix.payload_null", Errno.EINVAL, "fuse_uring_bufring_setup (fix)", "§10",
    "iov[1].iov_base == NULL: buffer 0 would have address 0, which the patch reads as 'no buffer'",
    lambda c, p: c.eq(p.payload_base, c.const(0, U64)))

NBUFS_NOT_POW2 = Rule(
    "fix.nbufs_not_pow2", Errno.EINVAL, "fuse_uring_bufring_setup (fix)", "§8.2 items 11-12",
    "nr_bufs is not a power of two: counter % nbufs would jump when head/tail wrap at 2^32",
    lambda c, p: c.not_(c.or_(*[c.eq(nr_bufs(c, p), c.const(1 << k, U32)) for k in range(16)])))


def _insert_after(rules: tuple, name: str, rule: Rule) -> tuple:
    """``rules`` with ``rule`` right after the rule called ``name``."""
    at = [r.name for r in rules].index(name) + 1
    return rules[:at] + (rule,) + rules[at:]


# --- hooks -----------------------------------------------------------------------------------

def same_mode_and_free_id(queue, register: Register) -> bool:
    """A REGISTER joins a bufring queue only with a ``buf_index`` no live entry uses.

    (In the kernel the test belongs under ``queue->lock`` in
    ``fuse_uring_do_register()``, so that two REGISTERs cannot both pass it.)"""
    if not same_mode(queue, register):
        return False
    return queue.bufring is None or all(e.id != register.buf_index for e in queue.ents)


def same_mode_and_init(queue, register: Register) -> bool:
    """A REGISTER joins a bufring queue only with the queue's init fields and regions."""
    if not same_mode(queue, register):
        return False
    r = queue.bufring
    return r is None or (register.queue_depth == r.queue_depth and register.buf_size == r.buf_size
                         and register.headers == (r.headers, r.headers_len)
                         and register.payload == (r.payload, r.payload_len))


def req_end_then_flush_bg(k: Step, q: QueueW, i: int, req: Req) -> None:
    """``fuse_uring_req_end()`` as in v2, then, for a background request, this
    queue's bg list flushed again (under ``queue->lock`` once more).

    v2 flushes the bg list inside ``fuse_uring_req_end()`` while
    ``fc->active_background`` still counts the ending request;
    ``fuse_request_end()`` drops the count afterwards and flushes only
    ``fc->bg_queue``, which ring requests never enter. A request the old count held
    back then waits, beside an idle entry, for the next background arrival or end
    (scope ``background-limit``). The second flush sees the dropped count."""
    kernel.fuse_uring_req_end(k, q, i, req)
    if req.background:
        k.fn.fuse_uring_flush_bg(k, q)


def wake_idle_entries(k: Step, q: QueueW) -> None:
    """At the end of each locked section: while an entry is AVAILABLE, give the head
    entry the first queued request it can take now (one without payload, or one
    with payload while a buffer is free), as arrival would have."""
    while q.avail:
        i = q.avail[0]
        req = next((r for r in q.req_queue
                    if q.bufring is None or not r.payload
                    or free_count(CONCRETE, q.bufring.head, q.bufring.tail, k.bits) > 0), None)
        if req is None:
            return
        if k.fn.fuse_uring_prep_buffer(k, q, i, req) != 0:
            return
        k.fn.fuse_uring_add_req_to_ring_ent(k, q, i, req)
        k.fn.fuse_uring_dispatch_ent(k, q, i)


def _both(*checks):
    def joined(queue, register):
        return all(check(queue, register) for check in checks)
    return joined


REJECT_NULL_PAYLOAD = V2.derive(
    "reject-null-payload",
    "REGISTER rejects a payload pool at address 0 (-EINVAL). Cost: a new REGISTER "
    "constraint; no server that works today used address 0 on purpose",
    bufring_setup_rules=_insert_after(BUFRING_SETUP_RULES, "iovec.payload_not_user", PAYLOAD_NULL))

NBUFS_POW2 = V2.derive(
    "nbufs-pow2",
    "REGISTER rejects a buffer count that is not a power of two (-EINVAL), as io_uring's "
    "provided-buffer rings do. Cost: payload_size / buf_size must be a power of two",
    bufring_setup_rules=_insert_after(BUFRING_SETUP_RULES, "bufring.nr_bufs_range", NBUFS_NOT_POW2))

UNIQUE_BUF_INDEX = V2.derive(
    "unique-buf-index",
    "REGISTER rejects a buf_index that a live entry of the queue already uses (-EINVAL). "
    "Cost: none for a correct server",
    queue_init_consistent=same_mode_and_free_id)

CHECK_INIT_FIELDS = V2.derive(
    "check-init-fields",
    "a later REGISTER on a bufring queue must repeat the queue's init fields and regions "
    "(-EINVAL), as the patch's comment says. Cost: servers must send them on every REGISTER",
    queue_init_consistent=same_mode_and_init)

ENT_BEFORE_PUBLISH = V2.derive(
    "ent-before-publish",
    "the new entry is checked before the queue it creates is published, so a rejected "
    "REGISTER leaves no queue. Cost: none",
    ent_before_publish=True)

WAKE_IDLE = V2.derive(
    "wake-idle-entries",
    "an idle entry takes the first queued request it can serve at the end of every locked "
    "section (after arrival, commit, REGISTER). Cost: requests may leave the queue out of "
    "arrival order (a payload request waiting for a buffer is passed)",
    wake_idle=wake_idle_entries)

FLUSH_BG_AFTER_END = V2.derive(
    "flush-bg-after-end",
    "a background request's end flushes its queue's bg list again once fuse_request_end() "
    "has dropped fc->active_background, so no request waits while the limits let it go. "
    "Cost: one more lock round trip per background request end",
    fuse_uring_req_end=req_end_then_flush_bg)

ALL_FIXES: Variant = V2.derive(
    "all-fixes",
    "every fix above together",
    bufring_setup_rules=_insert_after(REJECT_NULL_PAYLOAD.bufring_setup_rules,
                                      "bufring.nr_bufs_range", NBUFS_NOT_POW2),
    queue_init_consistent=_both(UNIQUE_BUF_INDEX.queue_init_consistent,
                                CHECK_INIT_FIELDS.queue_init_consistent),
    ent_before_publish=ENT_BEFORE_PUBLISH.ent_before_publish,
    wake_idle=WAKE_IDLE.wake_idle,
    fuse_uring_req_end=req_end_then_flush_bg)

FIXES: tuple[Variant, ...] = (REJECT_NULL_PAYLOAD, NBUFS_POW2, UNIQUE_BUF_INDEX, CHECK_INIT_FIELDS,
                              ENT_BEFORE_PUBLISH, WAKE_IDLE, FLUSH_BG_AFTER_END, ALL_FIXES)
