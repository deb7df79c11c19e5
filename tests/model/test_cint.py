"""The C integer interface (model/cint.py): CONCRETE, BitVecOps and IntOps agree.

Every operation of the interface, at every width the model uses (u16, u32, u64 and
the configurable counter widths 1..32), on boundary values (0, 1, max, max-1,
2^(w-1) and its neighbours) and on random values. A z3 term is evaluated by
substituting constants for its variables and simplifying to a numeral; IntOps
values are the integers in [0, 2^w), as its ``range_constraint`` says.
"""
from __future__ import annotations

import itertools

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from bufring.model.cint import CONCRETE, U16, U32, U64, BitVecOps, IntOps, mask
from bufring.model.errno import Errno
from bufring.model.uapi import FUSE_URING_BUFRING, VALID_INIT_FLAGS

BV = BitVecOps()
INT = IntOps()
SYMBOLIC = {"bitvec": BV, "int": INT}

WIDTHS = sorted(set(range(1, 33)) | {U16, U32, U64})   # counter widths 1..32, u16, u32, u64
FEW = settings(max_examples=75, deadline=None)


def boundary(w: int) -> list[int]:
    """0, 1, max, max-1, 2^(w-1) and 2^(w-1)-1, as far as they exist at width w."""
    top = 1 << (w - 1)
    return sorted({v for v in (0, 1, mask(w), mask(w) - 1, top, top - 1) if 0 <= v <= mask(w)})


@st.composite
def width_values(draw, n: int, widths=tuple(WIDTHS)):
    """A width and ``n`` values of that width, boundary values often."""
    w = draw(st.sampled_from(widths))
    value = st.one_of(st.sampled_from(boundary(w)), st.integers(0, mask(w)))
    return w, [draw(value) for _ in range(n)]


def value_of(term):
    """A ground z3 term as a Python int or bool."""
    s = z3.simplify(term)
    if z3.is_true(s):
        return True
    if z3.is_false(s):
        return False
    if z3.is_bv_value(s) or z3.is_int_value(s):
        return s.as_long()
    raise AssertionError(f"term did not simplify to a value: {s}")


def symbolic(ops, op: str, w: int, xs: list[int], extra=(), constant_last=False):
    """``ops.<op>`` built on fresh variables of width ``w`` (the last operand a
    Python int when ``constant_last``), then evaluated at ``xs``."""
    names = [ops.var(f"x{i}", w) for i in range(len(xs))]
    operands = list(names)
    if constant_last:
        operands[-1] = xs[-1]
    term = getattr(ops, op)(*operands, *extra)
    subs = [(v, ops.const(x, w)) for v, x in zip(names, xs)]
    return value_of(z3.substitute(term, *subs))


def as_term(ops, value, w):
    """The expected value as a term of the interpretation, for a batched check."""
    if isinstance(value, bool):
        return z3.BoolVal(value)
    return ops.const(value, w)


def batch_agrees(ops, cases) -> list:
    """Check many ``(build, want, out_width, label)`` cases with one simplify; on a
    disagreement, the labels of the cases that disagree (else ``[]``)."""
    eqs = [build(ops) == as_term(ops, want, w_out) for build, want, w_out, _ in cases]
    if z3.is_true(z3.simplify(z3.And(*eqs))):
        return []
    return [label for (build, want, w_out, label) in cases if value_of(build(ops)) != want]


# Binary operations: name -> (reference in exact arithmetic, operand filter).
BINARY = {
    "add": (lambda x, y, w: (x + y) % (1 << w), None),
    "sub": (lambda x, y, w: (x - y) % (1 << w), None),
    "mul": (lambda x, y, w: (x * y) % (1 << w), None),
    "udiv": (lambda x, y, w: x // y, lambda y: y != 0),
    "urem": (lambda x, y, w: x % y, lambda y: y != 0),
    "umin": (lambda x, y, w: min(x, y), None),
    "add_overflows": (lambda x, y, w: x + y >= (1 << w), None),
}
COMPARE = {"eq": lambda x, y: x == y, "ne": lambda x, y: x != y, "ult": lambda x, y: x < y,
           "ule": lambda x, y: x <= y, "ugt": lambda x, y: x > y, "uge": lambda x, y: x >= y}


def boundary_pairs(w, ok=None):
    return [(x, y) for x, y in itertools.product(boundary(w), repeat=2) if ok is None or ok(y)]


# --- binary arithmetic ----------------------------------------------------------------

@pytest.mark.parametrize("op", sorted(BINARY))
def test_concrete_binary_op_on_boundary_values_matches_exact_arithmetic(op):
    ref, ok = BINARY[op]
    for w in WIDTHS:
        for x, y in boundary_pairs(w, ok):
            assert getattr(CONCRETE, op)(x, y, w) == ref(x, y, w), (op, w, x, y)


@pytest.mark.parametrize("interp", sorted(SYMBOLIC))
@pytest.mark.parametrize("op", sorted(BINARY))
def test_symbolic_binary_op_on_boundary_values_matches_concrete(op, interp):
    _, ok = BINARY[op]
    f = getattr(SYMBOLIC[interp], op)
    cases = []
    for w in WIDTHS:
        for x, y in boundary_pairs(w, ok):
            # both operands terms, and the second a Python int (rules pass 1, 288, ...)
            cases.append((lambda o, x=x, y=y, w=w: f(o.const(x, w), o.const(y, w), w),
                          getattr(CONCRETE, op)(x, y, w), w, (w, x, y)))
            cases.append((lambda o, x=x, y=y, w=w: f(o.const(x, w), y, w),
                          getattr(CONCRETE, op)(x, y, w), w, (w, x, "int", y)))
    assert batch_agrees(SYMBOLIC[interp], cases) == []


@pytest.mark.parametrize("op", sorted(BINARY))
@FEW
@given(case=width_values(2))
def test_symbolic_binary_op_on_random_values_matches_concrete(op, case):
    w, (x, y) = case
    _, ok = BINARY[op]
    if ok is not None and not ok(y):
        y = 1
    want = getattr(CONCRETE, op)(x, y, w)
    for ops in (BV, INT):
        assert symbolic(ops, op, w, [x, y], (w,)) == want
        assert symbolic(ops, op, w, [x, y], (w,), constant_last=True) == want


def test_u32_sub_wraps_below_zero():
    assert CONCRETE.sub(0, 1, U32) == 0xFFFFFFFF
    assert symbolic(BV, "sub", U32, [0, 1], (U32,)) == 0xFFFFFFFF
    assert symbolic(INT, "sub", U32, [0, 1], (U32,)) == 0xFFFFFFFF


def test_u32_add_at_max_wraps_to_zero_and_overflows():
    assert CONCRETE.add(0xFFFFFFFF, 1, U32) == 0
    assert CONCRETE.add_overflows(0xFFFFFFFF, 1, U32) is True
    assert CONCRETE.add_overflows(0xFFFFFFFE, 1, U32) is False


@pytest.mark.parametrize("w", [1, 3, 16, 32, 64])
def test_symbolic_udiv_and_urem_by_zero_follow_smtlib_in_both_interpretations(w):
    # C leaves x / 0 undefined and the kernel guards it; the two symbolic
    # interpretations must still agree with each other (bvudiv / bvurem).
    for x in boundary(w):
        for ops in (BV, INT):
            assert symbolic(ops, "udiv", w, [x, 0], (w,)) == mask(w)
            assert symbolic(ops, "urem", w, [x, 0], (w,)) == x


# --- comparisons ------------------------------------------------------------------------

@pytest.mark.parametrize("interp", sorted(SYMBOLIC))
def test_comparisons_on_boundary_values_match_concrete_and_unsigned_order(interp):
    ops = SYMBOLIC[interp]
    cases = []
    for op, ref in COMPARE.items():
        f = getattr(ops, op)
        for w in WIDTHS:
            for x, y in boundary_pairs(w):
                want = getattr(CONCRETE, op)(x, y)
                assert want == ref(x, y)
                cases.append((lambda o, x=x, y=y, w=w, f=f: f(o.const(x, w), o.const(y, w)),
                              want, w, (op, w, x, y)))
                if w in (U16, U32, U64):          # a Python int operand, at the C widths
                    cases.append((lambda o, x=x, y=y, w=w, f=f: f(o.const(x, w), y),
                                  want, w, (op, w, x, "int", y)))
    assert batch_agrees(ops, cases) == []


@FEW
@given(case=width_values(2))
def test_comparisons_on_random_values_match_concrete(case):
    w, (x, y) = case
    for ops in (BV, INT):
        xv, yv = ops.var("x", w), ops.var("y", w)
        subs = ((xv, ops.const(x, w)), (yv, ops.const(y, w)))
        for op in COMPARE:
            assert value_of(z3.substitute(getattr(ops, op)(xv, yv), *subs)) == getattr(CONCRETE, op)(x, y)


def test_bitvec_comparison_is_unsigned_not_signed():
    # 0x80000000 is negative as s32; the interface only has unsigned comparisons.
    assert symbolic(BV, "ult", U32, [1, 0x80000000]) is True
    assert symbolic(BV, "ugt", U32, [0xFFFFFFFF, 0]) is True


# --- shifts -----------------------------------------------------------------------------

@pytest.mark.parametrize("interp", sorted(SYMBOLIC))
@pytest.mark.parametrize("op", ["shl", "lshr"])
def test_shift_by_defined_amounts_on_boundary_values_matches_concrete(op, interp):
    ops = SYMBOLIC[interp]
    f = getattr(ops, op)
    cases = []
    for w in WIDTHS:
        for x in boundary(w):
            # C defines shifts below the width: all of them up to width 8, else a sample
            for n in range(w) if w <= 8 else sorted({0, 1, w // 2, w - 1}):
                ref = (x << n) % (1 << w) if op == "shl" else x >> n
                assert getattr(CONCRETE, op)(x, n, w) == ref
                # IntOps needs a constant shift: a Python int or a constant term
                cases.append((lambda o, x=x, n=n, w=w: f(o.const(x, w), n, w), ref, w, (w, x, n)))
                cases.append((lambda o, x=x, n=n, w=w: f(o.const(x, w), o.const(n, w), w),
                              ref, w, (w, x, "term", n)))
    assert batch_agrees(ops, cases) == []


@pytest.mark.parametrize("op", ["shl", "lshr"])
@FEW
@given(case=width_values(1), data=st.data())
def test_shift_on_random_values_matches_concrete(op, case, data):
    w, (x,) = case
    n = data.draw(st.integers(0, w - 1))
    want = getattr(CONCRETE, op)(x, n, w)
    assert symbolic(BV, op, w, [x, n], (w,)) == want
    for ops in (BV, INT):
        assert symbolic(ops, op, w, [x, n], (w,), constant_last=True) == want


def test_intops_shift_by_a_symbolic_amount_is_refused():
    with pytest.raises(NotImplementedError):
        INT.shl(INT.var("x", 32), INT.var("n", 32), 32)
    with pytest.raises(NotImplementedError):
        INT.lshr(INT.var("x", 32), INT.var("n", 32), 32)


# --- masks ------------------------------------------------------------------------------

def rule_masks(w: int) -> list[int]:
    """The masks the rules use (FUSE_URING_BUFRING, ~VALID_INIT_FLAGS) and the other
    low masks / complements IntOps promises to handle, at width ``w``."""
    out = {FUSE_URING_BUFRING & mask(w), ~VALID_INIT_FLAGS & mask(w), 0, mask(w)}
    for k in (1, w // 2, w - 1):
        out.add((1 << k) - 1)
        out.add(mask(w) - ((1 << k) - 1))
    return sorted(out)


@pytest.mark.parametrize("interp", sorted(SYMBOLIC))
def test_band_with_rule_masks_on_boundary_values_matches_concrete(interp):
    ops = SYMBOLIC[interp]
    cases = []
    for w in WIDTHS:
        for x in boundary(w):
            for m in rule_masks(w):
                assert CONCRETE.band(x, m, w) == x & m
                cases.append((lambda o, x=x, m=m, w=w: o.band(o.const(x, w), m, w), x & m, w, (w, x, m)))
    assert batch_agrees(ops, cases) == []


@FEW
@given(case=width_values(1), data=st.data())
def test_band_with_rule_masks_on_random_values_matches_concrete(case, data):
    w, (x,) = case
    m = data.draw(st.sampled_from(rule_masks(w)))
    for ops in (BV, INT):
        assert symbolic(ops, "band", w, [x, m], (w,), constant_last=True) == x & m


def test_bitvec_band_with_a_symbolic_mask_matches_concrete():
    assert symbolic(BV, "band", U64, [0xF0F0, 0xFF00], (U64,)) == 0xF000


def test_intops_band_with_a_mask_that_is_no_low_mask_is_refused():
    with pytest.raises(NotImplementedError):
        INT.band(INT.var("x", 16), 0b1010, 16)


def flag_terms(ops, flags: int):
    """The two ``band`` uses of the rules, built as the rules build them: the mask
    comes from ``c.const`` (and ``c.bnot``), not from a Python int."""
    f = ops.var("flags", U64)
    unknown = ops.band(f, ops.bnot(ops.const(VALID_INIT_FLAGS, U64), U64), U64)
    bufring = ops.band(f, ops.const(FUSE_URING_BUFRING, U64), U64)
    sub = (f, ops.const(flags, U64))
    return value_of(z3.substitute(unknown, sub)), value_of(z3.substitute(bufring, sub))


@pytest.mark.parametrize("interp", sorted(SYMBOLIC))
@pytest.mark.parametrize("flags", [0, 1, 2, 3, 1 << 63, mask(64)])
def test_band_with_masks_built_by_the_rules_matches_concrete(flags, interp):
    assert flag_terms(SYMBOLIC[interp], flags) == (flags & ~1 & mask(64), flags & 1)


# --- unary: bnot, is_negative_signed ---------------------------------------------------------

@pytest.mark.parametrize("interp", sorted(SYMBOLIC))
def test_bnot_and_is_negative_signed_on_boundary_values_match_concrete(interp):
    ops = SYMBOLIC[interp]
    cases = []
    for w in WIDTHS:
        for x in boundary(w):
            assert CONCRETE.bnot(x, w) == mask(w) - x
            assert CONCRETE.is_negative_signed(x, w) == (x >= 1 << (w - 1))
            cases.append((lambda o, x=x, w=w: o.bnot(o.const(x, w), w), mask(w) - x, w, ("bnot", w, x)))
            cases.append((lambda o, x=x, w=w: o.is_negative_signed(o.const(x, w), w),
                          x >= 1 << (w - 1), w, ("neg", w, x)))
    assert batch_agrees(ops, cases) == []


@FEW
@given(case=width_values(1))
def test_bnot_and_is_negative_signed_on_random_values_match_concrete(case):
    w, (x,) = case
    for ops in (BV, INT):
        assert symbolic(ops, "bnot", w, [x], (w,)) == CONCRETE.bnot(x, w)
        assert symbolic(ops, "is_negative_signed", w, [x], (w,)) == CONCRETE.is_negative_signed(x, w)


def test_iov_len_with_top_bit_set_is_negative_as_ssize_t():
    assert CONCRETE.is_negative_signed(1 << 63, U64) is True
    assert CONCRETE.is_negative_signed((1 << 63) - 1, U64) is False


# --- conversions: const, trunc, zext --------------------------------------------------------

CONVERSIONS = [(64, w) for w in WIDTHS if w < 64] + [(32, w) for w in range(1, 32)]


@pytest.mark.parametrize("interp", sorted(SYMBOLIC))
def test_trunc_on_boundary_values_of_the_wider_type_matches_concrete(interp):
    ops = SYMBOLIC[interp]
    cases = []
    for wide, narrow in CONVERSIONS:
        for x in sorted(set(boundary(wide) + boundary(narrow))):
            want = x & mask(narrow)
            assert CONCRETE.trunc(x, narrow) == want
            cases.append((lambda o, x=x, wide=wide, narrow=narrow: o.trunc(o.const(x, wide), narrow),
                          want, narrow, (wide, narrow, x)))
    assert batch_agrees(ops, cases) == []


@pytest.mark.parametrize("interp", sorted(SYMBOLIC))
def test_zext_on_boundary_values_keeps_the_value(interp):
    ops = SYMBOLIC[interp]
    cases = []
    for wide, narrow in CONVERSIONS:
        for x in boundary(narrow):
            assert CONCRETE.zext(x, narrow, wide) == x
            cases.append((lambda o, x=x, wide=wide, narrow=narrow: o.zext(o.const(x, narrow), narrow, wide),
                          x, wide, (wide, narrow, x)))
            if interp == "bitvec":                 # the sort follows the C type
                assert ops.zext(ops.var("x", narrow), narrow, wide).size() == wide
    assert batch_agrees(ops, cases) == []


@FEW
@given(conv=st.sampled_from(CONVERSIONS), data=st.data())
def test_trunc_and_zext_on_random_values_match_concrete(conv, data):
    wide, narrow = conv
    x = data.draw(st.integers(0, mask(wide)))
    y = x & mask(narrow)
    for ops in (BV, INT):
        x_var, y_var = ops.var("x", wide), ops.var("y", narrow)
        assert value_of(z3.substitute(ops.trunc(x_var, narrow), (x_var, ops.const(x, wide)))) \
            == CONCRETE.trunc(x, narrow)
        assert value_of(z3.substitute(ops.zext(y_var, narrow, wide), (y_var, ops.const(y, narrow)))) \
            == CONCRETE.zext(y, narrow, wide)


@pytest.mark.parametrize("interp", sorted(SYMBOLIC))
def test_const_of_a_negative_errno_is_its_twos_complement_in_every_interpretation(interp):
    ops = SYMBOLIC[interp]
    for errno in (Errno.EINVAL, Errno.EFAULT, Errno.ENOBUFS):
        for w in (U16, U32, U64):
            want = (1 << w) - int(errno)
            assert CONCRETE.const(-int(errno), w) == want
            assert value_of(ops.const(-int(errno), w)) == want


@FEW
@given(w=st.sampled_from(WIDTHS), v=st.integers(-(1 << 70), 1 << 70))
def test_const_of_any_python_int_masks_to_the_width(w, v):
    assert value_of(BV.const(v, w)) == value_of(INT.const(v, w)) == CONCRETE.const(v, w) == v % (1 << w)


# --- booleans and ite -----------------------------------------------------------------------

@pytest.mark.parametrize("interp", sorted(SYMBOLIC))
def test_ite_on_boundary_values_matches_concrete(interp):
    ops = SYMBOLIC[interp]
    cases = []
    for w in WIDTHS:
        for a, b in boundary_pairs(w):
            want = CONCRETE.ite(CONCRETE.ult(a, b), a, b)
            assert want == min(a, b)
            cases.append((lambda o, a=a, b=b, w=w: o.ite(o.ult(o.const(a, w), o.const(b, w)),
                                                          o.const(a, w), o.const(b, w)),
                          want, w, (w, a, b)))
    assert batch_agrees(ops, cases) == []


@pytest.mark.parametrize("interp", sorted(SYMBOLIC))
def test_boolean_connectives_match_concrete_on_every_truth_assignment(interp):
    ops = SYMBOLIC[interp]
    for p, q, r in itertools.product((False, True), repeat=3):
        terms = [z3.BoolVal(v) for v in (p, q, r)]
        assert value_of(ops.and_(*terms)) == CONCRETE.and_(p, q, r) == (p and q and r)
        assert value_of(ops.or_(*terms)) == CONCRETE.or_(p, q, r) == (p or q or r)
        assert value_of(ops.not_(terms[0])) == CONCRETE.not_(p) == (not p)


# --- IntOps keeps results in range ------------------------------------------------------------

@pytest.mark.parametrize("w", [1, 3, 16, 32, 64])
@pytest.mark.parametrize("op", ["add", "sub", "umin", "udiv", "urem", "bnot"])
def test_intops_result_stays_in_range_for_all_operands_in_range(op, w):
    x, y = INT.var("x", w), INT.var("y", w)
    args = (x, w) if op == "bnot" else (x, y, w)
    result = getattr(INT, op)(*args)
    s = z3.Solver()
    s.set(timeout=5000)
    s.add(INT.range_constraint(x, w), INT.range_constraint(y, w))
    if op in ("udiv", "urem"):
        s.add(y > 0)
    s.add(z3.Not(INT.range_constraint(result, w)))
    assert s.check() == z3.unsat
