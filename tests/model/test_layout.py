"""The layout calculator (model/layout.py): every REGISTER rule at its boundary,
check order, buffers and header slots, unused bytes, warnings, variants.

One table of REGISTER inputs is also run through the model's own
``fuse_uring_register`` (``next_state``), which must give the same answer.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bufring.model.actions import Register
from bufring.model.cint import CONCRETE, U64
from bufring.model.config import Config
from bufring.model.errno import Errno
from bufring.model.errors import BadInput
from bufring.model.system import next_state
from bufring.model.layout import WARNING_CODES, Mode, layout, register_rules
from bufring.model.ring import buffer_addr
from bufring.model.rules import (BUFRING_SETUP_RULES, ENT_BUFRING_RULES,
                                 ENT_LEGACY_RULES, GATE_RULES, Rule)
from bufring.model.state import INITIAL_STATE, get_queue
from bufring.model.uapi import (DEFAULT_MAX_PAYLOAD_SZ, FUSE_MIN_READ_BUFFER,
                                MAX_RW_COUNT, NBUFS_MAX, REQ_HEADER_SZ,
                                TASK_SIZE_MAX, header_slot)
from bufring.model.variant import V2

MPS = DEFAULT_MAX_PAYLOAD_SZ          # 131072
H = 0x10000000                        # a headers base
P = 0x40000000                        # a payload base, far above the headers
SIGN = 1 << 63                        # the smallest length that is negative as ssize_t


def bufring(queue_depth=4, buf_size=MPS, headers=None, payload=None, **kw):
    """A bufring REGISTER that is accepted unless the test changes a value."""
    headers = (H, REQ_HEADER_SZ * queue_depth) if headers is None else headers
    payload = (P, 4 * buf_size) if payload is None else payload
    return layout(queue_depth=queue_depth, buf_size=buf_size, headers=headers,
                  payload=payload, **kw)


def legacy(headers=(H, REQ_HEADER_SZ), payload=(P, MPS), **kw):
    """A legacy (flags 0) REGISTER that is accepted unless the test changes a value."""
    kw.setdefault("queue_depth", 0)
    kw.setdefault("buf_size", 0)
    return layout(flags=0, headers=headers, payload=payload, **kw)


def rejected_by(result) -> str | None:
    return None if result.rule is None else result.rule.name


def codes(result) -> list[str]:
    return [w.code for w in result.warnings]


# --- the rules, in the kernel's order ----------------------------------------------

def test_register_rules_bufring_path_is_gate_then_setup_then_ent():
    assert register_rules(V2, 1) == GATE_RULES + BUFRING_SETUP_RULES + ENT_BUFRING_RULES


def test_register_rules_legacy_path_is_gate_then_legacy_ent():
    assert register_rules(V2, 0) == GATE_RULES + ENT_LEGACY_RULES


def test_accepted_layout_checked_every_rule_of_its_path_in_order():
    assert bufring().checked == register_rules(V2, 1)


def test_rejected_layout_checked_rules_up_to_the_rejecting_one():
    result = bufring(queue_depth=0, headers=(H, 0))
    assert [r.name for r in result.checked] == [
        "register.qid_range", "register.unknown_flags", "bufring.zero_size"]


# --- gate -----------------------------------------------------------------------------

@pytest.mark.parametrize("flags", [2, 3, 1 << 63, (1 << 64) - 1])
def test_flags_with_an_unknown_bit_are_rejected_by_the_gate(flags):
    result = bufring(flags=flags)
    assert (result.ret, rejected_by(result)) == (-Errno.EINVAL, "register.unknown_flags")


# --- bufring setup: zero sizes -----------------------------------------------------------

def test_queue_depth_zero_is_rejected_as_zero_size():
    result = bufring(queue_depth=0, headers=(H, 0))
    assert (result.ret, rejected_by(result)) == (-Errno.EINVAL, "bufring.zero_size")


def test_queue_depth_one_is_accepted_with_one_header_slot():
    result = bufring(queue_depth=1)
    assert (result.ret, result.header_slots) == (0, (H,))


def test_buf_size_zero_is_rejected_as_zero_size():
    result = bufring(buf_size=0, payload=(P, MPS))
    assert (result.ret, rejected_by(result)) == (-Errno.EINVAL, "bufring.zero_size")


# --- import_iovec: negative lengths, user range ---------------------------------------

@pytest.mark.parametrize("which", ["headers", "payload"])
def test_iov_len_2_pow_63_is_negative_as_ssize_t_and_rejected_einval(which):
    result = bufring(**{which: (0, SIGN)})
    assert (result.ret, rejected_by(result)) == (-Errno.EINVAL, f"iovec.{which}_len_negative")


@pytest.mark.parametrize("which", ["headers", "payload"])
def test_iov_len_2_pow_63_minus_1_passes_the_sign_check_then_fails_access_ok(which):
    result = bufring(**{which: (0, SIGN - 1)})
    assert (result.ret, rejected_by(result)) == (-Errno.EFAULT, f"iovec.{which}_not_user")


def test_headers_ending_exactly_at_task_size_max_are_accepted():
    length = REQ_HEADER_SZ * 4
    result = bufring(headers=(TASK_SIZE_MAX - length, length))
    assert result.ret == 0
    assert result.header_slots[-1] + REQ_HEADER_SZ == TASK_SIZE_MAX


def test_headers_ending_one_byte_past_task_size_max_are_rejected_efault():
    length = REQ_HEADER_SZ * 4
    result = bufring(headers=(TASK_SIZE_MAX - length + 1, length))
    assert (result.ret, rejected_by(result)) == (-Errno.EFAULT, "iovec.headers_not_user")


def test_payload_ending_exactly_at_task_size_max_is_accepted():
    length = 4 * MPS
    result = bufring(payload=(TASK_SIZE_MAX - length, length))
    assert result.ret == 0
    assert result.buffers[-1][1] == TASK_SIZE_MAX


def test_payload_ending_one_byte_past_task_size_max_is_rejected_efault():
    length = 4 * MPS
    result = bufring(payload=(TASK_SIZE_MAX - length + 1, length))
    assert (result.ret, rejected_by(result)) == (-Errno.EFAULT, "iovec.payload_not_user")


def test_payload_whose_end_overflows_u64_is_rejected_efault():
    result = bufring(payload=((1 << 64) - MPS, 4 * MPS))
    assert (result.ret, rejected_by(result)) == (-Errno.EFAULT, "iovec.payload_not_user")


# --- bufring setup: headers, buf_size, nr_bufs --------------------------------------------

def test_headers_one_byte_short_of_queue_depth_slots_are_rejected():
    result = bufring(queue_depth=5, headers=(H, REQ_HEADER_SZ * 5 - 1))
    assert (result.ret, rejected_by(result)) == (-Errno.EINVAL, "bufring.headers_too_small")


def test_headers_of_exactly_queue_depth_slots_are_accepted():
    result = bufring(queue_depth=5, headers=(H, REQ_HEADER_SZ * 5))
    assert (result.ret, result.unused.headers_trailing) == (0, 0)


def test_buf_size_one_below_max_payload_sz_is_rejected():
    result = bufring(buf_size=MPS - 1)
    assert (result.ret, rejected_by(result)) == (-Errno.EINVAL, "bufring.buf_size_too_small")


def test_buf_size_equal_to_max_payload_sz_is_accepted():
    assert bufring(buf_size=MPS).ret == 0


def test_payload_one_byte_short_of_a_buffer_gives_nbufs_0_and_is_rejected():
    result = bufring(payload=(P, MPS - 1))
    assert (result.ret, rejected_by(result), result.nbufs) == (
        -Errno.EINVAL, "bufring.nr_bufs_range", None)


def test_payload_of_exactly_one_buffer_gives_nbufs_1():
    result = bufring(queue_depth=1, payload=(P, MPS))
    assert (result.ret, result.nbufs, result.buffers) == (0, 1, ((P, P + MPS),))


def test_payload_of_65535_buffers_is_accepted_with_the_largest_nbufs():
    small = FUSE_MIN_READ_BUFFER
    result = bufring(buf_size=small, max_payload_sz=small, payload=(P, NBUFS_MAX * small))
    assert (result.ret, result.nbufs, len(result.buffers)) == (0, 65535, 65535)
    assert result.buffers[-1] == (P + 65534 * small, P + 65535 * small)


def test_payload_of_65536_buffers_is_rejected_as_nbufs_above_u16_max():
    small = FUSE_MIN_READ_BUFFER
    result = bufring(buf_size=small, max_payload_sz=small, payload=(P, (NBUFS_MAX + 1) * small))
    assert (result.ret, rejected_by(result)) == (-Errno.EINVAL, "bufring.nr_bufs_range")


# --- the MAX_RW_COUNT cap -------------------------------------------------------------------

def test_headers_leaving_exactly_one_buffer_of_room_still_give_nbufs_1():
    result = bufring(queue_depth=1, headers=(H, MAX_RW_COUNT - MPS), payload=(1 << 40, 10 * MPS))
    assert (result.ret, result.nbufs, result.payload_size) == (0, 1, MPS)
    assert result.unused.payload_capped == 9 * MPS
    assert "payload_len_capped" in codes(result)


def test_big_headers_region_starves_the_payload_through_the_cap_and_is_rejected():
    result = bufring(queue_depth=1, headers=(H, MAX_RW_COUNT - MPS + 1),
                     payload=(1 << 40, 10 * MPS))
    assert (result.ret, rejected_by(result), result.payload_size) == (
        -Errno.EINVAL, "bufring.nr_bufs_range", MPS - 1)
    assert codes(result) == ["payload_len_capped"]


def test_headers_longer_than_max_rw_count_are_capped_and_leave_no_payload():
    result = bufring(queue_depth=1, headers=(H, MAX_RW_COUNT + 1), payload=(1 << 40, MPS))
    assert (result.headers_size, result.payload_size) == (MAX_RW_COUNT, 0)
    assert rejected_by(result) == "bufring.nr_bufs_range"
    assert codes(result) == ["headers_len_capped", "payload_len_capped"]


def test_payload_capped_by_max_rw_count_loses_the_bytes_beyond_it():
    result = bufring(queue_depth=1, headers=(H, REQ_HEADER_SZ), payload=(1 << 40, 1 << 32))
    room = MAX_RW_COUNT - REQ_HEADER_SZ
    assert (result.ret, result.payload_size, result.nbufs) == (0, room, room // MPS)
    assert result.unused.payload_capped == (1 << 32) - room
    assert result.unused.payload_trailing == room - (room // MPS) * MPS


# --- the entry: buf_index ----------------------------------------------------------------

def test_buf_index_queue_depth_minus_1_is_accepted_and_uses_the_last_slot():
    result = bufring(queue_depth=4, buf_index=3)
    assert result.ret == 0
    assert result.to_json()["ent"] == {"id": 3, "header_slot": H + 3 * REQ_HEADER_SZ}


def test_buf_index_equal_to_queue_depth_is_rejected():
    result = bufring(queue_depth=4, buf_index=4)
    assert (result.ret, rejected_by(result)) == (-Errno.EINVAL, "ent.buf_index_range")
    assert (result.nbufs, result.buffers, result.header_slots) == (None, (), ())


def test_rejection_by_the_entry_check_still_leaves_the_queue_created():
    assert bufring(buf_index=4).queue_created is True


def test_rejection_by_a_setup_rule_creates_no_queue():
    assert bufring(queue_depth=0).queue_created is False


def test_legacy_rejection_by_the_entrys_import_still_leaves_the_queue_created():
    assert legacy(headers=(H, 1)).queue_created is True


def test_rejection_by_the_gate_creates_no_queue():
    assert bufring(flags=2).queue_created is False


# --- legacy mode (flags 0) -------------------------------------------------------------------

def test_legacy_headers_of_287_bytes_are_rejected():
    result = legacy(headers=(H, REQ_HEADER_SZ - 1))
    assert (result.ret, rejected_by(result)) == (-Errno.EINVAL, "ent.legacy_headers_too_small")


def test_legacy_headers_of_288_bytes_are_accepted_with_no_buffers():
    result = legacy(headers=(H, REQ_HEADER_SZ))
    assert (result.ret, result.mode, result.nbufs, result.buffers, result.header_slots) == (
        0, Mode.LEGACY, None, (), ())


def test_legacy_payload_one_below_max_payload_sz_is_rejected():
    result = legacy(payload=(P, MPS - 1))
    assert (result.ret, rejected_by(result)) == (-Errno.EINVAL, "ent.legacy_payload_too_small")


def test_legacy_payload_of_max_payload_sz_is_accepted():
    result = legacy(payload=(P, MPS))
    assert result.ret == 0
    assert result.to_json()["ent"] == {"header": H, "payload": [P, P + MPS]}


def test_legacy_ignores_queue_depth_buf_size_and_buf_index():
    assert legacy(queue_depth=0, buf_size=0, buf_index=0xFFFF).ret == 0


def test_legacy_big_headers_starve_the_payload_through_the_cap():
    result = legacy(headers=(H, MAX_RW_COUNT - MPS + 1), payload=(1 << 40, MPS))
    assert (result.ret, rejected_by(result)) == (-Errno.EINVAL, "ent.legacy_payload_too_small")
    assert codes(result) == ["payload_len_capped"]


def test_legacy_negative_payload_len_is_rejected_by_the_entrys_own_import():
    result = legacy(payload=(P, SIGN))
    assert rejected_by(result) == "iovec.payload_len_negative"


def test_legacy_unused_counts_bytes_past_one_header_and_past_max_payload_sz():
    result = legacy(headers=(H, 300), payload=(P, MPS + 5))
    assert result.unused.to_json() == {"headers_trailing": 12, "headers_capped": 0,
                                       "payload_trailing": 5, "payload_capped": 0,
                                       "buffer_tails": 0, "total": 17}


# --- check order when two rules fail ------------------------------------------------------

@pytest.mark.parametrize("params, first", [
    (dict(flags=3, queue_depth=0), "register.unknown_flags"),
    (dict(queue_depth=0, headers=(0, SIGN)), "bufring.zero_size"),
    (dict(headers=(0, SIGN), payload=(0, SIGN)), "iovec.headers_len_negative"),
    # import_iovec reads every length before it checks any range
    (dict(headers=(TASK_SIZE_MAX, REQ_HEADER_SZ * 4), payload=(0, SIGN)),
     "iovec.payload_len_negative"),
    (dict(headers=(TASK_SIZE_MAX, REQ_HEADER_SZ * 4), payload=(TASK_SIZE_MAX, MPS)),
     "iovec.headers_not_user"),
    (dict(headers=(H, 0), buf_size=MPS - 1), "bufring.headers_too_small"),
    (dict(buf_size=MPS - 1, payload=(P, 0)), "bufring.buf_size_too_small"),
    (dict(payload=(P, 0), buf_index=4), "bufring.nr_bufs_range"),
])
def test_two_failing_rules_report_the_one_the_kernel_checks_first(params, first):
    assert rejected_by(bufring(**params)) == first


def test_two_failing_legacy_rules_report_the_headers_first():
    assert rejected_by(legacy(headers=(H, 0), payload=(P, 0))) == "ent.legacy_headers_too_small"


# --- SEMANTICS §8: a realistic layout, numbers checked by hand ---------------------------------

def test_realistic_layout_matches_semantics_8_by_hand():
    # queue_depth 8, buf_size 128 KiB, 16 buffers; headers 8 * 288 = 2304 = 0x900 bytes.
    result = layout(queue_depth=8, buf_size=0x20000, headers=(0x7F1234560000, 0x900),
                    payload=(0x7F1240000000, 0x200000), buf_index=5)
    assert (result.ret, result.nbufs) == (0, 16)
    # header slot k at headers + 288k: 288 = 0x120
    assert result.header_slots == (0x7F1234560000, 0x7F1234560120, 0x7F1234560240,
                                   0x7F1234560360, 0x7F1234560480, 0x7F12345605A0,
                                   0x7F12345606C0, 0x7F12345607E0)
    # buffer i at payload + i * 0x20000
    assert result.buffers[0] == (0x7F1240000000, 0x7F1240020000)
    assert result.buffers[3] == (0x7F1240060000, 0x7F1240080000)
    assert result.buffers[15] == (0x7F12401E0000, 0x7F1240200000)
    assert result.to_json()["ent"] == {"id": 5, "header_slot": 0x7F12345605A0}
    assert result.unused.total == 0
    assert result.warnings == ()


def test_buffers_are_contiguous_and_each_buf_size_long():
    result = bufring(buf_size=MPS + 4096, payload=(P, 7 * (MPS + 4096) + 10), queue_depth=2)
    starts = [b[0] for b in result.buffers]
    assert starts == [P + i * (MPS + 4096) for i in range(7)]
    assert all(end - start == MPS + 4096 for start, end in result.buffers)


# --- unused bytes ---------------------------------------------------------------------------

def test_unused_counts_trailing_headers_trailing_payload_and_buffer_tails():
    result = bufring(queue_depth=2, buf_size=MPS + 100, headers=(H, 2 * REQ_HEADER_SZ + 7),
                     payload=(P, 3 * (MPS + 100) + 50))
    assert result.unused.to_json() == {"headers_trailing": 7, "headers_capped": 0,
                                       "payload_trailing": 50, "payload_capped": 0,
                                       "buffer_tails": 300, "total": 357}


def test_rejected_layout_has_no_unused_bytes_and_no_buffers():
    result = bufring(queue_depth=0)
    assert (result.unused, result.nbufs, result.buffers, result.header_slots) == (None, None, (), ())


# --- warnings -----------------------------------------------------------------------------

def test_well_chosen_layout_has_no_warnings():
    assert bufring(queue_depth=4, payload=(P, 4 * MPS)).warnings == ()


def test_payload_base_zero_warns_that_buffer_0_looks_like_no_buffer():
    result = bufring(payload=(0, 4 * MPS))
    assert result.ret == 0 and result.buffers[0] == (0, MPS)
    assert codes(result) == ["payload_base_zero"]
    assert "§10" in result.warnings[0].message


def test_headers_base_zero_warns():
    assert codes(bufring(headers=(0, 4 * REQ_HEADER_SZ))) == ["headers_base_zero"]


def test_legacy_payload_base_zero_warns_that_no_payload_is_imported():
    result = legacy(payload=(0, MPS))
    assert codes(result) == ["payload_base_zero"]
    assert "NULL" in result.warnings[0].message


@pytest.mark.parametrize("n", [1, 2, 4, 64])
def test_power_of_two_nbufs_does_not_warn_about_the_wrap(n):
    assert "nbufs_not_power_of_two" not in codes(bufring(queue_depth=1, payload=(P, n * MPS)))


@pytest.mark.parametrize("n", [3, 5, 6, 12])
def test_nbufs_not_a_power_of_two_warns_about_the_wrap(n):
    assert "nbufs_not_power_of_two" in codes(bufring(queue_depth=1, payload=(P, n * MPS)))


def test_fewer_buffers_than_entries_warns_about_enobufs_stalls():
    result = bufring(queue_depth=4, payload=(P, 2 * MPS))
    assert codes(result) == ["nbufs_below_queue_depth"]


def test_as_many_buffers_as_entries_does_not_warn_about_stalls():
    assert "nbufs_below_queue_depth" not in codes(bufring(queue_depth=4, payload=(P, 4 * MPS)))


def test_buf_size_above_max_payload_sz_warns_and_counts_the_tails():
    result = bufring(buf_size=2 * MPS, payload=(P, 4 * 2 * MPS))
    assert codes(result) == ["buf_size_above_max_payload"]
    assert result.unused.buffer_tails == 4 * MPS


def test_header_slots_overlapping_buffers_warn_and_name_both():
    # 4 slots [P + 0x20000 - 288, P + 0x20000 + 864): the end of buffer 0 and the start of buffer 1
    result = bufring(headers=(P + MPS - REQ_HEADER_SZ, 4 * REQ_HEADER_SZ))
    assert codes(result) == ["headers_overlap_payload"]
    assert "slots 0..3" in result.warnings[0].message
    assert "buffers 0..1" in result.warnings[0].message


def test_headers_adjacent_to_the_buffers_do_not_overlap():
    assert bufring(headers=(P - 4 * REQ_HEADER_SZ, 4 * REQ_HEADER_SZ)).warnings == ()


def test_legacy_header_inside_the_payload_warns_about_overlap():
    assert codes(legacy(headers=(P + 4096, REQ_HEADER_SZ))) == ["headers_overlap_payload"]


def test_headers_base_not_8_byte_aligned_warns():
    assert codes(bufring(headers=(H + 4, 4 * REQ_HEADER_SZ))) == ["headers_unaligned"]


def test_payload_base_off_a_page_warns_about_buffer_0():
    result = bufring(payload=(P + 512, 4 * MPS))
    assert codes(result) == ["payload_not_page_aligned"]
    assert "buffer 0" in result.warnings[0].message


def test_buf_size_off_a_page_multiple_warns_about_buffer_1():
    result = bufring(buf_size=MPS + 8, payload=(P, 4 * (MPS + 8)))
    assert "payload_not_page_aligned" in codes(result)
    assert "buffer 1 " in result.warnings[-1].message


def test_max_payload_sz_below_the_kernel_minimum_warns():
    result = bufring(buf_size=4096, max_payload_sz=4096, payload=(P, 4 * 4096))
    assert codes(result) == ["max_payload_sz_below_minimum"]


def test_rejected_layout_gives_no_warnings_about_its_buffers():
    assert bufring(payload=(0, 2 * MPS), buf_index=4).warnings == ()


DOCS = Path(__file__).parents[2] / "docs" / "layout.md"


def test_every_warning_code_the_calculator_gives_is_documented():
    docs = DOCS.read_text()
    for code in WARNING_CODES:
        assert f"| `{code}` |" in docs, code


def test_docs_list_the_rules_of_each_path_in_the_kernels_order():
    bufring_part, legacy_part = DOCS.read_text().split("**Legacy mode**")
    listed = [re.findall(r"^\| \d+ \| `([a-z_.]+)` \|", part, re.M)
              for part in (bufring_part, legacy_part)]
    assert listed == [[r.name for r in register_rules(V2, 1)],
                      [r.name for r in register_rules(V2, 0)]]


# --- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("params, field", [
    (dict(queue_depth=1 << 16), "queue_depth"),
    (dict(buf_size=1 << 32), "buf_size"),
    (dict(buf_index=1 << 16), "buf_index"),
    (dict(flags=1 << 64), "flags"),
    (dict(max_payload_sz=1 << 64), "max_payload_sz"),
    (dict(headers=(1 << 64, 1)), "headers base"),
    (dict(payload=(P, 1 << 64)), "payload len"),
    (dict(queue_depth=-1), "queue_depth"),
    (dict(buf_size=True), "buf_size"),
])
def test_value_outside_its_c_type_raises_bad_input_naming_the_field(params, field):
    with pytest.raises(BadInput) as e:
        bufring(**params)
    assert e.value.field == field


# --- variants ---------------------------------------------------------------------------------

NULL_PAYLOAD = Rule("fix.payload_base_null", Errno.EINVAL, "fuse_uring_bufring_setup", "§10",
                    "iov[1].iov_base is NULL",
                    lambda c, p: c.eq(p.payload_base, c.const(0, U64)))


def test_a_fix_variants_extra_setup_rule_rejects_with_its_own_name():
    fix = V2.derive("null-payload", "reject a NULL payload base",
                    bufring_setup_rules=BUFRING_SETUP_RULES + (NULL_PAYLOAD,))
    result = bufring(payload=(0, 4 * MPS), variant=fix)
    assert (result.ret, rejected_by(result), result.variant) == (
        -Errno.EINVAL, "fix.payload_base_null", "null-payload")
    assert bufring(payload=(0, 4 * MPS)).ret == 0


# --- the model's own REGISTER agrees --------------------------------------------------------

AGREEMENT = [
    dict(),
    dict(queue_depth=0),
    dict(buf_size=0),
    dict(buf_size=MPS - 1),
    dict(flags=2),
    dict(headers=(H, 4 * REQ_HEADER_SZ - 1)),
    dict(headers=(0, SIGN)),
    dict(payload=(0, SIGN - 1)),
    dict(payload=(TASK_SIZE_MAX - MPS, MPS)),
    dict(payload=(TASK_SIZE_MAX - MPS + 1, MPS)),
    dict(payload=(P, MPS - 1)),
    dict(buf_index=3),
    dict(buf_index=4),
    dict(queue_depth=1, headers=(H, MAX_RW_COUNT - MPS), payload=(1 << 40, 10 * MPS)),
    dict(queue_depth=1, headers=(H, MAX_RW_COUNT - MPS + 1), payload=(1 << 40, 10 * MPS)),
    dict(payload=(0, 5 * MPS + 3), buf_size=MPS + 8),
    dict(flags=0, headers=(H, REQ_HEADER_SZ - 1)),
    dict(flags=0, payload=(P, MPS - 1)),
    dict(flags=0, queue_depth=0, buf_size=0),
]


@pytest.mark.parametrize("params", AGREEMENT)
def test_layout_agrees_with_the_models_fuse_uring_register(params):
    kw = dict(queue_depth=4, buf_size=MPS, headers=(H, 4 * REQ_HEADER_SZ), payload=(P, 4 * MPS),
              flags=1, buf_index=0) | params
    result = layout(**kw)
    state, obs = next_state(V2, Config(nr_queues=1, max_payload_sz=MPS), INITIAL_STATE,
                            Register(qid=0, **kw))
    assert result.ret == obs.ret
    queue = get_queue(state, 0)
    assert result.queue_created == (queue is not None)
    ring = None if queue is None else queue.bufring
    if result.nbufs is None:
        return
    assert ring.nbufs == result.nbufs
    assert result.buffers == tuple(
        (buffer_addr(CONCRETE, ring.payload, ring.buf_size, i),
         buffer_addr(CONCRETE, ring.payload, ring.buf_size, i) + ring.buf_size)
        for i in range(ring.nbufs))
    assert result.header_slots == tuple(header_slot(ring.headers, k)
                                        for k in range(ring.queue_depth))


def test_a_variant_without_the_buf_size_check_reports_no_negative_unused_bytes():
    relaxed = V2.derive("relaxed", "no buf_size minimum", bufring_setup_rules=tuple(
        r for r in BUFRING_SETUP_RULES if r.name != "bufring.buf_size_too_small"))
    result = bufring(buf_size=4096, payload=(P, 4 * 4096), variant=relaxed)
    assert (result.ret, result.nbufs, result.unused.buffer_tails) == (0, 4, 0)
