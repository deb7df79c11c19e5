"""``check``: every engine on a variant, one verdict per property, engines cross-checked.

Runs every engine of ``checker.engines.ENGINES`` through its one door: ``prove``
(SMT, all values at 32 bits), ``explore`` (the default scopes, exhaustive) and a
short deterministic ``fuzz`` budget, then combines the three
verdicts of each property with ``checker.verdict.combine``: a replaying
violation wins, ``proved`` beats ``holds``; an engine that claims a property for
its whole coverage while another has a replaying counterexample inside that
coverage is a checker error (``unknown``, both sides shown, exit 3).

Output layout under ``out``: each engine's own traces in ``engines/<engine>/<variant>/``,
the trace each combined verdict cites copied to ``<variant>/<property>.jsonl``.
"""
from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from bufring.checker.engines import ENGINES, EngineOptions, engine_run
from bufring.checker.verdict import Status, Verdict, combine
from bufring.model.system import Model
from bufring.model.traces import read_trace
from bufring.model.variant import Variant
from bufring.specs.catalog import CATALOG, Kind
from bufring.specs.scopes import DEFAULT_SCOPES, Scope

@dataclass
class VariantCheck:
    variant: object
    verdicts: list                        # combined, one per property
    engine_verdicts: dict                 # engine -> list of Verdict
    runs: list                            # explore's per-scope cost
    seconds: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"variant": self.variant.name, "doc": self.variant.doc, "command": "check",
                "verdicts": [v.to_json() for v in self.verdicts],
                "engines": {e: [v.to_json() for v in vs] for e, vs in self.engine_verdicts.items()},
                "runs": self.runs, "seconds": {k: round(s, 2) for k, s in self.seconds.items()}}


def scope_admits(scope: Scope, variant, trace) -> bool:
    """Does the run of ``trace`` lie inside ``scope``: same configuration, and each
    step one the scope's environment offers there (any free unique for a request)?"""
    if trace.config != scope.config:
        return False
    model = Model(variant, scope.config, scope.env)
    state = model.init_states()[0]
    for step in trace.steps:
        a = step.action
        offered = model.actions(state)
        if a not in offered and not (type(a).__name__ == "Request" and any(
                type(b) is type(a) and b._replace(unique=a.unique) == a for b in offered)):
            return False
        state, _ = model.next_state(state, a)
    return True


def _inside(scopes: list, variant):
    """The ``inside(claim, violation)`` test of ``combine`` for these engines."""
    def inside(claim: Verdict, violation: Verdict) -> bool:
        if violation.trace is None:
            return False
        trace = read_trace(violation.trace)
        if "explore" in claim.engines and claim.status is Status.HOLDS:
            return any(scope_admits(s, variant, trace) for s in scopes)
        if "prove" in claim.engines and claim.status is Status.PROVED:
            widths = claim.coverage.get("widths")
            if claim.kind is Kind.INVARIANT and widths:
                return trace.config.counter_bits in widths
            return True
        return False
    return inside


def _publish(v: Verdict, out: Path, variant_name: str) -> Verdict:
    """Copy the cited trace next to the report, as ``<variant>/<property>.jsonl``."""
    if v.trace is None:
        return v
    dest = out / variant_name / f"{v.property}.jsonl"
    dest.parent.mkdir(parents=True, exist_ok=True)
    if Path(v.trace).resolve() != dest.resolve():
        shutil.copyfile(v.trace, dest)
    v.trace = str(dest)
    return v


def check_variant(variant: Variant, *, scopes=DEFAULT_SCOPES, out: str | Path = "bufring-out",
                  engines=tuple(ENGINES), fuzz_examples: int = 10, seed: int = 0, timeout: float = 5.0,
                  properties=CATALOG, progress=None) -> VariantCheck:
    """All engines on one variant; see the module doc."""
    out = Path(out)
    per_engine: dict[str, list] = {}
    seconds: dict[str, float] = {}
    runs: list = []
    for name in ENGINES:
        if name not in engines:
            continue
        if progress:
            progress(f"{variant.name}: {name}")
        options = EngineOptions(out=out / "engines" / name, scopes=scopes, timeout=timeout,
                                fuzz_examples=fuzz_examples, seed=seed)
        result = engine_run(name)(variant, properties, options)
        per_engine[name] = result.verdicts
        seconds[name] = result.seconds
        runs.extend(result.coverage.get("runs", ()))
        for file_name, path in result.files.items():   # beside the traces, for gen-tests
            (out / variant.name).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, out / variant.name / file_name)
    inside = _inside(list(scopes), variant)
    combined = []
    for prop in properties:
        mine = [v for vs in per_engine.values() for v in vs if v.property == prop.id]
        if not mine:
            continue
        combined.append(_publish(combine(mine, inside), out, variant.name))
    return VariantCheck(variant, combined, per_engine, runs, seconds)


def check(variants, **options) -> list[VariantCheck]:
    """:func:`check_variant` for each variant, in order."""
    return [check_variant(v, **options) for v in variants]
