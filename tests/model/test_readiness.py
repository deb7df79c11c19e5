"""Ring readiness (SEMANTICS §3.5) and ``fetch_on_register`` (§0.2, §3.2 step 8).

The ring becomes ready when a REGISTER makes an entry available and every other
queue exists with a non-empty ``ent_avail_queue``; it is never reset. Until then
requests go ``via`` ``"dev"``.
"""
from __future__ import annotations

from bufring.model.config import Config
from bufring.model.state import EntState
from modelkit import (arrived, breg, commit, committed, d, lreg, queue, reg_err, reg_ok, req, run,
                      run_json)

TWO = Config(nr_queues=2)
AVAILABLE, USERSPACE = EntState.AVAILABLE, EntState.USERSPACE


def test_single_queue_ring_is_ready_after_its_first_register():
    state, obs = run_json([breg(), req(1)])
    assert state.ready is True
    assert obs[1]["via"] == "ring"


def test_two_queue_ring_is_not_ready_until_both_queues_have_an_entry():
    state, obs = run_json([breg(qid=0), req(1)], TWO)
    assert state.ready is False and obs[1] == arrived(via="dev")
    state, obs = run_json([breg(qid=1), req(2)], TWO, state=state)
    assert state.ready is True and obs[1] == arrived([d(0, 2, 0)])


def test_two_queue_ring_is_ready_whichever_queue_registers_first():
    state, _ = run([breg(qid=1)], TWO)
    assert state.ready is False
    state, _ = run([breg(qid=0)], TWO, state=state)
    assert state.ready is True


def test_many_entries_on_one_queue_do_not_make_a_two_queue_ring_ready():
    state, _ = run([breg(qid=0, buf_index=i) for i in range(3)], TWO)
    assert state.ready is False


def test_queue_without_available_entry_keeps_the_ring_not_ready():
    # queue 0 exists (its REGISTER failed the buf_index check) but has no entry
    state, obs = run_json([breg(qid=0, queue_depth=2, buf_index=2), breg(qid=1)], TWO)
    assert obs == [reg_err(-22), reg_ok(0)]
    assert state.ready is False
    state, _ = run([breg(qid=0, buf_index=1)], TWO, state=state)
    assert state.ready is True


def test_readiness_ignores_the_queue_modes():
    state, _ = run([lreg(qid=0), breg(qid=1)], TWO)
    assert state.ready is True


def test_three_queue_ring_needs_the_middle_queue_too():
    cfg = Config(nr_queues=3)
    state, _ = run([breg(qid=0), breg(qid=2)], cfg)
    assert state.ready is False
    state, _ = run([breg(qid=1)], cfg, state=state)
    assert state.ready is True


def test_failed_register_does_not_make_the_ring_ready():
    state, _ = run([breg(qid=0), breg(qid=1, queue_depth=0)], TWO)
    assert state.ready is False


def test_ready_is_never_reset_when_every_entry_is_busy():
    state, obs = run_json([breg(qid=0), breg(qid=1), req(1, qid=0), req(2, qid=0)], TWO)
    assert queue(state, 0).avail == ()
    assert state.ready is True and obs[3] == arrived(queued=True)


# --- fetch_on_register -------------------------------------------------------------------------

WAITING = [breg(buf_index=0), req(1), req(2)]          # request 2 waits, no entry free


def test_register_without_fetch_on_register_leaves_the_waiting_request():
    state, obs = run_json(WAITING + [breg(buf_index=1)], Config(fetch_on_register=False))
    assert obs[3] == reg_ok(1)
    q = queue(state)
    assert q.ents[1].state == AVAILABLE and [r.unique for r in q.req_queue] == [2]


def test_register_with_fetch_on_register_takes_the_waiting_request_at_once():
    state, obs = run_json(WAITING + [breg(buf_index=1)], Config(fetch_on_register=True))
    assert obs[3] == reg_ok(1, dispatched=[d(1, 2, 1)])
    q = queue(state)
    assert q.ents[1].state == USERSPACE and q.req_queue == () and q.avail == ()
    assert q.bufring.head == 2


def test_fetch_on_register_with_an_empty_ring_leaves_the_new_entry_available():
    cfg = Config(fetch_on_register=True)
    state, obs = run_json([breg(buf_index=0, nbufs=1), req(1), req(2), breg(buf_index=1)], cfg)
    assert obs[3] == reg_ok(1)
    q = queue(state)
    assert q.ents[1].state == AVAILABLE and q.avail == (1,)
    assert [r.unique for r in q.req_queue] == [2]


def test_fetch_on_register_in_legacy_mode_dispatches_with_the_new_entrys_regions():
    cfg = Config(fetch_on_register=True)
    _, obs = run_json([lreg(), req(1), req(2), lreg(headers=0x20000, payload=0x2000000)], cfg)
    assert obs[3] == reg_ok(1, dispatched=[{"ent": 1, "unique": 2, "buf_id": None,
                                            "payload_addr": 0x2000000, "header_addr": 0x20000}])


def test_fetch_on_register_with_nothing_waiting_is_a_plain_register():
    for fetch in (False, True):
        state, obs = run_json([breg(buf_index=0), breg(buf_index=1)], Config(fetch_on_register=fetch))
        assert obs == [reg_ok(0), reg_ok(1)]
        assert queue(state).avail == (1, 0)


def test_fetched_request_is_committed_like_any_other():
    cfg = Config(fetch_on_register=True)
    _, obs = run_json(WAITING + [breg(buf_index=1), commit(2)], cfg)
    assert obs[4] == committed(0, recycled=[1])
