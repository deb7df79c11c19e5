"""``bufring gen-tests``: traces and REGISTER vectors become pytest tests that run.

The generated tests run under plain pytest in a subprocess: the property test of a
v2 counterexample fails on v2 and passes on a variant that fixes it; vectors and
traces are written whole; bad input exits 2 with one line and writes nothing.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

SLOT_UNIQUE = [
    {"trace": 1, "variant": "v2", "config": {"max_payload_sz": 8192}},
    {"op": "register", "qid": 0, "flags": 1, "buf_index": 0, "queue_depth": 2, "buf_size": 8192,
     "headers": [268435456, 576], "payload": [1073741824, 8192]},
    {"op": "register", "qid": 0, "flags": 1, "buf_index": 0, "queue_depth": 2, "buf_size": 8192,
     "headers": [268435456, 576], "payload": [1073741824, 8192]},
]
VECTORS = [
    {"rule": "bufring.headers_too_small", "side": "rejected", "config": {"max_payload_sz": 8192},
     "register": {"qid": 0, "flags": 1, "queue_depth": 2, "buf_size": 8192,
                  "headers": [268435456, 575], "payload": [1073741824, 8192]},
     "expect": {"ret": -22, "nbufs": None}},
    {"rule": "bufring.headers_too_small", "side": "accepted", "config": {"max_payload_sz": 8192},
     "register": {"qid": 0, "flags": 1, "queue_depth": 2, "buf_size": 8192,
                  "headers": [268435456, 576], "payload": [1073741824, 16384]},
     "expect": {"ret": 0, "nbufs": 2}},
]


@pytest.fixture
def source(tmp_path):
    d = tmp_path / "bufring-out" / "v2"
    d.mkdir(parents=True)
    (d / "hdr.slot_unique.jsonl").write_text("".join(json.dumps(o) + "\n" for o in SLOT_UNIQUE))
    (d / "register-vectors.json").write_text(json.dumps(VECTORS))
    return tmp_path


def pytest_in(folder, *args):
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--rootdir", str(folder), str(folder), *args],
                          capture_output=True, text=True, cwd=folder, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


def test_generated_tests_fail_on_the_buggy_variant_and_pass_on_a_fix(bufring_cli, source,
                                                                      monkeypatch):
    monkeypatch.chdir(source)
    code, out, err = bufring_cli("gen-tests", "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["vectors"] == 2 and info["tests"][0]["violated_at"] == 2
    gen = source / "bufring-tests"
    text = (gen / "test_bufring_regressions.py").read_text()
    assert "def test_hdr_slot_unique__v2__register_x2(" in text
    assert "# hdr.slot_unique (invariant" in text          # says what it breaks
    code, log = pytest_in(gen)
    assert code == 1 and "1 failed" in log and "test_hdr_slot_unique__v2__register_x2" in log
    assert "3 passed" in log                      # the replay test and the 2 vectors pass on v2
    code, log = pytest_in(gen, "--bufring-variant", "all-fixes")
    assert code == 0, log


def test_generated_traces_and_vectors_carry_full_expectations(bufring_cli, source, monkeypatch):
    from bufring.model.traces import read_trace
    monkeypatch.chdir(source)
    assert bufring_cli("gen-tests", "--out", "gen")[0] == 0
    trace = read_trace(source / "gen" / "traces" / "v2" / "hdr.slot_unique.jsonl")
    assert all(set(s.expect) >= {"ret", "dispatched", "recycled"} for s in trace.steps)
    vectors = json.loads((source / "gen" / "vectors" / "v2" / "register-vectors.json").read_text())
    assert [v["name"] for v in vectors] == ["bufring_headers_too_small__rejected_1",
                                            "bufring_headers_too_small__accepted_1"]
    assert vectors[0]["register"]["op"] == "register" and vectors[0]["config"]["nr_queues"] == 1
    assert (source / "gen" / "traces" / "v2" / "vectors" / "bufring_headers_too_small__accepted_1.jsonl").exists()


def test_generated_tests_replay_on_an_implementation(bufring_cli, source, monkeypatch):
    from pathlib import Path
    faithful = Path(__file__).resolve().parents[1] / "impls" / "faithful.py"
    monkeypatch.chdir(source)
    assert bufring_cli("gen-tests", "--impl", f"{sys.executable} {faithful}")[0] == 0
    code, log = pytest_in(source / "bufring-tests")
    assert code == 0, log
    code, log = pytest_in(source / "bufring-tests", "--bufring-impl", f"{faithful}:SlotOffByOne")
    assert code == 0, log          # this run never reaches the off-by-one boundary
    code, log = pytest_in(source / "bufring-tests", "--bufring-impl", f"{faithful}:AvailFifo")
    assert code == 0, log


def test_a_vector_the_model_disagrees_with_exits_1(bufring_cli, source, monkeypatch):
    bad = [dict(VECTORS[0], expect={"ret": 0, "nbufs": None})]
    (source / "bufring-out" / "v2" / "register-vectors.json").write_text(json.dumps(bad))
    monkeypatch.chdir(source)
    code, out, err = bufring_cli("gen-tests")
    assert code == 1 and "the model (v2) gives ret -22" in err


@pytest.mark.parametrize("content, field", [
    ("not json", "invalid JSON"),
    (json.dumps([{"rule": "r", "side": "maybe", "config": {}, "register": {}, "expect": {}}]), "side"),
    (json.dumps([dict(VECTORS[0], register={"qid": 70000, "headers": [0, 0], "payload": [0, 0]})]),
     "register.qid"),
])
def test_bad_vectors_exit_2_with_one_line_and_write_nothing(bufring_cli, source, monkeypatch,
                                                            content, field):
    (source / "bufring-out" / "v2" / "register-vectors.json").write_text(content)
    monkeypatch.chdir(source)
    code, out, err = bufring_cli("gen-tests")
    assert code == 2 and len(err.strip().splitlines()) == 1 and field in err
    assert "register-vectors.json" in err
    assert not (source / "bufring-tests").exists()
    assert not [p for p in source.iterdir() if p.name.startswith(".bufring-tests")]


def test_a_missing_source_folder_exits_2(bufring_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = bufring_cli("gen-tests", "--from", "nowhere")
    assert code == 2 and "nowhere" in err
