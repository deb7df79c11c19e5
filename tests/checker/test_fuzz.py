"""Deep random runs of the model (``checker.fuzz.fuzzer``), the generators and the shrinker.

The patch as posted (v2) violates several catalog properties, so fuzzing v2 must
find them, each with a short trace that replays; the shrinker must give 1-minimal
runs; the generators must reach every REGISTER class and the counter wrap.
"""
from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from bufring.checker.fuzz.fuzzer import FuzzOptions, fuzz
from bufring.checker.fuzz.gen import (CONFORMANCE, DEEP, INVALID_CLASSES, configs, draw_register,
                                      nbufs_cap)
from bufring.checker.fuzz.machine import _no_local_constants
from bufring.checker.judge import first_shown, run_actions
from bufring.checker.fuzz.shrink import shrink
from bufring.checker.verdict import Status
from bufring.model.actions import Commit, Register, Request
from bufring.model.config import Config
from bufring.model.state import INITIAL_STATE
from bufring.model.traces import read_trace, run_trace
from bufring.model.variant import V2
from bufring.specs.catalog import BY_ID

REG = Register(qid=0, flags=1, buf_index=0, queue_depth=1, buf_size=8192,
               headers=(0x10000000, 288), payload=(0x40000000, 3 * 8192))


def small(*ids):
    return [BY_ID[i] for i in ids]


def test_fuzz_on_v2_finds_duplicate_header_slots_with_a_two_step_trace(tmp_path):
    result = fuzz(V2, options=FuzzOptions(examples=30, seed=0), out=tmp_path,
                  catalog=small("hdr.slot_unique", "w.ring_empty"))
    v = {x.property: x for x in result.verdicts}["hdr.slot_unique"]
    assert v.status is Status.VIOLATED and v.length == 2
    assert v.engines == {"fuzz": "violated"}
    assert {"runs", "steps", "seconds"} <= set(v.coverage)
    trace = read_trace(v.trace)
    assert all(step.expect is not None for step in trace.steps)
    assert run_trace(trace, V2).first_mismatch is None
    assert [type(s.action) for s in trace.steps] == [Register, Register]


def test_fuzz_on_v2_finds_the_counter_wrap_with_non_power_of_two_rings(tmp_path):
    result = fuzz(V2, options=FuzzOptions(examples=150, seed=0), out=tmp_path,
                  catalog=small("ring.exclusive", "ring.count_bounded", "w.counter_wrap",
                                "w.recycle"))
    v = {x.property: x for x in result.verdicts}
    assert v["ring.exclusive"].status is Status.VIOLATED
    assert v["ring.exclusive"].length <= 6
    trace = read_trace(v["ring.exclusive"].trace)
    assert trace.config.counter_bits < 32                  # it needs the counters to wrap
    assert v["w.counter_wrap"].status is Status.REACHED


def test_fuzz_is_deterministic_under_a_seed(tmp_path):
    def once(where):
        r = fuzz(V2, options=FuzzOptions(examples=20, seed=7), out=where,
                 catalog=small("reg.init_consistent", "hdr.slot_unique", "w.recycle"))
        return [(v.property, v.status, v.length,
                 open(v.trace).read() if v.trace else None) for v in r.verdicts]
    assert once(tmp_path / "a") == once(tmp_path / "b")


def test_a_property_that_holds_without_its_witness_is_vacuous(tmp_path):
    result = fuzz(V2, options=FuzzOptions(examples=10, seed=0), out=tmp_path,
                  catalog=small("reg.flags_consistent", "w.register_race"))
    v = {x.property: x for x in result.verdicts}
    assert v["w.register_race"].status is Status.UNREACHED
    assert v["reg.flags_consistent"].status is Status.VACUOUS
    assert "w.register_race" in v["reg.flags_consistent"].message


@pytest.mark.slow
def test_fuzz_on_v2_with_the_whole_catalog_finds_every_reachable_violation(tmp_path):
    result = fuzz(V2, options=FuzzOptions(), out=tmp_path)
    violated = {v.property for v in result.verdicts if v.status is Status.VIOLATED}
    assert {"ring.conservation", "ring.exclusive", "hdr.slot_unique", "reg.no_partial_effect",
            "reg.init_consistent", "flow.idle_holds_no_buffer", "flow.payload_has_buffer",
            "flow.commit_matches", "flow.work_conserving"} <= violated
    assert all(v.length <= 6 for v in result.verdicts if v.status is Status.VIOLATED)


# --- the shrinker -----------------------------------------------------------------------

def test_shrink_drops_every_step_the_failure_does_not_need():
    prop = BY_ID["hdr.slot_unique"]
    cfg = Config(nr_queues=2, max_payload_sz=8192, counter_bits=5, counter_start=3)
    noise = [Request(0, 50 + i, True) for i in range(5)] + [Commit(0, 51)]
    tail = [Request(0, 70, False), Commit(0, 70)]
    run = [REG, REG._replace(qid=1)] + noise + [REG._replace(buf_index=0)] + tail
    cfg2, small_run = shrink(lambda c, a: first_shown(prop, V2, c, a), cfg, run)
    assert len(small_run) == 2
    assert cfg2.nr_queues == 1 and cfg2.counter_bits == 32 and cfg2.counter_start == 0
    assert first_shown(prop, V2, cfg2, small_run) == 1


def test_shrink_returns_the_input_when_the_finding_is_absent():
    cfg = Config()
    assert shrink(lambda c, a: None, cfg, [REG]) == (cfg, [REG])


# --- the generators ---------------------------------------------------------------------

@settings(max_examples=300, suppress_health_check=list(HealthCheck), database=None, deadline=None)
@given(st.data())
def test_generated_configs_keep_the_counter_rule_for_every_ring(data):
    cfg = data.draw(configs(DEEP))
    assert not cfg.problems()
    assert 3 <= cfg.counter_bits <= 32
    cap = nbufs_cap(cfg)
    assert cap < 1 << cfg.counter_bits and cfg.counter_start + cap <= 1 << cfg.counter_bits
    reg, kind = draw_register(data, cfg, INITIAL_STATE, DEEP)
    run_actions(V2, cfg, [reg])          # never out of the counter scope on a fresh state


def test_every_invalid_register_class_is_generated_and_mostly_rejected():
    seen: dict[str, list[int]] = {}

    @settings(max_examples=1500, suppress_health_check=list(HealthCheck), database=None,
              deadline=None)
    @given(st.data())
    def gen(data):
        cfg = data.draw(configs(CONFORMANCE))
        if data.draw(st.booleans()):           # nbufs_many needs the smallest payload size
            cfg = replace(cfg, max_payload_sz=8192)
        reg, kind = draw_register(data, cfg, INITIAL_STATE, CONFORMANCE)
        try:
            ret = run_actions(V2, cfg, [reg])[0].obs.ret
        except Exception:
            return
        seen.setdefault(kind, []).append(ret)

    with _no_local_constants():          # the same draws whatever else is loaded
        seed(0)(gen)()
    parts = {p for k in seen if k.startswith("combo:") for p in k[6:].split("+")}
    assert set(INVALID_CLASSES) <= set(seen) | parts
    for kind in INVALID_CLASSES:
        if kind not in seen or kind in ("mode_mismatch", "rw_cap"):   # boundary classes: both sides
            continue
        rets = seen[kind]
        assert sum(r != 0 for r in rets) >= len(rets) / 2, (kind, rets)
    assert any(k.startswith("combo:") for k in seen)
    assert sum(r == 0 for r in seen["valid"]) >= 0.9 * len(seen["valid"])


# --- the command ------------------------------------------------------------------------

def test_fuzz_command_prints_design_verdict_json_and_exits_1_on_v2(bufring_cli, tmp_path,
                                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = bufring_cli("fuzz", "--examples", "5", "--steps", "20", "--json")
    assert code == 1
    obj = json.loads(out)
    assert obj["command"] == "fuzz" and obj["variant"] == "v2"
    kinds = {v["property"]: v for v in obj["verdicts"]}
    assert kinds["hdr.slot_unique"]["verdict"] == "violated"
    assert kinds["hdr.slot_unique"]["trace"].startswith("bufring-out/v2/")
    assert (tmp_path / kinds["hdr.slot_unique"]["trace"]).exists()
    assert (tmp_path / ".bufring-fuzz-db").is_dir()
    assert not (tmp_path / ".hypothesis").exists()


@pytest.mark.parametrize("argv, where", [
    (["fuzz", "--examples", "0"], "--examples"),
    (["fuzz", "--variant", "nope"], "unknown variant"),
    (["fuzz", "--impl", "missing/impl.py:Impl"], "no such file"),
    (["fuzz", "--seed", "x"], "--seed"),
    (["fuzz", "--timeout", "-1"], "--timeout"),
])
def test_fuzz_bad_input_exits_2_with_one_line(bufring_cli, argv, where, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = bufring_cli(*argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and where in err


def test_fuzz_impl_command_exits_1_on_a_deviant_and_0_on_a_faithful_one(bufring_cli, tmp_path,
                                                                       monkeypatch):
    import sys
    from pathlib import Path
    faithful = Path(__file__).resolve().parents[1] / "impls" / "faithful.py"
    monkeypatch.chdir(tmp_path)
    code, out, _ = bufring_cli("fuzz", "--impl", f"{faithful}:AvailFifo", "--json")
    assert code == 1
    obj = json.loads(out)
    assert obj["verdict"] == "diverges" and obj["divergence"]["key"] == "dispatched"
    assert obj["trace"] and obj["divergence"]["line"] >= 2
    code, out, _ = bufring_cli("fuzz", "--impl", f"{sys.executable} {faithful}", "--examples", "20")
    assert code == 0 and "CONFORMS" in out
    code, out, err = bufring_cli("fuzz", "--impl", "exit 3", "--examples", "5")
    assert code == 2 and "bufring:" in err       # it cannot start


def test_properties_left_undecided_when_the_rounds_run_out_are_unknown(tmp_path):
    result = fuzz(V2, options=FuzzOptions(examples=30, seed=0, max_rounds=1), out=tmp_path,
                  catalog=small("hdr.slot_unique", "reg.init_consistent", "ring.count_bounded"))
    status = {v.property: v.status for v in result.verdicts}
    assert Status.VIOLATED in status.values()
    assert Status.UNKNOWN in status.values()
    assert Status.HOLDS not in status.values()
