"""Buffer-ring select and recycle written once, for concrete rings and z3 terms.

A variant's ``ring_select`` / ``ring_recycle`` hooks are Python functions on
concrete rings; ``prove`` cannot read an arbitrary one symbolically. It reads a
:class:`RingLogic` instead: the ring part of ``fuse_uring_select_buffer()`` and
``fuse_uring_recycle_buffer()`` written against the C integer operations ``c``
and the arithmetic helpers of ``model.ring`` (``is_empty``, ``slot_index``,
``next_counter``, ``recycle_warns``), and against a slot-array interface (a tuple
concretely, a z3 array symbolically). :func:`ring_hooks` turns a logic into the
two concrete hooks a variant takes, tagged so that :func:`ring_logic_of` finds
the logic again:

    MY_VARIANT = V2.derive("my-fix", "...", **ring_hooks(MY_RING_LOGIC))

v2's own hooks (``model.ring.select`` / ``recycle``) are read as :data:`V2_RING`,
which tests/checker/test_smt_ringlogic.py checks against them on concrete rings.
A hook that is neither gives ``unknown`` for the ring properties, with the reason.

The request flow around the ring (which entry selects, when a buffer is
recycled) is not read from the hooks: ``prove`` abstracts it (docs/smt.md,
"The ring abstraction"), and :func:`flow_outside_abstraction` names the flow
hooks a variant replaced with functions that abstraction does not cover.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from bufring.model import kernel, ring
from bufring.model.cint import CONCRETE
from bufring.model.ring import is_empty, next_counter, recycle_warns, slot_index


class RingVals(NamedTuple):
    """``head``, ``tail``, ``nbufs`` and the slots of ``struct fuse_bufring``."""

    head: object
    tail: object
    nbufs: object
    slots: object


class TupleSlots:
    """Slots as the model keeps them: a tuple of buffer ids."""

    @staticmethod
    def get(slots, i):
        return slots[i]

    @staticmethod
    def put(slots, i, value):
        return slots[:i] + (value,) + slots[i + 1:]


class ArraySlots:
    """Slots as a z3 array from slot index to buffer id (``checker.smt.solver.Sym``).

    A write happens only under ``guard`` (the transition that makes it is the one
    taken), so that one array term serves every transition of a step."""

    def __init__(self, sym, bits: int, guard=True):
        self.sym, self.bits, self.guard = sym, bits, guard

    def get(self, slots, i):
        return self.sym.read(slots, i, self.bits)

    def put(self, slots, i, value):
        import z3
        if self.guard is True:
            return self.sym.store(slots, i, value)
        return self.sym.store(slots, i, z3.If(self.guard, value, self.sym.read(slots, i, self.bits)))


class LogSlots:
    """Slots as a log of guarded writes over slot i holding buffer i: no array, which
    is what makes bounded model checking from the initial ring fast. A log is a
    tuple of ``(guard, index, value)``."""

    def __init__(self, sym, bits: int, guard=True):
        self.sym, self.bits, self.guard = sym, bits, guard

    def get(self, slots, i):
        import z3
        value = i                                   # fuse_uring_bufring_setup(): bufs[i].id = i
        for guard, index, written in slots:
            value = z3.If(z3.And(guard, index == i), written, value)
        return value

    def put(self, slots, i, value):
        return slots + ((self.guard, i, value),)


@dataclass(frozen=True)
class RingLogic:
    """The ring part of select and recycle, symbolic-ready.

    ``select(c, a, r, bits) -> (empty, buf_id, r')`` and
    ``recycle(c, a, r, buf_id, bits) -> (warned, r')``, where ``a`` is the slot
    interface (``get``/``put``) and ``r`` a :class:`RingVals`.
    """

    name: str
    doc: str
    select: Callable
    recycle: Callable


def v2_select(c, a, r: RingVals, bits: int):
    """``fuse_uring_select_buffer()``: empty iff ``tail == head``; else the buffer in
    slot ``head % nbufs``, and ``head + 1``."""
    buf = a.get(r.slots, slot_index(c, r.head, r.nbufs, bits))
    return is_empty(c, r.head, r.tail), buf, r._replace(head=next_counter(c, r.head, bits))


def v2_recycle(c, a, r: RingVals, buf, bits: int):
    """``fuse_uring_recycle_buffer()``: WARN when ``tail - head >= nbufs``, write slot
    ``tail % nbufs`` anyway, and ``tail + 1``."""
    warned = recycle_warns(c, r.head, r.tail, r.nbufs, bits)
    slots = a.put(r.slots, slot_index(c, r.tail, r.nbufs, bits), buf)
    return warned, r._replace(tail=next_counter(c, r.tail, bits), slots=slots)


V2_RING = RingLogic("v2", "the patch as posted: slot = counter % nbufs, 32-bit free-running counters",
                    v2_select, v2_recycle)


def ring_hooks(logic: RingLogic) -> dict:
    """The concrete ``ring_select`` / ``ring_recycle`` hooks of ``logic``, for
    ``Variant.derive(**ring_hooks(logic))``."""

    def ring_select(bufring, bits):
        empty, buf, r = logic.select(CONCRETE, TupleSlots, RingVals(
            bufring.head, bufring.tail, bufring.nbufs, bufring.slots), bits)
        if empty:
            return None
        return bufring._replace(head=r.head, tail=r.tail, slots=r.slots), buf

    def ring_recycle(bufring, buf, bits):
        warned, r = logic.recycle(CONCRETE, TupleSlots, RingVals(
            bufring.head, bufring.tail, bufring.nbufs, bufring.slots), buf, bits)
        return bufring._replace(head=r.head, tail=r.tail, slots=r.slots), bool(warned)

    ring_select.smt_ring_logic = logic
    ring_recycle.smt_ring_logic = logic
    ring_select.__doc__ = f"ring_select of ring logic {logic.name!r}: {logic.doc}"
    ring_recycle.__doc__ = f"ring_recycle of ring logic {logic.name!r}: {logic.doc}"
    return {"ring_select": ring_select, "ring_recycle": ring_recycle}


def ring_logic_of(variant) -> RingLogic | None:
    """The ring logic ``prove`` reads for ``variant``: v2's for v2's hooks, the
    tagged logic of :func:`ring_hooks`, or None (not readable symbolically)."""
    select = (V2_RING.select if variant.ring_select is ring.select
              else getattr(getattr(variant.ring_select, "smt_ring_logic", None), "select", None))
    recycle = (V2_RING.recycle if variant.ring_recycle is ring.recycle
               else getattr(getattr(variant.ring_recycle, "smt_ring_logic", None), "recycle", None))
    if select is None or recycle is None:
        return None
    if select is V2_RING.select and recycle is V2_RING.recycle:
        return V2_RING
    names = {getattr(variant.ring_select, "smt_ring_logic", V2_RING).name,
             getattr(variant.ring_recycle, "smt_ring_logic", V2_RING).name}
    return RingLogic("+".join(sorted(names)), "select and recycle of the variant's ring hooks",
                     select, recycle)


# --- the flow around the ring -------------------------------------------------------------------

FLOW_HOOKS = ("buffer_selected", "select_buffer", "recycle_buffer", "next_req_update_buffer",
              "prep_buffer", "ent_assign_req", "wake_idle")
"""Hooks that decide which entry selects or recycles, and when."""


def _known_flow() -> dict[str, tuple]:
    """Implementations of the flow hooks that stay inside the ring abstraction:
    every select is made for an entry that holds no buffer or one the kernel cannot
    see (buffer 0 at address 0), every recycle for an entry holding a buffer the
    kernel sees (docs/smt.md). ``wake_idle_entries`` (the wake-idle fix) only
    calls ``prep_buffer`` for AVAILABLE entries, so it stays inside too."""
    from bufring.model import fixes
    return {
        "buffer_selected": (kernel.buffer_selected,),
        "select_buffer": (kernel.fuse_uring_select_buffer,),
        "recycle_buffer": (kernel.fuse_uring_recycle_buffer,),
        "next_req_update_buffer": (kernel.fuse_uring_next_req_update_buffer,),
        "prep_buffer": (kernel.fuse_uring_prep_buffer,),
        "ent_assign_req": (kernel.fuse_uring_ent_assign_req,),
        "wake_idle": (kernel.idle_entries_wait, fixes.wake_idle_entries),
    }


def flow_outside_abstraction(variant) -> list[str]:
    """The flow hooks of ``variant`` replaced by functions the ring abstraction does
    not cover (empty: the abstraction is sound for this variant)."""
    known = _known_flow()
    return [h for h in FLOW_HOOKS if getattr(variant, h) not in known[h]]
