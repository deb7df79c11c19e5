"""``check``: every engine on a variant, one verdict per property, engines cross-checked.

Runs every engine of ``checker.engines.ENGINES`` through its one door: ``prove``
(SMT, all values at 32 bits), ``explore`` (the default scopes, exhaustive) and a
short deterministic ``fuzz`` budget, then combines the three
verdicts of each property with ``checker.verdict.combine``: a replaying
violation wins, ``proved`` beats ``holds``; an engine that claims a property for
its whole coverage while another has a replaying counterexample inside that
coverage is a checker error (``unknown``, both sides shown, exit 3).

Output layout under ``out``: the engines write into a scratch folder that is
deleted afterwards; only the traces the verdicts cite are kept, each written once:
``<variant>/<property>.jsonl`` (the shortest run), ``<variant>/<property>@<scope>.jsonl``
(another scope's run whose failure reads differently) and
``<variant>/<property>@32bit.jsonl`` (the 32-bit run of a property whose shortest run
uses narrower counters), beside the REGISTER boundary vectors.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bufring.checker.causes import PROVE, find_causes
from bufring.checker.engines import ENGINES, EngineOptions, engine_run
from bufring.checker.judge import run_actions
from bufring.checker.verdict import Status, Verdict, combine
from bufring.model.system import Model
from bufring.model.traces import read_trace
from bufring.model.variant import Variant
from bufring.specs.catalog import CATALOG, Kind
from bufring.specs.explain import explain
from bufring.specs.scopes import DEFAULT_SCOPES, Scope

@dataclass
class VariantCheck:
    variant: Variant
    verdicts: list                        # combined, one per property
    engine_verdicts: dict                 # engine -> list of Verdict
    runs: list                            # explore's per-scope cost
    seconds: dict = field(default_factory=dict)
    files: list = field(default_factory=list)   # the files it wrote under ``out``
    causes: dict = field(default_factory=dict)  # checker.causes.find_causes (v2 only)

    def to_json(self) -> dict:
        return {"variant": self.variant.name, "doc": self.variant.doc, "command": "check",
                "verdicts": [v.to_json() for v in self.verdicts],
                "engines": {e: [v.to_json() for v in vs] for e, vs in self.engine_verdicts.items()},
                "runs": self.runs, "seconds": {k: round(s, 2) for k, s in self.seconds.items()},
                **({"causes": self.causes} if self.causes else {})}


def scope_admits(scope: Scope, variant: Variant, trace) -> bool:
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


def _inside(scopes: list, variant: Variant):
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


def _gist(prop, trace_path: str, variant: Variant) -> str:
    """What a run shows failing, the step number aside (equal gists: the same story)."""
    t = read_trace(trace_path)
    return explain(prop, t.config, run_actions(variant, t.config, [s.action for s in t.steps])).split(": ", 1)[-1]


class _Publisher:
    """Moves the cited traces out of the scratch folder, each once, and points the
    verdicts at their new place; everything not cited dies with the scratch folder."""

    def __init__(self, out: Path, variant: Variant, properties):
        self.folder = out / variant.name
        self.variant = variant
        self.props = {p.id: p for p in properties}
        self.moved: dict[str, str] = {}      # scratch path -> published path
        self.files: list[Path] = []

    def put(self, src: str, name: str) -> str:
        key = str(Path(src).resolve())
        if key not in self.moved:
            dest = self.folder / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
            self.moved[key] = str(dest)
            self.files.append(dest)
        return self.moved[key]

    def verdict(self, v: Verdict, engine_verdicts: list, causes: list = ()) -> Verdict:
        """Publish ``v``'s trace and the others worth reading: another scope's run
        that fails differently, a run of each cause (``causes``: per cause, the
        places it clears), the 32-bit run beside a narrower one."""
        if v.trace is None:
            return v
        prop = self.props[v.property]
        v.coverage = dict(v.coverage)
        main_scope = v.coverage.get("scope")
        v.trace = self.put(v.trace, f"{prop.id}.jsonl")
        found = {}                  # scope -> its shortest run, from whichever engine searched it
        for e in [v, *engine_verdicts]:
            for name, x in e.coverage.get("violated_in", {}).items():
                found.setdefault(name, x)
        if found:
            seen = {_gist(prop, v.trace, self.variant)}
            runs = {}
            for name, x in sorted(found.items(), key=lambda kv: kv[1]["length"]):
                entry = {"length": x["length"]}
                if name != main_scope and x.get("trace"):
                    gist = _gist(prop, x["trace"], self.variant)
                    if gist not in seen:
                        seen.add(gist)
                        entry["trace"] = self.put(x["trace"], f"{prop.id}@{name}.jsonl")
                runs[name] = entry
            for places in causes:       # each cause's claim comes with a run it clears
                shown = {n for n, e in runs.items() if "trace" in e} | {main_scope}
                if places & shown or PROVE in places:
                    continue
                mine = [n for n in places if found.get(n, {}).get("trace")]
                if mine:
                    name = min(mine, key=lambda n: found[n]["length"])
                    runs[name]["trace"] = self.put(found[name]["trace"], f"{prop.id}@{name}.jsonl")
            v.coverage["violated_in"] = runs
        bits = read_trace(v.trace).config.counter_bits
        wide = [e for e in engine_verdicts if e.property == prop.id and e.status is v.status and e.trace]
        wide = [e for e in wide if read_trace(e.trace).config.counter_bits == 32]
        if bits < 32 and wide and prop.kind is not Kind.SOMETIMES:
            w = min(wide, key=lambda e: e.length or 0)
            cfg = read_trace(w.trace).config
            v.coverage["at_32_bits"] = {"trace": self.put(w.trace, f"{prop.id}@32bit.jsonl"),
                                        "length": w.length, "counter_start": cfg.counter_start,
                                        "engines": sorted(w.engines)}
        return v

    def engine_trace(self, v: Verdict) -> Verdict:
        """An engine's own verdict keeps its trace only where that trace was published."""
        if v.trace is not None:
            v.trace = self.moved.get(str(Path(v.trace).resolve()))
        return v


def check_variant(variant: Variant, *, scopes=DEFAULT_SCOPES, out: str | Path = "bufring-out",
                  engines=tuple(ENGINES), fuzz_examples: int = 10, seed: int = 0, timeout: float = 5.0,
                  properties=CATALOG, progress=None, jobs: int = 1,
                  cluster: str | None = None) -> VariantCheck:
    """All engines on one variant; see the module doc."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".engines-", dir=out))
    try:
        return _check_variant(variant, scopes, out, scratch, engines, fuzz_examples, seed, timeout,
                              properties, progress, jobs, cluster)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _check_variant(variant: Variant, scopes, out, scratch, engines, fuzz_examples, seed, timeout, properties,
                   progress, jobs, cluster) -> VariantCheck:
    per_engine: dict[str, list] = {}
    seconds: dict[str, float] = {}
    runs: list = []
    publisher = _Publisher(out, variant, properties)
    for name in ENGINES:
        if name not in engines:
            continue
        if progress:
            progress(f"{variant.name}: {name}")
        options = EngineOptions(out=scratch / name, scopes=scopes, timeout=timeout,
                                fuzz_examples=fuzz_examples, seed=seed, jobs=jobs, cluster=cluster)
        result = engine_run(name)(variant, properties, options)
        per_engine[name] = result.verdicts
        seconds[name] = result.seconds
        runs.extend(result.coverage.get("runs", ()))
        for file_name, path in result.files.items():   # beside the traces, for gen-tests
            publisher.put(path, file_name)
    inside = _inside(list(scopes), variant)
    everyone = [v for vs in per_engine.values() for v in vs]
    combined = [combine([v for v in everyone if v.property == prop.id], inside)
                for prop in properties if any(v.property == prop.id for v in everyone)]
    started = time.perf_counter()
    causes = find_causes(variant, combined, everyone, scopes, scratch / "causes", timeout, progress)
    if causes:
        seconds["causes"] = time.perf_counter() - started
    cleared: dict[str, list] = {}                 # property -> per cause, the places it clears
    for c in causes.get("causes", []):
        for pid, places in c["removes"].items():
            cleared.setdefault(pid, []).append(set(places))
    combined = [publisher.verdict(v, [e for e in everyone if e.property == v.property],
                                  cleared.get(v.property, [])) for v in combined]
    for v in everyone:
        publisher.engine_trace(v)
    return VariantCheck(variant, combined, per_engine, runs, seconds, files=publisher.files,
                        causes=causes)


def check(variants, **options) -> list[VariantCheck]:
    """:func:`check_variant` for each variant, in order."""
    return [check_variant(v, **options) for v in variants]
