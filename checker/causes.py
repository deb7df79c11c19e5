"""Root causes: which fix variant removes which violation, verified by the engines.

A violation of the patch as posted (``v2``) is found in *places*: an explorer scope
whose search found it, or ``prove`` (all values at 32 bits). A fix variant of
``model.fixes`` *removes* it from a place when the engine that found it there,
run again on the fix for that property and that place only, finds no violation
(``holds``/``proved``; ``vacuous``: on the fix the scope never reaches what the
property needs, its premise or a witness in ``needs``).
Which fixes are worth running is read off the violating runs: a fix under which
the same run still shows the property cannot remove it there and is not run.

The cause of a property's violations is the smallest set of fixes (chosen
greedily) that together remove it from every place; each cause is one fix, and a
property broken by two causes names both, each with the places it removes. A
place no single fix clears is listed as unexplained. Nothing here is written by
hand: every claim is an engine verdict on the fix variant.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bufring.checker.engines import EngineOptions, engine_run
from bufring.checker.judge import InvalidRun, run_actions, shows
from bufring.checker.verdict import Status, Verdict
from bufring.model.fixes import ALL_FIXES, FIXES
from bufring.model.traces import read_trace
from bufring.model.variant import V2, Variant
from bufring.specs.catalog import BY_ID, Kind
from bufring.specs.scopes import Scope

PROVE = "prove"
"""The place name of a violation ``prove`` found (all values at 32 bits)."""

VERIFY_TIMEOUT_FACTOR = 4
"""A fix is verified with this many times the z3 timeout per query: a proof that
times out on a busy machine would otherwise drop a cause (only slow queries pay)."""

SINGLE_FIXES: tuple[Variant, ...] = tuple(f for f in FIXES if f is not ALL_FIXES)


@dataclass
class Cause:
    """One fix and the violations it removes: property id -> {place: verdict on the fix}."""

    fix: str
    doc: str
    removes: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"fix": self.fix, "doc": self.doc, "removes": self.removes}


def _places(v: Verdict, engine_verdicts: list) -> dict[str, str | None]:
    """Where ``v`` was found violated: place -> a violating trace there (or None)."""
    out: dict[str, str | None] = {}
    for e in [v, *engine_verdicts]:
        if e.property != v.property or e.status is not Status.VIOLATED:
            continue
        for name, x in e.coverage.get("violated_in", {}).items():
            out.setdefault(name, x.get("trace"))
        if PROVE in e.engines and e is not v:
            out[PROVE] = e.trace
    return out


def _still_shows(prop, fix: Variant, trace: str | None) -> bool:
    """Does the same run, on ``fix``, still show ``prop`` failing?"""
    if trace is None or prop.goal is not None:
        return False
    t = read_trace(trace)
    try:
        steps = run_actions(fix, t.config, [s.action for s in t.steps])
    except InvalidRun:
        return False
    return any(shows(prop, t.config, s) for s in steps)


def find_causes(variant: Variant, verdicts: list, engine_verdicts: list, scopes, scratch: Path,
                timeout: float = 5.0, progress=None) -> dict:
    """Causes of ``variant``'s violations (only for ``v2``, the base of the fixes):
    ``{"causes": [Cause.to_json()...], "unexplained": {property: [place...]}}``."""
    if variant is not V2:
        return {}
    by_scope = {s.name: s for s in scopes}
    violated = [v for v in verdicts if v.status is Status.VIOLATED and v.property in BY_ID
                and BY_ID[v.property].kind is not Kind.INFORMATIONAL]
    places = {v.property: _places(v, engine_verdicts) for v in violated}
    # (fix, place) -> properties to decide there
    todo: dict[tuple[str, str], list[str]] = {}
    for pid, where in places.items():
        for place, trace in where.items():
            if place != PROVE and place not in by_scope:
                continue
            for fix in SINGLE_FIXES:
                if not _still_shows(BY_ID[pid], fix, trace):
                    todo.setdefault((fix.name, place), []).append(pid)
    fixes = {f.name: f for f in SINGLE_FIXES}
    found: dict[tuple[str, str, str], str] = {}          # (fix, place, property) -> status
    for (fix_name, place), pids in sorted(todo.items()):
        if progress:
            progress(f"causes: {fix_name} in {place}")
        props = [BY_ID[p] for p in pids]
        engine = PROVE if place == PROVE else "explore"
        options = EngineOptions(out=scratch / fix_name / place, timeout=VERIFY_TIMEOUT_FACTOR * timeout,
                                scopes=[by_scope[place]] if place in by_scope else [])
        for r in engine_run(engine)(fixes[fix_name], props, options).verdicts:
            found[(fix_name, place, r.property)] = r.status.value
    return _choose(places, found)


def _choose(places: dict, found: dict) -> dict:
    """Greedy smallest set of fixes covering each property's places."""
    clears = ("holds", "proved", "vacuous")
    causes: dict[str, Cause] = {}
    unexplained: dict[str, list[str]] = {}
    for pid, where in places.items():
        left = set(where)
        while left:
            best, covered = None, set()
            for fix in SINGLE_FIXES:
                mine = {p for p in left if found.get((fix.name, p, pid)) in clears}
                if len(mine) > len(covered):
                    best, covered = fix, mine
            if best is None:
                unexplained[pid] = sorted(left)
                break
            cause = causes.setdefault(best.name, Cause(best.name, best.doc))
            cause.removes.setdefault(pid, {}).update(
                {p: found[(best.name, p, pid)] for p in sorted(covered)})
            left -= covered
    order = [f.name for f in SINGLE_FIXES]
    ranked = sorted(causes.values(), key=lambda c: (-len(c.removes), order.index(c.fix)))
    return {"causes": [c.to_json() for c in ranked], "unexplained": unexplained}
