"""Ring logic the SMT engine reads (``checker.smt.ringlogic``) against the model's hooks."""
from __future__ import annotations

import random

from bufring.checker.smt.ringlogic import (
    V2_RING,
    RingLogic,
    flow_outside_abstraction,
    ring_hooks,
    ring_logic_of,
    v2_recycle,
    v2_select,
)
from bufring.model import ring
from bufring.model.ring import initial_ring
from bufring.model.builtin import builtin_variants
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


def test_v2_ring_logic_selects_and_recycles_exactly_as_the_model_hooks():
    hooks = ring_hooks(V2_RING)
    for r, bits, buf in rings(3000, seed=1):
        assert hooks["ring_select"](r, bits) == ring.select(r, bits)
        assert hooks["ring_recycle"](r, buf, bits) == ring.recycle(r, buf, bits)


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
