"""The explicit-state explorer: every property of the catalog, decided per scope.

For each scope, a breadth-first search (``checker.explore.statespace``) visits every
reachable state; invariants, contracts, step properties and witnesses are checked
on the way, the graph properties after it (``checker.explore.graphs``). A violation keeps
the first (so shortest) run that shows it; the runs become trace files that are
replayed before they are reported (``checker.judge``).

Verdicts per scope: ``violated`` (with its shortest trace), ``holds`` (the search
was exhaustive and every witness the property needs was reached), ``vacuous``
(exhaustive, but a needed witness was not reached), ``unknown`` (the state cap was
hit). Across scopes: a violation anywhere wins (the shortest trace); otherwise a
cap anywhere gives ``unknown``; otherwise ``holds`` if some scope holds
non-vacuously, else ``vacuous``.
"""
from __future__ import annotations

import dataclasses
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path

from bufring.checker.judge import write_counterexample
from bufring.checker.explore.graphs import fair_lasso, stuck_states
from bufring.checker.explore.checks import ScopeChecks, exercised_id
from bufring.checker.explore.parallel import search as parallel_search
from bufring.checker.explore.statespace import bfs
from bufring.checker.explore.symmetry import canonical_uniques
from bufring.checker.verdict import Status, Verdict
from bufring.model.errors import BadInput
from bufring.model.kernel import InvalidStep
from bufring.model.system import Model
from bufring.specs.catalog import CATALOG, Kind, Property
from bufring.specs.fairness import FAIRNESS, enabled_classes
from bufring.specs.scopes import Scope
from bufring.model.variant import Variant

EXTRA_LIVE = 2
"""Requests a deadlock candidate may still receive beyond the scope's bound before
it counts as stuck (``flow.no_deadlock`` speaks of *any* sequence of arrivals)."""


@dataclass
class Finding:
    """A run that shows a property failing (or a witness reached)."""

    actions: list
    cycle_start: int | None = None
    note: str = ""


@dataclass
class ScopeRun:
    scope: Scope
    states: int
    transitions: int
    depth: int
    seconds: float
    capped: bool
    reductions: list
    findings: dict = field(default_factory=dict)       # property id -> Finding (None: undecided)
    peak_mib: float = 0.0                              # process peak RSS when the scope finished
    exercised: set = field(default_factory=set)        # ids whose premise occurred here
    workers: int = 1                                   # processes that expanded its states

    def coverage(self) -> dict:
        return {"scope": self.scope.name, "states": self.states, "transitions": self.transitions,
                "depth": self.depth, "capped": self.capped, "reductions": self.reductions,
                "seconds": round(self.seconds, 3), "bounds": self.scope.bounds()}

    def run_json(self) -> dict:
        return {"scope": self.scope.name, "states": self.states, "transitions": self.transitions,
                "depth": self.depth, "seconds": round(self.seconds, 3), "peak_mib": self.peak_mib,
                "capped": self.capped}


def peak_mib() -> float:
    """Peak resident memory of this process so far, in MiB (Linux ru_maxrss is KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def concrete_path(model: Model, space, index: int, canonical) -> list:
    """The actions that reach stored state ``index`` from the initial state, re-run
    on the model. Under symmetry reduction the stored parents are representatives,
    so each step picks the action whose successor has the recorded representative
    (Stateright rebuilds its paths the same way)."""
    targets = []
    i = index
    while i >= 0:
        targets.append(space.states[i])
        i = space.parent[i]
    targets.reverse()
    key = canonical or (lambda s: s)
    state = model.init_states()[0]
    actions = []
    for want in targets[1:]:
        for a, nxt, _ in model.successors(state):
            if key(nxt) == want:
                actions.append(a)
                state = nxt
                break
        else:
            raise RuntimeError("path rebuild failed: the model is not deterministic")
    return actions


def _concrete_step(model: Model, path: list, prop: Property, action, canonical):
    """The action that shows a step finding from the concrete end of ``path``.

    Without symmetry it is the recorded action. With it, the recorded action was
    taken on a representative and may name renamed uniques, so the concrete
    state's own actions are searched for one whose step shows the same finding
    (one exists: the renaming maps the representative's step onto it)."""
    if canonical is None:
        return action
    state = model.init_states()[0]
    for a in path:
        state, _ = model.next_state(state, a)
    cfg = model.config
    wanted = prop.kind is Kind.SOMETIMES
    for a, nxt, obs in model.successors(state):
        if type(a) is type(action) and prop.check_step(cfg, state, a, nxt, obs) == wanted:
            return a
    raise RuntimeError(f"no concrete step shows {prop.id}: the symmetry is not one of the model")


def edge_action(model: Model, space, src: int, dst: int, canonical):
    """An action of state ``src`` whose successor is stored state ``dst``."""
    key = canonical or (lambda s: s)
    for a, nxt, _ in model.successors(space.states[src]):
        if key(nxt) == space.states[dst]:
            return a
    raise RuntimeError("edge not found: the model is not deterministic")


def explore_scope(variant: Variant, scope: Scope, properties=CATALOG, *, symmetry: bool = False,
                  max_states: int | None = None, progress=None, jobs: int = 1,
                  cluster: str | None = None) -> ScopeRun:
    """Search one scope exhaustively (up to its state cap) and collect findings.

    ``jobs`` worker processes (or the workers of the Dask cluster at ``cluster``)
    expand the frontier; the result is the same for every ``jobs``."""
    cfg = scope.config
    if max_states is not None:
        scope = dataclasses.replace(scope, max_states=max_states)   # caps every search below
    model = Model(variant, cfg, scope.env)
    canonical = canonical_uniques if symmetry else None
    try:
        space = parallel_search(model, max_states=scope.max_states, canonical=canonical,
                                checks=ScopeChecks(cfg, properties), progress=progress, jobs=jobs,
                                cluster=cluster)
    except InvalidStep as e:
        raise BadInput(scope.source, scope.line, e.field, f"scope {scope.name}: {e}") from None
    exercised = {p.id for p in properties if exercised_id(p.id) in space.first}
    run = ScopeRun(scope, len(space.states), space.transitions, space.max_depth, space.seconds,
                   space.capped, ["symmetry: request uniques"] if symmetry else [],
                   exercised=exercised | {p.id for p in properties if p.exercised is None},
                   workers=space.jobs)
    by_id = {p.id: p for p in properties}
    for pid, where in space.first.items():
        if pid not in by_id:
            continue                       # a premise's id: counted in ``exercised``
        path = concrete_path(model, space, where[1], canonical)
        if where[0] == "step":
            path.append(_concrete_step(model, path, by_id[pid], where[2], canonical))
        run.findings[pid] = Finding(path)
    if not space.capped:
        started = time.perf_counter()
        for p in properties:
            if p.kind is Kind.LIVENESS and p.waits is not None:
                _liveness(variant, scope, model, space, canonical, run, symmetry, p)
            elif p.goal is not None:
                _deadlock(variant, scope, model, space, canonical, run, p)
        run.seconds += time.perf_counter() - started
    run.peak_mib = peak_mib()
    return run


def _deadlock(variant: Variant, scope, model, space, canonical, run, prop: Property) -> None:
    """AG EF ``prop.goal`` (``flow.no_deadlock``): states from which no goal state
    is reachable, each re-checked with EXTRA_LIVE more requests allowed."""
    cfg = scope.config
    goal = [prop.goal(cfg, s) for s in space.states]
    for idx in stuck_states(space, goal):
        drains = _drains_with_more_arrivals(variant, scope, space.states[idx], canonical, prop)
        if drains:
            continue
        if drains is None:                    # the re-check was capped: undecided
            run.findings[prop.id] = None
            return
        run.findings[prop.id] = Finding(
            concrete_path(model, space, idx, canonical),
            note="from the last state no sequence of commits and arrivals empties the queues "
                 f"(checked with {EXTRA_LIVE} more requests allowed than the scope's bound)")
        return


def _drains_with_more_arrivals(variant: Variant, scope, start, canonical, prop: Property) -> bool | None:
    """Can ``prop.goal`` be reached from ``start`` with EXTRA_LIVE more requests
    allowed? None when the search hit the state cap before deciding."""
    cfg = scope.config
    relaxed = Model(variant, cfg, scope.env.relaxed(EXTRA_LIVE), init=(start,))
    space = bfs(relaxed, max_states=scope.max_states, canonical=canonical, keep_edges=False,
                until=lambda s: prop.goal(cfg, s))
    if any(prop.goal(cfg, s) for s in space.states):
        return True
    return None if space.capped else False


def _liveness(variant: Variant, scope, model, space, canonical, run, symmetry: bool,
              prop: Property) -> None:
    """A liveness property (``flow.eventually_dispatched``) on the unreduced graph
    (never under symmetry): for each followed request, a fair lasso through the
    states where it waits that has it waiting other than by the limits' choice
    again and again (``prop.waits``)."""
    if symmetry:
        unreduced = bfs(model, max_states=scope.max_states)
        if unreduced.capped:
            run.findings[prop.id] = None
            return
        space, canonical = unreduced, None
    cache: dict[int, set] = {}

    def enabled(i):
        if i not in cache:
            cache[i] = {space.class_id(c) for c in enabled_classes(model, space.states[i])}
        return cache[i]

    cfg = scope.config
    uniques = sorted(set().union(*(prop.followed(s) for s in space.states)))
    fairness = FAIRNESS[scope.fairness]
    class_of = {cid: cls for cls, cid in space.classes.items()}
    best = None
    for u in uniques:
        wait = [prop.waits(cfg, s, u) for s in space.states]
        waiting = [w is not None for w in wait]
        by_choice = [w == "queued" for w in wait]

        def tolerates(unfair, i, u=u):
            return fairness.tolerates({class_of[c] for c in unfair}, space.states[i], u)
        lasso = fair_lasso(space, waiting, enabled, tolerates, visit=by_choice)
        if lasso is not None and (best is None or space.depth[lasso[0]] < space.depth[best[1][0]]):
            best = (u, lasso)
    if best is None:
        return
    u, (entry, cycle) = best
    prefix = concrete_path(model, space, entry, canonical)
    loop = [edge_action(model, space, a, b, canonical) for a, b in zip(cycle, cycle[1:])]
    run.findings[prop.id] = Finding(
        prefix + loop, cycle_start=len(prefix),
        note=f"request {u} waits forever on a fair run ({scope.fairness}): " +
             ("the cycle repeats forever" if loop else "the last state stutters forever "
              f"(nothing pending there is forced under {scope.fairness})"))


# --- verdicts ---------------------------------------------------------------------------------------

@dataclass
class ExploreResult:
    variant: str
    verdicts: list
    runs: list

    def to_json(self) -> dict:
        return {"variant": self.variant, "command": "explore",
                "verdicts": [v.to_json() for v in self.verdicts],
                "runs": [r.run_json() for r in self.runs]}


def scope_status(prop: Property, run: ScopeRun) -> Status:
    """The verdict of one property in one scope (before trace writing)."""
    if prop.id in run.findings:
        if run.findings[prop.id] is None:
            return Status.UNKNOWN
        return Status.REACHED if prop.kind is Kind.SOMETIMES else Status.VIOLATED
    if run.capped:
        return Status.UNKNOWN
    if prop.kind is Kind.SOMETIMES:
        return Status.UNREACHED
    if any(w not in run.findings for w in prop.needs) or prop.id not in run.exercised:
        return Status.VACUOUS
    return Status.HOLDS


def explore(variant: Variant, scopes, properties=CATALOG, *, out_dir: str | Path = "bufring-out",
            symmetry: bool = False, max_states: int | None = None, progress=None,
            jobs: int = 1, cluster: str | None = None) -> ExploreResult:
    """Explore every scope and combine the verdicts; write and replay the traces.
    ``jobs``/``cluster``: who expands the frontier (``checker.explore.parallel``)."""
    properties = tuple(properties)
    needed = {w for p in properties for w in p.needs}
    search = properties + tuple(p for p in CATALOG if p.id in needed and p not in properties)
    runs = []
    for scope in scopes:
        if progress is not None:
            progress.start_scope(scope)
        runs.append(explore_scope(variant, scope, search, symmetry=symmetry, max_states=max_states,
                                  progress=progress.update if progress is not None else None,
                                  jobs=jobs, cluster=cluster))
    folder = Path(out_dir) / variant.name
    verdicts = [combine_scopes(variant, p, runs, folder) for p in properties]
    return ExploreResult(variant.name, verdicts, runs)


def _write(variant: Variant, prop: Property, status: Status, run: ScopeRun, folder: Path) -> Path:
    finding = run.findings[prop.id]
    return write_counterexample(folder, variant, run.scope.config, prop, finding.actions,
                                comments=[f"{prop.id} {status.value} in scope {run.scope.name} "
                                          f"by bufring explore (variant {variant.name})",
                                          finding.note or prop.meaning],
                                cycle_start=finding.cycle_start)


def combine_scopes(variant: Variant, prop: Property, runs: list, folder: Path) -> Verdict:
    """One verdict for ``prop`` from all scopes, with the shortest trace written."""
    statuses = [(scope_status(prop, r), r) for r in runs]
    shown = [(s, r) for s, r in statuses if s in (Status.VIOLATED, Status.REACHED)]
    coverage = {"scope": ", ".join(r.scope.name for r in runs),
                "states": sum(r.states for r in runs),
                "transitions": sum(r.transitions for r in runs),
                "depth": max((r.depth for r in runs), default=0),
                "capped": any(r.capped for r in runs),
                "reductions": sorted({x for r in runs for x in r.reductions}),
                "seconds": round(sum(r.seconds for r in runs), 3),
                "scopes": [r.coverage() for r in runs]}
    if shown:
        status, run = min(shown, key=lambda sr: len(sr[1].findings[prop.id].actions))
        path = _write(variant, prop, status, run, folder)
        finding = run.findings[prop.id]
        msg = f"{status.value} in scope {run.scope.name} after {len(finding.actions)} steps"
        if finding.note:
            msg += f"; {finding.note}"
        if status is Status.VIOLATED:
            # Every scope's own shortest run: different scopes often show different causes.
            coverage["violated_in"] = {
                r.scope.name: {"length": len(r.findings[prop.id].actions),
                               "trace": str(_write(variant, prop, s, r, folder / "by-scope" / r.scope.name))}
                for s, r in shown}
        return Verdict(prop.id, prop.kind, status, {"explore": status.value}, trace=str(path),
                       length=len(finding.actions), coverage={**coverage, "scope": run.scope.name},
                       message=msg)
    if any(s is Status.UNKNOWN for s, _ in statuses):
        capped = [r.scope.name for s, r in statuses if s is Status.UNKNOWN]
        return Verdict(prop.id, prop.kind, Status.UNKNOWN, {"explore": "unknown"}, coverage=coverage,
                       message=f"state cap hit in scope(s) {', '.join(capped)}: not decided")
    if prop.kind is Kind.SOMETIMES:
        return Verdict(prop.id, prop.kind, Status.UNREACHED, {"explore": "unreached"},
                       coverage=coverage, message="not reached in any scope")
    holding = [r.scope.name for s, r in statuses if s is Status.HOLDS]
    vacuous = [r.scope.name for s, r in statuses if s is Status.VACUOUS]
    if holding:
        msg = f"holds in every scope: non-vacuously in {', '.join(holding)}"
        if vacuous:
            msg += f"; vacuously in {', '.join(vacuous)}"
        return Verdict(prop.id, prop.kind, Status.HOLDS, {"explore": "holds"}, coverage=coverage,
                       message=msg)
    missing = sorted({w for r in runs for w in prop.needs if w not in r.findings})
    why = (f"witness(es) {', '.join(missing)} never reached" if missing
           else "no scope ever exercised what it speaks of")
    return Verdict(prop.id, prop.kind, Status.VACUOUS, {"explore": "vacuous"}, coverage=coverage,
                   message=f"holds only vacuously: {why}")
