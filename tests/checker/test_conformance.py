"""The lockstep conformance driver (``checker.fuzz.conformance``) and its adapters.

A correct implementation is not flagged; every deviant of tests/impls/faithful.py is
caught with a short shrunk trace; the subprocess failure modes of TRACE-FORMAT's
implementation protocol (crash, exit, garbage, timeout, unsupported config, a
command that cannot run) are divergences or exit 3, never ignored.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bufring.checker.fuzz.conformance import (ConformanceOptions, check_conformance,
                                         compare_observations, first_divergence)
from bufring.checker.fuzz.impl_adapter import (InProcessAdapter, SubprocessAdapter, is_class_spec,
                                          open_adapter)
from bufring.model.actions import Commit, Register, Request
from bufring.model.config import Config
from bufring.model.errors import BadInput
from bufring.model.variant import V2

IMPLS = Path(__file__).resolve().parents[1] / "impls"
FAITHFUL = IMPLS / "faithful.py"
MISBEHAVING = IMPLS / "misbehaving.py"
PY = sys.executable

DEVIANTS = ["ErrnoOrder", "SlotOffByOne", "RecycleHead", "AvailFifo", "NoWrap",
            "NoFetchOnRegister", "BgLimit", "KeepBuffer",
            # deviant only in a corner the steered generator must reach (situation classes)
            "NullPayload", "NullHeaders", "TopOfUser", "BgQueueRule", "RwCap", "UniqueU32"]


def run(adapter, tmp_path, examples=300, **kw):
    try:
        return check_conformance(V2, adapter, options=ConformanceOptions(examples=examples, **kw),
                                 out=tmp_path / "out")
    finally:
        adapter.close()


def cls(name):
    return open_adapter(f"{FAITHFUL}:{name}")


def test_faithful_implementation_in_process_conforms(tmp_path):
    result = run(cls("Faithful"), tmp_path, examples=60)
    assert result.verdict == "conforms", result.message
    assert result.exit_code() == 0
    assert result.stats.runs >= 60 and result.stats.steps > 600


def test_faithful_implementation_over_a_subprocess_conforms(tmp_path):
    result = run(open_adapter(f"{PY} {FAITHFUL}"), tmp_path, examples=25)
    assert result.verdict == "conforms", result.message


@pytest.mark.slow
def test_faithful_implementation_conforms_over_ten_thousand_examples(tmp_path):
    result = run(open_adapter(f"{PY} {FAITHFUL}"), tmp_path, examples=10_000, steps=40)
    assert result.verdict == "conforms", result.message
    assert result.stats.runs >= 10_000


@pytest.mark.parametrize("deviant", DEVIANTS)
def test_each_deviant_is_caught_with_a_short_replaying_trace(deviant, tmp_path, bufring_cli):
    result = run(cls(deviant), tmp_path)
    assert result.verdict == "diverges", result.message
    assert result.exit_code() == 1
    assert 1 <= result.length <= 6
    # the trace holds the model's expectations on every step: it replays on the model
    code, out, err = bufring_cli("replay", result.trace, "--json")
    assert code == 0, err
    assert out.count('"line"') == result.length


def test_a_deviant_over_a_subprocess_is_caught(tmp_path):
    result = run(open_adapter(f"{PY} {FAITHFUL} --bug avail-fifo"), tmp_path)
    assert result.verdict == "diverges"
    assert result.divergence.key == "dispatched"
    assert result.length <= 4


def test_a_seeded_bug_in_the_model_is_found_against_a_correct_implementation(tmp_path):
    from bufring.model import ring

    def recycle_at_head(bufring, buf_id, bits):      # a model variant with a planted bug
        new, warned = ring.recycle(bufring, buf_id, bits)
        return new._replace(slots=tuple(reversed(new.slots))), warned

    seeded = V2.derive("seeded", "recycle scrambles the slots", ring_recycle=recycle_at_head)
    result = check_conformance(seeded, cls("Faithful").__class__(cls("Faithful").impl, "faithful"),
                               options=ConformanceOptions(), out=tmp_path)
    assert result.verdict == "diverges"
    assert result.length <= 6


def test_divergence_names_step_line_key_and_both_observations(tmp_path):
    result = run(cls("SlotOffByOne"), tmp_path)
    d = result.divergence
    assert d.key == "ret" and d.op == "register"
    assert d.expected == -22 and d.observed == 0
    assert d.expected_observation["ret"] == -22 and d.observed_observation["ret"] == 0
    assert d.line is not None and d.line > 1
    js = result.to_json()
    assert js["divergence"]["key"] == "ret" and js["trace"] == result.trace


# --- the subprocess protocol's failure modes ------------------------------------------------

@pytest.mark.parametrize("mode, kind", [("crash", "crash"), ("exit", "exit"), ("garbage", "garbage")])
def test_a_misbehaving_subprocess_diverges_at_that_step_with_its_stderr(mode, kind, tmp_path):
    result = run(open_adapter(f"{PY} {MISBEHAVING} {mode} 2"), tmp_path, examples=20)
    assert result.verdict == "diverges"
    d = result.divergence
    assert d.failure == kind and d.step == 2
    if mode == "crash":
        assert "crashed on purpose" in d.stderr


def test_a_subprocess_that_does_not_answer_in_time_diverges(tmp_path):
    adapter = SubprocessAdapter(f"{PY} {MISBEHAVING} hang 1", timeout=2.0)   # step 0 must answer in time even on a busy machine
    result = run(adapter, tmp_path, examples=5)
    assert result.verdict == "diverges"
    assert result.divergence.failure == "timeout" and result.divergence.step == 1


def test_a_subprocess_that_declines_some_configs_is_run_on_the_others(tmp_path):
    result = run(open_adapter(f"{PY} {MISBEHAVING} unsupported"), tmp_path, examples=30)
    assert result.verdict == "conforms"
    assert result.stats.skipped_configs.get("only 32-bit counters", 0) > 0


def test_a_subprocess_that_declines_every_config_is_inconclusive(tmp_path):
    result = run(open_adapter(f"{PY} {MISBEHAVING} unsupported-all"), tmp_path, examples=10)
    assert result.verdict == "inconclusive" and result.exit_code() == 3


def test_a_command_that_cannot_run_gives_exit_3(tmp_path):
    result = run(open_adapter(f"{PY} {MISBEHAVING} dead"), tmp_path, examples=5)
    assert result.verdict == "cannot-run" and result.exit_code() == 2
    assert "giving up at once" in result.message


# --- pieces ---------------------------------------------------------------------------------

def test_impl_spec_with_py_colon_name_is_a_class_and_anything_else_a_command():
    assert is_class_spec("impls/x.py:Impl")
    assert not is_class_spec("python3 impls/x.py:Impl")
    assert not is_class_spec("./impl --flag")


def test_a_class_file_that_does_not_exist_is_bad_input():
    with pytest.raises(BadInput, match="no such file"):
        open_adapter("does/not/exist.py:Impl")


def test_a_class_without_the_protocol_methods_is_bad_input(tmp_path):
    path = tmp_path / "impl.py"
    path.write_text("class Impl:\n    def reset(self, config):\n        return None\n")
    with pytest.raises(BadInput, match="lacks method"):
        open_adapter(f"{path}:Impl")


def test_compare_ignores_warnings_unless_asked():
    expected = {"ret": 0, "dispatched": [], "recycled": [], "warnings": ["recycle_full"]}
    observed = {"ret": 0, "dispatched": [], "recycled": []}
    assert compare_observations("commit", expected, observed) is None
    assert compare_observations("commit", expected, observed, compare_warnings=True)[0] == "warnings"


def test_compare_treats_false_and_zero_as_different():
    expected = {"via": "ring", "queued": False, "dispatched": [], "recycled": []}
    assert compare_observations("request", expected, dict(expected, queued=0))[0] == "queued"


def test_first_divergence_replays_a_given_run_on_both_sides():
    cfg = Config(max_payload_sz=8192)
    reg = Register(qid=0, flags=1, buf_index=0, queue_depth=2, buf_size=8192,
                   headers=(0x10000000, 576), payload=(0x40000000, 16384))
    run_ = [reg, reg._replace(buf_index=1), Request(0, 1, False)]
    assert first_divergence(cls("Faithful"), V2, cfg, run_) is None
    d = first_divergence(cls("AvailFifo"), V2, cfg, run_)
    assert d.step == 3 and d.key == "dispatched"
    assert first_divergence(cls("Faithful"), V2, cfg, [reg, Request(0, 1, True), Commit(0, 1)]) is None


def test_a_divergence_is_kept_in_the_example_database_and_rerun_first(tmp_path):
    from hypothesis.database import DirectoryBasedExampleDatabase
    db = DirectoryBasedExampleDatabase(str(tmp_path / "db"))
    first = run(cls("BgLimit"), tmp_path, database=db)
    again = run(cls("BgLimit"), tmp_path, database=db)
    assert first.verdict == again.verdict == "diverges"
    assert first.stats.runs > 5
    assert again.stats.runs <= 3          # the kept failing run comes first
    assert again.length == first.length


# --- situation classes: the generator covers the format ---------------------------------------------

def test_the_default_budget_reaches_every_situation_class(tmp_path):
    from bufring.checker.fuzz.gen import INVALID_CLASSES
    from bufring.checker.fuzz.situations import Coverage
    from bufring.specs.catalog import CATALOG, Kind
    result = run(cls("Faithful"), tmp_path, examples=ConformanceOptions.examples)
    assert result.verdict == "conforms", result.message
    cov = result.to_json()["coverage"]
    names = [c["class"] for c in cov["situations"]]
    assert names == Coverage().names and len(set(names)) == len(names)
    expected = ({f"config.counter_bits={b}" for b in range(1, 33)}
                | {"region.payload_base_0", "region.headers_base_0", "region.payload_at_top",
                   "region.headers_at_top", "bg.limit_saturated", "ring.nbufs=65535"}
                | {f"register.{k}" for k in INVALID_CLASSES}
                | {p.id for p in CATALOG if p.kind is Kind.SOMETIMES} - {"w.register_race"}
                | {f"premise.{p.id}" for p in CATALOG if p.exercised is not None})
    assert expected <= set(names)
    assert "w.register_race" in cov["not_applicable"]
    missing = [c["class"] for c in cov["situations"] if not c["reached"]]
    assert missing == [] and cov["situations_reached"] == cov["situations_total"] == len(names)
    assert all(c["count"] > 0 for c in cov["situations"])


def test_batches_run_a_quarter_free_then_aim_at_uncovered_then_rare_classes_then_the_rest():
    from bufring.checker.fuzz.conformance import FOCUS_EXAMPLES, FOCUS_TRIES, _batches
    from bufring.checker.fuzz.situations import Coverage
    coverage = Coverage()
    for name in coverage.names[2:]:
        coverage.counts[name] = 5                 # all but the first two covered
    coverage.counts[coverage.names[3]] = 1        # and one of them only once
    plan = list(_batches(coverage, 100, ["region.payload_base_0"], {}))
    assert plan[0] == ("region.payload_base_0", FOCUS_EXAMPLES)   # the database's batch first
    assert plan[1] == (None, 25)
    uncovered = [n for n, _ in plan[2:2 + 2 * FOCUS_TRIES]]
    assert uncovered == [coverage.names[0]] * FOCUS_TRIES + [coverage.names[1]] * FOCUS_TRIES
    rest = plan[2 + 2 * FOCUS_TRIES:]
    assert rest[0][0] == coverage.names[3]       # the rarest reached class next
    aimed = sum(k for n, k in rest if n is not None)
    assert rest[-1] == (None, 100 - 25 - FOCUS_EXAMPLES * 2 * FOCUS_TRIES - aimed)
    assert aimed == (100 - 25 - FOCUS_EXAMPLES * 2 * FOCUS_TRIES) // 2


@pytest.mark.parametrize("name", ["config.counter_bits=1", "region.headers_base_0",
                                  "region.legacy_at_top", "dispatch.payload_addr_0",
                                  "register.nbufs_many", "register.mode_mismatch", "ring.nbufs=65535",
                                  "bg.limit_released", "request.unique_near_u64_max"])
def test_a_batch_aimed_at_a_class_reaches_it(name):
    from bufring.checker.fuzz.machine import BufringMachine, RunStats, run_machine
    from bufring.checker.fuzz.situations import Coverage
    coverage = Coverage()
    machine = type("Aimed", (BufringMachine,), {"variant": V2, "stats": RunStats(),
                                                 "coverage": coverage, "focus": coverage.focus(name)})
    run_machine(machine, examples=8, steps=30, seed=0, database=None, key=name)
    assert coverage.count(name) > 0


def test_fuzz_impl_json_coverage_names_the_situations_and_a_user_premise(bufring_cli, tmp_path):
    import json
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "user_properties.py"
    code, out, _ = bufring_cli("fuzz", "--json", "--no-db", "--impl", f"{FAITHFUL}:Faithful",
                               "--examples", "40", "--property", f"{example}:WAITING_AT_MOST_ONE",
                               "--out", tmp_path)
    assert code == 0
    cov = json.loads(out)["coverage"]
    by_name = {c["class"]: c for c in cov["situations"]}
    assert set(by_name["config.counter_bits=32"]) == {"class", "what", "reached", "count"}
    assert "premise.user.waiting_at_most_one" in by_name
    assert "premise.ring.buf_in_region" not in by_name        # only the chosen properties' premises
    assert cov["situations_total"] == len(by_name)
