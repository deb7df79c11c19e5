"""Request arrival and the queue lists (SEMANTICS §2, §5.1, §5.2, §6, §10).

``ent_avail_queue`` is a stack (the entry made available last takes the next
request), ``fuse_req_queue`` a FIFO; assignment takes the entry off the stack.
Legacy dispatch addresses, the qid fallback, and payload base 0.
"""
from __future__ import annotations

from bufring.model.config import Config
from bufring.model.state import EntState
from modelkit import (BUF, HEADERS, PAYLOAD, arrived, bg, breg, commit, committed, d, lreg,
                      queue, req, run, run_json)

AVAILABLE, USERSPACE = EntState.AVAILABLE, EntState.USERSPACE


def three_entries(nbufs=4):
    return [breg(buf_index=i, nbufs=nbufs) for i in range(3)]


# --- before the ring is ready: /dev/fuse ---------------------------------------------------------

def test_request_before_any_register_goes_via_dev_and_changes_nothing():
    state, obs = run_json([req(1), bg(2)])
    assert obs == [arrived(via="dev"), arrived(via="dev")]
    assert state == run([])[0]


def test_request_while_ring_not_ready_goes_via_dev_and_leaves_counters():
    cfg = Config(nr_queues=2)
    before, _ = run([breg(qid=0)], cfg)
    after, obs = run_json([bg(1), req(2, qid=5)], cfg, state=before)
    assert obs == [arrived(via="dev"), arrived(via="dev")]   # no qid warning either
    assert after == before


# --- ent_avail_queue is a stack ------------------------------------------------------------------

def test_registered_entries_stack_up_newest_first():
    state, _ = run(three_entries())
    assert queue(state).avail == (2, 1, 0)


def test_request_goes_to_the_entry_registered_last_and_leaves_the_stack():
    state, obs = run_json(three_entries() + [req(1), req(2)])
    assert obs[3] == arrived([d(2, 1, 0)])
    assert obs[4] == arrived([d(1, 2, 1)])
    q = queue(state)
    assert q.avail == (0,)
    assert [e.state for e in q.ents] == [AVAILABLE, USERSPACE, USERSPACE]
    assert [None if e.req is None else e.req.unique for e in q.ents] == [None, 2, 1]


def test_entry_that_committed_last_takes_the_next_request():
    state, obs = run_json(three_entries() + [req(1), req(2), req(3), commit(3), commit(1),
                                             req(4)])
    assert obs[-1] == arrived([d(2, 4, 3)])             # ent 2 committed last (unique 1)
    assert queue(state).avail == (0,)
    state, _ = run(three_entries() + [req(1), req(2), req(3), commit(3), commit(1)])
    assert queue(state).avail == (2, 0)


def test_commit_with_nothing_queued_pushes_the_entry_on_top_of_waiting_ones():
    state, _ = run(three_entries() + [req(1), commit(1)])
    assert queue(state).avail == (2, 1, 0)


# --- fuse_req_queue is a FIFO --------------------------------------------------------------------

def test_queued_requests_leave_in_arrival_order():
    actions = [breg(nbufs=4), req(1), req(2), req(3), req(4), commit(1), commit(2), commit(3)]
    state, obs = run_json(actions)
    assert [o["queued"] for o in obs[1:5]] == [False, True, True, True]
    assert [o["dispatched"][0]["unique"] for o in obs[5:]] == [2, 3, 4]
    assert queue(state).req_queue == ()


def test_queued_flag_is_true_while_the_request_waits_and_false_once_dispatched():
    _, obs = run_json([breg(), req(1), req(2)])
    assert obs[1]["queued"] is False and obs[2]["queued"] is True


def test_new_register_does_not_take_a_waiting_request():
    state, obs = run_json([breg(buf_index=0), req(1), req(2), breg(buf_index=1)])
    assert obs[3] == {"ret": 0, "ent": 1, "dispatched": [], "recycled": [], "warnings": []}
    q = queue(state)
    assert q.avail == (1,) and [r.unique for r in q.req_queue] == [2]


# --- §5.1 queue selection ------------------------------------------------------------------------

def test_request_with_qid_beyond_nr_queues_uses_queue_0_and_warns():
    cfg = Config(nr_queues=2)
    state, obs = run_json([breg(qid=0), breg(qid=1), req(1, qid=2), req(2, qid=0xFFFF)], cfg)
    assert obs[2] == arrived([d(0, 1, 0)], warnings=["qid_out_of_range"])
    assert obs[3] == arrived(queued=True, warnings=["qid_out_of_range"])
    assert [r.unique for r in queue(state, 0).req_queue] == [2]
    assert queue(state, 1).req_queue == ()


def test_request_on_each_queue_uses_that_queues_entries_and_ring():
    cfg = Config(nr_queues=2)
    _, obs = run_json([breg(qid=0), breg(qid=1, headers=0x20000, payload=0x2000000),
                       req(1, qid=1), req(2, qid=0)], cfg)
    assert obs[2] == arrived([d(0, 1, 0, payload_addr=0x2000000, header_addr=0x20000)])
    assert obs[3] == arrived([d(0, 2, 0)])


# --- legacy mode dispatch ------------------------------------------------------------------------

def test_legacy_dispatch_has_no_buf_id_and_the_entrys_own_regions():
    state, obs = run_json([lreg(headers=HEADERS, payload=PAYLOAD),
                           lreg(headers=HEADERS + 0x1000, payload=PAYLOAD + BUF),
                           req(1), req(2, payload=False)])
    assert obs[2] == arrived([{"ent": 1, "unique": 1, "buf_id": None,
                               "payload_addr": PAYLOAD + BUF, "header_addr": HEADERS + 0x1000}])
    assert obs[3] == arrived([{"ent": 0, "unique": 2, "buf_id": None,
                               "payload_addr": PAYLOAD, "header_addr": HEADERS}])


def test_legacy_entries_follow_the_same_stack_and_fifo():
    _, obs = run_json([lreg(), req(1), req(2), req(3), commit(1), commit(2)])
    assert [o["queued"] for o in obs[1:4]] == [False, True, True]
    assert [o["dispatched"][0]["unique"] for o in obs[4:]] == [2, 3]
    assert all(o["recycled"] == [] for o in obs)


# --- §10: payload base 0 --------------------------------------------------------------------------

def test_buffer_0_at_address_0_is_dispatched_with_payload_addr_0_and_a_warning():
    state, obs = run_json([breg(payload=0, nbufs=2), req(1)])
    assert obs[1] == arrived([d(0, 1, 0, payload_addr=0)], warnings=["payload_copy_null"])
    assert queue(state).ents[0].buf == 0 and queue(state).bufring.head == 1


def test_commit_of_buffer_at_address_0_warns_and_never_recycles_it():
    state, obs = run_json([breg(payload=0, nbufs=2), req(1), commit(1)])
    assert obs[2] == committed(0, warnings=["payload_copy_null"])     # recycled: nothing
    q = queue(state)
    assert (q.bufring.head, q.bufring.tail) == (1, 2)                 # buffer 0 is lost
    assert q.ents[0].state == AVAILABLE and q.ents[0].buf == 0        # payload_buf.addr == 0


def test_commit_with_reply_error_of_buffer_at_address_0_copies_nothing_and_does_not_warn():
    _, obs = run_json([breg(payload=0, nbufs=2), req(1), commit(1, reply_error=-2)])
    assert obs[2] == committed(0)


def test_entry_holding_buffer_0_at_address_0_selects_another_for_its_next_payload():
    state, obs = run_json([breg(payload=0, nbufs=2), req(1), commit(1), req(2)])
    assert obs[3] == arrived([d(0, 2, 1, payload_addr=BUF)])
    assert queue(state).bufring.head == 2


def test_buffer_at_address_0_kept_for_no_payload_request_reports_buf_id_0():
    state, obs = run_json([breg(payload=0, nbufs=2), req(1), req(2, payload=False), commit(1)])
    assert obs[3] == committed(0, dispatched=[d(0, 2, 0, payload_addr=0)],
                               warnings=["payload_copy_null"])
    assert queue(state).ents[0].buf == 0                               # not recycled


def test_legacy_entry_with_payload_base_0_warns_only_for_payload_requests():
    _, obs = run_json([lreg(payload=0), req(1, payload=False), commit(1), req(2), commit(2)])
    null = {"ent": 0, "buf_id": None, "payload_addr": 0, "header_addr": HEADERS}
    assert obs[1] == arrived([{**null, "unique": 1}])
    assert obs[2] == committed(0)
    assert obs[3] == arrived([{**null, "unique": 2}], warnings=["payload_copy_null"])
    assert obs[4] == committed(0, warnings=["payload_copy_null"])
