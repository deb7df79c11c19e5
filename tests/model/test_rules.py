"""The REGISTER rule lists (model/rules.py): kernel order, and the concrete and the
two symbolic interpretations of each whole list giving the same errno.

SEMANTICS §3.2 (gate), §3.3 (bufring setup, import_iovec), §3.4 (entry checks).
The symbolic terms are built once on variables and evaluated per example by
substituting constants, so the test checks the very terms the SMT engine uses.
"""
from __future__ import annotations

import functools

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from bufring.model.cint import CONCRETE, U16, U32, U64, BitVecOps, IntOps, mask
from bufring.model.errno import Errno
from bufring.model.rules import (BUFRING_SETUP_RULES, ENT_BUFRING_RULES, ENT_LEGACY_RULES,
                                 GATE_RULES, RegisterValues, first_rejection,
                                 headers_size, nr_bufs, payload_size, symbolic_accepts,
                                 symbolic_ret, wants_bufring)
from bufring.model.uapi import MAX_RW_COUNT, TASK_SIZE_MAX

LISTS = {"gate": GATE_RULES, "bufring_setup": BUFRING_SETUP_RULES,
         "ent_bufring": ENT_BUFRING_RULES, "ent_legacy": ENT_LEGACY_RULES}
WIDTH = {"qid": U16, "flags": U64, "buf_index": U16, "queue_depth": U16, "buf_size": U32,
         "headers_base": U64, "headers_len": U64, "payload_base": U64, "payload_len": U64,
         "nr_queues": U32, "max_payload_sz": U64, "ring_queue_depth": U16}
SIGN = 1 << 63


def values(**over) -> RegisterValues:
    """A REGISTER that every rule accepts (bufring, 4 slots, 2 buffers)."""
    fields = dict(qid=0, flags=1, buf_index=0, queue_depth=4, buf_size=131072,
                  headers_base=0x10000, headers_len=4 * 288, payload_base=0x1000000,
                  payload_len=2 * 131072, nr_queues=1, max_payload_sz=131072,
                  ring_queue_depth=None)
    fields.update(over)
    return RegisterValues(**fields)


def first_name(rules, **over):
    rule = first_rejection(CONCRETE, rules, values(**over))
    return None if rule is None else rule.name


# --- the lists, in the kernel's order -------------------------------------------------------

def test_gate_rules_are_qid_then_flags():
    assert [r.name for r in GATE_RULES] == ["register.qid_range", "register.unknown_flags"]
    assert [r.errno for r in GATE_RULES] == [Errno.EINVAL, Errno.EINVAL]


def test_bufring_setup_rules_follow_fuse_uring_bufring_setup_order():
    assert [(r.name, r.errno) for r in BUFRING_SETUP_RULES] == [
        ("bufring.zero_size", Errno.EINVAL),
        ("iovec.headers_len_negative", Errno.EINVAL),
        ("iovec.payload_len_negative", Errno.EINVAL),
        ("iovec.headers_not_user", Errno.EFAULT),
        ("iovec.payload_not_user", Errno.EFAULT),
        ("bufring.headers_too_small", Errno.EINVAL),
        ("bufring.buf_size_too_small", Errno.EINVAL),
        ("bufring.nr_bufs_range", Errno.EINVAL),
    ]


def test_entry_rules_are_buf_index_for_bufring_and_iovecs_then_sizes_for_legacy():
    assert [r.name for r in ENT_BUFRING_RULES] == ["ent.buf_index_range"]
    assert [(r.name, r.errno) for r in ENT_LEGACY_RULES] == [
        ("iovec.headers_len_negative", Errno.EINVAL),
        ("iovec.payload_len_negative", Errno.EINVAL),
        ("iovec.headers_not_user", Errno.EFAULT),
        ("iovec.payload_not_user", Errno.EFAULT),
        ("ent.legacy_headers_too_small", Errno.EINVAL),
        ("ent.legacy_payload_too_small", Errno.EINVAL),
    ]


def test_zero_queue_depth_is_found_before_a_bad_iovec():
    assert first_name(BUFRING_SETUP_RULES, queue_depth=0, headers_len=SIGN) == "bufring.zero_size"


def test_negative_payload_length_is_found_before_headers_outside_user_range():
    # import_iovec checks every length while copying the array, then access_ok per element
    assert first_name(BUFRING_SETUP_RULES, headers_base=TASK_SIZE_MAX,
                      payload_len=SIGN) == "iovec.payload_len_negative"


def test_headers_outside_user_range_is_found_before_payload_outside():
    assert first_name(BUFRING_SETUP_RULES, headers_base=TASK_SIZE_MAX,
                      payload_base=TASK_SIZE_MAX) == "iovec.headers_not_user"


def test_range_ending_exactly_at_task_size_max_is_user_memory():
    assert first_name(BUFRING_SETUP_RULES, payload_base=TASK_SIZE_MAX - 2 * 131072) is None
    assert first_name(BUFRING_SETUP_RULES, payload_base=TASK_SIZE_MAX - 2 * 131072 + 1) \
        == "iovec.payload_not_user"


def test_range_whose_end_overflows_u64_is_not_user_memory():
    assert first_name(BUFRING_SETUP_RULES, headers_base=mask(64) - 10,
                      headers_len=1152) == "iovec.headers_not_user"


def test_headers_too_small_is_found_before_buf_size_and_nr_bufs():
    assert first_name(BUFRING_SETUP_RULES, headers_len=4 * 288 - 1, buf_size=1,
                      payload_len=0) == "bufring.headers_too_small"


def test_buf_size_below_max_payload_is_found_before_nr_bufs():
    assert first_name(BUFRING_SETUP_RULES, buf_size=131071, payload_len=0) == "bufring.buf_size_too_small"


def test_import_iovec_cap_gives_payload_what_headers_leave_of_max_rw_count():
    p = values(headers_len=MAX_RW_COUNT - 131072, payload_len=mask(63))
    assert headers_size(CONCRETE, p) == MAX_RW_COUNT - 131072
    assert payload_size(CONCRETE, p) == 131072
    assert nr_bufs(CONCRETE, p) == 1
    p = values(headers_len=mask(63), payload_len=131072)
    assert headers_size(CONCRETE, p) == MAX_RW_COUNT
    assert payload_size(CONCRETE, p) == 0


def test_wants_bufring_reads_bit_zero_only():
    assert [wants_bufring(CONCRETE, f) for f in (0, 1, 2, 3)] == [False, True, False, True]


# --- concrete against symbolic, whole lists --------------------------------------------------

def interesting(field: str):
    w = WIDTH[field]
    special = {
        "qid": [0, 1, 2, mask(16)],
        "flags": [0, 1, 2, 3, SIGN, mask(64)],
        "queue_depth": [0, 1, 2, 4, mask(16)],
        "buf_index": [0, 1, 3, 4, mask(16)],
        "ring_queue_depth": [1, 2, 4, mask(16)],
        "buf_size": [0, 1, 8192, 131071, 131072, 1 << 20, mask(32)],
        "headers_base": [0, 0x10000, TASK_SIZE_MAX - 1152, TASK_SIZE_MAX, mask(64)],
        "payload_base": [0, 0x1000000, TASK_SIZE_MAX - 262144, TASK_SIZE_MAX, mask(64)],
        "headers_len": [0, 287, 288, 1152, MAX_RW_COUNT, MAX_RW_COUNT + 1, SIGN - 1, SIGN, mask(64)],
        "payload_len": [0, 131071, 131072, 262144, 65536 * 8192, MAX_RW_COUNT, SIGN, mask(64)],
        "nr_queues": [1, 2, 3, mask(32)],
        "max_payload_sz": [1, 8192, 131072, 1 << 31],
    }[field]
    return st.one_of(st.sampled_from(special), st.integers(0, mask(w)))


@st.composite
def register_values(draw):
    fields = {f: draw(interesting(f)) for f in WIDTH}
    if draw(st.booleans()):
        fields["ring_queue_depth"] = None
    return RegisterValues(**fields)


@functools.lru_cache(maxsize=None)
def symbolic_list(interp: str, name: str):
    """(ops, variables, ret term, accepts term) of one rule list, built once."""
    ops = BitVecOps() if interp == "bitvec" else IntOps()
    names = {f: ops.var(f, w) for f, w in WIDTH.items()}
    with_depth = RegisterValues(**names)
    rules = LISTS[name]
    return ops, names, symbolic_ret(ops, rules, with_depth, bits=32), \
        symbolic_accepts(ops, rules, with_depth)


def evaluate(interp: str, name: str, p: RegisterValues):
    ops, names, ret, accepts = symbolic_list(interp, name)
    # ring_queue_depth None means "this REGISTER creates the queue": its own depth
    given_values = vars(p)
    subs = []
    for f, v in names.items():
        value = given_values[f]
        if f == "ring_queue_depth" and value is None:
            value = p.queue_depth
        subs.append((v, ops.const(value, WIDTH[f])))
    r = z3.simplify(z3.substitute(ret, *subs))
    a = z3.simplify(z3.substitute(accepts, *subs))
    assert z3.is_bv_value(r) or z3.is_int_value(r), r
    return r.as_long(), z3.is_true(a)


def concrete(name: str, p: RegisterValues):
    rule = first_rejection(CONCRETE, LISTS[name], p)
    return ((-int(rule.errno)) % (1 << 32) if rule else 0), rule is None


@pytest.mark.parametrize("interp", ["bitvec", "int"])
@pytest.mark.parametrize("name", sorted(LISTS))
@settings(max_examples=30, deadline=None)
@given(p=register_values())
def test_rule_list_symbolic_ret_matches_first_concrete_rejection(name, interp, p):
    assert evaluate(interp, name, p) == concrete(name, p)


@pytest.mark.parametrize("interp", ["bitvec", "int"])
@pytest.mark.parametrize("name", sorted(LISTS))
def test_rule_list_symbolic_ret_matches_concrete_on_each_rules_own_witness(name, interp):
    # one input per rule that this rule is the first to reject, plus an accepted one
    witnesses = [values(), values(qid=1), values(flags=2), values(queue_depth=0),
                 values(headers_len=SIGN), values(payload_len=SIGN),
                 values(headers_base=TASK_SIZE_MAX), values(payload_base=TASK_SIZE_MAX),
                 values(headers_len=1151), values(buf_size=131071), values(payload_len=131071),
                 values(max_payload_sz=1, buf_size=1, payload_len=65536),
                 values(buf_index=4), values(ring_queue_depth=1, buf_index=1),
                 values(flags=0, headers_len=287, queue_depth=0),
                 values(flags=0, payload_len=131071, headers_len=288)]
    for p in witnesses:
        assert evaluate(interp, name, p) == concrete(name, p), p
