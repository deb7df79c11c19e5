"""Seeded bugs for ``bufring prove``: each variant breaks one thing, and ``prove``
must refute the property that thing protects, with a trace that replays.

Built with ``V2.derive``; usable from the command line too, e.g.
``bufring prove --variant tests/seeded/smt_mutants.py:NO_FLAGS_CHECK``. Ring
mutants change select or recycle through ``model.ring.ring_hooks``,
so that ``prove`` reads them symbolically and the model runs them concretely.
``EXPECTED`` is the golden verdict of each (tests/seeded/test_smt_seeded.py).
"""
from __future__ import annotations

import dataclasses

from bufring.model import rules
from bufring.model.errno import Errno
from bufring.model.ring import (RingLogic, is_empty, next_counter, recycle_warns, ring_hooks,
                                slot_index, v2_recycle, v2_select)
from bufring.model.variant import V2


def _without(rule_list: tuple, name: str) -> tuple:
    return tuple(r for r in rule_list if r.name != name)


def _rule(rule_list: tuple, name: str):
    return next(r for r in rule_list if r.name == name)


def _after(rule_list: tuple, name: str, rule) -> tuple:
    at = [r.name for r in rule_list].index(name) + 1
    return rule_list[:at] + (rule,) + rule_list[at:]


FLAGS = _rule(rules.GATE_RULES, "register.unknown_flags")

# --- REGISTER rules ------------------------------------------------------------------------------

NO_FLAGS_CHECK = V2.derive(
    "smt-no-flags-check", "init_flags_valid() dropped: unknown flag bits are ignored",
    gate_rules=_without(rules.GATE_RULES, "register.unknown_flags"))

FLAGS_CHECK_LATE = V2.derive(
    "smt-flags-check-late", "the flags check moved after import_iovec (errno order): "
    "unknown flags with a bad iovec give -EFAULT, and a legacy REGISTER checks them last",
    gate_rules=_without(rules.GATE_RULES, "register.unknown_flags"),
    bufring_setup_rules=_after(rules.BUFRING_SETUP_RULES, "iovec.payload_not_user", FLAGS),
    ent_legacy_rules=rules.ENT_LEGACY_RULES + (FLAGS,))

FLAGS_WRONG_ERRNO = V2.derive(
    "smt-flags-wrong-errno", "unknown flags give -EOPNOTSUPP instead of -EINVAL",
    gate_rules=tuple(dataclasses.replace(r, errno=Errno.EOPNOTSUPP) if r is FLAGS else r
                     for r in rules.GATE_RULES))

NO_HEADERS_CHECK = V2.derive(
    "smt-no-headers-check", "the headers_size >= queue_depth * 288 check dropped",
    bufring_setup_rules=_without(rules.BUFRING_SETUP_RULES, "bufring.headers_too_small"))

NO_BUF_INDEX_CHECK = V2.derive(
    "smt-no-buf-index-check", "fuse_uring_create_ring_ent() no longer checks buf_index < queue_depth",
    ent_bufring_rules=())

NO_NBUFS_LIMIT = V2.derive(
    "smt-no-nbufs-limit", "the nr_bufs == 0 || nr_bufs > U16_MAX check dropped",
    bufring_setup_rules=_without(rules.BUFRING_SETUP_RULES, "bufring.nr_bufs_range"))

NO_BUF_SIZE_CHECK = V2.derive(
    "smt-no-buf-size-check", "the buf_size >= max_payload_sz check dropped",
    bufring_setup_rules=_without(rules.BUFRING_SETUP_RULES, "bufring.buf_size_too_small"))

# --- ring select / recycle -------------------------------------------------------------------------


def _select_reads_tail(c, a, r, bits):
    """select with the index swapped: slot ``tail % nbufs`` instead of ``head % nbufs``."""
    buf = a.get(r.slots, slot_index(c, r.tail, r.nbufs, bits))
    return is_empty(c, r.head, r.tail), buf, r._replace(head=next_counter(c, r.head, bits))


def _recycle_writes_head(c, a, r, buf, bits):
    """recycle with the index swapped: writes slot ``head % nbufs``."""
    warned = recycle_warns(c, r.head, r.tail, r.nbufs, bits)
    slots = a.put(r.slots, slot_index(c, r.head, r.nbufs, bits), buf)
    return warned, r._replace(tail=next_counter(c, r.tail, bits), slots=slots)


def _recycle_advances_twice(c, a, r, buf, bits):
    """recycle that advances ``tail`` by two."""
    warned, r2 = v2_recycle(c, a, r, buf, bits)
    return warned, r2._replace(tail=next_counter(c, r2.tail, bits))


SELECT_READS_TAIL = V2.derive(
    "smt-select-reads-tail", "fuse_uring_select_buffer() reads bufs[tail % nbufs]",
    **ring_hooks(RingLogic("select-reads-tail", "select reads slot tail % nbufs",
                           _select_reads_tail, v2_recycle)))

RECYCLE_WRITES_HEAD = V2.derive(
    "smt-recycle-writes-head", "fuse_uring_recycle_buffer() writes bufs[head % nbufs]",
    **ring_hooks(RingLogic("recycle-writes-head", "recycle writes slot head % nbufs",
                           v2_select, _recycle_writes_head)))

RECYCLE_ADVANCES_TWICE = V2.derive(
    "smt-recycle-advances-twice", "fuse_uring_recycle_buffer() does tail += 2",
    **ring_hooks(RingLogic("recycle-advances-twice", "recycle advances tail by two",
                           v2_select, _recycle_advances_twice)))

# --- hooks prove cannot read -------------------------------------------------------------------------


def _opaque_select(bufring, bits):
    """v2's select behind a plain function: correct, but prove cannot read it."""
    from bufring.model.ring import select
    return select(bufring, bits)


OPAQUE_SELECT = V2.derive("smt-opaque-select", "v2's select wrapped in an untagged function",
                          ring_select=_opaque_select)

EXPECTED = {
    NO_FLAGS_CHECK: ("reg.unknown_flags_rejected", "violated"),
    FLAGS_CHECK_LATE: ("reg.unknown_flags_rejected", "violated"),
    FLAGS_WRONG_ERRNO: ("reg.unknown_flags_rejected", "violated"),
    NO_HEADERS_CHECK: ("hdr.slot_bounds", "violated"),
    NO_BUF_INDEX_CHECK: ("hdr.slot_bounds", "violated"),
    NO_NBUFS_LIMIT: ("ring.buf_id_fits", "violated"),
    NO_BUF_SIZE_CHECK: ("ring.buf_in_region", "violated"),
    SELECT_READS_TAIL: ("ring.conservation", "violated"),
    RECYCLE_WRITES_HEAD: ("ring.conservation", "violated"),
    RECYCLE_ADVANCES_TWICE: ("ring.count_bounded", "violated"),
    OPAQUE_SELECT: ("ring.count_bounded", "unknown"),
}
"""Golden verdicts: variant -> (property, verdict of ``prove``)."""
