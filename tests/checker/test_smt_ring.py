"""Ring induction (``checker.smt.induction``): proofs with lemmas, triaged CTIs,
counterexamples at the 32-bit wrap that replay."""
from __future__ import annotations

import pytest
from bufring.checker.smt import induction as smt_induction
from bufring.checker.smt.prove import prove
from bufring.checker.smt.bmc import search, starts
from bufring.checker.smt.induction import RingProver
from bufring.checker.smt.nbufs import nbufs_domain
from bufring.checker.smt.ring import REC, RING_PROPERTIES, SEL
from bufring.checker.smt.ringtrace import ring_actions, shortest_failing_prefix
from bufring.checker.smt.solver import Answer, QueryLog
from bufring.checker.verdict import Status
from bufring.model.actions import Commit, Register, Request
from bufring.model.ring import V2_RING
from bufring.model.traces import read_trace, run_trace
from bufring.model.builtin import builtin_variants
from bufring.model.variant import V2
from bufring.specs.catalog import get

WRAP3 = (1 << 32) - 3


@pytest.fixture(scope="module")
def v2_domain():
    return nbufs_domain(V2, 5.0)


def test_v2_nbufs_domain_is_every_value_from_1_to_65535(v2_domain):
    assert (v2_domain.lo, v2_domain.hi, v2_domain.pow2, v2_domain.payload_at_0) == (1, 65535, False, True)


def test_nbufs_pow2_fix_domain_is_the_powers_of_two_up_to_32768():
    d = nbufs_domain(builtin_variants()["nbufs-pow2"], 5.0)
    assert (d.lo, d.hi, d.pow2) == (1, 32768, True)


def test_count_bounded_step_fails_alone_and_closes_with_the_free_plus_held_lemma(v2_domain):
    log = QueryLog()
    res = RingProver(V2, V2_RING, v2_domain, 32, 5.0, log).prove(RING_PROPERTIES["ring.count_bounded"])
    assert res.status is Status.PROVED
    assert res.lemmas == ["ring.free_plus_held_le_nbufs"]
    first_step = next(r for r in log.records if r.query.startswith("step: ring.count_bounded"))
    assert first_step.result is Answer.SAT                       # a CTI: not inductive alone
    assert any(r.query.startswith("bmc (explicit)") and r.result is Answer.UNSAT for r in log.records)


def test_a_step_that_does_not_close_is_never_reported_proved(v2_domain, monkeypatch):
    monkeypatch.setattr(smt_induction, "LEMMAS", ())
    res = RingProver(V2, V2_RING, v2_domain, 32, 5.0).prove(RING_PROPERTIES["ring.count_bounded"])
    assert res.status is Status.UNKNOWN
    assert "does not close" in res.message


def test_buf_id_fits_is_proved_with_the_ids_below_nbufs_lemma(v2_domain):
    res = RingProver(V2, V2_RING, v2_domain, 32, 5.0).prove(RING_PROPERTIES["ring.buf_id_fits"])
    assert (res.status, res.lemmas) == (Status.PROVED, ["ring.ids_below_nbufs"])


def test_bounded_search_finds_the_wrap_counterexample_for_three_buffers():
    found = search(get("ring.conservation"), V2_RING, 3, False, 32, 4, starts(3, 32, 4), deadline=1e18)
    assert found.counter_start == WRAP3 and found.events == [(SEL, 0), (REC, 1)]


def test_bounded_search_finds_nothing_when_nbufs_divides_the_counter_range():
    for n in (1, 2, 4):
        assert search(get("ring.conservation"), V2_RING, n, False, 32, 5, starts(n, 32, 5), 1e18) is None


def test_wrap_counterexample_becomes_a_four_step_trace_at_counter_start_2_to_the_32_minus_3(tmp_path):
    found = search(get("ring.conservation"), V2_RING, 3, False, 32, 4, starts(3, 32, 4), 1e18)
    run = smt_induction.AbstractRun(found.nbufs, False, found.counter_start, found.events)
    cfg, actions = ring_actions(V2, run, 32, 5.0)
    actions = shortest_failing_prefix(V2, cfg, get("ring.conservation"), actions)
    assert cfg.counter_start == WRAP3 and cfg.counter_bits == 32
    assert [type(a) for a in actions] == [Register, Register, Request, Commit]


@pytest.mark.slow
def test_v2_prove_refutes_conservation_and_exclusive_with_replaying_traces_at_32_bits(tmp_path):
    verdicts = {v.property: v for v in prove(V2, ["ring.conservation", "ring.exclusive"], out=tmp_path,
                                             vectors=False)}
    for prop in ("ring.conservation", "ring.exclusive"):
        v = verdicts[prop]
        assert v.status is Status.VIOLATED, v.message
        trace = read_trace(v.trace)
        assert trace.config.counter_bits == 32 and trace.config.counter_start == WRAP3
        assert run_trace(trace, V2).first_mismatch is None
    assert verdicts["ring.conservation"].length == 4


@pytest.mark.slow
def test_all_fixes_ring_invariants_are_all_proved_at_32_bits(tmp_path):
    verdicts = prove(builtin_variants()["all-fixes"], list(RING_PROPERTIES), out=tmp_path, vectors=False)
    assert {v.property: v.status for v in verdicts} == {p: Status.PROVED for p in RING_PROPERTIES}
    lemmas = {v.property: v.coverage["lemmas"] for v in verdicts}
    assert "ring.window_slots_distinct" in lemmas["ring.conservation"]
