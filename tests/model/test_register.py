"""REGISTER through ``next_state`` (SEMANTICS §3.1 to §3.4): every errno in the
kernel's check order, what a failed REGISTER leaves behind, both modes.

The order is shown where two checks give different errnos (an EINVAL found
before an EFAULT); the order among the EINVAL checks is pinned by rule name in
test_rules.py and tied to ``next_state`` by the last two tests here.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bufring.model.actions import Register
from bufring.model.cint import CONCRETE
from bufring.model.config import Config
from bufring.model.system import next_state
from bufring.model.register import register_values
from bufring.model.ring import BufRing
from bufring.model.rules import (BUFRING_SETUP_RULES, ENT_BUFRING_RULES, ENT_LEGACY_RULES,
                                 GATE_RULES, first_rejection)
from bufring.model.state import INITIAL_STATE, Ent, EntState, get_queue
from bufring.model.uapi import MAX_RW_COUNT, TASK_SIZE_MAX
from bufring.model.variant import V2
from modelkit import (BUF, EFAULT, EINVAL, ENOENT, ENOTCONN, HDR, HEADERS, PAYLOAD, breg, commit,
                      d, last, lreg, queue, reg_err, reg_ok, req, run, run_json)

SIGN = 1 << 63                  # the smallest iov_len that is negative as ssize_t
AVAILABLE = EntState.AVAILABLE


def ret_of(action, cfg=Config(), state=INITIAL_STATE):
    return next_state(V2, cfg, state, action)[1].ret


# --- success ------------------------------------------------------------------------------------

def test_first_bufring_register_creates_ring_queue_and_available_entry():
    state, obs = run_json([breg(queue_depth=4, nbufs=2, buf_index=3)])
    assert obs == [reg_ok(0)]
    assert state.ring is True and state.ready is True and state.io_uring is True
    q = queue(state)
    assert q.bufring == BufRing(headers=HEADERS, queue_depth=4, nbufs=2, head=0, tail=2,
                                slots=(0, 1), buf_size=BUF, payload=PAYLOAD,
                                headers_len=4 * HDR, payload_len=2 * BUF)
    assert q.ents == (Ent(AVAILABLE, id=3),)
    assert q.avail == (0,)


def test_first_legacy_register_creates_queue_without_bufring():
    state, obs = run_json([lreg(headers=HEADERS, payload=PAYLOAD)])
    assert obs == [reg_ok(0)]
    q = queue(state)
    assert q.bufring is None
    assert q.ents == (Ent(AVAILABLE, headers=HEADERS, payload=PAYLOAD),)


def test_entry_ordinals_count_successful_registers_on_the_qid_only():
    _, obs = run_json([breg(buf_index=0), breg(buf_index=9), breg(buf_index=1),
                       breg(buf_index=2)])
    assert [o.get("ent") for o in obs] == [0, None, 1, 2]
    assert obs[1] == reg_err(EINVAL)


def test_trailing_payload_bytes_beyond_whole_buffers_are_unused():
    state, _ = run([breg(payload=(PAYLOAD, 3 * BUF - 1))])
    assert queue(state).bufring.nbufs == 2


# --- §3.2 steps 2-4: ring creation, qid, flags ---------------------------------------------------

def test_commit_before_any_register_returns_enotconn_for_any_qid():
    assert last([commit(1, qid=0)]) == {"ret": ENOTCONN, "dispatched": [], "recycled": [],
                                         "warnings": []}
    assert ret_of(commit(1, qid=7)) == ENOTCONN


def test_register_with_qid_at_nr_queues_returns_einval_but_creates_the_ring():
    cfg = Config(nr_queues=2)
    state, obs = run_json([breg(qid=2), commit(1, qid=2)], cfg)
    assert obs[0] == reg_err(EINVAL)
    assert state.ring is True and state.queues == () and state.io_uring is False
    # the ring exists now: a COMMIT with a bad qid is EINVAL, no longer ENOTCONN
    assert obs[1]["ret"] == EINVAL


def test_register_with_largest_qid_below_nr_queues_is_accepted():
    assert ret_of(breg(qid=2), Config(nr_queues=3)) == 0
    assert ret_of(breg(qid=0xFFFF), Config(nr_queues=0x10000)) == 0


@pytest.mark.parametrize("flags", [2, 3, 1 << 32, 1 << 63, (1 << 64) - 1])
def test_register_with_unknown_flag_bits_returns_einval_and_creates_no_queue(flags):
    state, obs = run_json([breg(flags=flags)])
    assert obs == [reg_err(EINVAL)]
    assert state.ring is True and state.queues == () and state.io_uring is False


def test_qid_check_comes_before_iovec_import():
    assert ret_of(breg(qid=1, headers=(TASK_SIZE_MAX, HDR))) == EINVAL


def test_flags_check_comes_before_iovec_import():
    assert ret_of(breg(flags=3, headers=(TASK_SIZE_MAX, HDR))) == EINVAL
    assert ret_of(lreg(flags=2, headers=(TASK_SIZE_MAX, HDR))) == EINVAL


def test_flags_check_comes_before_mode_check_on_an_existing_queue():
    state, obs = run_json([breg(), breg(flags=3, buf_index=1)])
    assert obs[1] == reg_err(EINVAL)
    assert len(queue(state).ents) == 1


# --- §3.3 bufring setup, checks b to f ------------------------------------------------------------

@pytest.mark.parametrize("over", [dict(queue_depth=0), dict(buf_size=0)])
def test_bufring_register_with_zero_size_returns_einval_and_leaves_no_queue(over):
    state, obs = run_json([breg(**over)])
    assert obs == [reg_err(EINVAL)]
    assert state.queues == () and state.ring is True and state.io_uring is False


def test_zero_queue_depth_is_checked_before_the_iovecs():
    assert ret_of(breg(queue_depth=0, headers=(TASK_SIZE_MAX, HDR))) == EINVAL


@pytest.mark.parametrize("field", ["headers", "payload"])
@pytest.mark.parametrize("length", [SIGN, (1 << 64) - 1])
def test_bufring_iovec_length_negative_as_ssize_t_returns_einval(field, length):
    base = HEADERS if field == "headers" else PAYLOAD
    assert ret_of(breg(**{field: (base, length)})) == EINVAL


@pytest.mark.parametrize("field", ["headers", "payload"])
def test_bufring_iovec_ending_above_task_size_max_returns_efault(field):
    length = 4 * HDR if field == "headers" else 2 * BUF
    state, obs = run_json([breg(**{field: (TASK_SIZE_MAX - length + 1, length)})])
    assert obs == [reg_err(EFAULT)]
    assert state.queues == ()


def test_bufring_iovec_ending_exactly_at_task_size_max_is_accepted():
    state, obs = run_json([breg(payload=TASK_SIZE_MAX - 2 * BUF)])
    assert obs == [reg_ok(0)]
    assert queue(state).bufring.payload == TASK_SIZE_MAX - 2 * BUF


def test_negative_payload_length_wins_over_headers_outside_user_range():
    # import_iovec rejects negative lengths while copying the array, before any access_ok
    assert ret_of(breg(headers=(TASK_SIZE_MAX, HDR), payload=(PAYLOAD, SIGN))) == EINVAL


def test_headers_outside_user_range_wins_over_headers_too_small():
    assert ret_of(breg(headers=(TASK_SIZE_MAX, 1))) == EFAULT


def test_payload_outside_user_range_wins_over_buf_size_too_small():
    assert ret_of(breg(buf_size=BUF - 1, payload=(TASK_SIZE_MAX, 2 * BUF))) == EFAULT


def test_headers_region_one_byte_short_of_queue_depth_slots_returns_einval():
    assert ret_of(breg(queue_depth=4, headers=(HEADERS, 4 * HDR - 1))) == EINVAL
    assert ret_of(breg(queue_depth=4, headers=(HEADERS, 4 * HDR))) == 0


def test_largest_queue_depth_needs_65535_header_slots():
    assert ret_of(breg(queue_depth=0xFFFF)) == 0
    assert ret_of(breg(queue_depth=0xFFFF, headers=(HEADERS, 0xFFFF * HDR - 1))) == EINVAL


def test_buf_size_below_max_payload_sz_returns_einval():
    assert ret_of(breg(buf_size=BUF - 1, payload=(PAYLOAD, 4 * BUF))) == EINVAL
    assert ret_of(breg(buf_size=8192), Config(max_payload_sz=8192)) == 0


def test_payload_shorter_than_one_buffer_returns_einval():
    assert ret_of(breg(payload=(PAYLOAD, BUF - 1))) == EINVAL


def test_nr_bufs_above_u16_max_returns_einval_and_65535_is_accepted():
    cfg = Config(max_payload_sz=8192)
    assert ret_of(breg(buf_size=8192, nbufs=0x10000), cfg) == EINVAL
    state, obs = run_json([breg(buf_size=8192, nbufs=0xFFFF)], cfg)
    assert obs == [reg_ok(0)]
    r = queue(state).bufring
    assert (r.nbufs, r.head, r.tail, r.slots[-1]) == (0xFFFF, 0, 0xFFFF, 0xFFFE)


def test_headers_length_capped_at_max_rw_count_leaves_payload_too_little_for_one_buffer():
    # import_iovec caps the running total at MAX_RW_COUNT: iov[1] keeps what iov[0] left
    assert ret_of(breg(headers=(HEADERS, MAX_RW_COUNT - BUF + 1), payload=(PAYLOAD, BUF))) == EINVAL
    state, obs = run_json([breg(headers=(HEADERS, MAX_RW_COUNT - BUF), payload=(PAYLOAD, BUF))])
    assert obs == [reg_ok(0)]
    assert queue(state).bufring.nbufs == 1


def test_payload_length_beyond_max_rw_count_is_capped_not_rejected():
    state, obs = run_json([breg(payload=(PAYLOAD, 1 << 40))])
    assert obs == [reg_ok(0)]
    assert queue(state).bufring.nbufs == (MAX_RW_COUNT - 4 * HDR) // BUF == 16383


def test_payload_base_zero_passes_every_check():
    state, obs = run_json([breg(payload=0)])
    assert obs == [reg_ok(0)]
    assert queue(state).bufring.payload == 0


# --- §3.2 step 5 / §3.3 step 4: an existing queue -------------------------------------------------

def test_bufring_register_on_legacy_queue_returns_einval_and_leaves_queue_unchanged():
    state, obs = run_json([lreg(), breg()])
    assert obs[1] == reg_err(EINVAL)
    assert queue(state).bufring is None and len(queue(state).ents) == 1
    assert state.io_uring is False


def test_legacy_register_on_bufring_queue_returns_einval_and_leaves_queue_unchanged():
    state, obs = run_json([breg(), lreg()])
    assert obs[1] == reg_err(EINVAL)
    assert queue(state).bufring is not None and len(queue(state).ents) == 1


def test_mode_mismatch_is_found_before_the_new_entrys_own_checks():
    # legacy entry would fail import_iovec (EFAULT); the mode check comes first
    assert last([breg(), lreg(headers=(TASK_SIZE_MAX, HDR))])["ret"] == EINVAL
    assert last([lreg(), breg(headers=(TASK_SIZE_MAX, HDR))])["ret"] == EINVAL


def test_second_bufring_register_ignores_its_init_fields_and_iovecs():
    join = Register(qid=0, flags=1, buf_index=1, queue_depth=0, buf_size=0,
                    headers=(TASK_SIZE_MAX, SIGN), payload=(0, 0))
    state, obs = run_json([breg(queue_depth=2, nbufs=2), join])
    assert obs[1] == reg_ok(1)
    q = queue(state)
    assert (q.bufring.queue_depth, q.bufring.nbufs, q.bufring.headers) == (2, 2, HEADERS)
    assert q.ents[1] == Ent(AVAILABLE, id=1)


def test_buf_index_is_checked_against_the_queues_depth_not_the_registers():
    state, obs = run_json([breg(queue_depth=2), breg(queue_depth=100, buf_index=2,
                                                     headers=(HEADERS, 100 * HDR)),
                           breg(buf_index=1)])
    assert obs[1] == reg_err(EINVAL)
    assert obs[2] == reg_ok(1)


def test_buf_index_equal_to_queue_depth_returns_einval_and_one_below_is_accepted():
    assert last([breg(queue_depth=4, buf_index=4)]) == reg_err(EINVAL)
    assert last([breg(queue_depth=4, buf_index=3)]) == reg_ok(0)
    assert last([breg(queue_depth=0xFFFF, buf_index=0xFFFF)]) == reg_err(EINVAL)


def test_two_entries_with_one_buf_index_are_both_accepted_and_share_a_header_slot():
    state, obs = run_json([breg(buf_index=2), breg(buf_index=2), req(1), req(2)])
    assert obs[1] == reg_ok(1)
    assert queue(state).ents[0].id == queue(state).ents[1].id == 2
    assert obs[2]["dispatched"] == [d(1, 1, 0, ent_id=2)]
    assert obs[3]["dispatched"] == [d(0, 2, 1, ent_id=2)]


def test_more_entries_than_queue_depth_are_accepted():
    actions = [breg(queue_depth=1, buf_index=0) for _ in range(3)]
    _, obs = run_json(actions)
    assert [o["ret"] for o in obs] == [0, 0, 0]


# --- a failed REGISTER leaves the ring, and the queue it created -----------------------------------

def test_bufring_queue_created_by_register_with_bad_buf_index_stays():
    state, obs = run_json([breg(queue_depth=2, buf_index=2), commit(5)])
    assert obs[0] == reg_err(EINVAL)
    q = queue(state)
    assert q.bufring is not None and q.bufring.queue_depth == 2 and q.ents == ()
    assert obs[1]["ret"] == ENOENT          # the queue exists: lookup, not ENOTCONN
    assert state.ready is False and state.io_uring is False


def test_queue_left_by_failed_entry_check_keeps_its_mode_and_init_values():
    bad_first = breg(queue_depth=2, nbufs=3, buf_index=7)
    join = Register(qid=0, flags=1, buf_index=1, headers=(0, 0), payload=(0, 0))
    state, obs = run_json([bad_first, lreg(), join, req(1)])
    assert obs[1] == reg_err(EINVAL)        # mode is bufring
    assert obs[2] == reg_ok(0)
    assert queue(state).bufring.nbufs == 3
    assert obs[3]["dispatched"] == [d(0, 1, 0, ent_id=1)]


def test_legacy_queue_created_by_register_with_short_headers_stays():
    state, obs = run_json([lreg(headers=(HEADERS, HDR - 1)), breg()])
    assert obs == [reg_err(EINVAL), reg_err(EINVAL)]
    assert queue(state).bufring is None and queue(state).ents == ()


def test_failed_register_clears_io_uring_for_good():
    state, obs = run_json([breg(queue_depth=0), breg()])
    assert [o["ret"] for o in obs] == [EINVAL, 0]
    assert state.io_uring is False


def test_failed_register_leaves_other_queues_and_counters_untouched():
    cfg = Config(nr_queues=2)
    before, _ = run([breg(qid=0)], cfg)
    after, obs = run([breg(qid=1, queue_depth=0)], cfg, state=before)
    assert after == before._replace(io_uring=False)


# --- §3.4 legacy entries ---------------------------------------------------------------------------

def test_legacy_headers_shorter_than_one_header_returns_einval():
    assert ret_of(lreg(headers=(HEADERS, HDR - 1))) == EINVAL
    assert ret_of(lreg(headers=(HEADERS, HDR))) == 0


def test_legacy_payload_shorter_than_max_payload_sz_returns_einval():
    assert ret_of(lreg(payload=(PAYLOAD, BUF - 1))) == EINVAL
    assert ret_of(lreg(payload=(PAYLOAD, BUF))) == 0
    assert ret_of(lreg(payload=(PAYLOAD, 8192)), Config(max_payload_sz=8192)) == 0


def test_legacy_payload_capped_by_headers_at_max_rw_count_returns_einval():
    assert ret_of(lreg(headers=(HEADERS, MAX_RW_COUNT - BUF + 1), payload=(PAYLOAD, BUF))) == EINVAL
    assert ret_of(lreg(headers=(HEADERS, MAX_RW_COUNT - BUF), payload=(PAYLOAD, BUF))) == 0


@pytest.mark.parametrize("over, ret", [
    (dict(headers=(HEADERS, SIGN)), EINVAL),
    (dict(payload=(PAYLOAD, SIGN)), EINVAL),
    (dict(headers=(TASK_SIZE_MAX, HDR)), EFAULT),
    (dict(payload=(TASK_SIZE_MAX - BUF + 1, BUF)), EFAULT),
    (dict(headers=(TASK_SIZE_MAX, HDR), payload=(PAYLOAD, SIGN)), EINVAL),
    (dict(headers=(TASK_SIZE_MAX, 1)), EFAULT),
])
def test_legacy_iovec_errors_come_in_import_iovec_order(over, ret):
    assert ret_of(lreg(**over)) == ret


def test_legacy_register_ignores_buf_index_queue_depth_and_buf_size():
    state, obs = run_json([lreg(buf_index=0xFFFF, queue_depth=0, buf_size=7)])
    assert obs == [reg_ok(0)]


def test_each_legacy_entry_keeps_its_own_regions():
    state, obs = run_json([lreg(headers=HEADERS, payload=PAYLOAD),
                           lreg(headers=HEADERS + 0x1000, payload=PAYLOAD + 0x100000)])
    assert obs[1] == reg_ok(1)
    assert [(e.headers, e.payload) for e in queue(state).ents] == [
        (HEADERS, PAYLOAD), (HEADERS + 0x1000, PAYLOAD + 0x100000)]


def test_legacy_queue_and_bufring_queue_coexist_on_different_qids():
    cfg = Config(nr_queues=2)
    state, obs = run_json([lreg(qid=0), breg(qid=1)], cfg)
    assert obs == [reg_ok(0), reg_ok(0)]
    assert get_queue(state, 0).bufring is None and get_queue(state, 1).bufring is not None


# --- next_state agrees with the rule lists ------------------------------------------------------------

def u(bits):
    return st.integers(0, (1 << bits) - 1)


@st.composite
def any_register(draw, flags):
    return Register(
        qid=draw(st.sampled_from([0, 1])), flags=flags,
        buf_index=draw(st.sampled_from([0, 1, 3, 4, 0xFFFF])),
        queue_depth=draw(st.sampled_from([0, 1, 4, 0xFFFF])),
        buf_size=draw(st.sampled_from([0, BUF - 1, BUF, 1 << 20, (1 << 32) - 1])),
        headers=(draw(st.sampled_from([0, HEADERS, TASK_SIZE_MAX - 4 * HDR, TASK_SIZE_MAX])),
                 draw(st.one_of(st.sampled_from([0, HDR - 1, HDR, 4 * HDR, MAX_RW_COUNT, SIGN]), u(64)))),
        payload=(draw(st.sampled_from([0, PAYLOAD, TASK_SIZE_MAX - 2 * BUF])),
                 draw(st.one_of(st.sampled_from([0, BUF - 1, BUF, 2 * BUF, 1 << 40, SIGN]), u(64)))))


@settings(max_examples=100, deadline=None)
@given(a=any_register(flags=1))
def test_first_bufring_register_ret_is_the_first_rejection_of_gate_setup_and_entry_rules(a):
    p = register_values(Config(), a)
    rule = first_rejection(CONCRETE, GATE_RULES + BUFRING_SETUP_RULES + ENT_BUFRING_RULES, p)
    assert ret_of(a) == (-rule.errno if rule else 0)


@settings(max_examples=100, deadline=None)
@given(a=any_register(flags=0))
def test_first_legacy_register_ret_is_the_first_rejection_of_gate_and_entry_rules(a):
    p = register_values(Config(), a)
    rule = first_rejection(CONCRETE, GATE_RULES + ENT_LEGACY_RULES, p)
    assert ret_of(a) == (-rule.errno if rule else 0)
