"""Catalog predicates along a run: where a property first fails, and 1-minimal runs.

Used by the fuzzer (to re-check and shrink what Hypothesis found), by the
conformance driver, and by the regression tests ``bufring gen-tests`` writes (they
check a property's predicate along the replayed run, so that a test fails on the
variant with the bug and passes on one that fixes it).
"""
from __future__ import annotations

from typing import Iterable, NamedTuple

from bufring.model.actions import Action, Observation, Request
from bufring.model.config import Config
from bufring.model.kernel import next_state

try:                                   # the model's "not a valid step" error
    from bufring.model.kernel import InvalidStep as OutOfScope
except ImportError:                    # older name
    from bufring.model.kernel import OutOfScope
from bufring.model.state import INITIAL_STATE, State
from bufring.model.traces import live_uniques
from bufring.specs.catalog import CATALOG, Kind, Property

__all__ = ["Transition", "InvalidRun", "checkable", "witnesses", "fails", "reached", "run_actions",
           "first_failure", "first_reached", "minimize", "OutOfScope"]

CHECKED_KINDS = (Kind.INVARIANT, Kind.CONTRACT, Kind.INFORMATIONAL)


class Transition(NamedTuple):
    pre: State
    action: Action
    post: State
    obs: Observation


class InvalidRun(Exception):
    """The run is not a valid trace (a unique in use, a ring out of the counter scope)."""


def checkable(catalog: Iterable[Property] = CATALOG) -> tuple[Property, ...]:
    """Invariants, contracts and informational properties with a state or step predicate."""
    return tuple(p for p in catalog if p.kind in CHECKED_KINDS
                 and (p.check_state is not None or p.check_step is not None))


def witnesses(catalog: Iterable[Property] = CATALOG) -> tuple[Property, ...]:
    """The ``sometimes`` properties with a predicate."""
    return tuple(p for p in catalog if p.kind is Kind.SOMETIMES
                 and (p.check_state is not None or p.check_step is not None))


def fails(prop: Property, cfg: Config, t: Transition) -> bool:
    """True when ``prop`` does not hold at this step (its post-state or the step itself)."""
    if prop.check_step is not None and not prop.check_step(cfg, t.pre, t.action, t.post, t.obs):
        return True
    return prop.check_state is not None and not prop.check_state(cfg, t.post)


def reached(prop: Property, cfg: Config, t: Transition) -> bool:
    """True when the witness ``prop`` is reached at this step."""
    if prop.check_step is not None and prop.check_step(cfg, t.pre, t.action, t.post, t.obs):
        return True
    return prop.check_state is not None and bool(prop.check_state(cfg, t.post))


def run_actions(variant, cfg: Config, actions: Iterable[Action]) -> list[Transition]:
    """Run ``actions`` from the initial state; raises :class:`InvalidRun` when the run
    is not a valid trace (TRACE-FORMAT "Errors")."""
    state = INITIAL_STATE
    dev: set[int] = set()
    out = []
    for action in actions:
        if isinstance(action, Request) and (action.unique in dev or action.unique in live_uniques(state)):
            raise InvalidRun(f"unique {action.unique} is in use")
        try:
            post, obs = next_state(variant, cfg, state, action)
        except OutOfScope as e:
            raise InvalidRun(str(e)) from None
        if isinstance(action, Request) and obs.via == "dev":
            dev.add(action.unique)
        out.append(Transition(state, action, post, obs))
        state = post
    return out


def first_failure(prop: Property, variant, cfg: Config, actions: Iterable[Action]) -> int | None:
    """Index of the first step after which ``prop`` fails, or None when it holds all along."""
    for i, t in enumerate(run_actions(variant, cfg, actions)):
        if fails(prop, cfg, t):
            return i
    return None


def first_reached(prop: Property, variant, cfg: Config, actions: Iterable[Action]) -> int | None:
    """Index of the first step at which the witness ``prop`` is reached, or None."""
    for i, t in enumerate(run_actions(variant, cfg, actions)):
        if reached(prop, cfg, t):
            return i
    return None


def minimize(find, variant, cfg: Config, actions: list[Action]) -> list[Action]:
    """A 1-minimal sub-run: removing any single step loses the finding.

    ``find(prop_index_fn)`` style: ``find(actions) -> int | None`` gives the step at
    which the finding happens; the run is cut there, then steps are dropped one at a
    time (last first) while the finding survives and the run stays a valid trace.
    """
    def at(run):
        try:
            return find(run)
        except InvalidRun:
            return None

    i = at(actions)
    if i is None:
        return list(actions)
    run = list(actions[:i + 1])
    changed = True
    while changed:
        changed = False
        for j in range(len(run) - 1, -1, -1):
            candidate = run[:j] + run[j + 1:]
            k = at(candidate)
            if k is not None:
                run = candidate[:k + 1]
                changed = True
                break
    return run
