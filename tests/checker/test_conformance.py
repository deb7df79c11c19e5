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
            "NoFetchOnRegister", "BgLimit", "KeepBuffer"]


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
    adapter = SubprocessAdapter(f"{PY} {MISBEHAVING} hang 1", timeout=0.3)
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
