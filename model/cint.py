"""C integer operations, once, for concrete and symbolic values.

The registration rules (``model.rules``) and the ring arithmetic (``model.ring``)
are written against the small interface below, never against Python operators,
so that the explorer runs them on Python ints and the SMT engine builds z3 terms
from the very same code (DESIGN.md, principle 1).

Every operation takes the C width in bits explicitly: values carry no type of
their own in the concrete interpretation, and the integer encoding of the SMT
engine needs the width to write the ``mod 2**w`` relation.

Three interpretations:

* ``CONCRETE``: Python ints masked to the width, exactly as C's unsigned
  arithmetic (the hot path of the explorer);
* ``BitVecOps``: z3 bit-vectors, the reference symbolic semantics;
* ``IntOps``: z3 mathematical integers with the wrap written out as ``mod 2**w``,
  the fast path for proofs (issue 4 measured 354 s against 0.06 s for one
  ring-index lemma).

All values are unsigned; a signed reading is asked for explicitly
(``is_negative_signed``), as the kernel does when it casts ``iov_len`` to
``ssize_t``.
"""
from __future__ import annotations

from typing import Any

U16 = 16
U32 = 32
U64 = 64


def mask(bits: int) -> int:
    """All-ones value of a ``bits``-wide unsigned type."""
    return (1 << bits) - 1


class ConcreteOps:
    """C unsigned arithmetic on Python ints. Operands must already fit the width."""

    symbolic = False

    # -- constants and conversions ------------------------------------------------
    def const(self, value: int, bits: int) -> int:
        return value & ((1 << bits) - 1)

    def trunc(self, x: int, bits: int) -> int:
        """Narrowing conversion (C assignment to a smaller unsigned type)."""
        return x & ((1 << bits) - 1)

    def zext(self, x: int, from_bits: int, to_bits: int) -> int:
        """Widening conversion of an unsigned value: the value is unchanged."""
        return x

    # -- arithmetic, wrapping at ``bits`` -------------------------------------------
    def add(self, x: int, y: int, bits: int) -> int:
        return (x + y) & ((1 << bits) - 1)

    def sub(self, x: int, y: int, bits: int) -> int:
        return (x - y) & ((1 << bits) - 1)

    def mul(self, x: int, y: int, bits: int) -> int:
        return (x * y) & ((1 << bits) - 1)

    def udiv(self, x: int, y: int, bits: int) -> int:
        """Unsigned division. The kernel paths guard ``y != 0``; for a variant that
        drops the guard, division by zero follows SMT-LIB's total definition (all
        ones), as the bit-vector interpretation does, instead of raising."""
        return x // y if y else (1 << bits) - 1

    def urem(self, x: int, y: int, bits: int) -> int:
        """Unsigned remainder; ``x % 0`` is ``x`` (SMT-LIB), see :meth:`udiv`."""
        return x % y if y else x

    def shl(self, x: int, n: int, bits: int) -> int:
        return (x << n) & ((1 << bits) - 1)

    def lshr(self, x: int, n: int, bits: int) -> int:
        return x >> n

    def band(self, x: int, y: int, bits: int) -> int:
        return x & y

    def bnot(self, x: int, bits: int) -> int:
        return ~x & ((1 << bits) - 1)

    def umin(self, x: int, y: int, bits: int) -> int:
        return x if x <= y else y

    # -- comparisons (unsigned) -----------------------------------------------------
    def eq(self, x: int, y: int) -> bool:
        return x == y

    def ne(self, x: int, y: int) -> bool:
        return x != y

    def ult(self, x: int, y: int) -> bool:
        return x < y

    def ule(self, x: int, y: int) -> bool:
        return x <= y

    def ugt(self, x: int, y: int) -> bool:
        return x > y

    def uge(self, x: int, y: int) -> bool:
        return x >= y

    def is_negative_signed(self, x: int, bits: int) -> bool:
        """``(s<bits>)x < 0``: the top bit is set."""
        return x >> (bits - 1) != 0

    def add_overflows(self, x: int, y: int, bits: int) -> bool:
        """True when the mathematical ``x + y`` does not fit ``bits``."""
        return x + y > (1 << bits) - 1

    # -- booleans -------------------------------------------------------------------
    def and_(self, *xs: bool) -> bool:
        return all(xs)

    def or_(self, *xs: bool) -> bool:
        return any(xs)

    def not_(self, x: bool) -> bool:
        return not x

    def ite(self, cond: bool, then: Any, other: Any) -> Any:
        return then if cond else other


CONCRETE = ConcreteOps()


class BitVecOps:
    """z3 bit-vector terms: the reference symbolic semantics.

    Widening and narrowing change the sort, as C conversions change the type, so a
    term's sort always equals the width the caller names.
    """

    symbolic = True

    def __init__(self) -> None:
        import z3  # imported lazily: the concrete model never needs z3

        self.z3 = z3

    def var(self, name: str, bits: int):
        return self.z3.BitVec(name, bits)

    def const(self, value: int, bits: int):
        return self.z3.BitVecVal(value & mask(bits), bits)

    def _fit(self, x, bits: int):
        """Python ints become constants of the width; terms pass through."""
        return self.const(x, bits) if isinstance(x, int) else x

    def trunc(self, x, bits: int):
        x = self._fit(x, bits) if isinstance(x, int) else x
        have = x.size()
        return x if have == bits else self.z3.Extract(bits - 1, 0, x)

    def zext(self, x, from_bits: int, to_bits: int):
        x = self._fit(x, from_bits)
        return x if from_bits == to_bits else self.z3.ZeroExt(to_bits - from_bits, x)

    def add(self, x, y, bits):
        return self._fit(x, bits) + self._fit(y, bits)

    def sub(self, x, y, bits):
        return self._fit(x, bits) - self._fit(y, bits)

    def mul(self, x, y, bits):
        return self._fit(x, bits) * self._fit(y, bits)

    def udiv(self, x, y, bits):
        return self.z3.UDiv(self._fit(x, bits), self._fit(y, bits))

    def urem(self, x, y, bits):
        return self.z3.URem(self._fit(x, bits), self._fit(y, bits))

    def shl(self, x, n, bits):
        return self._fit(x, bits) << self._fit(n, bits)

    def lshr(self, x, n, bits):
        return self.z3.LShR(self._fit(x, bits), self._fit(n, bits))

    def band(self, x, y, bits):
        return self._fit(x, bits) & self._fit(y, bits)

    def bnot(self, x, bits):
        return ~self._fit(x, bits)

    def umin(self, x, y, bits):
        x, y = self._fit(x, bits), self._fit(y, bits)
        return self.z3.If(self.z3.ULE(x, y), x, y)

    def _pair(self, x, y):
        if isinstance(x, int):
            x = self.const(x, y.size())
        if isinstance(y, int):
            y = self.const(y, x.size())
        return x, y

    def eq(self, x, y):
        x, y = self._pair(x, y)
        return x == y

    def ne(self, x, y):
        x, y = self._pair(x, y)
        return x != y

    def ult(self, x, y):
        return self.z3.ULT(*self._pair(x, y))

    def ule(self, x, y):
        return self.z3.ULE(*self._pair(x, y))

    def ugt(self, x, y):
        return self.z3.UGT(*self._pair(x, y))

    def uge(self, x, y):
        return self.z3.UGE(*self._pair(x, y))

    def is_negative_signed(self, x, bits):
        return self.z3.Extract(bits - 1, bits - 1, self._fit(x, bits)) == 1

    def add_overflows(self, x, y, bits):
        x, y = self._fit(x, bits), self._fit(y, bits)
        return self.z3.ULT(x + y, x)

    def and_(self, *xs):
        return self.z3.And(*xs)

    def or_(self, *xs):
        return self.z3.Or(*xs)

    def not_(self, x):
        return self.z3.Not(x)

    def ite(self, cond, then, other):
        return self.z3.If(cond, then, other)


class IntOps:
    """z3 integer terms with C's wrap written out as ``mod 2**bits``.

    Every value is an Int known (by ``range_constraint``) to lie in
    ``[0, 2**bits)``; operations keep results in range. Faster than bit-vectors
    for division and remainder by a symbolic divisor; ``checker.smt.prove`` shows that
    each fast proof agrees with the bit-vector semantics.
    """

    symbolic = True

    def __init__(self) -> None:
        import z3

        self.z3 = z3

    def var(self, name: str, bits: int):
        return self.z3.Int(name)

    def range_constraint(self, x, bits: int):
        return self.z3.And(x >= 0, x < (1 << bits))

    def const(self, value: int, bits: int):
        return self.z3.IntVal(value & mask(bits))

    def _wrap(self, x, bits):
        return x % (1 << bits)

    def trunc(self, x, bits):
        return self._wrap(x, bits)

    def zext(self, x, from_bits, to_bits):
        return x

    def add(self, x, y, bits):
        """``(x + y) mod 2**bits``. Both operands lie in ``[0, 2**bits)``, so the sum
        wraps at most once: written as one comparison instead of ``mod``, which
        keeps linear queries linear (z3's ``mod`` by 2^32 stalled its LIA solver)."""
        s = x + y
        if isinstance(s, int):
            return s % (1 << bits)
        return self.z3.If(s >= (1 << bits), s - (1 << bits), s)

    def sub(self, x, y, bits):
        """``(x - y) mod 2**bits``, wrapping at most once (see :meth:`add`)."""
        d = x - y
        if isinstance(d, int):
            return d % (1 << bits)
        return self.z3.If(d < 0, d + (1 << bits), d)

    def mul(self, x, y, bits):
        return self._wrap(x * y, bits)

    def _number(self, x):
        """``x`` as a Python int when it is a constant (an int or a constant term), else None."""
        if isinstance(x, int):
            return x
        x = self.z3.simplify(x)
        return x.as_long() if self.z3.is_int_value(x) else None

    def udiv(self, x, y, bits):
        """SMT-LIB ``bvudiv`` on naturals: ``x div y``, and all ones when ``y == 0``
        (z3's Int division by zero is unspecified, so the case is written out)."""
        k = self._number(y)
        if k is not None and k != 0:
            return x / k  # z3 Int division is floor division; operands are >= 0
        return self.z3.If(y == 0, mask(bits), x / y)

    def urem(self, x, y, bits):
        """SMT-LIB ``bvurem`` on naturals: ``x mod y``, and ``x`` when ``y == 0``."""
        k = self._number(y)
        if k is not None and k != 0:
            return x % k
        return self.z3.If(y == 0, x, x % y)

    def shl(self, x, n, bits):
        k = self._number(n)
        if k is None:
            raise NotImplementedError("IntOps.shl needs a constant shift")
        return self._wrap(x * (1 << k), bits)

    def lshr(self, x, n, bits):
        k = self._number(n)
        if k is None:
            raise NotImplementedError("IntOps.lshr needs a constant shift")
        return x / (1 << k)

    def band(self, x, y, bits):
        """``x & y`` where ``y`` is a constant low mask ``2**k - 1`` or its
        complement: the only masks the rules use (flag validity). A constant
        term (``bnot(const(1))``) counts as a constant."""
        y = self._number(y)
        if y is None:
            raise NotImplementedError("IntOps.band needs a constant mask")
        y &= mask(bits)
        k = (y + 1).bit_length() - 1
        if y == (1 << k) - 1:
            return x % (1 << k)
        k = (mask(bits) - y + 1).bit_length() - 1
        if y == mask(bits) - ((1 << k) - 1):
            return x - x % (1 << k)
        raise NotImplementedError(f"IntOps.band: mask {y:#x} is not a low mask or its complement")

    def bnot(self, x, bits):
        return mask(bits) - x

    def umin(self, x, y, bits):
        return self.z3.If(x <= y, x, y)

    def eq(self, x, y):
        return x == y

    def ne(self, x, y):
        return x != y

    def ult(self, x, y):
        return x < y

    def ule(self, x, y):
        return x <= y

    def ugt(self, x, y):
        return x > y

    def uge(self, x, y):
        return x >= y

    def is_negative_signed(self, x, bits):
        return x >= (1 << (bits - 1))

    def add_overflows(self, x, y, bits):
        return x + y > mask(bits)

    def and_(self, *xs):
        return self.z3.And(*xs)

    def or_(self, *xs):
        return self.z3.Or(*xs)

    def not_(self, x):
        return self.z3.Not(x)

    def ite(self, cond, then, other):
        return self.z3.If(cond, then, other)
