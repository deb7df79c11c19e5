"""The model's ring logic as the SMT engine reads it (``checker.smt.ringlogic``).

``model.ring`` writes select and recycle once; the explorer runs them on ints
(the ``ring_select``/``ring_recycle`` hooks, checked against the patch's C code
by tests/model/test_ring.py) and ``prove`` runs the same functions on z3 terms.
Here: both z3 interpretations compute what the concrete hooks compute, and
``ring_logic_of`` finds the logic behind a variant's hooks.
"""
from __future__ import annotations

import random

import pytest
import z3
from bufring.checker.smt.ringlogic import ArraySlots, flow_outside_abstraction, ring_logic_of
from bufring.checker.smt.solver import Sym
from bufring.model import ring
from bufring.model.builtin import builtin_variants
from bufring.model.ring import (V2_RING, RingLogic, RingVals, initial_ring, ring_hooks,
                                v2_recycle, v2_select)
from bufring.model.variant import V2


def rings(n: int, seed: int):
    """Rings at every kind of counter value, with shuffled slots, at several widths."""
    rng = random.Random(seed)
    for _ in range(n):
        bits = rng.choice((3, 8, 16, 32))
        nbufs = rng.randrange(1, min(9, 1 << bits))
        head = rng.choice((0, (1 << bits) - 1, (1 << bits) - nbufs, rng.randrange(1 << bits)))
        free = rng.randrange(0, nbufs + 2)
        slots = tuple(rng.randrange(nbufs) for _ in range(nbufs))
        r = initial_ring(0, 1, nbufs, 1, 1, 0, nbufs, 0, bits)._replace(
            head=head, tail=(head + free) % (1 << bits), slots=slots)
        yield r, bits, rng.randrange(nbufs)


def _number(term) -> int | bool:
    value = z3.simplify(term)
    if z3.is_true(value) or z3.is_false(value):
        return z3.is_true(value)
    return value.as_long()


def _symbolic(sym: Sym, r, bits: int) -> RingVals:
    """The concrete ring ``r`` as z3 terms: constants, and its slots in an array."""
    arr = z3.K(sym.sort(bits), sym.const(0, bits))
    for i, buf in enumerate(r.slots):
        arr = z3.Store(arr, sym.const(i, bits), sym.const(buf, bits))
    return RingVals(sym.const(r.head, bits), sym.const(r.tail, bits), sym.const(r.nbufs, bits), arr)


@pytest.mark.parametrize("encoding", ["bv", "int"])
def test_v2_ring_logic_on_z3_terms_computes_what_the_concrete_hooks_compute(encoding):
    sym = Sym(encoding)
    for r, bits, buf in rings(300, seed=1):
        a = ArraySlots(sym, bits)
        empty, got_buf, sel = V2_RING.select(sym.c, a, _symbolic(sym, r, bits), bits)
        want = ring.select(r, bits)
        assert _number(empty) == (want is None)
        if want is not None:
            assert (_number(got_buf), _number(sel.head)) == (want[1], want[0].head)
        warned, rec = V2_RING.recycle(sym.c, a, _symbolic(sym, r, bits), sym.const(buf, bits), bits)
        new, want_warned = ring.recycle(r, buf, bits)
        assert _number(warned) == want_warned and _number(rec.tail) == new.tail
        assert tuple(_number(z3.Select(rec.slots, sym.const(i, bits)))
                     for i in range(r.nbufs)) == new.slots


def test_ring_logic_of_v2_is_the_v2_logic_for_every_builtin_variant():
    for variant in builtin_variants().values():
        assert ring_logic_of(variant) is V2_RING


def test_ring_logic_of_a_variant_built_with_ring_hooks_is_its_logic():
    logic = RingLogic("same", "v2 again", v2_select, v2_recycle)
    variant = V2.derive("tagged", "tagged hooks", **ring_hooks(logic))
    found = ring_logic_of(variant)
    assert found.select is v2_select and found.recycle is v2_recycle


def test_ring_logic_of_an_untagged_select_hook_is_none():
    variant = V2.derive("opaque", "plain function", ring_select=lambda r, bits: ring.select(r, bits))
    assert ring_logic_of(variant) is None


def test_builtin_variants_keep_every_flow_hook_inside_the_ring_abstraction():
    for variant in builtin_variants().values():
        assert flow_outside_abstraction(variant) == []


def test_a_replaced_recycle_buffer_hook_is_named_as_outside_the_abstraction():
    variant = V2.derive("other-recycle", "?", recycle_buffer=lambda k, q, i: None)
    assert flow_outside_abstraction(variant) == ["recycle_buffer"]
