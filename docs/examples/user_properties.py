"""Two properties of a reviewer's own, written as the catalog writes its own (docs/properties.md).

Each is a ``Property`` built from the catalog's predicate helpers
(``bufring.specs.predicates``) and the model's state (``bufring.model.state``):

    bufring explore --property docs/examples/user_properties.py:WAITING_AT_MOST_ONE --scope enobufs
    bufring explore --property docs/examples/user_properties.py:LEGACY_HOLDS_NO_BUFFER --scope legacy
    bufring fuzz --property docs/examples/user_properties.py:WAITING_AT_MOST_ONE
    bufring check --property docs/examples/user_properties.py:LEGACY_HOLDS_NO_BUFFER

``WAITING_AT_MOST_ONE`` is violated on v2: with one buffer for two entries a second
payload request waits while the first holds the buffer. ``LEGACY_HOLDS_NO_BUFFER``
holds: a legacy (iovec) queue has no buffer ring, so its entries never hold one.
"""
from bufring.model.state import EntState
from bufring.specs import predicates as p
from bufring.specs.catalog import Kind, Property, Severity

MAX_WAITING = 1
"""The most requests one queue may keep waiting (fuse_req_queue and its background list)."""


def waiting_at_most(cfg, state) -> bool:
    """State predicate ``(cfg, state)``: no queue has more than MAX_WAITING requests waiting."""
    return all(len(q.req_queue) + len(q.bg_queue) <= MAX_WAITING for _, q in state.queues)


def request_waited(cfg, pre, action, post, obs) -> bool:
    """Step predicate ``(cfg, pre, action, post, obs)``, the premise: a request was queued
    (the ring took it but no entry could). Where no request ever waits, the bound is
    never put to the test and a "holds" would be vacuous."""
    return bool(obs.queued)


WAITING_AT_MOST_ONE = Property(
    "user.waiting_at_most_one", Kind.INVARIANT, "at most one request waits per queue",
    f"no queue keeps more than {MAX_WAITING} request(s) waiting at once",
    "fuse_uring_queue_fuse_req(): a request no entry can take waits in fuse_req_queue",
    Severity.LIVENESS, check_state=waiting_at_most, exercised=request_waited,
    needs=("w.select_enobufs",))


def legacy_holds_no_buffer(cfg, state) -> bool:
    """No entry of a queue without a buffer ring holds a ring buffer."""
    return all(e.buf is None for _, q in state.queues if q.bufring is None for e in q.ents
               if e.state != EntState.RELEASED)


def legacy_dispatched(cfg, pre, action, post, obs) -> bool:
    """The premise: a request went to an entry of a legacy queue."""
    return any(q.bufring is None for q, _, _ in p.dispatched_with_ent(cfg, action, post, obs))


LEGACY_HOLDS_NO_BUFFER = Property(
    "user.legacy_holds_no_buffer", Kind.INVARIANT, "legacy entries hold no ring buffer",
    "no entry holds a payload buffer while its queue has no buffer ring",
    "fuse_uring_prep_buffer() and fuse_uring_recycle_buffer() act only when the queue has a bufring",
    Severity.MEMORY_SAFETY, check_state=legacy_holds_no_buffer, exercised=legacy_dispatched)
