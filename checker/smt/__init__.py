"""The SMT engine (z3): REGISTER contracts and ring invariants for all values.

The door is :func:`run`; ``prove`` holds the driver, ``contracts`` and
``register`` the REGISTER encodings, ``ring``/``ringlogic``/``induction``/
``bmc`` the ring induction, ``ringtrace`` the way back to a concrete trace,
``nbufs`` the buffer counts REGISTER allows, ``vectors`` the boundary vectors,
``solver`` the z3 plumbing (timeouts, encodings, the query log).
"""
from __future__ import annotations

import time
from typing import Sequence

from bufring.checker.engines import EngineOptions, EngineResult
from bufring.checker.smt.prove import PROVABLE, prove
from bufring.model.variant import Variant
from bufring.specs.catalog import Property


def run(variant: Variant, properties: Sequence[Property], options: EngineOptions) -> EngineResult:
    """Prove or refute the properties of ``properties`` that have a z3 form."""
    started = time.perf_counter()
    mine = [p.id for p in properties if p.id in PROVABLE]
    verdicts = prove(variant, mine, timeout=options.timeout, out=options.out) if mine else []
    vectors = options.out / variant.name / "register-vectors.json"
    files = {vectors.name: vectors} if vectors.exists() else {}
    return EngineResult("prove", verdicts, files=files, seconds=time.perf_counter() - started)
