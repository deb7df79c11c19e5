"""COMMIT_AND_FETCH (SEMANTICS §4.1, §4.2, §4.4): every errno in order, and what a
commit does to the entry, the request and the buffer.

Fetch-next after the commit (§4.3) is in test_ring.py (buffers) and
test_request.py (lists).
"""
from __future__ import annotations

from bufring.model.config import Config
from bufring.model.system import next_state
from bufring.model.state import EntState, Req, get_queue, with_queue
from bufring.model.variant import V2
from modelkit import (EINVAL, EIO, ENOENT, ENOTCONN, bg, breg, commit, committed, d, lreg, queue,
                      req, run, run_json)

AVAILABLE, USERSPACE, FUSE_REQ = EntState.AVAILABLE, EntState.USERSPACE, EntState.FUSE_REQ


def test_commit_without_a_ring_returns_enotconn_whatever_the_qid():
    _, obs = run_json([commit(1, qid=0), commit(1, qid=9)])
    assert obs == [committed(ENOTCONN), committed(ENOTCONN)]


def test_commit_with_qid_at_nr_queues_returns_einval_once_the_ring_exists():
    cfg = Config(nr_queues=2)
    _, obs = run_json([breg(qid=0), commit(1, qid=2), commit(1, qid=0xFFFF)], cfg)
    assert obs[1:] == [committed(EINVAL), committed(EINVAL)]


def test_commit_on_a_qid_whose_queue_does_not_exist_returns_enotconn():
    cfg = Config(nr_queues=2)
    _, obs = run_json([breg(qid=0), commit(1, qid=1)], cfg)
    assert obs[1] == committed(ENOTCONN)


def test_commit_on_a_stopped_queue_returns_enotconn_before_the_lookup():
    state, _ = run([breg(), req(1)])
    stopped = with_queue(state, 0, queue(state)._replace(stopped=True))
    after, obs = next_state(V2, Config(), stopped, commit(1))
    assert obs.to_json() == committed(ENOTCONN)
    assert after == stopped


def test_commit_of_an_unknown_unique_returns_enoent():
    _, obs = run_json([breg(), req(1), commit(2)])
    assert obs[2] == committed(ENOENT)


def test_commit_of_a_request_still_queued_returns_enoent_and_leaves_it_queued():
    state, obs = run_json([breg(), req(1), req(2), commit(2)])
    assert obs[2] == {"via": "ring", "queued": True, "dispatched": [], "recycled": [],
                      "warnings": []}
    assert obs[3] == committed(ENOENT)
    assert [r.unique for r in queue(state).req_queue] == [2]


def test_second_commit_of_one_request_returns_enoent():
    _, obs = run_json([breg(), req(1), commit(1), commit(1)])
    assert obs[2] == committed(0, recycled=[0])
    assert obs[3] == committed(ENOENT)


def test_commit_names_the_queue_it_looks_in():
    cfg = Config(nr_queues=2)
    state, obs = run_json([breg(qid=0), breg(qid=1), req(1, qid=1), commit(1, qid=0),
                           commit(1, qid=1)], cfg)
    assert obs[3] == committed(ENOENT)
    assert obs[4] == committed(0, recycled=[0])


def test_failed_commit_changes_no_state():
    state, _ = run([breg(), req(1)])
    for bad in (commit(2), commit(1, qid=1)):
        after, obs = next_state(V2, Config(), state, bad)
        assert obs.ret in (ENOENT, EINVAL)
        assert after == state


def test_commit_of_entry_not_in_userspace_returns_eio_and_ends_the_request():
    # Reachable only with split ops (a commit racing the task-work send); built here
    # directly: the entry was assigned a bg request that is still in FUSE_REQ.
    state, _ = run([breg(), bg(1)])
    q = queue(state)
    r = Req(1, True, True)
    assert q.ents[0].req == r and q.active_background == 1 and state.num_background == 1
    racing = with_queue(state, 0, q._replace(ents=(q.ents[0]._replace(state=FUSE_REQ),)))
    after, obs = next_state(V2, Config(), racing, commit(1))
    assert obs.to_json() == committed(EIO, warnings=["commit_bad_state"])
    # fuse_request_end() ran (fc counters), fuse_uring_req_end() did not (queue counter)
    assert (after.num_background, after.active_background) == (0, 0)
    assert get_queue(after, 0).active_background == 1
    assert get_queue(after, 0).ents[0].state == FUSE_REQ
    # the request left fpq.processing: committing it again finds nothing
    assert next_state(V2, Config(), after, commit(1))[1].ret == ENOENT


def test_commit_with_reply_error_still_completes_with_zero_and_recycles():
    state, obs = run_json([breg(), req(1), commit(1, reply_error=-5)])
    assert obs[2] == committed(0, recycled=[0])
    assert queue(state).ents[0].state == AVAILABLE


def test_commit_with_nothing_queued_parks_the_entry_available_holding_no_buffer():
    state, obs = run_json([breg(nbufs=2), req(1), commit(1)])
    assert obs[2] == committed(0, recycled=[0])
    q = queue(state)
    assert q.ents[0].state == AVAILABLE and q.ents[0].buf is None and q.ents[0].req is None
    assert q.avail == (0,)
    assert (q.bufring.head, q.bufring.tail, q.bufring.slots) == (1, 3, (0, 1))


def test_commit_takes_the_next_queued_request_and_completes_with_it():
    _, obs = run_json([breg(nbufs=2), req(1), req(2, payload=False), commit(1)])
    assert obs[3] == committed(0, dispatched=[d(0, 2, 0, payload_addr=0)], recycled=[0])


def test_legacy_commit_recycles_nothing_and_dispatches_the_next_request():
    _, obs = run_json([lreg(), req(1), req(2), commit(1)])
    assert obs[3] == committed(0, dispatched=[{"ent": 0, "unique": 2, "buf_id": None,
                                              "payload_addr": 0x1000000,
                                              "header_addr": 0x10000}])
