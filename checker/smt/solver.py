"""z3 plumbing for ``bufring prove``: encodings, typed variables, one timed query.

Every module of the SMT engine builds its terms through a :class:`Sym`, the
symbolic context of one query: the C integer operations ``c`` of one encoding
(``model.cint``: ``BitVecOps`` or ``IntOps``), the side constraints its
variables need (an Int stands for a C value only with its range), and ghost
naturals (counts the kernel does not keep). :func:`solve` runs one query with a
timeout and logs it; a timeout or a z3 ``unknown`` is an :class:`Outcome` with
``result`` :attr:`Answer.UNKNOWN`, never a ``holds`` (docs/smt.md, "Encodings").

No other module of the engine calls ``z3.Solver`` or builds raw sorts.
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import z3
from bufring.model.cint import BitVecOps, IntOps

z3.set_param("ctrl_c", False)
"""z3 would otherwise take SIGINT for itself while it solves (and answer ``unknown``),
so a Ctrl-C during a proof was lost; ``bufring`` handles it (checker.cli.entry)."""

ENCODINGS = ("int", "bv")
"""``int``: z3 integers with the C wrap written out (the fast path); ``bv``: z3
bit-vectors (the reference semantics). docs/smt.md says why an ``int`` proof
holds for the bit-vector semantics."""

WIDE = 130
"""Width of exact arithmetic in the bit-vector encoding: a 64 x 64-bit product plus
a sum stays below 2^129."""

_OPS = {"int": IntOps, "bv": BitVecOps}
_OPS_CACHE: dict[str, Any] = {}


def ops(encoding: str):
    """The C integer operations of ``encoding`` (one shared instance each)."""
    if encoding not in _OPS:
        raise ValueError(f"unknown encoding {encoding!r}; encodings: {', '.join(ENCODINGS)}")
    if encoding not in _OPS_CACHE:
        _OPS_CACHE[encoding] = _OPS[encoding]()
    return _OPS_CACHE[encoding]


NONLINEAR_OPS = ("mul", "udiv", "urem")


def _is_constant(x) -> bool:
    return isinstance(x, int) or z3.is_int_value(x) or z3.is_bv_value(x)


class RecordingOps:
    """The C integer operations of one encoding, recording which ones a query uses
    and whether any is nonlinear (a product, quotient or remainder of two
    variables): what decides the encoding of a query (:func:`encodings_for`)."""

    def __init__(self, inner):
        self._inner = inner
        self.used: set[str] = set()
        self.nonlinear: set[str] = set()

    def __getattr__(self, name):
        attr = getattr(self._inner, name)
        if not callable(attr) or name.startswith("_"):
            return attr

        def recorded(*args, **kwargs):
            self.used.add(name)
            if name in NONLINEAR_OPS and not any(_is_constant(a) for a in args[:2]):
                self.nonlinear.add(name)
            return attr(*args, **kwargs)
        return recorded


class Sym:
    """The symbolic context of one query: ``c``, variables, side constraints.

    ``var(name, bits)`` is a C unsigned value of ``bits`` bits: a bit-vector of that
    width, or an Int constrained to ``[0, 2**bits)``. ``ghost(name)`` is a natural
    number of the abstraction (a count), an Int in both encodings. Arrays map C
    values to C values (slots) or to naturals (held counts); every read of a C
    array is range-constrained in the Int encoding, as a bit-vector read is by
    its sort.
    """

    def __init__(self, encoding: str = "int"):
        self.encoding = encoding
        self.c = RecordingOps(ops(encoding))
        self.side: list = []
        self._names: dict[str, int] = {}

    # -- names ---------------------------------------------------------------------------
    def fresh(self, name: str) -> str:
        """A name not used before in this query (``name``, ``name!1``, ...)."""
        n = self._names.get(name, 0)
        self._names[name] = n + 1
        return name if n == 0 else f"{name}!{n}"

    # -- C values ------------------------------------------------------------------------
    @property
    def is_int(self) -> bool:
        return self.encoding == "int"

    def var(self, name: str, bits: int):
        v = self.c.var(self.fresh(name), bits)
        if self.is_int:
            self.side.append(self.c.range_constraint(v, bits))
        return v

    def const(self, value: int, bits: int):
        return self.c.const(value, bits)

    def sort(self, bits: int):
        return z3.IntSort() if self.is_int else z3.BitVecSort(bits)

    def nat(self, x, bits: int):
        """The natural number a C value stands for, for exact arithmetic: the Int
        itself, or the bit-vector zero-extended to ``WIDE`` bits, where sums and
        products of C values cannot wrap and Python's (signed) operators compare
        correctly because the top bit stays clear. A Python int stays one."""
        if isinstance(x, int) or self.is_int:
            return x
        return z3.ZeroExt(WIDE - bits, x)

    # -- other sorts ----------------------------------------------------------------------
    def bool(self, name: str):
        return z3.Bool(self.fresh(name))

    def natval(self, value: int):
        """A natural-number constant of the ghost sort."""
        return z3.IntVal(value) if self.is_int else z3.BitVecVal(value, WIDE)

    def nat_sort(self):
        return z3.IntSort() if self.is_int else z3.BitVecSort(WIDE)

    def ghost(self, name: str):
        """A natural number of the abstraction (not a C value): an Int, or a
        ``WIDE``-bit vector below 2^128 (so that adding one cannot reach the sign)."""
        g = z3.Const(self.fresh(name), self.nat_sort())
        self.side.append(g >= 0 if self.is_int else z3.ULT(g, z3.BitVecVal(1 << 128, WIDE)))
        return g

    def choice(self, name: str, options: int):
        """An Int in ``[0, options)``: which transition a step takes."""
        k = z3.Int(self.fresh(name))
        self.side.append(z3.And(k >= 0, k < options))
        return k

    @property
    def used_ops(self) -> list[str]:
        return sorted(self.c.used)

    @property
    def nonlinear(self) -> list[str]:
        return sorted(self.c.nonlinear)

    def array(self, name: str, index_bits: int, value_bits: int | None):
        """An array from C values to C values (``value_bits``) or to naturals (None)."""
        value = self.nat_sort() if value_bits is None else self.sort(value_bits)
        return z3.Array(self.fresh(name), self.sort(index_bits), value)

    def read(self, arr, index, value_bits: int | None):
        """``arr[index]``, with its range in the Int encoding."""
        v = z3.Select(arr, index)
        if self.is_int and value_bits is not None:
            self.side.append(self.c.range_constraint(v, value_bits))
        elif not self.is_int and value_bits is None:
            self.side.append(z3.ULT(v, z3.BitVecVal(1 << 128, WIDE)))
        return v

    @staticmethod
    def store(arr, index, value):
        return z3.Store(arr, index, value)

    # -- models ----------------------------------------------------------------------------
    @staticmethod
    def value(model, term) -> int:
        """A C value or natural of ``model`` as a Python int (0 when unconstrained)."""
        if isinstance(term, int):
            return term
        v = model.eval(term, model_completion=True)
        if z3.is_bv_value(v) or z3.is_int_value(v):
            return v.as_long()
        raise ValueError(f"not a number in the model: {term} = {v}")

    @staticmethod
    def truth(model, formula) -> bool:
        return z3.is_true(model.eval(formula, model_completion=True))


# --- queries ---------------------------------------------------------------------------------

@dataclass
class Tracked:
    """Hypotheses under a name: an unsat answer says whether it needed them
    (``Outcome.core``), which is how a proof reports the lemmas it used."""

    name: str
    formulas: list

class Answer(StrEnum):
    """What one query answered: z3's three answers (a timeout is ``UNKNOWN``). A
    ``StrEnum``: the query log writes the plain word."""

    SAT = "sat"
    UNSAT = "unsat"
    UNKNOWN = "unknown"


@dataclass
class Outcome:
    """One solver call: ``sat`` (a model), ``unsat``, or ``unknown`` (and why)."""

    result: Answer
    seconds: float
    model: Any = None
    reason: str = ""
    core: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self.result = Answer(self.result)      # z3's str(answer) names one too

    @property
    def sat(self) -> bool:
        return self.result is Answer.SAT

    @property
    def unsat(self) -> bool:
        return self.result is Answer.UNSAT

    @property
    def unknown(self) -> bool:
        return self.result is Answer.UNKNOWN


@dataclass
class QueryRecord:
    """One line of the query log (bench/smt.md)."""

    variant: str
    property: str
    query: str
    encoding: str
    seconds: float
    result: Answer
    note: str = ""

    def to_json(self) -> dict:
        return {"variant": self.variant, "property": self.property, "query": self.query,
                "encoding": self.encoding, "seconds": round(self.seconds, 3),
                "result": self.result, "note": self.note}


@dataclass
class QueryLog:
    """Every query a ``prove`` run made, in order. ``context`` names the variant and
    property the next records belong to."""

    records: list = field(default_factory=list)
    variant: str = ""
    property: str = ""

    def add(self, query: str, encoding: str, outcome: Outcome, note: str = "") -> None:
        self.records.append(QueryRecord(self.variant, self.property, query, encoding,
                                        outcome.seconds, outcome.result, note or outcome.reason))



def solve(sym: Sym, constraints: Iterable, timeout: float, *, name: str = "",
          log: QueryLog | None = None, assumptions: Iterable = (), note: str = "",
          seed: int = 0) -> Outcome:
    """Check ``constraints`` (plus the side constraints of ``sym``) with a timeout in
    seconds. A timeout, a resource limit or a z3 ``unknown`` gives ``unknown``."""
    solver = z3.Solver()
    solver.set("timeout", max(1, int(timeout * 1000)))
    if seed:
        solver.set("random_seed", seed)
        solver.set("smt.random_seed", seed)
    solver.add(*sym.side)
    assumptions = list(assumptions)
    names = {}
    for item in constraints:
        if isinstance(item, Tracked):
            lit = z3.Bool(f"assume!{item.name}")
            names[lit.get_id()] = item.name
            solver.add(z3.Implies(lit, z3.And(*item.formulas)) if item.formulas else z3.BoolVal(True))
            assumptions.append(lit)
        else:
            solver.add(item)
    started = time.perf_counter()
    try:
        answer = solver.check(*assumptions)
    except z3.Z3Exception as e:       # e.g. "canceled" on some z3 builds
        answer, reason = z3.unknown, f"z3: {e}"
    else:
        reason = solver.reason_unknown() if answer == z3.unknown else ""
    seconds = time.perf_counter() - started
    if answer == z3.sat:
        outcome = Outcome(Answer.SAT, seconds, model=solver.model())
    elif answer == z3.unsat:
        core = [names.get(lit.get_id(), str(lit)) for lit in solver.unsat_core()] if assumptions else []
        outcome = Outcome(Answer.UNSAT, seconds, core=core)
    else:
        if reason in ("timeout", "canceled") or seconds >= timeout * 0.98:
            reason = f"timeout after {timeout:g} s"
        outcome = Outcome(Answer.UNKNOWN, seconds, reason=reason or "z3 answered unknown")
    if log is not None:
        log.add(name, sym.encoding, outcome, note)
    return outcome


def z3_version() -> str:
    return z3.get_version_string()


# --- deciding one question, encoding chosen per query -------------------------------------------

@dataclass
class Decision:
    """The answer to one question: the outcome in the encoding that decided it,
    that encoding's context (to read the model) and what was tried."""

    outcome: Outcome
    sym: Sym
    encoding: str
    ops: list
    nonlinear: list
    tried: list = field(default_factory=list)     # (encoding, result, seconds)
    recheck: str = ""                             # bit-vector re-check of an int answer

    @property
    def seconds(self) -> float:
        return sum(t[2] for t in self.tried)


LINEAR_SCHEDULE = (("bv", 0, 0.5), ("int", 0, 0.5))
NONLINEAR_SCHEDULE = (("int", 0, 0.4), ("bv", 0, 0.3), ("int", 7, 0.3))
"""How a query's time budget is spent: ``(encoding, z3 random seed, share)`` tried in
order until one answers. z3's arithmetic is erratic on these queries (the same
question takes 0.1 s or times out depending on the encoding and the seed), so a
budget split over encodings and seeds answers more often than one long try."""


def encodings_for(build) -> tuple[list, list, tuple]:
    """The schedule of a query: bit-vectors (the reference semantics) first when
    every operation is linear; integers first when it multiplies, divides or takes
    a remainder of two variables (where bit-blasting a 32- or 64-bit divider is
    what took z3 minutes)."""
    probe = Sym("int")
    build(probe)
    schedule = NONLINEAR_SCHEDULE if probe.nonlinear else LINEAR_SCHEDULE
    return probe.used_ops, probe.nonlinear, schedule


def decide(build, timeout: float, *, name: str, log: QueryLog | None = None,
           encodings: tuple[str, ...] | None = None, recheck_bv: float = 0.0) -> Decision:
    """Build the query with ``build(sym) -> constraints`` and solve it, trying the
    encodings in order until one answers; each try has ``timeout`` seconds.

    With ``recheck_bv > 0`` an answer obtained over integers is solved again over
    bit-vectors with that budget, and the result recorded (``agrees``,
    ``DIFFERS`` or ``timeout``): the bench reports it. A differing answer raises,
    as it would be a bug of the encodings.
    """
    used, nonlinear, schedule = encodings_for(build)
    if encodings:
        schedule = tuple((enc, 0, 1.0 / len(encodings)) for enc in encodings)
    tried = []
    decision = None
    for enc, seed, share in schedule:
        sym = Sym(enc)
        constraints = build(sym)
        out = solve(sym, constraints, timeout * share, name=name, log=log, seed=seed,
                    note=f"seed {seed}" if seed else "")
        tried.append((enc, out.result, out.seconds))
        decision = Decision(out, sym, enc, used, nonlinear, tried)
        if not out.unknown:
            break
    if decision.outcome.unknown:
        decision.outcome.reason = f"no answer within {timeout:g} s ({len(tried)} tries: " + \
            ", ".join(f"{e} {s:.1f} s" for e, _, s in tried) + ")"
    if recheck_bv > 0 and decision.encoding == "int" and not decision.outcome.unknown:
        sym = Sym("bv")
        out = solve(sym, build(sym), recheck_bv, name=name + " [bv re-check]", log=log)
        if out.unknown:
            decision.recheck = f"timeout after {recheck_bv:g} s"
        elif out.result != decision.outcome.result:
            raise AssertionError(f"{name}: integer encoding says {decision.outcome.result}, "
                                 f"bit-vectors say {out.result}")
        else:
            decision.recheck = f"agrees ({out.seconds:.2f} s)"
    return decision
