"""``prove``: the SMT engine. Registration contracts and ring invariants for all values.

:func:`prove` decides, for one variant, every catalog property it can soundly
encode (:data:`PROVABLE`):

* contracts over REGISTER parameters (``checker.smt.contracts``), from the
  variant's own rule lists: proved for every value, or refuted by a REGISTER the
  solver finds;
* the ring invariants (``checker.smt.induction`` over ``checker.smt.ring``), by
  induction at the kernel's counter width for every ``nbufs`` the rules accept
  and every counter value, with counterexamples to induction triaged by a
  bounded search and strengthening lemmas reported.

Every counterexample is written as a trace under ``<out>/<variant>/`` and replayed
on the concrete model before it is reported (``checker.judge``). Every
query has a timeout; a timeout is ``unknown``, never ``proved``. The boundary
vectors of the REGISTER rules go to ``<out>/<variant>/register-vectors.json``.
docs/smt.md explains the encodings, the abstraction and the lemmas.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from bufring.checker.judge import CheckerBug, write_counterexample
from bufring.checker.smt.contracts import (
    CONTRACT_PROPERTIES,
    Obligation,
    canonical_preferences,
    obligations_for,
)
from bufring.checker.smt.induction import RingProver
from bufring.checker.smt.nbufs import NbufsDomain, nbufs_domain
from bufring.checker.smt.register import PARAMETER_RANGES
from bufring.checker.smt.ring import RING_PROPERTIES
from bufring.checker.smt.ringlogic import (flow_outside_abstraction, overrides_outside_abstraction,
                                           ring_logic_of)
from bufring.checker.smt.ringtrace import (
    comment_lines,
    ring_actions,
    shortest_failing_prefix,
)
from bufring.checker.smt.vectors import register_vectors, write_vectors
from bufring.checker.smt.solver import Answer, Decision, Outcome, QueryLog, decide, z3_version
from bufring.checker.verdict import Status, Verdict
from bufring.model.config import Config
from bufring.specs.catalog import CATALOG, Property
from bufring.model.variant import Variant

PROVABLE = tuple(p.id for p in CATALOG if p.id in RING_PROPERTIES or p.id in CONTRACT_PROPERTIES)
"""The catalog properties ``prove`` decides, in catalog order."""

CONTRACT_WIDTHS = [16, 32, 64]
"""The C widths of the REGISTER fields (u16 qid/buf_index/queue_depth, u32
buf_size, u64 flags and iovecs): contracts are proved at the kernel's types."""


def provable(prop_ids=None) -> tuple[Property, ...]:
    """The catalog entries to decide: all of :data:`PROVABLE`, or those named.

    An id outside the catalog, or one ``prove`` cannot decide, raises ValueError
    naming the ids it can decide."""
    if prop_ids is None:
        return tuple(p for p in CATALOG if p.id in PROVABLE)
    out = []
    for pid in prop_ids:
        pid = getattr(pid, "id", pid)
        if pid not in PROVABLE:
            known = {p.id for p in CATALOG}
            what = "is not a property" if pid not in known else "is not decided by prove"
            raise ValueError(f"{pid!r} {what}; prove decides: {', '.join(PROVABLE)}")
        out.append(pid)
    return tuple(p for p in CATALOG if p.id in out)


@dataclass
class _Run:
    """One variant's prove run: options, the query log, shared results."""

    variant: Variant
    width: int
    timeout: float
    out: Path
    depth: int
    recheck_bv: float
    log: QueryLog
    progress: object = None
    domain: NbufsDomain | None = None
    decisions: list = field(default_factory=list)

    @property
    def folder(self) -> Path:
        return self.out / self.variant.name

    def say(self, text: str) -> None:
        if self.progress is not None:
            self.progress(text)

    def nbufs(self) -> NbufsDomain:
        if self.domain is None:
            current, self.log.property = self.log.property, "(nbufs domain)"
            self.domain = nbufs_domain(self.variant, self.timeout, self.log)
            self.log.property = current
        return self.domain


def prove(variant: Variant, properties=None, width: int = 32, timeout: float = 5.0, *,
          out: str | Path = "bufring-out", depth: int = 6, recheck_bv: float = 0.0,
          vectors: bool = True, log: QueryLog | None = None, progress=None) -> list[Verdict]:
    """Decide ``properties`` (default: all of :data:`PROVABLE`) for ``variant``.

    Parameters
    ----------
    width: counter width of the ring induction (the kernel's is 32).
    timeout: seconds for each query (a query tries its encodings within it).
    out: counterexample traces go to ``<out>/<variant>/<property>.jsonl``, and the
        boundary vectors to ``<out>/<variant>/register-vectors.json``.
    depth: how far the bounded search looks for a reachable violation.
    recheck_bv: when positive, every answer found over integers is solved again
        over bit-vectors with this budget, and the outcome recorded in coverage.
    log: a :class:`~checker.smt.solver.QueryLog` that receives every query (the bench).

    Returns one :class:`~checker.verdict.Verdict` per property, engine ``prove``.

    Raises
    ------
    ValueError: a property ``prove`` cannot decide.
    checker.judge.CheckerBug: a counterexample that does not replay.
    """
    props = provable(properties)
    if not 1 <= width <= 32:
        raise ValueError(f"width {width}: the counter width is 1 to 32 bits")
    run = _Run(variant, width, timeout, Path(out), depth, recheck_bv,
               log if log is not None else QueryLog(), progress)
    run.log.variant = variant.name
    verdicts = []
    outside_overrides = overrides_outside_abstraction(variant)
    for prop in props:
        run.log.property = prop.id
        run.say(f"{variant.name}: {prop.id}")
        started = time.perf_counter()
        if outside_overrides:
            verdict = _unknown(prop, {"widths": [run.width], "engine": f"z3 {z3_version()}"},
                               f"kernel function(s) {', '.join(outside_overrides)} "
                               "replaced by name: prove reads only the hooks (docs/smt.md)")
        elif prop.id in RING_PROPERTIES:
            verdict = _ring(run, prop)
        else:
            verdict = _contract(run, prop)
        verdict.coverage["seconds"] = round(time.perf_counter() - started, 3)
        verdicts.append(verdict)
    if vectors:
        run.say(f"{variant.name}: boundary vectors")
        run.log.property = "(register vectors)"
        write_vectors(run.folder / "register-vectors.json",
                      register_vectors(variant, timeout, run.log))
    return verdicts


STATUS_OF = {Answer.UNSAT: Status.PROVED, Answer.SAT: Status.VIOLATED, Answer.UNKNOWN: Status.UNKNOWN}
"""What a query's answer says of the property it asks to violate."""


# --- contracts ---------------------------------------------------------------------------------------

def _solve_obligation(run: _Run, o: Obligation, cfg: Config | None) -> tuple[Decision, dict]:
    ctx = {"cfg": cfg}

    def build(sym):
        built = ctx["built"] = o.build(sym, run.variant, cfg)
        return built.violation
    d = decide(build, run.timeout, name=f"{o.name}{'' if cfg is None else ' (default config)'}",
               log=run.log, recheck_bv=run.recheck_bv)
    return d, ctx


def _contract(run: _Run, prop: Property) -> Verdict:
    """All obligations of a contract property: proved, violated (the first
    obligation that fails, as a replayed trace), or unknown."""
    decisions, overflow, status, message, trace = [], {}, Status.PROVED, "", None
    length = None
    for o in obligations_for(prop.id):
        d, ctx = _solve_obligation(run, o, None)
        decisions.append(d)
        if o.fact:
            overflow[o.name] = STATUS_OF[d.outcome.result]
            continue
        if d.outcome.unknown and status is Status.PROVED:
            status, message = Status.UNKNOWN, f"{o.name}: {d.outcome.reason}"
        if d.outcome.sat and status is not Status.VIOLATED:
            path, steps, why = _contract_trace(run, prop, o, d, ctx)
            if path is None:
                status, message = Status.UNKNOWN, why
                continue
            status, trace, length = Status.VIOLATED, path, steps
            message = f"fails '{o.name}' ({steps} step{'s' if steps > 1 else ''})"
    if status is Status.PROVED:
        n = sum(1 for o in obligations_for(prop.id) if not o.fact)
        message = (f"proved for every REGISTER the rules accept: {n} obligation(s), every field "
                   f"value, every nr_queues and max_payload_sz")
    failed = [q for q, s in overflow.items() if s is not Status.PROVED]
    if failed:
        message += f"; overflow question(s) not proved: {', '.join(failed)}"
    coverage = {"widths": CONTRACT_WIDTHS, "encoding": _encodings(decisions), "lemmas": [],
                "parameters": dict(PARAMETER_RANGES), "method": "one query per obligation",
                "queries": _queries(decisions), "obligations": [o.name for o in obligations_for(prop.id)
                                                                if not o.fact],
                "overflow": {q: s.value for q, s in overflow.items()},
                "engine": f"z3 {z3_version()}",
                "bv_equivalence": _bv_note(decisions)}
    return Verdict(prop.id, prop.kind, status, {"prove": status.value}, trace=trace, length=length,
                   coverage=coverage, message=message)


def _contract_trace(run: _Run, prop: Property, o: Obligation, d: Decision, ctx: dict):
    """Write and replay the counterexample of a sat obligation: ``(path, steps, why)``.
    The default configuration and a plain server's values are preferred when the
    violation allows them."""
    nice, nice_ctx = _solve_obligation(run, o, Config())
    if nice.outcome.sat:
        d, ctx = nice, nice_ctx
    d, ctx = canonical_preferences(run, o, d, ctx)
    built = ctx["built"]
    cfg, actions = built.decode(d.sym, d.outcome.model)
    cfg = Config(nr_queues=cfg.nr_queues, max_payload_sz=cfg.max_payload_sz)
    comments = [f"{prop.id} violated: found by bufring prove (variant {run.variant.name})",
                f"obligation: {o.name}", prop.meaning]
    try:
        path = write_counterexample(run.folder, run.variant, cfg, prop, actions, comments=comments)
    except CheckerBug:
        if built.opaque:
            return None, None, (f"{o.name}: the solver's REGISTERs depend on queue_init_consistent, "
                                "which prove reads only concretely, and they do not fail on the model")
        raise
    return str(path), len(actions), ""


# --- ring invariants ---------------------------------------------------------------------------------

def _ring(run: _Run, prop: Property) -> Verdict:
    """Induction for one ring property; a violation becomes a replayed trace."""
    variant = run.variant
    logic = ring_logic_of(variant)
    outside = flow_outside_abstraction(variant)
    base_cov = {"widths": [run.width], "encoding": "", "lemmas": [], "engine": f"z3 {z3_version()}"}
    if logic is None:
        return _unknown(prop, base_cov, "ring_select/ring_recycle are functions prove cannot read; "
                                        "build them with model.ring.ring_hooks (docs/smt.md)")
    if outside:
        return _unknown(prop, base_cov, f"flow hook(s) {', '.join(outside)} replaced: the ring "
                                        "abstraction covers only known flows (docs/smt.md)")
    domain = run.nbufs()
    if domain.unknown:
        return _unknown(prop, base_cov, f"nbufs domain not derived: {domain.unknown}")
    if domain.empty:
        return Verdict(prop.id, prop.kind, Status.VACUOUS, {"prove": "vacuous"}, coverage=base_cov,
                       message="no REGISTER the rules accept creates a buffer ring")
    prover = RingProver(variant, logic, domain, run.width, run.timeout, run.log, depth=run.depth,
                        recheck_bv=run.recheck_bv)
    res = prover.prove(RING_PROPERTIES[prop.id])
    decisions = list(res.decisions)
    overflow = {}
    for o in obligations_for(prop.id):          # ring.buf_id_fits: the u16 question
        d, _ = _solve_obligation(run, o, None)
        decisions.append(d)
        overflow[o.name] = STATUS_OF[d.outcome.result].value
    coverage = {**base_cov, "encoding": _encodings(decisions), "lemmas": res.lemmas,
                "parameters": {"nbufs": domain.describe(),
                               "head, tail": f"every value 0..2^{run.width}-1",
                               "initial ring": f"counter_start + nbufs <= 2^{run.width}",
                               "payload pool at address 0": "possible" if domain.payload_at_0 else "rejected"},
                "method": f"induction with strengthening; CTIs triaged by bounded search to depth {run.depth}",
                "abstraction": f"ring logic {logic.name}; entries as the multiset of held buffer ids "
                               "(docs/smt.md)",
                "queries": _queries(decisions), "dropped_lemmas": res.dropped,
                "bv_equivalence": _bv_note(decisions)}
    if overflow:
        coverage["overflow"] = overflow
    if res.status is not Status.VIOLATED:
        return Verdict(prop.id, prop.kind, res.status, {"prove": res.status.value}, coverage=coverage,
                       message=res.message)
    found = ring_actions(variant, res.run, run.width, run.timeout, run.log)
    if found is None:
        return _unknown(prop, coverage, f"{res.message}, but no REGISTER of the variant creates a ring "
                                        f"of {res.run.nbufs} buffers")
    cfg, actions = found
    actions = shortest_failing_prefix(variant, cfg, prop, actions)
    path = write_counterexample(run.folder, variant, cfg, prop, actions,
                                comments=comment_lines(prop, variant, res.run, run.width))
    note = ("; buffer 0 at address 0 is invisible to the kernel's addr != 0 test"
            if res.run.payload_at_0 else "")
    return Verdict(prop.id, prop.kind, Status.VIOLATED, {"prove": "violated"}, trace=str(path),
                   length=len(actions), coverage=coverage,
                   message=f"{res.message} ({len(actions)} trace steps){note}")


def _unknown(prop: Property, coverage: dict, message: str) -> Verdict:
    return Verdict(prop.id, prop.kind, Status.UNKNOWN, {"prove": "unknown"}, coverage=coverage,
                   message=message)


# --- coverage helpers ----------------------------------------------------------------------------------

def _encodings(decisions) -> str:
    """The encodings that answered, e.g. ``int`` or ``bv+int`` (bounded search: ``explicit``)."""
    used = set()
    for d in decisions:
        if isinstance(d, Decision):
            if not d.outcome.unknown:
                used.add(d.encoding)
        elif isinstance(d, Outcome):
            used.add("explicit")
    return "+".join(sorted(used)) or "-"


def _queries(decisions) -> int:
    return sum(len(d.tried) if isinstance(d, Decision) else 1 for d in decisions)


ARITHMETIC = ("add", "sub", "mul", "udiv", "urem", "trunc", "zext", "band", "bnot", "umin", "ult",
              "ule", "ugt", "uge", "is_negative_signed", "add_overflows")


def _bv_note(decisions) -> str:
    """Why the integer answers hold for bit-vectors: the operations they used and,
    when re-checked, how the bit-vector re-check went."""
    int_ops = sorted({op for d in decisions if isinstance(d, Decision) and d.encoding == "int"
                      and not d.outcome.unknown for op in d.ops if op in ARITHMETIC})
    rechecks = [d.recheck for d in decisions if isinstance(d, Decision) and d.recheck]
    text = ("integer answers use " + ", ".join(int_ops) +
            ": each is the SMT-LIB bit-vector operation on naturals (docs/smt.md)") if int_ops else \
        "every answer in bit-vectors"
    if rechecks:
        agree = sum(1 for r in rechecks if r.startswith("agrees"))
        text += f"; bit-vector re-check: {agree}/{len(rechecks)} agree, the rest timed out"
    return text
