"""The property catalog: every id of PROPERTIES.md as data, with its predicate.

Engines loop over ``CATALOG``; none branches on a property id. A property has a
state predicate (``check_state``) or a step predicate (``check_step``), or, for
the graph properties, a ``goal``: the state predicate the explorer's graph
analysis must always be able to reach (kind ``invariant``: AG EF goal, the
deadlock analysis), resp. ``waits``/``followed`` for a ``liveness`` property
(every followed request stops waiting on every fair run, waits the kernel's
limits impose excepted). Engines read these fields, never the ids, so adding a
property touches only the predicates and this catalog. ``needs`` names the
witnesses without which a "holds" would be vacuous.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable

from bufring.specs import predicates as p


class Kind(Enum):
    INVARIANT = "invariant"
    CONTRACT = "contract"
    LIVENESS = "liveness"
    SOMETIMES = "sometimes"
    INFORMATIONAL = "informational"


class Severity(Enum):
    MEMORY_SAFETY = "kernel memory safety"
    DATA_INTEGRITY = "data integrity for the server"
    LIVENESS = "liveness / latency"
    CONTRACT_GAP = "contract gap"


@dataclass(frozen=True)
class Property:
    id: str                         # the same string as in PROPERTIES.md
    kind: Kind
    title: str
    meaning: str                    # PROPERTIES.md's one-line meaning
    source: str                     # where in the patch it comes from
    severity: Severity | None = None
    check_state: Callable | None = None
    check_step: Callable | None = None
    goal: Callable | None = None
    waits: Callable | None = None   # liveness: (cfg, state, unique) -> None (not waiting),
                                    # "limits" (a wait the kernel's limits impose) or
                                    # "queued" (any other wait); a run starves a request
                                    # only if it is "queued" again and again
    followed: Callable | None = None  # liveness: state -> the uniques it follows there
    needs: tuple[str, ...] = ()
    ops: tuple[str, ...] = ()       # the only ops whose steps check_step can fail on
                                    # (empty: any); lets engines skip the rest
    exercised: Callable | None = None  # step predicate: the situation the property speaks
                                       # of occurred (a scope where it never does is vacuous)
    origin: str = "catalog"         # "catalog", or FILE.py:NAME for a user's property (specs.user)

    def checks_op(self, op: str) -> bool:
        return not self.ops or op in self.ops

    @property
    def patch_lines(self) -> str:
        """Where in the patch to look: ``file: function()`` as the patch's hunks name them
        (the JSON key keeps its first name)."""
        return PATCH_WHERE.get(self.id, "")

    def to_json(self) -> dict:
        return {"id": self.id, "kind": self.kind.value, "title": self.title,
                "meaning": self.meaning, "source": self.source, "patch_lines": self.patch_lines,
                "severity": self.severity.value if self.severity else None,
                "needs": list(self.needs), "origin": self.origin}


WRAP = ("w.recycle", "w.counter_wrap")
REGISTER_OPS = ("register", "register_begin", "register_end")
COMMIT_OPS = ("commit", "commit_begin", "commit_end")

# Where in the patch to look: file and function as the patch's hunks name them.
PATCH_WHERE = {
    "ring.never_full_on_recycle": "fs/fuse/dev_uring.c: fuse_uring_recycle_buffer() (its ring-full WARN_ON_ONCE)",
    "ring.count_bounded": "fs/fuse/dev_uring.c: fuse_uring_select_buffer(), fuse_uring_recycle_buffer(); "
                          "fs/fuse/dev_uring_i.h: struct fuse_bufring",
    "ring.conservation": "fs/fuse/dev_uring.c: fuse_uring_select_buffer(), fuse_uring_recycle_buffer(), "
                         "setup_fuse_copy_state(), fuse_uring_next_req_update_buffer()",
    "ring.exclusive": "fs/fuse/dev_uring.c: fuse_uring_select_buffer(), fuse_uring_recycle_buffer()",
    "ring.buf_id_fits": "fs/fuse/dev_uring.c: fuse_uring_bufring_setup() (nr_bufs cap), fuse_uring_args_to_ring(); "
                        "include/uapi/linux/fuse.h: struct fuse_uring_ent_in_out",
    "ring.buf_in_region": "fs/fuse/dev_uring.c: fuse_uring_bufring_setup()",
    "reg.flags_consistent": "fs/fuse/dev_uring.c: queue_init_flags_consistent(), fuse_uring_create_queue(), "
                            "fuse_uring_register()",
    "reg.unknown_flags_rejected": "fs/fuse/dev_uring.c: init_flags_valid(), fuse_uring_register()",
    "reg.no_partial_effect": "fs/fuse/dev_uring.c: fuse_uring_create_queue(), fuse_uring_create_ring_ent(), "
                             "fuse_uring_register()",
    "reg.init_consistent": "fs/fuse/dev_uring.c: the comment above queue_init_flags_consistent()",
    "hdr.slot_bounds": "fs/fuse/dev_uring.c: fuse_uring_bufring_setup() (headers size), copy_header_to_ring(), "
                       "fuse_uring_create_ring_ent()",
    "hdr.slot_unique": "fs/fuse/dev_uring.c: fuse_uring_create_ring_ent() (ent->id from buf_index)",
    "flow.idle_holds_no_buffer": "fs/fuse/dev_uring.c: fuse_uring_ent_assign_req(), fuse_uring_recycle_buffer()",
    "flow.payload_has_buffer": "fs/fuse/dev_uring.c: fuse_uring_next_req_update_buffer(), fuse_uring_prep_buffer(), "
                               "setup_fuse_copy_state()",
    "flow.commit_matches": "fs/fuse/dev_uring.c: fuse_uring_ent_assign_req(), fuse_uring_commit_fetch()",
    "flow.work_conserving": "fs/fuse/dev_uring.c: fuse_uring_ent_assign_req(), fuse_uring_queue_fuse_req()",
    "flow.no_deadlock": "fs/fuse/dev_uring.c: fuse_uring_commit_fetch() (its comment on buffers becoming "
                        "available), fuse_uring_ent_assign_req()",
    "flow.eventually_dispatched": "fs/fuse/dev_uring.c: fuse_uring_commit_fetch() (its comment on buffers becoming "
                                  "available)",
    "flow.fifo": "fs/fuse/dev_uring.c: fuse_uring_queue_fuse_req(), fuse_uring_queue_bq_req()",
}

CATALOG: tuple[Property, ...] = (
    # --- buffer ring --------------------------------------------------------------------------------
    Property("ring.never_full_on_recycle", Kind.INVARIANT, "recycle never finds the ring full",
             "whenever a buffer is recycled, tail - head < nbufs before the write "
             "(the patch's WARN_ON_ONCE never fires)",
             "the ring-full WARN_ON_ONCE in fuse_uring_recycle_buffer()",
             Severity.DATA_INTEGRITY, check_step=p.never_full_on_recycle, needs=WRAP),
    Property("ring.count_bounded", Kind.INVARIANT, "tail - head never exceeds nbufs",
             "tail - head (unsigned, counter width) never exceeds nbufs",
             "struct fuse_bufring head/tail; fuse_uring_select_buffer(), fuse_uring_recycle_buffer()",
             Severity.DATA_INTEGRITY, check_state=p.count_bounded, needs=WRAP),
    Property("ring.conservation", Kind.INVARIANT, "every buffer is in exactly one place",
             "every buffer id 0..nbufs-1 is in exactly one place: in the free window [head, tail) "
             "of the ring, or held by exactly one entry",
             "select and recycle index the slot array by counter modulo nbufs",
             Severity.DATA_INTEGRITY, check_state=p.conservation, needs=WRAP),
    Property("ring.exclusive", Kind.INVARIANT, "no buffer in two places at once",
             "no buffer is held by two entries at once, and no held buffer is also in the free window",
             "fuse_uring_select_buffer() copies a slot into the entry",
             Severity.MEMORY_SAFETY, check_state=p.exclusive, needs=WRAP),
    Property("ring.buf_id_fits", Kind.INVARIANT, "buf_id fits u16 and names the selected buffer",
             "every buf_id written to fuse_uring_ent_in_out fits its u16 field and names the "
             "buffer actually selected",
             "fuse_uring_args_to_ring() writes the held buffer's id; setup caps nr_bufs at U16_MAX",
             Severity.DATA_INTEGRITY, check_step=p.buf_id_fits, exercised=p.ex_buffer_dispatched, needs=("w.buffer_reused",)),
    Property("ring.buf_in_region", Kind.CONTRACT, "buffers lie in the payload region",
             "every payload buffer lies inside the registered payload region, buffers are pairwise "
             "disjoint, each at least max_payload_sz long",
             "fuse_uring_bufring_setup(): populate loop, buf_size < max_payload_sz check",
             Severity.MEMORY_SAFETY, check_step=p.buf_in_region, ops=REGISTER_OPS, exercised=p.ex_bufring_created),
    # --- registration -------------------------------------------------------------------------------
    Property("reg.flags_consistent", Kind.INVARIANT, "one buffer-ring mode per queue",
             "every registered entry of a queue was registered with the queue's FUSE_URING_BUFRING "
             "setting, including when two REGISTERs race to create the queue",
             "queue_init_flags_consistent(); fuse_uring_create_queue() race branch",
             Severity.MEMORY_SAFETY, check_step=p.flags_consistent, ops=REGISTER_OPS, exercised=p.ex_register_joined, needs=("w.register_race",)),
    Property("reg.unknown_flags_rejected", Kind.CONTRACT, "unknown flags give -EINVAL",
             "flags outside the valid set give -EINVAL and create nothing",
             "init_flags_valid()",
             Severity.CONTRACT_GAP, check_step=p.unknown_flags_rejected, ops=REGISTER_OPS, exercised=p.ex_unknown_flags_sent),
    Property("reg.no_partial_effect", Kind.INVARIANT, "a rejected REGISTER leaves nothing",
             "a rejected REGISTER leaves no queue, entry or buffer ring behind",
             "fuse_uring_register(): create_queue then create_ring_ent",
             Severity.CONTRACT_GAP, check_step=p.no_partial_effect, ops=REGISTER_OPS, exercised=p.ex_register_rejected),
    Property("reg.init_consistent", Kind.INVARIANT, "REGISTERs of a queue agree on init",
             "every REGISTER for a queue agrees with the init fields (queue_depth, buf_size, regions) "
             "the queue was created with, as the patch's comment says all REGISTER commands of a "
             "queue should",
             "the comment above queue_init_flags_consistent(), which asks every REGISTER of a queue "
             "to carry the same init fields",
             Severity.CONTRACT_GAP, check_step=p.init_consistent, ops=REGISTER_OPS, exercised=p.ex_bufring_register_joined),
    Property("hdr.slot_bounds", Kind.CONTRACT, "header slots lie in the headers region",
             "every entry's header slot [id * sizeof(fuse_uring_req_header), +sizeof) lies inside "
             "the registered headers region",
             "copy_header_to_ring()/copy_header_from_ring(): headers + offset + 288 * ent->id",
             Severity.MEMORY_SAFETY, check_state=p.slot_bounds, exercised=p.ex_bufring_entries),
    Property("hdr.slot_unique", Kind.INVARIANT, "no two entries share a header slot",
             "no two live entries of a queue share a header slot",
             "fuse_uring_create_ring_ent(): ent->id = sqe->buf_index (documented as the entry's fixed, "
             "unique id)",
             Severity.DATA_INTEGRITY, check_state=p.slot_unique, exercised=p.ex_two_bufring_entries),
    # --- request flow -------------------------------------------------------------------------------
    Property("flow.idle_holds_no_buffer", Kind.INVARIANT, "an idle entry holds no buffer",
             "an entry waiting for work holds no payload buffer",
             "fuse_uring_ent_assign_req(): recycle when no request is assigned",
             Severity.DATA_INTEGRITY, check_state=p.idle_holds_no_buffer, needs=("w.recycle",)),
    Property("flow.payload_has_buffer", Kind.INVARIANT, "payload requests come with a buffer",
             "a request with payload is only handed to user space together with a payload buffer "
             "(bufring mode)",
             "fuse_uring_prep_buffer(), fuse_uring_next_req_update_buffer(), setup_fuse_copy_state()",
             Severity.MEMORY_SAFETY, check_step=p.payload_has_buffer, exercised=p.ex_payload_dispatched, needs=("w.buffer_reused",)),
    Property("flow.commit_matches", Kind.INVARIANT, "a commit answers an entry in user space",
             "a commit is accepted only for a request held by an entry in user space, and returns "
             "that request's buffer",
             "fuse_uring_commit_fetch(), fuse_uring_get_next_fuse_req()",
             Severity.DATA_INTEGRITY, check_step=p.commit_matches, ops=COMMIT_OPS, exercised=p.ex_commit_accepted,
             needs=("w.recycle", "w.buffer_reused")),
    Property("flow.work_conserving", Kind.INVARIANT, "no idle entry beside a request it could take",
             "never an idle entry and, at the same time, a queued request it could take now (one "
             "without payload, or one with payload while a buffer is free)",
             "fuse_uring_ent_assign_req() on -ENOBUFS; fuse_uring_queue_fuse_req()",
             Severity.LIVENESS, check_state=p.work_conserving, needs=("w.select_enobufs",)),
    Property("flow.no_deadlock", Kind.INVARIANT, "queued requests can always be dispatched",
             "no reachable state with queued requests from which no sequence of server commits and "
             "arrivals can ever dispatch them",
             "commit comment: 'the next request will be serviced when a buffer becomes available'",
             Severity.LIVENESS, goal=p.nothing_queued, needs=("w.select_enobufs", "w.ring_empty")),
    Property("flow.eventually_dispatched", Kind.LIVENESS, "every queued request is dispatched",
             "every queued request is eventually dispatched, under the stated fairness of the server",
             "fuse_uring_commit_fetch() comment on buffers becoming available",
             Severity.LIVENESS, goal=p.nothing_queued, waits=p.request_wait,
             followed=p.queued_uniques, needs=("w.select_enobufs",)),
    Property("flow.fifo", Kind.INFORMATIONAL, "requests leave a queue in arrival order",
             "requests leave a queue in arrival order, as before the patch; report where and how "
             "the patch changes order",
             "fuse_uring_queue_fuse_req() -ENOBUFS fall-through; fuse_uring_ent_assign_req()",
             None, check_step=p.fifo),
    # --- non-vacuity witnesses ------------------------------------------------------------------------
    Property("w.recycle", Kind.SOMETIMES, "a buffer is recycled", "a buffer is recycled",
             "fuse_uring_recycle_buffer()", check_step=p.w_recycle),
    Property("w.select_enobufs", Kind.SOMETIMES, "a select finds the ring empty",
             "a select finds the ring empty (-ENOBUFS)", "fuse_uring_select_buffer()",
             check_step=p.w_select_enobufs),
    Property("w.counter_wrap", Kind.SOMETIMES, "head or tail wraps", "head or tail wraps",
             "unsigned int head/tail", check_step=p.w_counter_wrap),
    Property("w.register_race", Kind.SOMETIMES, "two REGISTERs race to create one queue",
             "two REGISTERs race to create one queue", "fuse_uring_create_queue() race branch",
             check_step=p.w_register_race, ops=REGISTER_OPS),
    Property("w.buffer_reused", Kind.SOMETIMES, "an entry keeps its buffer for its next request",
             "an entry keeps its buffer for a next payload request",
             "fuse_uring_next_req_update_buffer()", check_step=p.w_buffer_reused),
    Property("w.ring_empty", Kind.SOMETIMES, "all buffers are out", "all buffers out",
             "tail == head", check_state=p.w_ring_empty),
)

BY_ID: dict[str, Property] = {prop.id: prop for prop in CATALOG}


def get(prop_id: str) -> Property:
    """The property with this id; an unknown id lists the ids that exist."""
    try:
        return BY_ID[prop_id]
    except KeyError:
        raise KeyError(f"unknown property {prop_id!r}; known: {', '.join(BY_ID)}") from None


def witnesses() -> tuple[Property, ...]:
    return tuple(prop for prop in CATALOG if prop.kind is Kind.SOMETIMES)
