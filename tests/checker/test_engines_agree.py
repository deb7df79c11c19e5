"""prove and explore agree on every default scope: one table of scopes, two engines.

``prove --width W`` decides the ring invariants for W-bit counters and every nbufs;
each default scope explores W = 3. A proof must never meet a replaying violation
inside its coverage, nor an exhaustive "holds" a violation the scope admits
(``checker.check``'s cross-check, which fails a run with "engines disagree").
"""
import pytest

from bufring.checker.check import _inside
from bufring.checker.explore.explorer import explore
from bufring.checker.smt.prove import prove
from bufring.checker.verdict import Status, combine
from bufring.model.variant import V2
from bufring.specs.scopes import BY_NAME, DEFAULT_SCOPES

SMALL = ("register", "null-payload", "race")


def disagreements(scope, tmp_path):
    explored = {v.property: v for v in explore(V2, [scope], out_dir=tmp_path / "explore").verdicts}
    proved = prove(V2, width=scope.config.counter_bits, timeout=10, out=tmp_path / "prove", vectors=False)
    inside = _inside([scope], V2)
    out = []
    for p in proved:
        mine = explored.get(p.property)
        if mine is not None and combine([p, mine], inside).disagreement:
            out.append((p.property, p.status.value, mine.status.value))
    return out, proved, explored


@pytest.mark.parametrize("name", SMALL)
def test_prove_and_explore_agree_on_small_default_scope(name, tmp_path):
    found, proved, explored = disagreements(BY_NAME[name], tmp_path)
    assert found == []
    # and the question was really asked: both engines decided the ring invariants
    assert {v.property for v in proved} >= {"ring.count_bounded", "ring.exclusive"}


@pytest.mark.slow
@pytest.mark.parametrize("scope", DEFAULT_SCOPES, ids=[s.name for s in DEFAULT_SCOPES])
def test_prove_and_explore_agree_on_every_default_scope(scope, tmp_path):
    assert disagreements(scope, tmp_path)[0] == []


def test_prove_at_3_bits_and_the_ring_scope_both_refute_exclusive(tmp_path):
    found, proved, explored = disagreements(BY_NAME["ring"], tmp_path)
    by_id = {v.property: v for v in proved}
    assert found == []
    assert by_id["ring.exclusive"].status is Status.VIOLATED
    assert explored["ring.exclusive"].status is Status.VIOLATED
    assert by_id["ring.never_full_on_recycle"].status is Status.PROVED
    assert explored["ring.never_full_on_recycle"].status is Status.HOLDS
