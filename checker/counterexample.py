"""Counterexamples and witnesses as trace files, replayed before they are reported.

Every engine hands its run here as a list of actions. The run is re-executed on
the concrete model to get each step's observation (the ``expect``), written as a
trace, read back through the trace reader and replayed; the property's
predicate is evaluated again on the replay. A trace that does not replay, or on
whose replay the property does not fail (or the witness is not reached), is a
checker bug and raises :class:`CheckerBug`: it is never reported.
"""
from __future__ import annotations

from pathlib import Path

from bufring.model.config import Config
from bufring.model.kernel import next_state
from bufring.model.state import INITIAL_STATE
from bufring.model.traces import expect_of, read_trace, run_trace, write_trace
from bufring.specs.catalog import Kind, Property


class CheckerBug(RuntimeError):
    """An engine's result did not survive replay on the concrete model."""


def run_actions(variant, cfg: Config, actions) -> list[tuple]:
    """``(pre, action, post, observation)`` for each action, from the initial state."""
    state = INITIAL_STATE
    out = []
    for a in actions:
        nxt, obs = next_state(variant, cfg, state, a)
        out.append((state, a, nxt, obs))
        state = nxt
    return out


def fails_on(prop: Property, cfg: Config, steps: list[tuple], cycle_start: int | None = None) -> bool:
    """Does the run show what ``prop``'s trace claims? For an invariant or contract:
    a step where it fails; for a witness: a step where it is reached; for the
    graph properties, the run ends where the engine said (checked by the engine)."""
    wanted = prop.kind is not Kind.SOMETIMES
    for pre, a, post, obs in steps:
        if prop.check_step is not None and prop.check_step(cfg, pre, a, post, obs) != wanted:
            return True
        if prop.check_state is not None and prop.check_state(cfg, post) != wanted:
            return True
    if prop.check_state is not None and not steps and prop.check_state(cfg, INITIAL_STATE) != wanted:
        return True
    return prop.goal is not None


def write_counterexample(out_dir: str | Path, variant, cfg: Config, prop: Property, actions,
                         comments=(), cycle_start: int | None = None, stem: str | None = None) -> Path:
    """Write ``actions`` as ``<out_dir>/<stem or prop.id>.jsonl`` with ``expect`` on
    every step, then replay it; raises CheckerBug unless it replays and shows
    ``prop`` failing (or, for a witness, reached)."""
    steps = run_actions(variant, cfg, actions)
    path = Path(out_dir) / f"{stem or prop.id}.jsonl"
    write_trace(path, variant.name, cfg, [(a, expect_of(a, obs)) for _, a, _, obs in steps],
                comments=comments, cycle_start=cycle_start)
    replay = run_trace(read_trace(path), variant)
    if replay.first_mismatch is not None:
        m = replay.first_mismatch
        raise CheckerBug(f"{path}:{m.step.line}: the trace does not replay ({m.mismatch[0]}: "
                         f"expected {m.mismatch[1]}, observed {m.mismatch[2]})")
    if replay.cycle_closes is False:
        raise CheckerBug(f"{path}: the lasso's cycle does not return to its first state")
    if not fails_on(prop, cfg, steps, cycle_start):
        raise CheckerBug(f"{path}: the replayed run does not show {prop.id}")
    return path
