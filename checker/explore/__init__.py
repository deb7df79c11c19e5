"""The explicit-state explorer: every reachable state of bounded scopes.

The door is :func:`run`; the search is in ``statespace``, the properties and
verdicts in ``explorer``, the graph analyses (deadlock, fair cycles) in
``graphs``, the optional reduction in ``symmetry``.
"""
from __future__ import annotations

import time
from typing import Sequence

from bufring.checker.engines import EngineOptions, EngineResult
from bufring.checker.explore.explorer import explore
from bufring.model.variant import Variant
from bufring.specs.catalog import Property


def run(variant: Variant, properties: Sequence[Property], options: EngineOptions) -> EngineResult:
    """Explore ``options.scopes`` exhaustively for ``properties``."""
    started = time.perf_counter()
    result = explore(variant, options.scopes, properties, out_dir=options.out, jobs=options.jobs,
                     cluster=options.cluster)
    return EngineResult("explore", result.verdicts, {"runs": [r.run_json() for r in result.runs]},
                        seconds=time.perf_counter() - started)
