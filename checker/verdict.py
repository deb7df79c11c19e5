"""Verdicts: what an engine concludes about one property, and how verdicts combine.

``Status`` is ordered as CrossHair orders its outcomes: merging two verdicts of
different engines keeps the stronger claim, and only :func:`combine` ranks them.
The JSON shape is DESIGN.md's "Verdicts as JSON".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Callable, Iterable

from bufring.specs.catalog import Kind


class Status(Enum):
    PROVED = "proved"          # for all values (SMT), widths in coverage
    HOLDS = "holds"            # exhaustive within the scope in coverage
    VIOLATED = "violated"      # with a trace that replays
    VACUOUS = "vacuous"        # holds only because a needed witness is unreachable
    UNKNOWN = "unknown"        # timeout, cap, solver unknown: never shown as holds
    REACHED = "reached"        # a sometimes-witness, with a trace
    UNREACHED = "unreached"    # a sometimes-witness not reached in the coverage


# Strength of a claim when engines are merged (higher wins); VIOLATED is handled apart.
_RANK = {Status.UNKNOWN: 0, Status.VACUOUS: 1, Status.UNREACHED: 1, Status.HOLDS: 2,
         Status.PROVED: 3, Status.REACHED: 4, Status.VIOLATED: 5}


@dataclass
class Verdict:
    """One property's verdict from one engine, or combined from several."""

    property: str
    kind: Kind
    status: Status
    engines: dict[str, str] = field(default_factory=dict)   # engine -> status value
    trace: str | None = None
    length: int | None = None
    coverage: dict = field(default_factory=dict)
    message: str = ""
    disagreement: bool = False

    def to_json(self) -> dict:
        out = {"property": self.property, "kind": self.kind.value, "verdict": self.status.value,
               "engines": dict(self.engines), "coverage": self.coverage, "message": self.message}
        if self.trace is not None:
            out["trace"] = self.trace
            out["length"] = self.length
        if self.disagreement:
            out["disagreement"] = True
        return out


def _sampled(v: Verdict) -> bool:
    """A "holds" that rests on sampled runs only (fuzz), not on an exhaustive search."""
    return v.status is Status.HOLDS and set(v.engines) <= {"fuzz"}


def _rank(v: Verdict) -> float:
    # A sampled "holds" never upgrades another engine's unknown or vacuous.
    return -1 if _sampled(v) else _RANK[v.status]


def _exhaustive_claim(v: Verdict) -> bool:
    return v.status in (Status.PROVED, Status.HOLDS) and not _sampled(v)


def combine(verdicts: Iterable[Verdict],
            inside: Callable[[Verdict, Verdict], bool] = lambda claim, violation: True) -> Verdict:
    """One verdict from several engines' verdicts on the same property.

    A replaying violation wins over a weaker claim; ``proved`` beats ``holds``,
    which beats ``vacuous``/``unknown``; a "holds" from sampled runs alone (fuzz)
    stands only when no other engine decided anything. When one engine claims the property for
    its whole coverage and another has a replaying counterexample, that is a
    checker bug: the result is ``unknown`` with ``disagreement`` set and both
    sides in the message, never a silent pick. ``inside(claim, violation)`` says
    whether the violation's trace lies inside the claim's coverage; a scope that
    never tries that run makes no contradicting claim.
    """
    verdicts = list(verdicts)
    if not verdicts:
        raise ValueError("combine() needs at least one verdict")
    engines: dict[str, str] = {}
    for v in verdicts:
        engines.update(v.engines)
    # The strongest claim; among violations, the shortest trace.
    best = max(verdicts, key=lambda v: (_rank(v), -(v.length or 0)))
    merged = Verdict(property=best.property, kind=best.kind, status=best.status, engines=engines,
                     trace=best.trace, length=best.length, coverage=best.coverage,
                     message=best.message)
    violated = [v for v in verdicts if v.status is Status.VIOLATED]
    claims = [c for c in verdicts if _exhaustive_claim(c) and any(inside(c, v) for v in violated)]
    if claims:
        merged.status = Status.UNKNOWN
        merged.disagreement = True
        merged.message = ("engines disagree (checker bug): "
                          + "; ".join(f"{'/'.join(v.engines)} says {v.status.value}: {v.message}"
                                      for v in violated + claims))
    return merged


def exit_code(verdicts: Iterable[Verdict]) -> int:
    """DESIGN.md: 1 when a non-informational property is violated; else 3 when any
    verdict is unknown or vacuous (or engines disagree); else 0."""
    verdicts = list(verdicts)
    if any(v.status is Status.VIOLATED and v.kind is not Kind.INFORMATIONAL for v in verdicts):
        return 1
    if any(v.status in (Status.UNKNOWN, Status.VACUOUS) or v.disagreement for v in verdicts):
        return 3
    return 0
