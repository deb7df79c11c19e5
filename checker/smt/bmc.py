"""Bounded model checking of the abstract ring, by explicit search.

When an inductive step fails, ``checker.smt.induction`` asks whether a real
violation is reachable: a bounded search from initial rings, breadth first, so
the first violation found is a shortest one. It runs the very transitions of
``checker.smt.ring`` (select, select over an unseen buffer 0, recycle), with the
variant's :class:`~model.ring.RingLogic` evaluated on ``CONCRETE``
values, and judges each state with the catalog's own predicates
(``specs.predicates``) on a model state built from it. It searches a finite set
of starting points: a few ``nbufs`` of the variant's domain (the CTI's own, the
smallest, those around the u16 limit, the largest) and counter starts at 0,
2^16, and within ``depth + 1`` steps of the wrap.

Explicit search here is deliberate: z3 needed seconds per depth for what Python
enumerates in milliseconds. It only finds counterexamples; it proves nothing,
and a run it finds is still turned into a trace and replayed on the full model.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from bufring.checker.smt.ring import OVR, REC, SEL
from bufring.model.actions import Commit, Dispatch, Observation, Request, WarnCode
from bufring.model.cint import CONCRETE
from bufring.model.config import Config
from bufring.model.ring import BufRing, RingLogic, RingVals
from bufring.model.state import Ent, EntState, Queue, State

STATE_CHECK_LIMIT = 4096
"""Largest ``nbufs`` whose states are judged by the state predicates (they walk all
``nbufs`` ids); larger rings are searched for step violations only."""


class SparseSlots:
    """Slots as overrides of "slot i holds buffer i": a sorted tuple of (i, id)
    pairs, so that a ring of two billion buffers costs nothing."""

    @staticmethod
    def get(slots, i):
        for index, value in slots:
            if index == i:
                return value
        return i

    @staticmethod
    def put(slots, i, value):
        rest = tuple((index, v) for index, v in slots if index != i)
        return tuple(sorted(rest + (((i, value),) if value != i else ())))


@dataclass(frozen=True)
class AbstractState:
    head: int
    tail: int
    slots: tuple           # SparseSlots overrides
    held: tuple            # sorted buffer ids held by entries (a multiset)


def model_state(n: int, s: AbstractState, bits: int) -> State:
    """A model state with this ring and one USERSPACE entry per held buffer: what
    the catalog's state predicates read."""
    slot_ids = tuple(SparseSlots.get(s.slots, i) for i in range(n)) if n <= STATE_CHECK_LIMIT else None
    ring = BufRing(headers=0, queue_depth=1, nbufs=n, head=s.head, tail=s.tail, slots=slot_ids,
                   buf_size=1, payload=1, headers_len=0, payload_len=n)
    ents = tuple(Ent(state=EntState.USERSPACE, buf=b) for b in s.held)
    return State(queues=((0, Queue(bufring=ring, ents=ents)),), ring=True, ready=True)


def successors(logic: RingLogic, n: int, blind0: bool, s: AbstractState, bits: int):
    """``(kind, buf, warned, selected, next_state)`` for every enabled transition."""
    c = CONCRETE
    r = RingVals(s.head, s.tail, n, s.slots)
    empty, b_sel, r_sel = logic.select(c, SparseSlots, r, bits)
    if not empty:
        yield SEL, None, False, b_sel, AbstractState(r_sel.head, r_sel.tail, r_sel.slots,
                                                      tuple(sorted(s.held + (b_sel,))))
        if blind0 and 0 in s.held:
            held = list(s.held)
            held.remove(0)
            yield OVR, None, False, b_sel, AbstractState(r_sel.head, r_sel.tail, r_sel.slots,
                                                          tuple(sorted(held + [b_sel])))
    for b in sorted(set(s.held)):
        if blind0 and b == 0:
            continue
        warned, r_rec = logic.recycle(c, SparseSlots, r, b, bits)
        held = list(s.held)
        held.remove(b)
        yield REC, b, bool(warned), None, AbstractState(r_rec.head, r_rec.tail, r_rec.slots, tuple(held))


def starts(n: int, bits: int, depth: int, hint_head: int | None = None) -> list[int]:
    """Counter starts to try: 0, 2^16, near the wrap, and near the CTI's head."""
    top = min((1 << bits) - n, (1 << bits) - 1)       # counter_start + nbufs <= 2^bits
    out = [0] + ([1 << 16] if bits > 16 else []) + list(range(max(0, top - depth - 1), top + 1))
    if hint_head is not None:
        out += list(range(max(0, hint_head - depth), hint_head + 1))
    seen, result = set(), []
    for cs in out:
        if 0 <= cs <= top and cs not in seen:
            seen.add(cs)
            result.append(cs)
    return result


@dataclass
class Found:
    nbufs: int
    payload_at_0: bool
    counter_start: int
    events: list            # (kind, buf)


def search(prop, logic: RingLogic, n: int, blind0: bool, bits: int, depth: int, counter_starts: list[int],
           deadline: float) -> Found | None:
    """Breadth-first from all starts at once: the first state (or step) where ``prop``
    (a catalog property) fails is a shortest violation within ``depth`` transitions."""
    cfg = Config(counter_bits=bits)
    state_check = prop.check_state if n <= STATE_CHECK_LIMIT else None
    frontier = deque()
    seen = set()
    for cs in counter_starts:
        init = AbstractState(cs, CONCRETE.add(cs, n, bits), (), ())
        if state_check is not None and not state_check(cfg, model_state(n, init, bits)):
            return Found(n, blind0, cs, [])
        if init not in seen:
            seen.add(init)
            frontier.append((init, cs, []))
    while frontier:
        if time.perf_counter() > deadline:
            return None
        s, cs, path = frontier.popleft()
        if len(path) >= depth:
            continue
        for kind, b, warned, selected, nxt in successors(logic, n, blind0, s, bits):
            events = path + [(kind, b if b is not None else 0)]
            post = model_state(n, nxt, bits)
            if (prop.check_step is not None and not _step_holds(prop, cfg, n, s, kind, warned,
                                                                selected, post, bits)) or (
                    state_check is not None and not state_check(cfg, post)):
                return Found(n, blind0, cs, events)
            if nxt not in seen:
                seen.add(nxt)
                frontier.append((nxt, cs, events))
    return None


def _step_holds(prop, cfg, n, pre: AbstractState, kind, warned, selected, post, bits) -> bool:
    """The catalog's step predicate on this transition, seen as the model would show
    it: a select dispatches ``(u16) id`` to the entry now holding it, a recycle
    carries the ``recycle_full`` warning when it WARNed."""
    pre_state = model_state(n, pre, bits)
    if kind == REC:
        action = Commit(qid=0, commit_id=1)
        obs = Observation(ret=0, warnings=(WarnCode.RECYCLE_FULL,) if warned else ())
    else:
        action = Request(qid=0, unique=1, payload=True)
        ent = next(i for i, e in enumerate(post.queues[0][1].ents) if e.buf == selected)
        obs = Observation(via="ring", queued=False, dispatched=(Dispatch(
            ent=ent, unique=1, buf_id=CONCRETE.trunc(selected, 16), payload_addr=1, header_addr=0),))
    return prop.check_step(cfg, pre_state, action, post, obs)
