"""Which ``nbufs`` a variant's rules accept, as a simple proved predicate.

The ring queries quantify over every ``nbufs`` some accepted REGISTER produces.
Carrying that REGISTER (and its 64-bit division ``payload_size / buf_size``)
into every ring query makes z3 stall, so this module derives, once per variant,
a simple predicate ``D(nbufs, payload_at_0)`` from the rules and proves that it
covers every accepted REGISTER (no accepted REGISTER has ``nr_bufs`` outside
``D``): an interval ``[lo, hi]``, "a power of two" when the rules demand it, and
"the payload pool is not at address 0" when they demand that. ``D`` may be
larger than the exact set; proofs over a larger set still hold, and a
counterexample is only reported with a REGISTER the solver finds for its very
``nbufs`` (:func:`register_for`), replayed on the concrete model.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import z3
from bufring.checker.smt.register import (
    creates_bufring,
    model_config,
    model_register,
    symbolic_register,
)
from bufring.checker.smt.solver import Outcome, Sym, decide
from bufring.model.cint import U32, U64
from bufring.model.config import Config
from bufring.model.rules import nr_bufs
from bufring.model.uapi import FUSE_URING_BUFRING, REQ_HEADER_SZ
from bufring.model.variant import Variant


@dataclass
class NbufsDomain:
    """``lo <= nbufs <= hi`` (and a power of two, and payload not at 0, if proved)."""

    lo: int
    hi: int
    pow2: bool = False
    payload_at_0: bool = True          # some accepted REGISTER puts the pool at address 0
    empty: bool = False                # no REGISTER creates a bufring queue at all
    unknown: str = ""                  # why the domain could not be computed
    decisions: list = field(default_factory=list)

    def constraints(self, sym, n, blind0, bits: int) -> list:
        c = sym.c
        out = [c.uge(n, sym.const(self.lo, bits)),
               c.ule(n, sym.const(min(self.hi, (1 << bits) - 1), bits))]
        if self.pow2:
            out.append(z3.Or(*[n == sym.const(1 << k, bits) for k in range(bits)]))
        if not self.payload_at_0:
            out.append(z3.Not(blind0))
        return out

    def describe(self) -> str:
        text = f"{self.lo}..{self.hi}"
        if self.pow2:
            text = f"powers of two in {text}"
        return text + ("" if self.payload_at_0 else ", payload pool never at address 0")


def _optimum(variant: Variant, upper: bool, timeout: float, log=None):
    """z3's optimiser's largest (smallest) ``nr_bufs`` of an accepted REGISTER, as a
    guess to be proved; None when it does not answer."""
    sym = Sym("int")
    p = symbolic_register(sym, "p")
    n = nr_bufs(sym.c, p)
    opt = z3.Optimize()
    opt.set("timeout", max(1, int(timeout * 1000)))
    opt.add(*sym.side)
    opt.add(creates_bufring(sym.c, variant, p))
    if upper:
        opt.maximize(n)
    else:
        opt.minimize(n)
    started = time.perf_counter()
    answer = opt.check()
    if log is not None:
        log.add(f"nbufs domain: optimise {'max' if upper else 'min'} nr_bufs", "int",
                Outcome(str(answer), time.perf_counter() - started), note="z3 Optimize, a guess")
    if answer != z3.sat:
        return None
    return opt.model().eval(n, model_completion=True).as_long()


def _exists(variant: Variant, timeout, log, pred, name):
    """Is some REGISTER that creates a bufring queue (any configuration) such that
    ``pred(sym, p, nr_bufs)``? Returns the decision and the REGISTER's terms."""
    ctx = {}

    def build(sym):
        p = ctx["p"] = symbolic_register(sym, "p")
        return [creates_bufring(sym.c, variant, p), pred(sym, p, nr_bufs(sym.c, p))]
    d = decide(build, timeout, name=name, log=log)
    return d, ctx["p"]


def nbufs_domain(variant: Variant, timeout: float, log=None) -> NbufsDomain:
    """Derive and prove :class:`NbufsDomain` for ``variant`` (a few dozen small queries)."""
    decisions = []

    def ask(pred, name):
        d, _ = _exists(variant, timeout, log, pred, f"nbufs domain: {name}")
        decisions.append(d)
        return d

    any_ring, p_any = _exists(variant, timeout, log, lambda sym, p, n: z3.BoolVal(True),
                              "nbufs domain: some REGISTER creates a ring")
    decisions.append(any_ring)

    if any_ring.outcome.unknown:
        return NbufsDomain(0, 0, unknown=any_ring.outcome.reason, decisions=decisions)
    if any_ring.outcome.unsat:
        return NbufsDomain(0, 0, empty=True, decisions=decisions)
    seen = any_ring.sym.value(any_ring.outcome.model, nr_bufs(any_ring.sym.c, p_any))

    def bound(upper: bool):
        # Largest (smallest) m such that some accepted REGISTER has nr_bufs >= m (<= m):
        # z3's optimiser proposes it, two plain queries prove it; binary search otherwise.
        guess = _optimum(variant, upper, timeout, log)
        if guess is not None:
            beyond = ask((lambda sym, p, n: sym.c.ugt(n, sym.const(guess, U32))) if upper else
                         (lambda sym, p, n: sym.c.ult(n, sym.const(guess, U32))),
                         f"nr_bufs {'>' if upper else '<'} {guess}")
            at = ask(lambda sym, p, n: sym.c.eq(n, sym.const(guess, U32)), f"nr_bufs == {guess}")
            if beyond.outcome.unsat and at.outcome.sat:
                return guess, ""
        good, bad = seen, ((1 << U32) if upper else -1)
        while abs(bad - good) > 1:
            mid = (good + bad) // 2
            cmp = (lambda sym, p, n, m=mid: sym.c.uge(n, sym.const(m, U32))) if upper else \
                  (lambda sym, p, n, m=mid: sym.c.ule(n, sym.const(m, U32)))
            d = ask(cmp, f"nr_bufs {'>=' if upper else '<='} {mid}")
            if d.outcome.unknown:
                return None, d.outcome.reason
            good, bad = (mid, bad) if d.outcome.sat else (good, mid)
        return good, ""

    hi, why = bound(True)
    if hi is None:
        return NbufsDomain(0, 0, unknown=why, decisions=decisions)
    lo, why = bound(False)
    if lo is None:
        return NbufsDomain(0, 0, unknown=why, decisions=decisions)
    not_pow2 = ask(lambda sym, p, n: z3.Not(z3.Or(*[n == sym.const(1 << k, U32) for k in range(32)])),
                   "nr_bufs not a power of two")
    at_0 = ask(lambda sym, p, n: sym.c.eq(p.payload_base, sym.const(0, U64)), "payload pool at 0")
    for d in (not_pow2, at_0):
        if d.outcome.unknown:
            return NbufsDomain(lo, hi, unknown=d.outcome.reason, decisions=decisions)
    return NbufsDomain(lo, hi, pow2=not_pow2.outcome.unsat, payload_at_0=at_0.outcome.sat,
                       decisions=decisions)


# --- a REGISTER for one nbufs -----------------------------------------------------------------------

HEADERS_BASE = 0x10000000
PAYLOAD_BASE = 0x20000000


def canonical_register(cfg: Config, nbufs: int, payload_at_0: bool, entries: int, buf_index: int = 0):
    """The plain REGISTER a server would send for ``nbufs`` buffers of
    ``max_payload_sz`` bytes and ``entries`` header slots."""
    from bufring.model.actions import Register
    size = cfg.max_payload_sz
    return Register(qid=0, flags=FUSE_URING_BUFRING, buf_index=buf_index, queue_depth=entries,
                    buf_size=size, headers=(HEADERS_BASE, REQ_HEADER_SZ * entries),
                    payload=(0 if payload_at_0 else PAYLOAD_BASE, nbufs * size))


def register_for(variant: Variant, nbufs: int, payload_at_0: bool, entries: int, timeout: float, log=None,
                 bits: int = 32, counter_start: int = 0):
    """A configuration and REGISTER that create a ring of exactly ``nbufs`` buffers
    (payload pool at address 0 or not) with room for ``entries`` entries: the
    canonical one if the variant's rules accept it, else one the solver finds
    (default configuration first). None when there is none."""
    from bufring.model.kernel import InvalidStep
    from bufring.model.system import next_state
    from bufring.model.state import INITIAL_STATE, get_queue
    base = Config(counter_bits=bits, counter_start=counter_start)
    for size in (base.max_payload_sz, 8192):
        cfg = Config(max_payload_sz=size, counter_bits=bits, counter_start=counter_start)
        reg = canonical_register(cfg, nbufs, payload_at_0, entries)
        try:
            state, obs = next_state(variant, cfg, INITIAL_STATE, reg)
        except InvalidStep:     # a ring the configuration cannot hold (counter rule)
            continue
        q = get_queue(state, 0)
        if obs.ret == 0 and q is not None and q.bufring is not None and q.bufring.nbufs == nbufs:
            return cfg, reg
    for fixed in (base, None):
        ctx = {}

        def build(sym, fixed=fixed, ctx=ctx):
            p = ctx["p"] = symbolic_register(sym, "p", fixed)
            c = sym.c
            return [creates_bufring(c, variant, p), c.eq(nr_bufs(c, p), sym.const(nbufs, U32)),
                    c.eq(p.qid, sym.const(0, 16)), c.eq(p.nr_queues, sym.const(1, U32)),
                    c.uge(p.queue_depth, sym.const(entries, 16)),
                    c.eq(p.buf_index, sym.const(0, 16)),
                    c.eq(p.payload_base, sym.const(0, U64)) if payload_at_0
                    else c.ne(p.payload_base, sym.const(0, U64))]
        d = decide(build, timeout, name=f"a REGISTER for nbufs {nbufs}", log=log)
        if d.outcome.sat:
            p = ctx["p"]
            cfg = model_config(d.sym, d.outcome.model, p, counter_bits=bits, counter_start=counter_start)
            return cfg, model_register(d.sym, d.outcome.model, p)
    return None
