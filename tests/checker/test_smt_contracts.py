"""REGISTER contracts on v2 (``checker.smt.contracts`` through ``checker.smt.prove``)."""
from __future__ import annotations

import pytest
from bufring.checker.smt.prove import prove
from bufring.checker.verdict import Status
from bufring.model.actions import Register
from bufring.model.traces import read_trace, run_trace
from bufring.model.variant import V2

CONTRACTS = ["ring.buf_in_region", "reg.unknown_flags_rejected", "hdr.slot_bounds"]


@pytest.fixture(scope="module")
def contract_verdicts(tmp_path_factory):
    out = tmp_path_factory.mktemp("prove")
    return {v.property: v for v in prove(V2, CONTRACTS, out=out, vectors=False)}


@pytest.mark.parametrize("prop", CONTRACTS)
def test_v2_register_contract_is_proved_for_all_values(contract_verdicts, prop):
    v = contract_verdicts[prop]
    assert v.status is Status.PROVED, v.message
    assert v.engines == {"prove": "proved"}
    assert v.coverage["widths"] == [16, 32, 64]
    assert v.coverage["parameters"]["max_payload_sz"] == "0..2^64-1"


def test_v2_overflow_questions_are_all_proved(contract_verdicts):
    questions = {q: r for v in contract_verdicts.values() for q, r in v.coverage.get("overflow", {}).items()}
    assert "u64 iov[1] base + length does not wrap" in questions
    assert "nr_bufs * buf_size (u32 x u32) fits payload_size" in questions
    assert set(questions.values()) == {"proved"}


def test_v2_rejected_register_that_leaves_its_queue_is_a_one_step_replaying_trace(tmp_path):
    [v] = prove(V2, ["reg.no_partial_effect"], out=tmp_path, vectors=False)
    assert v.status is Status.VIOLATED and v.length == 1
    trace = read_trace(v.trace)
    assert trace.variant == "v2"
    [step] = trace.steps
    assert isinstance(step.action, Register) and step.expect["ret"] < 0
    assert run_trace(trace, V2).first_mismatch is None


def test_contract_counterexample_prefers_a_plain_servers_values(tmp_path):
    [v] = prove(V2, ["reg.no_partial_effect"], out=tmp_path, vectors=False)
    reg = read_trace(v.trace).steps[0].action
    # The plain REGISTER of the bench (qid 0, bufring, two entries, 3 x 128 KiB) with the
    # entry check failing: buf_index not below queue_depth.
    assert (reg.qid, reg.flags, reg.queue_depth, reg.buf_size) == (0, 1, 2, 131072)
    assert reg.buf_index >= reg.queue_depth
