"""Background requests (SEMANTICS §5.3, §4.4): the flush rules, the one-per-queue
rule, ``fc->active_background`` dropping in ``fuse_request_end()`` only after the
flush in ``fuse_uring_req_end()``, and ``fc->blocked``.
"""
from __future__ import annotations

from bufring.model.config import Config
from bufring.model.state import Req
from modelkit import arrived, bg, breg, commit, committed, d, queue, req, run, run_json


def counters(state, qid=0):
    """(fc->num_background, fc->active_background, queue->active_background, fc->blocked)."""
    return (state.num_background, state.active_background, queue(state, qid).active_background,
            state.blocked)


def entries(n, qid=0, nbufs=4, **kw):
    return [breg(qid=qid, buf_index=i, nbufs=nbufs, **kw) for i in range(n)]


def test_background_request_is_promoted_counted_and_dispatched():
    state, obs = run_json(entries(1) + [bg(1)])
    assert obs[1] == arrived([d(0, 1, 0)])
    assert counters(state) == (1, 1, 1, False)
    assert queue(state).bg_queue == () and queue(state).req_queue == ()


def test_background_request_beyond_max_background_waits_in_the_bg_queue():
    cfg = Config(max_background=2)
    state, obs = run_json(entries(4) + [bg(1), bg(2), bg(3)], cfg)
    assert obs[4] == arrived([d(3, 1, 0)])
    assert obs[5] == arrived([d(2, 2, 1)])
    assert obs[6] == arrived(queued=True)
    assert counters(state) == (3, 2, 2, True)           # blocked when num reached max
    assert queue(state).bg_queue == (Req(3, True, True),)
    assert queue(state).avail == (1, 0)                 # idle entries, request held back


def test_req_end_flushes_before_fuse_request_end_frees_the_global_slot():
    cfg = Config(max_background=2)
    state, obs = run_json(entries(4) + [bg(1), bg(2), bg(3), commit(1)], cfg)
    # req_end: queue count 2 -> 1, flush sees fc->active_background still 2: no promotion;
    # only then fuse_request_end drops it to 1, with request 3 left behind.
    assert obs[7] == committed(0, recycled=[0])
    assert counters(state) == (2, 1, 1, True)           # num 3 != max at end: still blocked
    assert queue(state).bg_queue == (Req(3, True, True),)


def test_next_background_end_on_the_queue_promotes_the_waiting_request_and_unblocks():
    cfg = Config(max_background=2)
    state, obs = run_json(entries(4) + [bg(1), bg(2), bg(3), commit(1), commit(2)], cfg)
    assert obs[8] == committed(0, dispatched=[d(2, 3, 1)])   # kept its buffer for request 3
    assert counters(state) == (1, 1, 1, False)          # num was == max at end: unblocked
    assert queue(state).bg_queue == () and queue(state).req_queue == ()


def test_queue_with_no_active_background_request_may_exceed_the_global_limit():
    cfg = Config(nr_queues=2, max_background=1)
    state, obs = run_json(entries(1, qid=0) + entries(1, qid=1) + [bg(1, qid=0), bg(2, qid=1)], cfg)
    assert obs[2] == arrived([d(0, 1, 0)])
    assert obs[3] == arrived([d(0, 2, 0)])
    assert (state.num_background, state.active_background, state.blocked) == (2, 2, True)
    assert queue(state, 0).active_background == queue(state, 1).active_background == 1


def test_queue_with_an_active_background_request_waits_at_the_global_limit():
    cfg = Config(nr_queues=2, max_background=1)
    state, obs = run_json(entries(2, qid=0) + entries(1, qid=1)
                          + [bg(1, qid=0), bg(2, qid=1), bg(3, qid=0)], cfg)
    assert obs[5] == arrived(queued=True)
    assert queue(state, 0).bg_queue == (Req(3, True, True),)


def test_global_slot_freed_on_another_queue_does_not_flush_this_one():
    cfg = Config(nr_queues=2, max_background=2)
    actions = entries(2, qid=0) + entries(1, qid=1) + [bg(1, qid=0), bg(2, qid=1), bg(3, qid=0),
                                                       commit(2, qid=1)]
    state, obs = run_json(actions, cfg)
    assert obs[5] == arrived(queued=True)
    assert obs[6] == committed(0, recycled=[0])
    assert (state.num_background, state.active_background, state.blocked) == (2, 1, True)
    assert state.active_background < cfg.max_background
    assert queue(state, 0).bg_queue == (Req(3, True, True),)        # still held back
    # the next bg end on queue 0 flushes it
    state, obs = run_json(actions + [commit(1, qid=0)], cfg)
    assert obs[-1] == committed(0, dispatched=[d(1, 3, 0)])


def test_foreground_requests_do_not_touch_background_counters_or_blocked():
    cfg = Config(max_background=1)
    state, _ = run(entries(2) + [req(1), req(2), req(3)], cfg)
    assert counters(state) == (0, 0, 0, False)


def test_background_arrival_hands_an_older_waiting_request_to_the_idle_entry():
    # a REGISTER does not look at fuse_req_queue; the bg arrival's flush does
    state, obs = run_json([breg(buf_index=0), req(1), req(2), breg(buf_index=1), bg(3)])
    assert obs[2] == arrived(queued=True)
    assert obs[4] == arrived([d(1, 2, 1)], queued=True)      # request 2 leaves, 3 waits
    q = queue(state)
    assert [r.unique for r in q.req_queue] == [3]
    assert counters(state) == (1, 1, 1, False)


def test_background_arrival_that_cannot_get_a_buffer_leaves_both_requests_queued():
    state, obs = run_json(entries(2, nbufs=1) + [req(1), req(2), bg(3, payload=False)])
    assert obs[3] == arrived(queued=True)
    assert obs[4] == arrived(queued=True)
    q = queue(state)
    assert [r.unique for r in q.req_queue] == [2, 3] and q.avail == (0,)


def test_background_request_ended_with_reply_error_gives_its_slots_back():
    state, obs = run_json(entries(1) + [bg(1), commit(1, reply_error=-5)])
    assert obs[2] == committed(0, recycled=[0])
    assert counters(state) == (0, 0, 0, False)


def test_max_background_zero_still_lets_one_request_per_queue_through():
    cfg = Config(max_background=0)
    state, obs = run_json(entries(2) + [bg(1), bg(2)], cfg)
    assert obs[2] == arrived([d(1, 1, 0)])
    assert obs[3] == arrived(queued=True)
    assert counters(state) == (2, 1, 1, False)          # num never equals max: never blocked
