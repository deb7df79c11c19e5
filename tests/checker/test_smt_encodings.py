"""The two symbolic encodings against C's semantics, and unknown never shown as proved.

``IntOps`` is the fast path of every proof; docs/smt.md argues that each of its
operations is SMT-LIB's bit-vector operation on naturals. These tests check that
argument on values: exhaustively at 5 bits, on boundary values at 16, 32 and 64
bits, each operation of ``IntOps``, ``BitVecOps`` and ``CONCRETE`` must agree.
"""
from __future__ import annotations

import itertools

import pytest
import z3
from bufring.checker.smt import solver as smt_z3
from bufring.checker.smt.prove import prove
from bufring.checker.verdict import Status, exit_code
from bufring.model.cint import CONCRETE, BitVecOps, IntOps
from bufring.model.variant import V2

BV, INT = BitVecOps(), IntOps()
BINARY = ("add", "sub", "mul", "udiv", "urem", "umin")
COMPARE = ("eq", "ne", "ult", "ule", "ugt", "uge")


def value(term) -> int | bool:
    t = z3.simplify(term)
    if z3.is_true(t) or z3.is_false(t):
        return z3.is_true(t)
    return t.as_long()


def agree(op: str, x: int, y: int, bits: int) -> None:
    want = getattr(CONCRETE, op)(x, y, bits)
    got_bv = value(getattr(BV, op)(BV.const(x, bits), BV.const(y, bits), bits))
    got_int = value(getattr(INT, op)(z3.IntVal(x), z3.IntVal(y), bits))
    assert (got_bv, got_int) == (want, want), (op, x, y, bits)


def boundary_values(bits: int) -> list[int]:
    top = (1 << bits) - 1
    return sorted({0, 1, 2, 3, 7, top, top - 1, top >> 1, (top >> 1) + 1, 288, 131072 & top})


def test_int_and_bitvector_operations_agree_with_c_on_every_5_bit_pair():
    for x, y in itertools.product(range(32), repeat=2):
        for op in BINARY:
            agree(op, x, y, 5)


@pytest.mark.parametrize("bits", [16, 32, 64])
def test_int_and_bitvector_operations_agree_with_c_on_boundary_values(bits):
    for x, y in itertools.product(boundary_values(bits), repeat=2):
        for op in BINARY:
            agree(op, x, y, bits)
        for op in COMPARE:
            want = getattr(CONCRETE, op)(x, y)
            assert value(getattr(BV, op)(BV.const(x, bits), BV.const(y, bits))) == want
            assert value(getattr(INT, op)(z3.IntVal(x), z3.IntVal(y))) == want
        assert value(INT.add_overflows(z3.IntVal(x), z3.IntVal(y), bits)) == CONCRETE.add_overflows(x, y, bits)
        assert value(BV.add_overflows(BV.const(x, bits), BV.const(y, bits), bits)) == \
            CONCRETE.add_overflows(x, y, bits)


def test_int_masks_the_rules_use_agree_with_c():
    for flags in (0, 1, 2, 3, 1 << 63, (1 << 64) - 1):
        for mask in (1, ~1 & ((1 << 64) - 1)):
            want = CONCRETE.band(flags, mask, 64)
            assert value(INT.band(z3.IntVal(flags), INT.const(mask, 64), 64)) == want
            assert value(BV.band(BV.const(flags, 64), BV.const(mask, 64), 64)) == want


def test_a_query_that_times_out_is_unknown_and_never_proved(tmp_path, monkeypatch):
    def no_answer(sym, constraints, timeout, **kw):
        return smt_z3.Outcome(smt_z3.Answer.UNKNOWN, timeout, reason=f"timeout after {timeout:g} s")
    monkeypatch.setattr(smt_z3, "solve", no_answer)
    verdicts = prove(V2, ["hdr.slot_bounds", "ring.count_bounded"], timeout=0.5, out=tmp_path,
                     vectors=False)
    assert [v.status for v in verdicts] == [Status.UNKNOWN, Status.UNKNOWN]
    assert exit_code(verdicts) == 3


def test_nonlinear_queries_start_over_integers_and_linear_ones_over_bitvectors():
    def nonlinear(sym):
        x, y = sym.var("x", 32), sym.var("y", 32)
        return [sym.c.eq(sym.c.urem(x, y, 32), sym.const(1, 32))]

    def linear(sym):
        x = sym.var("x", 32)
        return [sym.c.eq(sym.c.add(x, 1, 32), sym.const(0, 32))]
    assert smt_z3.encodings_for(nonlinear)[2][0][0] == "int"
    assert smt_z3.encodings_for(linear)[2][0][0] == "bv"
