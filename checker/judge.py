"""One way to run a list of actions and to judge a property along the run.

Every engine ends here. The explorer, the SMT engine (its abstract runs made
concrete), the fuzzer, the conformance driver, the report and the generated
regression tests all hand this module a list of actions; it runs them on the
concrete model (:func:`run_actions`), decides per step whether a property fails
or a witness is reached (:func:`shows`), and writes a finding as a trace that is
read back and replayed before anyone sees it (:func:`write_counterexample`). A
run that does not replay, or whose replay does not show the property, is a
checker bug (:class:`CheckerBug`) and is never reported.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, NamedTuple

from bufring.model.actions import Action, Observation, Request
from bufring.model.config import Config
from bufring.model.kernel import InvalidStep
from bufring.model.state import INITIAL_STATE, State
from bufring.model.system import next_state
from bufring.model.traces import CHECK_MARKER, expect_of, live_uniques, read_trace, run_trace, write_trace
from bufring.model.variant import Variant
from bufring.specs.catalog import CATALOG, Kind, Property

CHECKED_KINDS = (Kind.INVARIANT, Kind.CONTRACT, Kind.INFORMATIONAL)


class CheckerBug(RuntimeError):
    """An engine's result did not survive replay on the concrete model."""


class InvalidRun(Exception):
    """The run is not a valid trace (a unique in use, a ring out of the counter scope)."""


class Transition(NamedTuple):
    """One step of a run: the state before, the action, the state after, what it showed."""

    pre: State
    action: Action
    post: State
    obs: Observation


def checkable(catalog: Iterable[Property] = CATALOG) -> tuple[Property, ...]:
    """Invariants, contracts and informational properties with a state or step predicate."""
    return tuple(p for p in catalog if p.kind in CHECKED_KINDS
                 and (p.check_state is not None or p.check_step is not None))


def witnesses(catalog: Iterable[Property] = CATALOG) -> tuple[Property, ...]:
    """The ``sometimes`` properties with a predicate."""
    return tuple(p for p in catalog if p.kind is Kind.SOMETIMES
                 and (p.check_state is not None or p.check_step is not None))


def run_actions(variant: Variant, cfg: Config, actions: Iterable[Action],
                start: State = INITIAL_STATE) -> list[Transition]:
    """Run ``actions`` from ``start``; raises :class:`InvalidRun` when the run is not a
    valid trace (TRACE-FORMAT "Errors": a unique in use, a counter out of scope)."""
    state = start
    dev: set[int] = set()
    out = []
    for action in actions:
        if isinstance(action, Request) and (action.unique in dev or action.unique in live_uniques(state)):
            raise InvalidRun(f"unique {action.unique} is in use")
        try:
            post, obs = next_state(variant, cfg, state, action)
        except InvalidStep as e:
            raise InvalidRun(str(e)) from None
        if isinstance(action, Request) and obs.via == "dev":
            dev.add(action.unique)
        out.append(Transition(state, action, post, obs))
        state = post
    return out


def fails(prop: Property, cfg: Config, t: Transition) -> bool:
    """True when ``prop`` does not hold at this step (the step itself or its post-state)."""
    if prop.check_step is not None and not prop.check_step(cfg, t.pre, t.action, t.post, t.obs):
        return True
    return prop.check_state is not None and not prop.check_state(cfg, t.post)


def reached(prop: Property, cfg: Config, t: Transition) -> bool:
    """True when the witness ``prop`` is reached at this step."""
    if prop.check_step is not None and prop.check_step(cfg, t.pre, t.action, t.post, t.obs):
        return True
    return prop.check_state is not None and bool(prop.check_state(cfg, t.post))


def shows(prop: Property, cfg: Config, t: Transition) -> bool:
    """What a trace of ``prop`` claims at this step: reached for a witness, fails otherwise."""
    return reached(prop, cfg, t) if prop.kind is Kind.SOMETIMES else fails(prop, cfg, t)


def state_shows(prop: Property, cfg: Config, state: State) -> bool:
    """:func:`shows` for a state alone (the initial state of a run, a stored state)."""
    if prop.check_state is None:
        return False
    return bool(prop.check_state(cfg, state)) == (prop.kind is Kind.SOMETIMES)


def first_shown(prop: Property, variant: Variant, cfg: Config, actions: Iterable[Action]) -> int | None:
    """Index of the first step that shows ``prop`` (fails, or reaches a witness), or None."""
    for i, t in enumerate(run_actions(variant, cfg, actions)):
        if shows(prop, cfg, t):
            return i
    return None


def run_shows(prop: Property, cfg: Config, steps: list[Transition]) -> bool:
    """Does the run show what ``prop``'s trace claims? For a state or step property,
    some step (or the initial state of an empty run) shows it; a graph property
    (deadlock, liveness) is shown by where the run ends, which its engine checked."""
    if any(shows(prop, cfg, t) for t in steps):
        return True
    if not steps and state_shows(prop, cfg, INITIAL_STATE):
        return True
    return prop.goal is not None


class Judgement(NamedTuple):
    """What a replayed run shows about one property: ``step`` is the 0-based index of
    the first step that fails it (a witness: reaches it), None when none does;
    ``judged`` is False for a graph property, which a run alone cannot decide."""

    prop: Property
    step: int | None
    judged: bool = True

    @property
    def alarming(self) -> bool:
        """A finding that makes ``replay`` exit 1: a checked property fails, or a
        witness the trace was written for is not reached."""
        if not self.judged:
            return False
        if self.prop.kind is Kind.SOMETIMES:
            return self.step is None
        return self.step is not None and self.prop.kind is not Kind.INFORMATIONAL


def judge_run(props: Iterable[Property], cfg: Config, steps: list[Transition]) -> list[Judgement]:
    """Each property judged along an already replayed run."""
    out = []
    for prop in props:
        if prop.check_state is None and prop.check_step is None:
            out.append(Judgement(prop, None, judged=False))
            continue
        at = next((i for i, t in enumerate(steps) if shows(prop, cfg, t)), None)
        out.append(Judgement(prop, at))
    return out


def write_counterexample(out_dir: str | Path, variant: Variant, cfg: Config, prop: Property, actions,
                         comments=(), cycle_start: int | None = None, stem: str | None = None) -> Path:
    """Write ``actions`` as ``<out_dir>/<stem or prop.id>.jsonl`` with ``expect`` on
    every step, then replay it; raises CheckerBug unless it replays and shows
    ``prop`` failing (or, for a witness, reached)."""
    try:
        steps = run_actions(variant, cfg, actions)
    except InvalidRun as e:
        raise CheckerBug(f"{prop.id}: the engine's run is not a valid trace: {e}") from None
    path = Path(out_dir) / f"{stem or prop.id}.jsonl"
    write_trace(path, variant.name, cfg, [(t.action, expect_of(t.action, t.obs)) for t in steps],
                comments=[*comments, f"{CHECK_MARKER[2:]} {prop.id}"], cycle_start=cycle_start)
    replay = run_trace(read_trace(path), variant)
    if replay.first_mismatch is not None:
        m = replay.first_mismatch
        raise CheckerBug(f"{path}:{m.step.line}: the trace does not replay ({m.mismatch[0]}: "
                         f"expected {m.mismatch[1]}, observed {m.mismatch[2]})")
    if replay.cycle_closes is False:
        raise CheckerBug(f"{path}: the lasso's cycle does not return to its first state")
    if not run_shows(prop, cfg, steps):
        raise CheckerBug(f"{path}: the replayed run does not show {prop.id}")
    return path
