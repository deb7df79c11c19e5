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

from bufring.checker.judge import InvalidRun, first_shown, run_actions
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
    foreign = variant.name != (trace.variant or "v2")
    if foreign:
        _skip_unless_valid(trace, variant, prop_id)
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
    if i is not None and foreign and prop.kind is Kind.INFORMATIONAL:
        import pytest
        pytest.skip(f"{prop_id} is informational (it reports behaviour, it promises nothing); "
                    f"on variant {variant.name} this run shows it after step {i + 1}")
    if i is not None:
        step = trace.steps[i]
        raise AssertionError(f"{prop_id} ({prop.title}) is violated on variant {variant.name} after "
                             f"step {i + 1} (line {step.line} of {trace_path}): {prop.meaning}")


def _skip_unless_valid(trace, variant: Variant, what: str) -> None:
    """On another variant than the trace's own, the same actions may not form a valid
    run (a request's unique is still in use there): the test does not apply."""
    import pytest

    try:
        run_actions(variant, trace.config, [s.action for s in trace.steps])
    except InvalidRun as e:
        pytest.skip(f"{what}: this run is not a valid run on variant {variant.name} ({e})")


RULE_HOOKS = ("gate_rules", "bufring_setup_rules", "ent_bufring_rules", "ent_legacy_rules")
"""The variant hooks that hold REGISTER rules (``model.variant``)."""


def added_rule_rejecting(variant: Variant, own: Variant, vector: dict) -> str | None:
    """The name of a REGISTER rule that ``variant`` has and ``own`` lacks and that
    rejects the vector's REGISTER, or None."""
    from bufring.model.cint import CONCRETE
    from bufring.model.config import Config
    from bufring.model.register import register_values
    from bufring.model.traces import parse_action, parse_config

    cfg = vector["config"] if isinstance(vector["config"], Config) else parse_config(vector["config"], "vector", None)
    reg = vector["register"]
    if isinstance(reg, dict):
        reg = parse_action("register", {k: v for k, v in reg.items() if k != "op"}, "vector", None)
    known = {r.name for hook in RULE_HOOKS for r in getattr(own, hook)}
    values = register_values(cfg, reg)
    for hook in RULE_HOOKS:
        for rule in getattr(variant, hook):
            if rule.name not in known and rule.rejects(CONCRETE, values):
                return rule.name
    return None


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
    own = load_variant(vector.get("variant") or "v2")
    if variant.name != own.name and (ret, nbufs) != (want["ret"], want.get("nbufs")):
        rule = added_rule_rejecting(variant, own, vector)
        if rule is not None and ret != 0:
            import pytest
            pytest.skip(f"variant {variant.name} adds REGISTER rule {rule}, which rejects this vector "
                        f"of {own.name}'s rule {vector['rule']} before it is reached")
    if ret != want["ret"] or (want.get("nbufs") is not None and nbufs != want["nbufs"]):
        raise AssertionError(f"{vector['name']} ({vector['rule']}, {vector['side']}): variant "
                             f"{variant.name} gives ret {ret}, nbufs {nbufs}; the vector expects "
                             f"ret {want['ret']}, nbufs {want.get('nbufs')}")
