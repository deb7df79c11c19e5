"""Every seeded bug of ``smt_mutants`` is caught by ``prove`` for the right property,
with a trace that ``bufring replay`` reproduces (the golden table is ``EXPECTED``)."""
from __future__ import annotations

import pytest
import smt_mutants
from bufring.checker.smt.prove import prove
from bufring.model.traces import read_trace, run_trace

CASES = sorted(smt_mutants.EXPECTED.items(), key=lambda kv: kv[0].name)
SLOW = {"smt-recycle-writes-head", "smt-select-reads-tail"}


def _check(variant, prop, want, tmp_path):
    [v] = prove(variant, [prop], out=tmp_path, vectors=False)
    assert v.status.value == want, v.message
    if want == "violated":
        trace = read_trace(v.trace)
        assert trace.variant == variant.name
        assert run_trace(trace, variant).first_mismatch is None
    return v


@pytest.mark.parametrize("variant, expected", [c for c in CASES if c[0].name not in SLOW],
                         ids=lambda x: getattr(x, "name", ""))
def test_seeded_bug_is_caught_by_prove_for_its_property(variant, expected, tmp_path):
    _check(variant, *expected, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("variant, expected", [c for c in CASES if c[0].name in SLOW],
                         ids=lambda x: getattr(x, "name", ""))
def test_seeded_ring_index_swap_is_caught_by_prove_for_conservation(variant, expected, tmp_path):
    _check(variant, *expected, tmp_path)


def test_nbufs_limit_dropped_gives_a_buffer_id_that_does_not_fit_u16(tmp_path):
    v = _check(smt_mutants.NO_NBUFS_LIMIT, "ring.buf_id_fits", "violated", tmp_path)
    trace = read_trace(v.trace)
    assert trace.config.counter_start == 1 << 16
    dispatched = trace.steps[-1].expect["dispatched"]
    assert dispatched[0]["buf_id"] == 0          # buffer 65536, truncated to the u16 field


def test_unknown_flags_checked_late_leave_a_legacy_queue_behind(tmp_path):
    v = _check(smt_mutants.FLAGS_CHECK_LATE, "reg.unknown_flags_rejected", "violated", tmp_path)
    [step] = read_trace(v.trace).steps
    # Legacy mode: the queue is published before the (now last) flags check rejects.
    assert step.action.flags & 1 == 0 and step.action.flags != 0 and step.expect["ret"] == -22


def test_opaque_ring_hook_makes_the_ring_properties_unknown_with_the_reason(tmp_path):
    v = _check(smt_mutants.OPAQUE_SELECT, "ring.count_bounded", "unknown", tmp_path)
    assert "ring_hooks" in v.message
