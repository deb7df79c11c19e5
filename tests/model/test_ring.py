"""The buffer ring (SEMANTICS §1.4, §4.3, §5.2, §8.2 items 11-12): select and
recycle, the free FIFO, the counter wrap, and the buffer paths of a request.

``CRing`` below is a line-by-line transliteration of the patch's
``fuse_uring_select_buffer()`` / ``fuse_uring_recycle_buffer()`` with the counter
width as a parameter; the model must do exactly what it does, including the slot
aliasing at the wrap when ``nbufs`` does not divide ``2^bits``.
"""
from __future__ import annotations

from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bufring.model.config import Config
from bufring.model.ring import BufRing, free_window, initial_ring, recycle, select
from bufring.model.state import EntState
from modelkit import (BUF, HDR, HEADERS, PAYLOAD, arrived, bg, breg, commit, committed, d, queue,
                      req, run_json)

AVAILABLE, USERSPACE = EntState.AVAILABLE, EntState.USERSPACE


class CRing:
    """``struct fuse_bufring`` driven as the patch's C code drives it."""

    def __init__(self, nbufs: int, bits: int, start: int):
        self.m = (1 << bits) - 1
        self.nbufs = nbufs
        self.bufs = list(range(nbufs))          # bufs[i] = {payload + i*buf_size, buf_size, i}
        self.head = start & self.m              # TRACE-FORMAT counter_start
        self.tail = (start + nbufs) & self.m

    def select(self):
        if self.tail == self.head:              # if (tail == head) return -ENOBUFS;
            return None
        buf = self.bufs[self.head % self.nbufs]  # buf = &br->bufs[head % br->nbufs];
        self.head = (self.head + 1) & self.m     # br->head++;
        return buf

    def recycle(self, buf) -> bool:
        warned = ((self.tail - self.head) & self.m) >= self.nbufs   # WARN_ON_ONCE(...)
        self.bufs[self.tail % self.nbufs] = buf  # *buf = *ent_payload;
        self.tail = (self.tail + 1) & self.m     # br->tail++;
        return warned


def ring(nbufs, bits=32, start=0) -> BufRing:
    return initial_ring(headers=HEADERS, queue_depth=4, nbufs=nbufs, buf_size=BUF,
                        payload=PAYLOAD, headers_len=4 * HDR, payload_len=nbufs * BUF,
                        counter_start=start, bits=bits)


# --- the ring functions against the C code -----------------------------------------------------

def test_initial_ring_holds_buffer_i_in_slot_i_with_nbufs_free():
    r = ring(3, bits=8, start=250)
    assert (r.head, r.tail, r.slots) == (250, 253, (0, 1, 2))
    assert free_window(r, 8) == (1, 2, 0)         # first select takes slot 250 % 3 = 1


def test_select_on_empty_ring_returns_none():
    r = ring(1)
    r, buf = select(r, 32)
    assert buf == 0 and (r.head, r.tail) == (1, 1)
    assert select(r, 32) is None


def test_recycle_into_full_ring_warns_and_writes_anyway():
    r = ring(2)
    r2, warned = recycle(r, 1, 32)
    assert warned is True
    assert (r2.head, r2.tail, r2.slots) == (0, 3, (1, 1))


@st.composite
def ring_runs(draw):
    bits = draw(st.integers(3, 32))
    nbufs = draw(st.one_of(st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8, 12, 16]),
                           st.integers(1, 40)).filter(lambda n: n < 1 << bits))
    top = (1 << bits) - nbufs
    start = draw(st.one_of(st.integers(max(0, top - 3 * nbufs), top), st.integers(0, top)))
    ops = draw(st.lists(st.integers(0, 2), max_size=6 * nbufs + 10))
    return bits, nbufs, start, ops


@settings(max_examples=100, deadline=None)
@given(run_=ring_runs())
def test_select_and_recycle_match_the_c_code_across_the_counter_wrap(run_):
    bits, nbufs, start, ops = run_
    c, r = CRing(nbufs, bits, start), ring(nbufs, bits, start)
    held = deque()
    for op in ops:
        if op and held:                          # recycle the oldest (1) or newest (2) held
            buf = held.popleft() if op == 1 else held.pop()
            r, warned = recycle(r, buf, bits)
            assert warned is c.recycle(buf) is False
        else:
            got = select(r, bits)
            want = c.select()
            if want is None:
                assert got is None
                continue
            r, buf = got
            assert buf == want
            held.append(buf)
        assert (r.head, r.tail, list(r.slots)) == (c.head, c.tail, c.bufs)


@settings(max_examples=100, deadline=None)
@given(bits=st.integers(3, 32), log_n=st.integers(0, 2), data=st.data())
def test_power_of_two_ring_is_a_fifo_of_free_buffers_across_the_wrap(bits, log_n, data):
    nbufs = 1 << log_n
    start = data.draw(st.integers(0, (1 << bits) - nbufs))
    r = ring(nbufs, bits, start)
    fifo = deque(free_window(r, bits))
    assert sorted(fifo) == list(range(nbufs))
    held = []
    for _ in range(3 * nbufs + 4):
        if held and data.draw(st.booleans()):
            buf = held.pop(data.draw(st.integers(0, len(held) - 1)))
            r, _ = recycle(r, buf, bits)
            fifo.append(buf)
        elif fifo:
            r, buf = select(r, bits)
            assert buf == fifo.popleft()
            held.append(buf)
        assert free_window(r, bits) == tuple(fifo)


def test_non_power_of_two_ring_aliases_a_slot_at_the_wrap_and_loses_a_buffer():
    # 3 buffers, 3-bit counters: 2^3 % 3 != 0, so counters 7 and 0 name slots 1 and 0,
    # and counter 8 (= 0) names slot 0 again, where counter 6 wrote.
    r = ring(3, bits=3, start=5)              # head 5, tail 0 (8 wrapped)
    r, buf = select(r, 3)                    # slot 5 % 3 = 2
    assert buf == 2 and r.head == 6
    r, _ = recycle(r, buf, 3)                # slot 0 % 3 = 0 overwrites buffer 0
    assert (r.head, r.tail, r.slots) == (6, 1, (2, 1, 2))
    assert free_window(r, 3) == (2, 1, 2)     # buffer 2 twice, buffer 0 gone


# --- through next_state: one entry cycling across the wrap ----------------------------------------

def cycle_buffers(nbufs, bits, cycles):
    """One entry, requests with payload answered one at a time, from the highest
    counter_start: the buf_id of each dispatch and the ids recycled by each commit."""
    cfg = Config(counter_bits=bits, counter_start=(1 << bits) - nbufs)
    actions = [breg(nbufs=nbufs)]
    for u in range(1, cycles + 1):
        actions += [req(u), commit(u)]
    _, obs = run_json(actions, cfg)
    dispatched = [o["dispatched"][0]["buf_id"] for o in obs[1::2]]
    recycled = [o["recycled"] for o in obs[2::2]]
    return dispatched, recycled


@pytest.mark.parametrize("nbufs", [1, 2, 3, 4, 5, 6, 7])
def test_one_entry_cycling_across_the_wrap_selects_what_the_c_code_selects(nbufs):
    for bits in range(3, 33):
        if nbufs >= 1 << bits:
            continue
        c = CRing(nbufs, bits, (1 << bits) - nbufs)
        want = []
        for _ in range(2 * nbufs + 3):
            buf = c.select()
            c.recycle(buf)
            want.append(buf)
        dispatched, recycled = cycle_buffers(nbufs, bits, 2 * nbufs + 3)
        assert dispatched == want, (nbufs, bits)
        assert recycled == [[b] for b in want]


def test_one_entry_on_four_buffers_at_the_3_bit_wrap_reuses_them_in_fifo_order():
    assert cycle_buffers(4, 3, 9)[0] == [0, 1, 2, 3, 0, 1, 2, 3, 0]


def test_one_entry_on_three_buffers_at_the_3_bit_wrap_gets_buffer_2_forever():
    assert cycle_buffers(3, 3, 6)[0] == [2, 2, 2, 2, 2, 2]


def test_one_entry_on_three_buffers_at_the_32_bit_wrap_never_gets_buffer_0_again():
    # 2^32 % 3 == 1: the first select takes slot (2^32 - 3) % 3 = 1
    assert cycle_buffers(3, 32, 9)[0] == [1, 2, 1, 1, 2, 1, 1, 2, 1]


def test_two_entries_hold_one_buffer_after_the_wrap_of_a_three_buffer_ring():
    cfg = Config(counter_bits=3, counter_start=5)
    state, obs = run_json([breg(buf_index=0, nbufs=3), breg(buf_index=1, nbufs=3),
                           req(1), commit(1), req(2), req(3), commit(3), req(4)], cfg)
    assert obs[2]["dispatched"] == [d(1, 1, 2)]
    assert obs[4]["dispatched"] == [d(1, 2, 2)]
    assert obs[5]["dispatched"] == [d(0, 3, 1)]
    assert obs[6] == committed(0, recycled=[1])
    assert obs[7]["dispatched"] == [d(0, 4, 2)]
    q = queue(state)
    assert [e.buf for e in q.ents] == [2, 2]            # buffer 2 in two requests at once
    assert (q.bufring.head, q.bufring.tail, q.bufring.slots) == (1, 2, (2, 1, 2))


# --- through next_state: the order of the free buffers ------------------------------------------

def test_buffers_are_handed_out_in_order_and_reused_in_recycle_order():
    state, obs = run_json([breg(buf_index=0, nbufs=3), breg(buf_index=1, nbufs=3),
                           req(1), req(2), commit(2), commit(1), breg(buf_index=2, nbufs=3),
                           req(3), req(4), req(5)])
    assert [o["dispatched"][0]["buf_id"] for o in (obs[2], obs[3])] == [0, 1]
    assert obs[4]["recycled"] == [1] and obs[5]["recycled"] == [0]
    # free FIFO is now 2, 1, 0
    assert [o["dispatched"][0]["buf_id"] for o in obs[7:]] == [2, 1, 0]


# --- the buffer paths of a request (§4.3, §5.2) ----------------------------------------------------

def test_request_without_payload_takes_no_buffer_and_reports_buf_id_0_at_address_0():
    state, obs = run_json([breg(nbufs=2), req(1, payload=False)])
    assert obs[1] == arrived([d(0, 1, 0, payload_addr=0)])
    assert queue(state).bufring.head == 0 and queue(state).ents[0].buf is None


def test_payload_request_takes_the_head_buffer_at_its_address():
    state, obs = run_json([breg(nbufs=2), req(1)])
    assert obs[1] == arrived([d(0, 1, 0, payload_addr=PAYLOAD)])
    assert queue(state).ents[0].buf == 0 and queue(state).bufring.head == 1


def test_fetch_next_keeps_the_held_buffer_for_a_payload_request():
    state, obs = run_json([breg(nbufs=2), req(1), req(2), commit(1)])
    assert obs[2] == arrived(queued=True)
    assert obs[3] == committed(0, dispatched=[d(0, 2, 0)])
    r = queue(state).bufring
    assert (r.head, r.tail) == (1, 2)                   # no select, no recycle


def test_fetch_next_recycles_the_held_buffer_when_the_next_request_has_no_payload():
    state, obs = run_json([breg(nbufs=2), req(1), req(2, payload=False), commit(1)])
    assert obs[3] == committed(0, dispatched=[d(0, 2, 0, payload_addr=0)], recycled=[0])
    r = queue(state).bufring
    assert (r.head, r.tail, r.slots) == (1, 3, (0, 1))
    assert queue(state).ents[0].buf is None


def test_fetch_next_selects_a_buffer_when_the_entry_holds_none():
    state, obs = run_json([breg(nbufs=2), req(1, payload=False), req(2), commit(1)])
    assert obs[3] == committed(0, dispatched=[d(0, 2, 0)])


def test_arrival_with_empty_ring_queues_the_request_and_tries_no_other_entry():
    state, obs = run_json([breg(buf_index=0, nbufs=1), breg(buf_index=1, nbufs=1),
                           breg(buf_index=2, nbufs=1), req(1), req(2)])
    assert obs[3] == arrived([d(2, 1, 0, ent_id=2)])
    assert obs[4] == arrived(queued=True)
    q = queue(state)
    assert q.avail == (1, 0)
    assert [e.state for e in q.ents] == [AVAILABLE, AVAILABLE, USERSPACE]
    assert [e.buf for e in q.ents] == [None, None, 0]
    assert [r.unique for r in q.req_queue] == [2]


def test_request_without_payload_overtakes_one_waiting_for_a_buffer():
    state, obs = run_json([breg(buf_index=0, nbufs=1), breg(buf_index=1, nbufs=1),
                           req(1), req(2), req(3, payload=False)])
    assert obs[3] == arrived(queued=True)
    assert obs[4] == arrived([d(0, 3, 0, payload_addr=0)])
    assert [r.unique for r in queue(state).req_queue] == [2]


def test_fetch_next_with_empty_ring_leaves_the_entry_available_and_recycles_nothing():
    state, obs = run_json([breg(buf_index=0, nbufs=1), breg(buf_index=1, nbufs=1),
                           req(1, payload=False), req(2), req(3), commit(1)])
    assert obs[2] == arrived([d(1, 1, 0, payload_addr=0, ent_id=1)])
    assert obs[3] == arrived([d(0, 2, 0)])
    assert obs[4] == arrived(queued=True)
    assert obs[5] == committed(0)                       # parked: no dispatch, no recycle
    q = queue(state)
    assert q.ents[1].state == AVAILABLE and q.ents[1].buf is None
    assert q.avail == (1,)
    assert [r.unique for r in q.req_queue] == [3]
    assert (q.bufring.head, q.bufring.tail) == (1, 1)


def test_parked_request_is_served_by_the_entry_whose_commit_frees_a_buffer():
    _, obs = run_json([breg(buf_index=0, nbufs=1), breg(buf_index=1, nbufs=1),
                       req(1, payload=False), req(2), req(3), commit(1), commit(2)])
    assert obs[6] == committed(0, dispatched=[d(0, 3, 0)])


def test_background_arrival_with_empty_ring_leaves_the_request_queued():
    state, obs = run_json([breg(buf_index=0, nbufs=1), breg(buf_index=1, nbufs=1),
                           req(1), bg(2)])
    assert obs[3] == arrived(queued=True)
    q = queue(state)
    assert [r.unique for r in q.req_queue] == [2] and q.bg_queue == ()
    assert q.active_background == 1 and state.active_background == 1


@pytest.mark.slow
@settings(max_examples=3000, deadline=None)
@given(run_=ring_runs())
def test_select_and_recycle_match_the_c_code_across_the_counter_wrap_on_many_runs(run_):
    test_select_and_recycle_match_the_c_code_across_the_counter_wrap.hypothesis.inner_test(run_)
