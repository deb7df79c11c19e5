"""Each catalog predicate (specs/predicates.py) on hand-built states and on single
transitions, one case where the property holds and one where it breaks, for every
id of the catalog, witnesses and graph goals included.

States are built from the model's NamedTuples (``State``, ``Queue``, ``Ent``,
``Req``, ``BufRing`` via ``initial_ring``); transitions come from the model's own
``next_state`` (a real step of v2 or of a one-hook variant), or, where no variant
can produce the broken step, from a real step whose observation or post state is
edited in one named field. Every case is one row of ``CASES``; a test checks that
each id has a row that holds and a row that breaks.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import pytest

from bufring.model import fixes
from bufring.model.actions import (Commit, CommitBegin, Observation, RegisterBegin,
                                   RegisterEnd, Request, Send)
from bufring.model.config import Config
from bufring.model.system import next_state
from bufring.model.ring import initial_ring
from bufring.model.rules import BUFRING_SETUP_RULES, GATE_RULES
from bufring.model.state import INITIAL_STATE, Ent, EntState, Queue, Req, State, get_queue
from bufring.model.uapi import REQ_HEADER_SZ
from bufring.model.variant import V2
from bufring.specs import catalog
from bufring.specs import predicates as p
from bufring.specs.scopes import BS, H, P, bufring, legacy

AVAILABLE, USERSPACE, FUSE_REQ, RELEASED = (EntState.AVAILABLE, EntState.USERSPACE,
                                            EntState.FUSE_REQ, EntState.RELEASED)
CFG = Config(max_payload_sz=BS, counter_bits=3)
REG = bufring(nbufs=2)                        # queue_depth 2, two buffers of BS at P


# --- builders -----------------------------------------------------------------------------

def ring(nbufs: int = 2, head: int = 0, tail: int | None = None, slots=None, payload: int = P,
         headers_len: int = 2 * REQ_HEADER_SZ):
    """A queue_depth-2 ring at H/P with 3-bit counters, ``head``/``tail``/``slots`` as given."""
    r = initial_ring(headers=H, queue_depth=2, nbufs=nbufs, buf_size=BS, payload=payload,
                     headers_len=headers_len, payload_len=BS * nbufs, counter_start=0, bits=3)
    return r._replace(head=head, tail=r.tail if tail is None else tail,
                      slots=r.slots if slots is None else tuple(slots))


def req(unique: int, payload: bool = True, background: bool = False) -> Req:
    return Req(unique, payload, background)


def ent(state=AVAILABLE, r: Req | None = None, id: int = 0, buf: int | None = None) -> Ent:
    return Ent(state=state, req=r, id=id, buf=buf)


def queue(bufring_, *ents: Ent, req_queue=(), bg_queue=()) -> Queue:
    """A queue whose ``ent_avail_queue`` is every AVAILABLE entry, lowest ordinal first."""
    avail = tuple(i for i, e in enumerate(ents) if e.state == AVAILABLE)
    return Queue(bufring=bufring_, ents=ents, avail=avail, req_queue=tuple(req_queue),
                 bg_queue=tuple(bg_queue))


def state(*queues: Queue) -> State:
    return State(queues=tuple(enumerate(queues)), ring=True, ready=True)


def run(actions, variant=V2, cfg: Config = CFG, start: State = INITIAL_STATE) -> list[tuple]:
    """``(pre, action, post, obs)`` of every step, from ``start``."""
    steps, s = [], start
    for a in actions:
        nxt, obs = next_state(variant, cfg, s, a)
        steps.append((s, a, nxt, obs))
        s = nxt
    return steps


def last(actions, **kw) -> tuple:
    return run(actions, **kw)[-1]


def final(actions, **kw) -> State:
    return run(actions, **kw)[-1][2]


def check(prop_id: str, *args, cfg: Config = CFG) -> bool:
    """The catalog predicate of ``prop_id`` on a state or on one step."""
    prop = catalog.get(prop_id)
    if prop.check_state is not None:
        (s,) = args
        return prop.check_state(cfg, s)
    if prop.check_step is not None:
        return prop.check_step(cfg, *args)
    (s,) = args
    return prop.goal(cfg, s)


class Case(NamedTuple):
    prop: str
    situation: str
    holds: bool                       # expected answer: True = holds / reached / goal
    build: Callable[[], bool]


CASES: list[Case] = []


def case(prop: str, situation: str, holds: bool):
    def deco(fn):
        CASES.append(Case(prop, situation, holds, fn))
        return fn
    return deco


def nothing(*rules_to_drop: str, rules=GATE_RULES) -> tuple:
    return tuple(r for r in rules if r.name not in rules_to_drop)


# Variants with one seeded bug, each a real transition system.
ANY_MODE = V2.derive("any-mode", "joins a queue whatever its mode", queue_init_consistent=lambda q, r: True)
NO_FLAGS_CHECK = V2.derive("no-flags-check", "ignores unknown flags",
                           gate_rules=nothing("register.unknown_flags"))
NO_BUF_SIZE_CHECK = V2.derive("no-buf-size-check", "accepts buf_size < max_payload_sz",
                              bufring_setup_rules=nothing("bufring.buf_size_too_small",
                                                          rules=BUFRING_SETUP_RULES))
NO_PREP = V2.derive("no-prep", "arrival selects no buffer", prep_buffer=lambda k, q, i, r: 0)


# --- buffer ring ------------------------------------------------------------------------------

@case("ring.never_full_on_recycle", "a commit recycles into a ring with room", True)
def _():
    pre, a, post, obs = last([REG, Request(0, 1, True), Commit(0, 1)])
    assert obs.recycled == (0,) and obs.warnings == ()
    return check("ring.never_full_on_recycle", pre, a, post, obs)


@case("ring.never_full_on_recycle", "a commit recycles into a full ring (WARN fires)", False)
def _():
    full = state(queue(ring(head=0, tail=2), ent(USERSPACE, req(1, False), buf=0)))
    pre, a, post, obs = last([Commit(0, 1)], start=full)
    assert obs.recycled == (0,) and "recycle_full" in obs.warnings
    return check("ring.never_full_on_recycle", pre, a, post, obs)


@case("ring.count_bounded", "a fresh ring: tail - head == nbufs", True)
def _():
    return check("ring.count_bounded", final([REG]))


@case("ring.count_bounded", "head 7, tail 1 across the 3-bit wrap: 2 free of 2", True)
def _():
    return check("ring.count_bounded", state(queue(ring(head=7, tail=1))))


@case("ring.count_bounded", "head 6, tail 1 across the wrap: 3 free of 2", False)
def _():
    return check("ring.count_bounded", state(queue(ring(head=6, tail=1))))


@case("ring.count_bounded", "tail one behind head: 7 free modulo 8", False)
def _():
    return check("ring.count_bounded", state(queue(ring(head=1, tail=0))))


@case("ring.count_bounded", "a legacy queue has no ring to bound", True)
def _():
    return check("ring.count_bounded", state(queue(None, ent())))


@case("ring.conservation", "buffer 0 held by the entry, buffer 1 in the window", True)
def _():
    return check("ring.conservation", state(queue(ring(head=1), ent(USERSPACE, req(1), buf=0))))


@case("ring.conservation", "window across the wrap holds both buffers once", True)
def _():
    return check("ring.conservation", state(queue(ring(head=7, tail=1, slots=(0, 1)))))


@case("ring.conservation", "buffer 0 selected and held by no one (lost)", False)
def _():
    return check("ring.conservation", state(queue(ring(head=1), ent())))


@case("ring.conservation", "buffer 0 both in the window and held", False)
def _():
    return check("ring.conservation", state(queue(ring(head=0, tail=2), ent(USERSPACE, req(1), buf=0))))


@case("ring.conservation", "a window longer than the ring reads slot 0 twice", False)
def _():
    return check("ring.conservation", state(queue(ring(head=0, tail=3))))


@case("ring.conservation", "null payload pool: commit loses buffer 0 (v2)", False)
def _():
    post = final([bufring(payload=0, nbufs=2), Request(0, 1, True), Request(0, 2, True), Commit(0, 1)])
    assert get_queue(post, 0).ents[0].buf == 1       # buffer 0 overwritten by the select
    return check("ring.conservation", post)


@case("ring.exclusive", "two entries hold the two buffers, window empty", True)
def _():
    return check("ring.exclusive", state(queue(ring(head=2, tail=2),
                                               ent(USERSPACE, req(1), buf=0),
                                               ent(USERSPACE, req(2), id=1, buf=1))))


@case("ring.exclusive", "a lost buffer breaks conservation, not exclusivity", True)
def _():
    s = state(queue(ring(head=1), ent()))
    assert not check("ring.conservation", s)
    return check("ring.exclusive", s)


@case("ring.exclusive", "two entries hold buffer 0", False)
def _():
    return check("ring.exclusive", state(queue(ring(head=2, tail=2),
                                               ent(USERSPACE, req(1), buf=0),
                                               ent(USERSPACE, req(2), id=1, buf=0))))


@case("ring.exclusive", "a held buffer is also in the free window", False)
def _():
    return check("ring.exclusive", state(queue(ring(head=0, tail=2), ent(USERSPACE, req(1), buf=1))))


@case("ring.buf_id_fits", "dispatch writes the id of the buffer selected", True)
def _():
    pre, a, post, obs = last([REG, Request(0, 1, True)])
    assert [d.buf_id for d in obs.dispatched] == [0]
    return check("ring.buf_id_fits", pre, a, post, obs)


@case("ring.buf_id_fits", "a request without payload holds no buffer: buf_id 0 is not checked", True)
def _():
    pre, a, post, obs = last([REG, Request(0, 1, False)])
    assert obs.dispatched[0].buf_id == 0 and get_queue(post, 0).ents[0].buf is None
    return check("ring.buf_id_fits", pre, a, post, obs)


@case("ring.buf_id_fits", "buf_id names another buffer than the one held", False)
def _():
    pre, a, post, obs = last([REG, Request(0, 1, True)])
    wrong = obs._replace(dispatched=(obs.dispatched[0]._replace(buf_id=1),))
    return check("ring.buf_id_fits", pre, a, post, wrong)


@case("ring.buf_id_fits", "a held buffer id of 65536 does not fit u16", False)
def _():
    pre, a, post, obs = last([REG, Request(0, 1, True)])
    q = get_queue(post, 0)
    big = post._replace(queues=((0, q._replace(ents=(q.ents[0]._replace(buf=0x10000),))),))
    return check("ring.buf_id_fits", pre, a, big, obs._replace(
        dispatched=(obs.dispatched[0]._replace(buf_id=0x10000),)))


@case("ring.buf_in_region", "a REGISTER creates two buffers exactly filling the region", True)
def _():
    return check("ring.buf_in_region", *last([REG]))


@case("ring.buf_in_region", "a step that creates no ring is not checked", True)
def _():
    return check("ring.buf_in_region", *last([REG, Request(0, 1, True)]))


@case("ring.buf_in_region", "the published ring has a third buffer beyond the region", False)
def _():
    pre, a, post, obs = last([REG])
    q = get_queue(post, 0)
    bigger = q._replace(bufring=q.bufring._replace(nbufs=3, slots=(0, 1, 2)))
    return check("ring.buf_in_region", pre, a, post._replace(queues=((0, bigger),)), obs)


@case("ring.buf_in_region", "a variant accepts buffers shorter than max_payload_sz", False)
def _():
    small = REG._replace(buf_size=BS // 2, payload=(P, BS))
    pre, a, post, obs = last([small], variant=NO_BUF_SIZE_CHECK)
    assert obs.ret == 0 and get_queue(post, 0).bufring.nbufs == 2
    return check("ring.buf_in_region", pre, a, post, obs)


# --- registration -------------------------------------------------------------------------------

@case("reg.flags_consistent", "a second bufring REGISTER joins a bufring queue", True)
def _():
    return check("reg.flags_consistent", *last([REG, bufring(buf_index=1, nbufs=2)]))


@case("reg.flags_consistent", "v2 rejects a legacy REGISTER on a bufring queue", True)
def _():
    pre, a, post, obs = last([REG, legacy()])
    assert obs.ret == -22
    return check("reg.flags_consistent", pre, a, post, obs)


@case("reg.flags_consistent", "a variant lets a legacy REGISTER join a bufring queue", False)
def _():
    return check("reg.flags_consistent", *last([REG, legacy()], variant=ANY_MODE))


@case("reg.flags_consistent", "v2: the losing bufring REGISTER of a race meets a legacy queue", True)
def _():
    pre, a, post, obs = last([RegisterBegin(0, *REG), legacy(), RegisterEnd(0)])
    assert obs.ret == -22 and "register_race" in obs.events
    return check("reg.flags_consistent", pre, a, post, obs)


@case("reg.flags_consistent", "a variant lets the losing bufring REGISTER join the legacy winner", False)
def _():
    return check("reg.flags_consistent", *last([RegisterBegin(0, *REG), legacy(), RegisterEnd(0)],
                                               variant=ANY_MODE))


@case("reg.unknown_flags_rejected", "flag bit 1 gives -EINVAL and no queue (v2)", True)
def _():
    pre, a, post, obs = last([REG._replace(flags=3)])
    assert obs.ret == -22 and post.queues == ()
    return check("reg.unknown_flags_rejected", pre, a, post, obs)


@case("reg.unknown_flags_rejected", "a split REGISTER with flag bit 1 is rejected at begin (v2)", True)
def _():
    return check("reg.unknown_flags_rejected", *last([RegisterBegin(0, *REG._replace(flags=3))]))


@case("reg.unknown_flags_rejected", "a variant accepts flag bit 1", False)
def _():
    return check("reg.unknown_flags_rejected", *last([REG._replace(flags=3)], variant=NO_FLAGS_CHECK))


@case("reg.unknown_flags_rejected", "a variant parks a split REGISTER with flag bit 1", False)
def _():
    pre, a, post, obs = last([RegisterBegin(0, *REG._replace(flags=3))], variant=NO_FLAGS_CHECK)
    assert obs.pending is True
    return check("reg.unknown_flags_rejected", pre, a, post, obs)


@case("reg.no_partial_effect", "a REGISTER rejected at the gate leaves nothing", True)
def _():
    return check("reg.no_partial_effect", *last([REG._replace(flags=3)]))


@case("reg.no_partial_effect", "buf_index == queue_depth: v2 keeps the queue it created", False)
def _():
    pre, a, post, obs = last([REG._replace(buf_index=2)])
    assert obs.ret == -22 and get_queue(post, 0) is not None
    return check("reg.no_partial_effect", pre, a, post, obs)


@case("reg.no_partial_effect", "buf_index == queue_depth: the ent-before-publish fix leaves nothing", True)
def _():
    return check("reg.no_partial_effect", *last([REG._replace(buf_index=2)],
                                                variant=fixes.ENT_BEFORE_PUBLISH))


@case("reg.init_consistent", "a second REGISTER repeats the init fields", True)
def _():
    return check("reg.init_consistent", *last([REG, REG._replace(buf_index=1)]))


@case("reg.init_consistent", "a second REGISTER with 4 buffers joins a 2-buffer queue (v2)", False)
def _():
    pre, a, post, obs = last([REG, bufring(buf_index=1, nbufs=4)])
    assert obs.ret == 0
    return check("reg.init_consistent", pre, a, post, obs)


@case("reg.init_consistent", "legacy entries carry no init fields", True)
def _():
    return check("reg.init_consistent", *last([legacy(n=0), legacy(n=1)]))


@case("reg.init_consistent", "a split REGISTER that publishes its own queue", True)
def _():
    return check("reg.init_consistent", *last([RegisterBegin(0, *REG), RegisterEnd(0)]))


@case("reg.init_consistent", "the loser of a race with other init fields joins the winner", False)
def _():
    pre, a, post, obs = last([RegisterBegin(0, *bufring(nbufs=4)), REG, RegisterEnd(0)])
    assert obs.ret == 0 and get_queue(post, 0).bufring.nbufs == 2
    return check("reg.init_consistent", pre, a, post, obs)


@case("hdr.slot_bounds", "entries 0 and 1 of queue_depth 2 in a 576-byte region", True)
def _():
    return check("hdr.slot_bounds", state(queue(ring(), ent(), ent(id=1))))


@case("hdr.slot_bounds", "an entry with id 2 == queue_depth writes past the region", False)
def _():
    return check("hdr.slot_bounds", state(queue(ring(), ent(id=2))))


@case("hdr.slot_bounds", "entry 1 of a 575-byte region ends one byte past it", False)
def _():
    return check("hdr.slot_bounds", state(queue(ring(headers_len=2 * REQ_HEADER_SZ - 1), ent(id=1))))


@case("hdr.slot_unique", "entries 0 and 1", True)
def _():
    return check("hdr.slot_unique", state(queue(ring(), ent(), ent(id=1))))


@case("hdr.slot_unique", "two live entries with id 0 (v2 accepts the duplicate)", False)
def _():
    return check("hdr.slot_unique", final([REG, REG]))


@case("hdr.slot_unique", "a RELEASED entry's slot may be reused", True)
def _():
    return check("hdr.slot_unique", state(queue(ring(), ent(RELEASED), ent())))


@case("hdr.slot_unique", "legacy entries have no slot ids", True)
def _():
    return check("hdr.slot_unique", final([legacy(n=0), legacy(n=1)]))


# --- request flow ------------------------------------------------------------------------------------

@case("flow.idle_holds_no_buffer", "an idle entry holds nothing, a busy one holds buffer 0", True)
def _():
    return check("flow.idle_holds_no_buffer",
                 state(queue(ring(head=1), ent(), ent(USERSPACE, req(1), id=1, buf=0))))


@case("flow.idle_holds_no_buffer", "after a commit with nothing queued the buffer is recycled", True)
def _():
    return check("flow.idle_holds_no_buffer", final([REG, Request(0, 1, True), Commit(0, 1)]))


@case("flow.idle_holds_no_buffer", "null payload pool: the idle entry keeps buffer 0 (v2)", False)
def _():
    post = final([bufring(payload=0), Request(0, 1, True), Commit(0, 1)])
    assert get_queue(post, 0).ents[0] == ent(AVAILABLE, None, buf=0)
    return check("flow.idle_holds_no_buffer", post)


@case("flow.payload_has_buffer", "a payload request leaves with buffer 0 at P", True)
def _():
    return check("flow.payload_has_buffer", *last([REG, Request(0, 1, True)]))


@case("flow.payload_has_buffer", "a request without payload needs no buffer", True)
def _():
    return check("flow.payload_has_buffer", *last([REG, Request(0, 1, False)]))


@case("flow.payload_has_buffer", "legacy entries bring their own payload buffer", True)
def _():
    return check("flow.payload_has_buffer", *last([legacy(), Request(0, 1, True)]))


@case("flow.payload_has_buffer", "null payload pool: buffer 0 has address 0 (v2)", False)
def _():
    pre, a, post, obs = last([bufring(payload=0), Request(0, 1, True)])
    assert obs.dispatched[0].payload_addr == 0 and "payload_copy_null" in obs.warnings
    return check("flow.payload_has_buffer", pre, a, post, obs)


@case("flow.payload_has_buffer", "a variant hands out a payload request with no buffer", False)
def _():
    return check("flow.payload_has_buffer", *last([REG, Request(0, 1, True)], variant=NO_PREP))


@case("flow.commit_matches", "a commit of a request in user space recycles its buffer", True)
def _():
    return check("flow.commit_matches", *last([REG, Request(0, 1, True), Commit(0, 1)]))


@case("flow.commit_matches", "a commit keeps the buffer for the next payload request", True)
def _():
    pre, a, post, obs = last([REG, Request(0, 1, True), Request(0, 2, True), Commit(0, 1)])
    assert "buffer_kept" in obs.events
    return check("flow.commit_matches", pre, a, post, obs)


@case("flow.commit_matches", "a split commit's begin accepts an entry in user space", True)
def _():
    pre, a, post, obs = last([REG, Request(0, 1, True), CommitBegin(0, 1)])
    assert obs.pending is True
    return check("flow.commit_matches", pre, a, post, obs)


@case("flow.commit_matches", "a request arrival is no commit", True)
def _():
    return check("flow.commit_matches", *last([REG, Request(0, 1, True)]))


@case("flow.commit_matches", "null payload pool: buffer 0 neither back in the ring nor kept (v2)", False)
def _():
    return check("flow.commit_matches", *last([bufring(payload=0), Request(0, 1, True), Commit(0, 1)]))


@case("flow.commit_matches", "a commit accepted for an entry still in FUSE_REQ", False)
def _():
    pre = state(queue(ring(head=1), ent(FUSE_REQ, req(1), buf=0)))
    return check("flow.commit_matches", pre, Commit(0, 1), pre, Observation(ret=0))


@case("flow.commit_matches", "the committed buffer ends up held by another entry", False)
def _():
    pre, a, post, obs = last([REG, Request(0, 1, True), Commit(0, 1)])
    q = get_queue(post, 0)
    thief = q._replace(ents=q.ents + (ent(USERSPACE, req(2), id=1, buf=0),))
    return check("flow.commit_matches", pre, a, post._replace(queues=((0, thief),)), obs)


@case("flow.work_conserving", "an idle entry and nothing queued", True)
def _():
    return check("flow.work_conserving", state(queue(ring(), ent())))


@case("flow.work_conserving", "an idle entry, a payload request queued, the ring empty", True)
def _():
    return check("flow.work_conserving", state(queue(ring(head=2, tail=2), ent(), req_queue=[req(1)])))


@case("flow.work_conserving", "requests queued but no entry idle", True)
def _():
    return check("flow.work_conserving", state(queue(ring(head=1), ent(USERSPACE, req(1), buf=0),
                                                     req_queue=[req(2), req(3, False)])))


@case("flow.work_conserving", "an idle entry, a payload request queued, a buffer free", False)
def _():
    return check("flow.work_conserving", state(queue(ring(head=1), ent(), req_queue=[req(1)])))


@case("flow.work_conserving", "an idle entry behind a payload head, a request without payload queued",
      False)
def _():
    return check("flow.work_conserving", state(queue(ring(head=2, tail=2), ent(),
                                                     req_queue=[req(1), req(2, False)])))


@case("flow.work_conserving", "v2: REGISTER leaves a queued request beside the new entry", False)
def _():
    post = final([REG, Request(0, 1, True), Request(0, 2, True), REG._replace(buf_index=1)])
    assert get_queue(post, 0).avail == (1,) and len(get_queue(post, 0).req_queue) == 1
    return check("flow.work_conserving", post)


for _goal in ("flow.no_deadlock", "flow.eventually_dispatched"):
    case(_goal, "goal: no queue has a waiting request", True)(
        lambda g=_goal: check(g, state(queue(ring(head=1), ent(USERSPACE, req(1), buf=0)))))
    case(_goal, "goal missed: a request waits in fuse_req_queue", False)(
        lambda g=_goal: check(g, state(queue(ring(), ent(USERSPACE, req(1)), req_queue=[req(2)]))))
    case(_goal, "goal missed: a request waits in the background queue of queue 1", False)(
        lambda g=_goal: check(g, state(queue(ring()), queue(ring(), bg_queue=[req(2, background=True)]))))


@case("flow.fifo", "a commit hands out the head of the queue", True)
def _():
    pre, a, post, obs = last([REG, Request(0, 1, True), Request(0, 2, True), Request(0, 3, False),
                              Commit(0, 1)])
    assert [d.unique for d in obs.dispatched] == [2]
    return check("flow.fifo", pre, a, post, obs)


@case("flow.fifo", "an arrival with nothing queued", True)
def _():
    return check("flow.fifo", *last([REG, Request(0, 1, True)]))


@case("flow.fifo", "-ENOBUFS: a request without payload passes a waiting payload request (v2)", False)
def _():
    pre, a, post, obs = last([bufring(), bufring(buf_index=1), Request(0, 1, True), Request(0, 2, True),
                              Request(0, 3, False)])
    assert [d.unique for d in obs.dispatched] == [3] and [r.unique for r in get_queue(post, 0).req_queue] == [2]
    return check("flow.fifo", pre, a, post, obs)


@case("flow.fifo", "a deferred send of a request assigned before the queued one arrived", True)
def _():
    cfg = Config(max_payload_sz=BS, counter_bits=3, deferred_send=True)
    steps = run([REG, Request(0, 1, True), Request(0, 2, True), Send(0, 0)], cfg=cfg)
    assert steps[1][3].dispatched == () and steps[1][3].queued is False   # 1 assigned, not queued
    pre, a, post, obs = steps[-1]
    assert [d.unique for d in obs.dispatched] == [1] and [r.unique for r in get_queue(pre, 0).req_queue] == [2]
    return check("flow.fifo", pre, a, post, obs, cfg=cfg)


@case("flow.fifo", "deferred send: the arrival that assigns past a waiting request breaks it", False)
def _():
    cfg = Config(max_payload_sz=BS, counter_bits=3, deferred_send=True)
    pre, a, post, obs = last([bufring(), bufring(buf_index=1), Request(0, 1, True), Request(0, 2, True),
                              Request(0, 3, False)], cfg=cfg)
    assert obs.dispatched == () and get_queue(post, 0).ents[0].req.unique == 3
    return check("flow.fifo", pre, a, post, obs, cfg=cfg)


# --- witnesses --------------------------------------------------------------------------------------

@case("w.recycle", "a commit with nothing queued recycles buffer 0", True)
def _():
    return check("w.recycle", *last([REG, Request(0, 1, True), Commit(0, 1)]))


@case("w.recycle", "an arrival recycles nothing", False)
def _():
    return check("w.recycle", *last([REG, Request(0, 1, True)]))


@case("w.select_enobufs", "a second payload request finds the one buffer out", True)
def _():
    return check("w.select_enobufs", *last([bufring(), bufring(buf_index=1), Request(0, 1, True),
                                            Request(0, 2, True)]))


@case("w.select_enobufs", "a first payload request finds a buffer", False)
def _():
    return check("w.select_enobufs", *last([bufring(), Request(0, 1, True)]))


@case("w.counter_wrap", "a select with head 7 of 3 bits wraps to 0", True)
def _():
    cfg = Config(max_payload_sz=BS, counter_bits=3, counter_start=7)
    pre, a, post, obs = last([bufring(), Request(0, 1, True)], cfg=cfg)
    assert get_queue(post, 0).bufring.head == 0
    return check("w.counter_wrap", pre, a, post, obs, cfg=cfg)


@case("w.counter_wrap", "a select with head 0 does not wrap", False)
def _():
    return check("w.counter_wrap", *last([bufring(), Request(0, 1, True)]))


@case("w.register_race", "a split REGISTER finds the queue published meanwhile", True)
def _():
    return check("w.register_race", *last([RegisterBegin(0, *REG), REG, RegisterEnd(0)]))


@case("w.register_race", "a split REGISTER publishes its own queue", False)
def _():
    return check("w.register_race", *last([RegisterBegin(0, *REG), RegisterEnd(0)]))


@case("w.buffer_reused", "a commit keeps the buffer for the next payload request", True)
def _():
    return check("w.buffer_reused", *last([REG, Request(0, 1, True), Request(0, 2, True), Commit(0, 1)]))


@case("w.buffer_reused", "a commit with nothing queued keeps nothing", False)
def _():
    return check("w.buffer_reused", *last([REG, Request(0, 1, True), Commit(0, 1)]))


@case("w.ring_empty", "both buffers out", True)
def _():
    return check("w.ring_empty", state(queue(ring(head=2, tail=2))))


@case("w.ring_empty", "a fresh ring", False)
def _():
    return check("w.ring_empty", final([REG]))


@case("w.ring_empty", "a legacy queue has no ring to empty", False)
def _():
    return check("w.ring_empty", final([legacy()]))


# --- the tests -------------------------------------------------------------------------------------

@pytest.mark.parametrize("c", CASES, ids=lambda c: f"{c.prop}: {c.situation}: "
                                                    f"{'holds' if c.holds else 'breaks'}")
def test_predicate_on_hand_built_case_gives_the_expected_answer(c: Case):
    assert c.build() is c.holds


def test_every_catalog_id_has_a_case_that_holds_and_one_that_breaks():
    have = {(c.prop, c.holds) for c in CASES}
    missing = [(prop.id, want) for prop in catalog.CATALOG for want in (True, False)
               if (prop.id, want) not in have]
    assert missing == []


def test_state_predicates_do_not_change_the_state_they_read():
    s = state(queue(ring(head=1), ent(), ent(USERSPACE, req(1), id=1, buf=0), req_queue=[req(2)]))
    before = repr(s)
    for prop in catalog.CATALOG:
        fn = prop.check_state or prop.goal
        if fn is not None:
            fn(CFG, s)
    assert repr(s) == before


def test_window_lists_every_position_of_an_overlong_window():
    assert p.window(ring(head=0, tail=3), 3) == (0, 1, 0)
    assert p.window(ring(head=7, tail=1), 3) == (1, 0)
