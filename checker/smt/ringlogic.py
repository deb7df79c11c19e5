"""How ``prove`` reads a variant's ring: its ring logic, and the z3 slot stores.

The ring part of select and recycle is written once, in ``model.ring``
(:class:`~model.ring.RingLogic`, v2's :data:`~model.ring.V2_RING`), against the C
integer operations and a slot interface. The SMT engine interprets that very
logic: :class:`ArraySlots` and :class:`LogSlots` below are its slot interface on
z3 terms, and :func:`ring_logic_of` finds the logic behind a variant's
``ring_select`` / ``ring_recycle`` hooks by the ``ring_logic`` tag that
``model.ring`` puts on v2's hooks and on every pair built with
``model.ring.ring_hooks``:

    MY_VARIANT = V2.derive("my-fix", "...", **ring_hooks(MY_RING_LOGIC))

A hook without the tag gives ``unknown`` for the ring properties, with the reason.

The request flow around the ring (which entry selects, when a buffer is
recycled) is not read from the hooks: ``prove`` abstracts it (docs/smt.md,
"The ring abstraction"), and :func:`flow_outside_abstraction` names the flow
hooks a variant replaced with functions that abstraction does not cover.
"""
from __future__ import annotations

import z3
from bufring.model import kernel
from bufring.model.ring import RingLogic
from bufring.model.variant import Variant


class ArraySlots:
    """Slots as a z3 array from slot index to buffer id (``checker.smt.solver.Sym``).

    A write happens only under ``guard`` (the transition that makes it is the one
    taken), so that one array term serves every transition of a step."""

    def __init__(self, sym, bits: int, guard=True):
        self.sym, self.bits, self.guard = sym, bits, guard

    def get(self, slots, i):
        return self.sym.read(slots, i, self.bits)

    def put(self, slots, i, value):
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
        value = i                                   # fuse_uring_bufring_setup(): bufs[i].id = i
        for guard, index, written in slots:
            value = z3.If(z3.And(guard, index == i), written, value)
        return value

    def put(self, slots, i, value):
        return slots + ((self.guard, i, value),)


def ring_logic_of(variant: Variant) -> RingLogic | None:
    """The ring logic ``prove`` reads for ``variant``: the ``ring_logic`` tags of its
    ``ring_select`` and ``ring_recycle`` hooks (v2's, or built with
    ``model.ring.ring_hooks``), or None when either hook has none."""
    selects = getattr(variant.ring_select, "ring_logic", None)
    recycles = getattr(variant.ring_recycle, "ring_logic", None)
    if selects is None or recycles is None:
        return None
    if selects is recycles:
        return selects
    return RingLogic("+".join(sorted({selects.name, recycles.name})),
                     "select and recycle of the variant's ring hooks", selects.select, recycles.recycle)


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


def _ring_neutral() -> dict[str, tuple]:
    """Kernel functions replaced by name that do no ring operation, so the ring
    abstraction (where request queues and background accounting are gone) stays
    sound: ``req_end_then_flush_bg`` (the flush-bg-after-end fix) runs v2's
    ``fuse_uring_req_end()`` and ``fuse_uring_flush_bg()``, which only move requests
    between lists and count them."""
    from bufring.model import fixes
    return {"fuse_uring_req_end": (fixes.req_end_then_flush_bg,)}


def overrides_outside_abstraction(variant: Variant) -> list[str]:
    """Kernel functions ``variant`` replaced by name with code ``prove`` cannot vouch
    for (empty: every replacement is known to do no ring operation)."""
    neutral = _ring_neutral()
    return [name for name, fn in variant.overrides if fn not in neutral.get(name, ())]


def flow_outside_abstraction(variant: Variant) -> list[str]:
    """The flow hooks of ``variant`` replaced by functions the ring abstraction does
    not cover (empty: the abstraction is sound for this variant)."""
    known = _known_flow()
    return [h for h in FLOW_HOOKS if getattr(variant, h) not in known[h]]
