"""combine() and exit_code(): the one place verdicts are ranked (DESIGN.md)."""
from bufring.checker.verdict import Status, Verdict, combine, exit_code
from bufring.specs.catalog import Kind


def v(status, engine, kind=Kind.INVARIANT, trace=None, coverage=None):
    return Verdict("ring.exclusive", kind, status, {engine: status.value}, trace=trace,
                   length=3 if trace else None, coverage=coverage or {}, message=f"{engine} says so")


def test_combine_proved_beats_holds_and_keeps_both_engines():
    out = combine([v(Status.HOLDS, "explore"), v(Status.PROVED, "prove")])
    assert out.status is Status.PROVED
    assert out.engines == {"explore": "holds", "prove": "proved"}


def test_combine_violation_outside_a_claims_coverage_wins_without_disagreement():
    out = combine([v(Status.HOLDS, "explore"), v(Status.VIOLATED, "prove", trace="t.jsonl")],
                  inside=lambda claim, violation: False)
    assert out.status is Status.VIOLATED and not out.disagreement
    assert out.trace == "t.jsonl"


def test_combine_violation_inside_a_claims_coverage_is_a_disagreement_not_a_pick():
    out = combine([v(Status.HOLDS, "explore"), v(Status.VIOLATED, "fuzz", trace="t.jsonl")],
                  inside=lambda claim, violation: True)
    assert out.status is Status.UNKNOWN and out.disagreement
    assert "explore says holds" in out.message and "fuzz says violated" in out.message
    assert exit_code([out]) == 3


def test_combine_sampled_holds_never_upgrades_an_unknown():
    out = combine([v(Status.UNKNOWN, "explore"), v(Status.HOLDS, "fuzz")])
    assert out.status is Status.UNKNOWN


def test_combine_sampled_holds_alone_stands_with_its_coverage():
    out = combine([v(Status.HOLDS, "fuzz", coverage={"runs": 10, "steps": 100})])
    assert out.status is Status.HOLDS and out.coverage["runs"] == 10


def test_exit_code_violation_is_1_even_with_unknowns():
    assert exit_code([v(Status.VIOLATED, "explore", trace="t"), v(Status.UNKNOWN, "prove")]) == 1


def test_exit_code_informational_violation_does_not_fail():
    assert exit_code([v(Status.VIOLATED, "explore", kind=Kind.INFORMATIONAL, trace="t")]) == 0


def test_exit_code_vacuous_is_inconclusive():
    assert exit_code([v(Status.HOLDS, "explore"), v(Status.VACUOUS, "explore")]) == 3


def test_exit_code_all_hold_is_0():
    assert exit_code([v(Status.HOLDS, "explore"), v(Status.PROVED, "prove"),
                      v(Status.UNREACHED, "explore", kind=Kind.SOMETIMES)]) == 0
