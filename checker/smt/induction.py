"""Induction on the abstract ring (``checker.smt.ring``): base case, inductive step,
triage of counterexamples to induction, strengthening lemmas, and BMC.

:meth:`RingProver.prove` decides one ring property for a variant:

1. base case: every initial ring satisfies the property (and each lemma used);
2. step: from any state satisfying the property and the lemmas, one transition
   keeps them, for every ``nbufs`` the rules accept and every counter value;
3. when a step fails, its model is a counterexample to induction (CTI). Triage:
   a bounded model check from the initial rings (any ``counter_start``) looks
   for a reachable violation within ``depth`` steps; a reachable one is the
   answer (``violated``, with the abstract run that ``checker.smt.ringtrace``
   turns into a trace); otherwise the CTI is taken as unreachable and the next
   lemma of ``checker.smt.ring.LEMMAS`` that it violates is added, then proved with the
   rest (its own base case and step). A lemma that fails its base case, or that
   BMC shows violated, is dropped.
4. ``proved`` only when every conjunct's step closed; a step that never closes,
   or any solver ``unknown``, is ``unknown``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from bufring.checker.smt.ring import (
    KINDS,
    LEMMAS,
    REC,
    Invariant,
    Params,
    StepProperty,
    Terms,
    View,
    free_state,
    initial_state,
    multiset_facts,
    params,
    step_terms,
    transition,
)
from bufring.checker.smt.bmc import search as bmc_search, starts as bmc_starts
from bufring.checker.smt.solver import Answer, Decision, Outcome, Tracked, decide
from bufring.checker.verdict import Status
from bufring.specs.catalog import get
from bufring.model.variant import Variant


@dataclass
class AbstractRun:
    """A run of the abstract ring read from a BMC model: the ring's constants and
    the transitions taken."""

    nbufs: int
    payload_at_0: bool
    counter_start: int
    events: list                    # (kind, buf) with kind an index of checker.smt.ring.KINDS

    def describe(self) -> str:
        steps = ", ".join(KINDS[k] + (f" {b}" if k == REC else "") for k, b in self.events)
        return (f"nbufs {self.nbufs}, counter_start {self.counter_start}"
                f"{', payload at address 0' if self.payload_at_0 else ''}: {steps or 'no step'}")


@dataclass
class RingResult:
    status: Status                              # PROVED, VIOLATED or UNKNOWN
    lemmas: list = field(default_factory=list)
    run: AbstractRun | None = None
    message: str = ""
    decisions: list = field(default_factory=list)
    dropped: list = field(default_factory=list)


class _Ctx:
    """Holds what the last build of a query made, to read its model afterwards."""

    def __init__(self):
        self.__dict__["items"] = {}

    def __setattr__(self, key, value):
        self.items[key] = value

    def __getattr__(self, key):
        return self.items[key]


class RingProver:
    """One variant's ring at one counter width; queries share its options."""

    def __init__(self, variant: Variant, logic, domain, bits: int, timeout: float, log=None, *,
                 depth: int = 6, recheck_bv: float = 0.0):
        self.variant, self.logic, self.domain, self.bits = variant, logic, domain, bits
        self.timeout, self.log, self.depth, self.recheck_bv = timeout, log, depth, recheck_bv

    # -- queries -----------------------------------------------------------------------------------
    def _decide(self, name: str, build, encodings=None) -> Decision:
        return decide(build, self.timeout, name=name, log=self.log, encodings=encodings,
                      recheck_bv=self.recheck_bv)

    def _params(self, sym, blind0=None, nbufs=None) -> Params:
        return params(sym, self.domain, self.logic, self.bits, blind0=blind0, nbufs=nbufs)

    def base(self, inv: Invariant) -> Decision:
        """Does some initial ring violate ``inv``? (``unsat``: the base case holds)
        One disjunct of the negation at a time, as for a step."""
        parts = self._parts(inv)
        decision = None
        for part in range(parts):
            def build(sym, part=part):
                prm = self._params(sym)
                s0, fit, _ = initial_state(sym, prm)
                bad, _ = inv.violation_parts(View(sym, prm), s0, "viol")[part]
                return prm.constraints + fit + [bad]
            label = f" (part {part + 1}/{parts})" if parts > 1 else ""
            decision = self._decide(f"base: {inv.id}{label}", build)
            if not decision.outcome.unsat:
                return decision
        return decision

    def step(self, goal, hyps: list, ctx: _Ctx | None = None) -> Decision:
        """Can one transition from a state satisfying ``hyps`` violate ``goal``? A
        state goal is checked one disjunct of its negation at a time (smaller
        queries); the first that is not unsat is the answer."""
        ctx = ctx or _Ctx()
        names = "+".join(h.id.split(".")[-1] for h in hyps) or "nothing"
        parts = 1 if isinstance(goal, StepProperty) else self._parts(goal)
        decision = None
        for part in range(parts):
            def build(sym, part=part):
                prm = self._params(sym)
                v = View(sym, prm)
                s0 = free_state(sym, prm, "pre")
                s1, ev = transition(sym, prm, s0, "t")
                if isinstance(goal, StepProperty):
                    bad, post = goal.violation(v, s0, ev), Terms()
                else:
                    bad, post = goal.violation_parts(v, s1, "viol")[part]
                terms = step_terms(v, s0, s1, ev, post)
                facts = [Tracked(h.id, h.facts(v, s0, terms)) for h in hyps]
                ctx.v, ctx.s0, ctx.terms = v, s0, terms
                return prm.constraints + [ev.enabled] + multiset_facts(v, s0, terms.ids) + facts + [bad]
            label = f" (part {part + 1}/{parts})" if parts > 1 else ""
            d = self._decide(f"step: {goal.id}{label} from {names}", build)
            if not d.outcome.unsat:
                return d
            core = sorted(set((decision.outcome.core if decision else []) + d.outcome.core))
            decision = d
            decision.outcome.core = core
        return decision

    def _parts(self, goal) -> int:
        from bufring.checker.smt.solver import Sym
        sym = Sym("int")
        prm = self._params(sym)
        return len(goal.violation_parts(View(sym, prm), free_state(sym, prm, "probe"), "probe"))

    def bmc_nbufs(self, hint: int | None = None) -> list[int]:
        """The ``nbufs`` the bounded search tries: the CTI's, the smallest few of
        the domain, the values around the u16 limit, and the largest."""
        dom, top = self.domain, min(self.domain.hi, (1 << self.bits) - 1)
        ok = (lambda n: dom.lo <= n <= top and (not dom.pow2 or n & (n - 1) == 0))
        small = [1 << k for k in range(self.bits)] if dom.pow2 else list(range(dom.lo, dom.lo + 6))
        values = ([hint] if hint is not None else []) + small[:6] + \
            [(1 << 16) - 1, 1 << 16, (1 << 16) + 1, top]
        out = []
        for n in values:
            if n is not None and ok(n) and n not in out:
                out.append(n)
        return out

    def reachable_violation(self, prop_id: str, decisions: list, hint=None):
        """The shortest run of the abstract ring violating the catalog property
        ``prop_id`` within ``self.depth`` steps (``checker.smt.bmc``), preferring a
        payload pool not at address 0; ``(run, why_not_decided)``."""
        prop = get(prop_id)
        n_hint, head_hint = hint if hint else (None, None)
        started = time.perf_counter()
        deadline = started + self.timeout
        blinds = (False, True) if self.domain.payload_at_0 else (False,)
        best = None
        for blind0 in blinds:
            for n in self.bmc_nbufs(n_hint):
                found = bmc_search(prop, self.logic, n, blind0, self.bits, self.depth,
                                       bmc_starts(n, self.bits, self.depth, head_hint), deadline)
                if found is not None and (best is None or (len(found.events), found.nbufs)
                                          < (len(best.events), best.nbufs)):
                    best = found
            if best is not None:
                break
        seconds = time.perf_counter() - started
        out_of_time = time.perf_counter() > deadline
        outcome = Outcome(Answer.SAT if best else (Answer.UNKNOWN if out_of_time else Answer.UNSAT), seconds,
                          reason=f"bounded search out of time ({self.timeout:g} s)" if out_of_time else "")
        if self.log is not None:
            self.log.add(f"bmc (explicit): {prop_id} within {self.depth} steps", "explicit", outcome,
                         note="nbufs " + ", ".join(map(str, self.bmc_nbufs(n_hint))))
        decisions.append(outcome)
        if best is None:
            return None, (outcome.reason if out_of_time else "")
        return AbstractRun(best.nbufs, best.payload_at_0, best.counter_start, best.events), ""

    # -- the proof loop -----------------------------------------------------------------------------
    def prove(self, prop) -> RingResult:
        """Base, step, CTI triage and strengthening for ``prop`` (see the module doc)."""
        res = RingResult(Status.UNKNOWN)
        is_state = isinstance(prop, Invariant)
        if is_state:
            d = self.base(prop)
            res.decisions.append(d)
            if not d.outcome.unsat:
                run, why = self.reachable_violation(prop.id, res.decisions)
                if run is not None:
                    res.status, res.run = Status.VIOLATED, run
                    res.message = f"reachable: {run.describe()}"
                elif d.outcome.sat:
                    res.message = "an initial ring violates it, yet the bounded search found none (checker bug)"
                else:
                    res.message = f"base case not decided: {d.outcome.reason}"
                return res
        # Arithmetic facts about nbufs hold in every state: assume them from the start
        # (the final minimisation reports them only if the proof needs them).
        support: list[Invariant] = self._arith_facts(res)
        searched = False
        for _ in range(len(LEMMAS) + 2):
            conj = ([prop] if is_state else []) + support
            failing, cores = None, {}
            for goal in [prop] + [s for s in support if not s.stateless]:
                ctx = _Ctx()
                d = self.step(goal, conj, ctx)
                res.decisions.append(d)
                if not d.outcome.unsat:
                    failing = (goal, d, ctx)
                    break
                cores[goal.id] = d.outcome.core
            if failing is None:
                support = self._used(prop, support, cores)
                res.status, res.lemmas = Status.PROVED, [s.id for s in support]
                res.message = self._proved_message(prop, support)
                return res
            goal, d, ctx = failing
            if not searched:
                # Triage: is a violation reachable (the CTI's nbufs and counters first)?
                searched = True
                hint = self._cti_hint(d, ctx) if d.outcome.sat else None
                run, why = self.reachable_violation(prop.id, res.decisions, hint)
                if run is not None:
                    res.status, res.run = Status.VIOLATED, run
                    res.message = (f"the step of {goal.id} does not close and a violation is "
                                   f"reachable: {run.describe()}")
                    return res
            lemma = self._next_lemma(support, d, ctx, res)
            if lemma is None:
                if d.outcome.sat:
                    why = (f"the step of {goal.id} does not close (CTI: {self._describe_cti(d, ctx)}); "
                           f"no violation within {self.depth} steps and no lemma left")
                else:
                    why = f"the step of {goal.id} was not decided: {d.outcome.reason}"
                res.message = why
                return res
            support.append(lemma)
        res.message = "strengthening did not converge"
        return res

    def _arith_facts(self, res: RingResult) -> list:
        out = []
        for lemma in LEMMAS:
            if lemma.stateless:
                d = self._arith(lemma)
                res.decisions.append(d)
                if d.outcome.unsat:
                    out.append(lemma)
                else:
                    res.dropped.append(lemma.id)
        return out

    @staticmethod
    def _used(prop, support: list, cores: dict) -> list:
        """The lemmas the proof needs: those in the unsat core of the property's
        step, and, closing over it, in the cores of those lemmas' own steps. Every
        lemma kept has its step closed from kept hypotheses only."""
        by_id = {s.id: s for s in support}
        need, todo = set(), [prop.id]
        while todo:
            goal = todo.pop()
            for name in cores.get(goal, []):
                if name in by_id and name not in need:
                    need.add(name)
                    todo.append(name)
        return [s for s in support if s.id in need]

    def _next_lemma(self, support: list, d: Decision, ctx: _Ctx, res: RingResult):
        """The first unused lemma the CTI violates (else the first unused one) whose
        own base case holds; lemmas whose base case fails are dropped."""
        unused = [lm for lm in LEMMAS if lm not in support and lm.id not in res.dropped
                  and not lm.stateless]
        if d.outcome.sat:
            model = d.outcome.model

            def excludes(lm):
                return not all(d.sym.truth(model, f) for f in lm.facts(ctx.v, ctx.s0, ctx.terms))
            unused = [lm for lm in unused if excludes(lm)] + [lm for lm in unused if not excludes(lm)]
        for lm in unused:
            b = self.base(lm)
            res.decisions.append(b)
            if b.outcome.unsat:
                return lm
            res.dropped.append(lm.id)
        return None

    def _arith(self, lemma: Invariant) -> Decision:
        """A stateless lemma (a fact about nbufs): no nbufs the rules accept breaks it."""
        def build(sym):
            prm = self._params(sym)
            s0 = free_state(sym, prm, "any")
            bad, _ = lemma.violation(View(sym, prm), s0, "viol")
            return prm.constraints + [bad]
        return self._decide(f"arith: {lemma.id}", build)

    @staticmethod
    def _cti_hint(d: Decision, ctx: _Ctx):
        """The CTI's nbufs and head: where the bounded search looks first."""
        try:
            return d.sym.value(d.outcome.model, ctx.v.prm.n), d.sym.value(d.outcome.model, ctx.s0.head)
        except (ValueError, KeyError):  # no model value: no hint
            return None

    def _describe_cti(self, d: Decision, ctx: _Ctx) -> str:
        m, sym, v, s0 = d.outcome.model, d.sym, ctx.v, ctx.s0
        try:
            return (f"nbufs {sym.value(m, v.prm.n)}, head {sym.value(m, s0.head)}, "
                    f"tail {sym.value(m, s0.tail)}, held {sym.value(m, s0.h)}")
        except (ValueError, KeyError):  # a model without these values: describe nothing
            return "a state the lemmas do not exclude"

    def _proved_message(self, prop, support) -> str:
        with_ = f" with lemma(s) {', '.join(s.id for s in support)}" if support else ""
        return (f"inductive at {self.bits}-bit counters for every nbufs the rules accept and "
                f"every counter value{with_}")
