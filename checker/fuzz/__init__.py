"""The Hypothesis engine: deep random runs of the model, and conformance of an
implementation against it.

The door is :func:`run`; ``fuzzer`` holds the invariant runs, ``machine`` the
stateful machine both modes share, ``gen`` the strategies, ``shrink`` the
model-based shrinker, ``conformance`` and ``impl_adapter`` the lockstep run of
an implementation.
"""
from __future__ import annotations

import time
from typing import Sequence

from bufring.checker.engines import EngineOptions, EngineResult
from bufring.checker.fuzz.fuzzer import FuzzOptions, fuzz
from bufring.model.variant import Variant
from bufring.specs.catalog import Property


def run(variant: Variant, properties: Sequence[Property], options: EngineOptions) -> EngineResult:
    """A deterministic sampled run (seeded); ``check`` uses a short budget."""
    started = time.perf_counter()
    fuzz_options = FuzzOptions(examples=options.fuzz_examples, seed=options.seed, steps=options.fuzz_steps)
    result = fuzz(variant, options=fuzz_options, out=options.out, catalog=properties)
    return EngineResult("fuzz", result.verdicts, seconds=time.perf_counter() - started)
