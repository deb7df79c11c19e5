"""What the regression tests written by ``bufring gen-tests`` call at run time.

Kept in the package (not pasted into each generated file) so that a generated test
is a few readable lines and keeps working as the model grows. Each check takes the
variant to run (a name or ``FILE.py:NAME``; None = the trace's own variant) and an
optional implementation (``--impl`` syntax): with an implementation, the scenario
is replayed on it and compared with the model, step by step.
"""
from __future__ import annotations

import json
from pathlib import Path

from bufring.checker.judge import first_shown
from bufring.model.traces import read_trace, run_trace
from bufring.model.builtin import load_variant
from bufring.specs.catalog import BY_ID, Kind
from bufring.model.variant import Variant

__all__ = ["check_property", "check_replays_as_recorded", "check_vector", "variant_for"]


def variant_for(trace, variant_spec: str | None):
    return load_variant(variant_spec or trace.variant or "v2")


def _on_impl(trace, variant: Variant, impl_spec: str, what: str) -> None:
    from bufring.checker.fuzz.conformance import first_divergence
    from bufring.checker.fuzz.impl_adapter import open_adapter

    adapter = open_adapter(impl_spec)
    try:
        d = first_divergence(adapter, variant, trace.config, [s.action for s in trace.steps])
    finally:
        adapter.close()
    if d is not None:
        raise AssertionError(f"{what}: {impl_spec} diverges from model {variant.name} at step "
                             f"{d.step} ({d.op or 'header'}): {d.key}: model {json.dumps(d.expected)}, "
                             f"implementation {json.dumps(d.observed)}"
                             + (f"\n{d.stderr}" if d.stderr else ""))


def check_property(trace_path: str | Path, prop_id: str, variant_spec: str | None = None,
                   impl_spec: str | None = None) -> None:
    """The property's predicate holds along the replayed run (a witness: is reached).

    Fails on a variant that has the bug the trace shows, passes on one that fixes it.
    With an implementation, the implementation must instead agree with the model
    (of the chosen variant) on every step of the scenario.
    """
    trace = read_trace(trace_path)
    variant = variant_for(trace, variant_spec)
    prop = BY_ID[prop_id]
    if impl_spec:
        _on_impl(trace, variant, impl_spec, prop_id)
        return
    actions = [s.action for s in trace.steps]
    if prop.kind is Kind.SOMETIMES:
        if first_shown(prop, variant, trace.config, actions) is None:
            if variant.name != (trace.variant or "v2"):
                import pytest
                pytest.skip(f"{prop_id}: this run does not reach the witness on variant {variant.name}")
            raise AssertionError(f"{prop_id} ({prop.title}) is no longer reached by this run "
                                 f"on variant {variant.name}")
        return
    if prop.check_state is None and prop.check_step is None:
        run_trace(trace, variant, stop_at_mismatch=False)   # a graph property: the run stays valid
        return
    i = first_shown(prop, variant, trace.config, actions)
    if i is not None:
        step = trace.steps[i]
        raise AssertionError(f"{prop_id} ({prop.title}) is violated on variant {variant.name} after "
                             f"step {i + 1} (line {step.line} of {trace_path}): {prop.meaning}")


def check_replays_as_recorded(trace_path: str | Path, variant_spec: str | None = None) -> None:
    """The model of the trace's own variant still produces every recorded ``expect``.

    Skipped (by the caller) when another variant is chosen: the expectations record
    the behaviour of the trace's variant, bugs included.
    """
    trace = read_trace(trace_path)
    result = run_trace(trace, variant_for(trace, variant_spec))
    m = result.first_mismatch
    if m is not None:
        key, want, have = m.mismatch
        raise AssertionError(f"{trace_path}:{m.step.line}: {key}: recorded {json.dumps(want)}, "
                             f"the model now gives {json.dumps(have)}")


def check_vector(vector: dict, variant_spec: str | None = None, impl_spec: str | None = None) -> None:
    """One REGISTER boundary vector: its ``ret`` (and ``nbufs`` when accepted)."""
    from bufring.checker.report.testgen import vector_outcome

    variant = load_variant(variant_spec or vector.get("variant") or "v2")
    if impl_spec:
        from bufring.checker.fuzz.impl_adapter import open_adapter

        adapter = open_adapter(impl_spec)
        try:
            reason = adapter.reset(vector["config"])
            if reason is not None:
                raise AssertionError(f"{impl_spec} declines the config: {reason}")
            answer = adapter.step(vector["register"])
        finally:
            adapter.close()
        if answer.get("ret") != vector["expect"]["ret"]:
            raise AssertionError(f"{vector['name']}: {impl_spec} returns {answer.get('ret')}, "
                                 f"the vector expects {vector['expect']['ret']} ({vector['rule']})")
        return
    ret, nbufs = vector_outcome(variant, vector)
    want = vector["expect"]
    if ret != want["ret"] or (want.get("nbufs") is not None and nbufs != want["nbufs"]):
        raise AssertionError(f"{vector['name']} ({vector['rule']}, {vector['side']}): variant "
                             f"{variant.name} gives ret {ret}, nbufs {nbufs}; the vector expects "
                             f"ret {want['ret']}, nbufs {want.get('nbufs')}")
