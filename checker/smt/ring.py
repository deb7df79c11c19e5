"""The buffer ring of one queue as a symbolic transition system, and what must hold of it.

State (docs/smt.md, "The ring abstraction"): the kernel's ``head``, ``tail``
(``bits`` wide, free-running) and ``bufs[]`` as a z3 array ``slots`` from slot
index to buffer id; the entries abstracted to ``held``, the multiset of buffer
ids they hold (an array from id to count), and ``h``, its size. Constants:
``nbufs``, ranging over every value the variant's rules accept (a symbolic
REGISTER that creates the ring, ``checker.smt.register``), and ``payload_at_0``:
the payload pool starts at address 0, so buffer 0 has address 0 and the kernel's
"holds a buffer" test (``payload_buf.addr != 0``) cannot see it.

Transitions, one per step of the kernel's flow that touches the ring, with the
variant's select/recycle: the model's own ring logic (``model.ring.RingLogic``,
found by ``checker.smt.ringlogic.ring_logic_of``) run on z3 terms:

* ``select``: an entry that holds no buffer selects (``fuse_uring_prep_buffer``
  or ``fuse_uring_next_req_update_buffer``); the buffer joins ``held``;
* ``select over buffer 0``: with ``payload_at_0``, an entry holding buffer 0
  looks empty to the kernel and selects again: buffer 0 leaves ``held`` unseen;
* ``recycle``: an entry gives back a buffer it holds and the kernel sees
  (``fuse_uring_recycle_buffer``);
* ``keep``: an entry keeps its buffer for the next request; the ring is unchanged
  and the buffer's id is written to user space again.

Properties and lemmas are universally quantified over window offsets, buffer ids
and slot indices; queries stay quantifier-free by instantiating them at the terms
a step mentions (:class:`Terms`). Instantiating fewer facts only weakens the
hypothesis of a step, so an unsat step is a proof; a sat one is a candidate
counterexample to induction, which ``checker.smt.induction`` triages.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product

import z3
from bufring.checker.smt.ringlogic import ArraySlots, LogSlots
from bufring.model.ring import RingLogic, RingVals, free_count, slot_index

SEL, OVR, REC, KEEP = range(4)
KINDS = ("select", "select over unseen buffer 0", "recycle", "keep")
BUF_ID_BITS = 16          # fuse_uring_ent_in_out.buf_id is a u16


# --- parameters, states, steps ---------------------------------------------------------------------

@dataclass
class Params:
    """The ring's constants: ``n`` (nbufs), ``blind0`` (payload_at_0), the counter
    width, the variant's ring logic, and the constraints of the variant's
    ``nbufs`` domain (``checker.smt.nbufs``: proved to cover every REGISTER the
    rules accept)."""

    n: object
    blind0: object
    bits: int
    logic: RingLogic
    constraints: list


def params(sym, domain, logic: RingLogic, bits: int, *, blind0=None, nbufs=None) -> Params:
    """``nbufs`` ranging over ``domain`` (below ``2^bits``, as TRACE-FORMAT requires);
    ``blind0`` and ``nbufs`` may be fixed."""
    n = sym.var("nbufs", bits)
    b0 = sym.bool("payload_at_0")
    cons = domain.constraints(sym, n, b0, bits)
    if blind0 is not None:
        cons.append(b0 == z3.BoolVal(blind0))
    if nbufs is not None:
        cons.append(n == sym.const(nbufs, bits))
    return Params(n, b0, bits, logic, cons)


class HeldArray:
    """The held multiset as a z3 array from buffer id to count."""

    def __init__(self, sym, bits: int):
        self.sym, self.bits = sym, bits

    def count(self, held, b):
        return self.sym.read(held, b, None)

    def change(self, held, guard, b, delta: int):
        sym = self.sym
        return z3.Store(held, b, self.count(held, b) + z3.If(guard, sym.natval(delta), sym.natval(0)))


class HeldLog:
    """The held multiset as a log of guarded ``(guard, id, delta)`` changes from the
    empty multiset: no array (bounded model checking from the initial ring)."""

    def __init__(self, sym, bits: int):
        self.sym, self.bits = sym, bits

    def count(self, held, b):
        sym = self.sym
        total = sym.natval(0)
        for guard, x, delta in held:
            total = total + z3.If(z3.And(guard, x == b), sym.natval(delta), sym.natval(0))
        return total

    @staticmethod
    def change(held, guard, b, delta: int):
        return held + ((guard, b, delta),)


@dataclass
class RState:
    head: object
    tail: object
    slots: object
    held: object
    h: object
    slot_store: type        # ArraySlots or LogSlots
    held_store: object      # HeldArray or HeldLog instance

    def slot(self, sym, bits: int, i):
        return self.slot_store(sym, bits).get(self.slots, i)


def free_state(sym, prm: Params, name: str) -> RState:
    """Any state: every counter value, any slot contents, any held multiset."""
    return RState(sym.var(f"{name}.head", prm.bits), sym.var(f"{name}.tail", prm.bits),
                  sym.array(f"{name}.slots", prm.bits, prm.bits),
                  sym.array(f"{name}.held", prm.bits, None), sym.ghost(f"{name}.h"),
                  ArraySlots, HeldArray(sym, prm.bits))


def initial_state(sym, prm: Params, name: str = "init"):
    """The ring as ``fuse_uring_bufring_setup()`` leaves it, pre-advanced to any
    ``counter_start`` the trace format allows (``counter_start + nbufs <= 2^bits``):
    ``head = start``, ``tail = start + nbufs``, slot i holds buffer i, nothing held."""
    c = sym.c
    start = sym.var(f"{name}.counter_start", prm.bits)
    s = RState(start, c.add(start, prm.n, prm.bits), (), (), sym.natval(0),
               LogSlots, HeldLog(sym, prm.bits))
    fit = sym.nat(start, prm.bits) + sym.nat(prm.n, prm.bits) <= (1 << prm.bits)
    return s, [fit], start


@dataclass
class Event:
    """The transition a step takes: its kind, the buffer select returned, the
    buffer an entry recycles or keeps, whether recycle WARNed, and whether the
    chosen transition is enabled."""

    kind: object
    b_sel: object
    b: object
    warned: object
    enabled: object


def transition(sym, prm: Params, s: RState, name: str, kinds=(SEL, OVR, REC, KEEP)):
    """One step of the abstract ring: ``(post, event)``; ``event.enabled`` must be asserted.

    The variant's select runs with its slot writes guarded by "this step selects",
    its recycle with writes guarded by "this step recycles", so one term covers
    every transition without an if-then-else over arrays."""
    c, bits = sym.c, prm.bits
    kind = sym.choice(f"{name}.kind", 4)
    b = sym.var(f"{name}.buf", bits)
    zero = c.const(0, bits)
    selects = z3.Or(kind == SEL, kind == OVR)
    recycles = kind == REC
    r = RingVals(s.head, s.tail, prm.n, s.slots)
    empty, b_sel, r_sel = prm.logic.select(c, s.slot_store(sym, bits, selects), r, bits)
    warned, r_rec = prm.logic.recycle(c, s.slot_store(sym, bits, recycles),
                                      r._replace(slots=r_sel.slots), b, bits)
    hs = s.held_store
    held_b, held_0 = hs.count(s.held, b), hs.count(s.held, zero)
    held = hs.change(s.held, kind == OVR, zero, -1)
    held = hs.change(held, selects, b_sel, +1)
    held = hs.change(held, recycles, b, -1)
    guard = {SEL: c.not_(empty),
             OVR: z3.And(prm.blind0, held_0 >= 1, c.not_(empty)),
             REC: z3.And(held_b >= 1, z3.Not(z3.And(prm.blind0, b == zero))),
             KEEP: held_b >= 1}
    h = z3.If(kind == SEL, s.h + 1, z3.If(recycles, s.h - 1, s.h))
    post = RState(z3.If(selects, r_sel.head, z3.If(recycles, r_rec.head, s.head)),
                  z3.If(selects, r_sel.tail, z3.If(recycles, r_rec.tail, s.tail)),
                  r_rec.slots, held, h, s.slot_store, hs)
    enabled = z3.Or(*[z3.And(kind == k, guard[k]) for k in kinds])
    return post, Event(kind, b_sel, b, warned, enabled)


# --- views -------------------------------------------------------------------------------------------

class View:
    """The free window ``[head, tail)`` of a state as the catalog reads it
    (``specs.predicates.window``: offset k names slot ``(head + k) % nbufs``)."""

    def __init__(self, sym, prm: Params):
        self.sym, self.prm, self.c, self.bits = sym, prm, sym.c, prm.bits

    def wnd(self, s: RState):
        return free_count(self.c, s.head, s.tail, self.bits)

    def ctr(self, s: RState, k):
        return self.c.add(s.head, k, self.bits)

    def pos(self, counter):
        return slot_index(self.c, counter, self.prm.n, self.bits)

    def occ(self, s: RState, k):
        return s.slot(self.sym, self.bits, self.pos(self.ctr(s, k)))

    def inwin(self, s: RState, k):
        return self.c.ult(k, self.wnd(s))

    def held(self, s: RState, b):
        return s.held_store.count(s.held, b)

    def nat(self, x):
        return self.sym.nat(x, self.bits)


@dataclass
class Terms:
    """Where universal facts are instantiated: window offsets, buffer ids, slot indices."""

    offsets: list = field(default_factory=list)
    ids: list = field(default_factory=list)
    slots: list = field(default_factory=list)

    def __add__(self, other: Terms) -> Terms:
        return Terms(_uniq(self.offsets + other.offsets), _uniq(self.ids + other.ids),
                     _uniq(self.slots + other.slots))


def _uniq(terms: list) -> list:
    seen, out = set(), []
    for t in terms:
        key = t.get_id() if isinstance(t, z3.AstRef) else ("int", t)
        if key not in seen:
            seen.add(key)
            out.append(t)
    return out


def step_terms(v: View, s0: RState, s1: RState, ev: Event, post: Terms) -> Terms:
    """Instantiation terms for a step from ``s0`` to ``s1`` whose goal's skolems are
    ``post``: every post offset k is pre offset k (recycle, keep) or k + 1 (select);
    offset ``tail - head`` names the slot recycle writes."""
    c, bits = v.c, v.bits
    offsets = [c.const(0, bits), c.const(1, bits), v.wnd(s0)]
    for k in post.offsets:
        offsets += [k, c.add(k, 1, bits)]
    offsets = _uniq(offsets)
    ids = [c.const(0, bits), ev.b_sel, ev.b] + post.ids
    ids += [v.occ(s0, k) for k in offsets] + [v.occ(s1, k) for k in post.offsets]
    slots = [v.pos(s0.head), v.pos(s0.tail)] + post.slots + [v.pos(v.ctr(s0, k)) for k in offsets]
    return Terms(offsets, _uniq(ids), _uniq(slots))


def multiset_facts(v: View, s: RState, ids: list) -> list:
    """What ``h`` being the size of the multiset ``held`` gives at these ids:
    counts are non-negative and none exceeds ``h``."""
    out = [s.h >= 0]
    for b in ids:
        out += [v.held(s, b) >= 0, v.held(s, b) <= s.h]
    return out


# --- properties and lemmas ---------------------------------------------------------------------------

class Invariant:
    """A predicate over ring states. ``facts`` instantiates it at ``terms``;
    ``violation`` is its negation with fresh skolems (and returns them as Terms)."""

    id = ""
    text = ""
    stateless = False          # an arithmetic fact about nbufs: proved once, no step

    def facts(self, v: View, s: RState, t: Terms) -> list:
        raise NotImplementedError

    def violation(self, v: View, s: RState, name: str):
        """The negation with fresh skolems: ``(formula, Terms)``."""
        parts = self.violation_parts(v, s, name)
        return z3.Or(*[f for f, _ in parts]), sum((t for _, t in parts), Terms())

    def violation_parts(self, v: View, s: RState, name: str) -> list:
        """The negation as separate disjuncts (a step is checked one at a time)."""
        return [self.violation(v, s, name)]


class StepProperty:
    """A predicate over one transition (what happens during it)."""

    id = ""
    text = ""

    def violation(self, v: View, s: RState, ev: Event):
        raise NotImplementedError


class CountBounded(Invariant):
    id = "ring.count_bounded"
    text = "tail - head <= nbufs"

    def facts(self, v, s, t):
        return [v.c.ule(v.wnd(s), v.prm.n)]

    def violation(self, v, s, name):
        return v.c.ugt(v.wnd(s), v.prm.n), Terms()


class Conservation(Invariant):
    """Window and held buffers together are exactly the ids 0..nbufs-1, each once:
    (1) ``tail - head + h == nbufs``; (2) every window id is < nbufs and not held;
    (3) no id twice in the window; (4) no id held twice, held ids < nbufs. With
    ``h`` the multiset's size, (1)-(4) is ``specs.predicates.conservation``."""

    id = "ring.conservation"
    text = "every buffer 0..nbufs-1 is in exactly one place"

    def facts(self, v, s, t):
        c, n = v.c, v.prm.n
        out = [v.nat(v.wnd(s)) + s.h == v.nat(n)]
        for k in t.offsets:
            out.append(z3.Implies(v.inwin(s, k), z3.And(c.ult(v.occ(s, k), n), v.held(s, v.occ(s, k)) == 0)))
        out += _distinct_window(v, s, t)
        for b in t.ids:
            out.append(z3.And(v.held(s, b) <= 1, z3.Implies(v.held(s, b) >= 1, c.ult(b, n))))
        return out

    def violation_parts(self, v, s, name):
        c, n, sym = v.c, v.prm.n, v.sym
        k, k1, k2 = (sym.var(f"{name}.{x}", v.bits) for x in ("k", "k1", "k2"))
        b = sym.var(f"{name}.b", v.bits)
        return [(v.nat(v.wnd(s)) + s.h != v.nat(n), Terms()),
                (z3.And(v.inwin(s, k), z3.Or(c.uge(v.occ(s, k), n), v.held(s, v.occ(s, k)) != 0)),
                 Terms([k])),
                (z3.And(c.ult(k1, k2), v.inwin(s, k2), v.occ(s, k1) == v.occ(s, k2)), Terms([k1, k2])),
                (z3.Or(v.held(s, b) > 1, z3.And(v.held(s, b) >= 1, c.uge(b, n))), Terms(ids=[b]))]


class Exclusive(Invariant):
    """No id held twice; no held id in the window (``specs.predicates.exclusive``)."""

    id = "ring.exclusive"
    text = "no buffer is held twice or held while free"

    def facts(self, v, s, t):
        out = [v.held(s, b) <= 1 for b in t.ids]
        out += [z3.Implies(v.inwin(s, k), v.held(s, v.occ(s, k)) == 0) for k in t.offsets]
        return out

    def violation_parts(self, v, s, name):
        k, b = v.sym.var(f"{name}.k", v.bits), v.sym.var(f"{name}.b", v.bits)
        return [(v.held(s, b) > 1, Terms(ids=[b])),
                (z3.And(v.inwin(s, k), v.held(s, v.occ(s, k)) >= 1), Terms([k]))]


class NeverFullOnRecycle(StepProperty):
    id = "ring.never_full_on_recycle"
    text = "recycle never finds tail - head >= nbufs"

    def violation(self, v, s, ev):
        return z3.And(ev.kind == REC, ev.enabled, ev.warned)


class BufIdFits(StepProperty):
    """Every id written to ``ent_in_out.buf_id`` (a select's, or a kept one) fits u16,
    so ``(u16)payload_buf.id`` names the buffer selected."""

    id = "ring.buf_id_fits"
    text = "every buf_id written fits u16"

    def violation(self, v, s, ev):
        if v.bits <= BUF_ID_BITS:
            return z3.BoolVal(False)
        big = v.c.const(1 << BUF_ID_BITS, v.bits)
        return z3.And(ev.enabled, z3.Or(z3.And(z3.Or(ev.kind == SEL, ev.kind == OVR), v.c.uge(ev.b_sel, big)),
                                        z3.And(ev.kind == KEEP, v.c.uge(ev.b, big))))


def _distinct_window(v: View, s: RState, t: Terms) -> list:
    return [z3.Implies(z3.And(v.c.ult(k1, k2), v.inwin(s, k2)), v.occ(s, k1) != v.occ(s, k2))
            for k1, k2 in product(t.offsets, t.offsets) if k1 is not k2]


class FreePlusHeld(Invariant):
    id = "ring.free_plus_held_le_nbufs"
    text = "tail - head + (buffers held by entries) <= nbufs"

    def facts(self, v, s, t):
        return [v.nat(v.wnd(s)) + s.h <= v.nat(v.prm.n)]

    def violation(self, v, s, name):
        return v.nat(v.wnd(s)) + s.h > v.nat(v.prm.n), Terms()


class IdsBelowNbufs(Invariant):
    id = "ring.ids_below_nbufs"
    text = "slots 0..nbufs-1 and held entries name buffers < nbufs"

    def facts(self, v, s, t):
        c, n = v.c, v.prm.n
        out = [z3.Implies(c.ult(i, n), c.ult(s.slot(v.sym, v.bits, i), n)) for i in t.slots]
        out += [z3.Implies(v.held(s, b) >= 1, c.ult(b, n)) for b in t.ids]
        return out

    def violation(self, v, s, name):
        c, n = v.c, v.prm.n
        i, b = v.sym.var(f"{name}.i", v.bits), v.sym.var(f"{name}.b", v.bits)
        bad = z3.Or(z3.And(c.ult(i, n), c.uge(s.slot(v.sym, v.bits, i), n)),
                    z3.And(v.held(s, b) >= 1, c.uge(b, n)))
        return bad, Terms(slots=[i], ids=[b])


class WindowSlotsDistinct(Invariant):
    """An arithmetic fact about nbufs: counters less than nbufs apart (wrapping at
    2^bits) name different slots. True iff nbufs divides 2^bits."""

    id = "ring.window_slots_distinct"
    text = "for 0 < d < nbufs, (c + d) % nbufs != c % nbufs (c + d wrapping at 2^bits)"
    stateless = True

    def facts(self, v, s, t):
        c = v.c
        return [z3.Implies(z3.And(c.ult(k1, k2), c.ult(c.sub(k2, k1, v.bits), v.prm.n)),
                           v.pos(v.ctr(s, k1)) != v.pos(v.ctr(s, k2)))
                for k1, k2 in product(t.offsets, t.offsets) if k1 is not k2]

    def violation(self, v, s, name):
        c = v.c
        x, d = v.sym.var(f"{name}.x", v.bits), v.sym.var(f"{name}.d", v.bits)
        bad = z3.And(c.ugt(d, c.const(0, v.bits)), c.ult(d, v.prm.n),
                     v.pos(c.add(x, d, v.bits)) == v.pos(x))
        return bad, Terms()


class WindowIdsDistinct(Invariant):
    id = "ring.window_ids_distinct"
    text = "no buffer id twice in the free window"

    def facts(self, v, s, t):
        return _distinct_window(v, s, t)

    def violation(self, v, s, name):
        k1, k2 = v.sym.var(f"{name}.k1", v.bits), v.sym.var(f"{name}.k2", v.bits)
        return z3.And(v.c.ult(k1, k2), v.inwin(s, k2), v.occ(s, k1) == v.occ(s, k2)), Terms([k1, k2])


class WindowNotHeld(Invariant):
    id = "ring.window_not_held"
    text = "no buffer in the free window is held"

    def facts(self, v, s, t):
        return [z3.Implies(v.inwin(s, k), v.held(s, v.occ(s, k)) == 0) for k in t.offsets]

    def violation(self, v, s, name):
        k = v.sym.var(f"{name}.k", v.bits)
        return z3.And(v.inwin(s, k), v.held(s, v.occ(s, k)) >= 1), Terms([k])


class HeldAtMostOnce(Invariant):
    id = "ring.held_at_most_once"
    text = "no buffer is held by two entries"

    def facts(self, v, s, t):
        return [v.held(s, b) <= 1 for b in t.ids]

    def violation(self, v, s, name):
        b = v.sym.var(f"{name}.b", v.bits)
        return v.held(s, b) > 1, Terms(ids=[b])


RING_PROPERTIES = {p.id: p for p in (NeverFullOnRecycle(), CountBounded(), Conservation(),
                                     Exclusive(), BufIdFits())}
"""The catalog's ring properties ``prove`` decides by induction."""

LEMMAS = (FreePlusHeld(), IdsBelowNbufs(), WindowSlotsDistinct(), WindowIdsDistinct(),
          WindowNotHeld(), HeldAtMostOnce())
"""Candidate strengthening lemmas, tried in this order when a step does not close."""
