"""The engine door: every engine runs the same way and answers the same shape.

An engine is a package of ``bufring.checker`` whose ``run(variant, properties,
options) -> EngineResult`` decides what it can of ``properties`` for one variant.
``check`` iterates :data:`ENGINES`; adding an engine is one package with that
function and one line here. Engines are imported when first run, so a command
that never proves never loads z3.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from bufring.checker.verdict import Verdict
from bufring.model.variant import Variant
from bufring.specs.catalog import Property
from bufring.specs.scopes import DEFAULT_SCOPES, Scope

ENGINES: dict[str, str] = {
    "prove": "bufring.checker.smt",
    "explore": "bufring.checker.explore",
    "fuzz": "bufring.checker.fuzz",
}
"""Engine name (as in a verdict's ``engines``) -> the package whose ``run`` it is,
in the order ``check`` runs them."""


@dataclass
class EngineOptions:
    """What ``check`` (or a user of the Python API) tells every engine.

    ``out`` is the engine's own folder (``<out>/engines/<engine>``); each engine
    takes from the rest what applies to it.
    """

    out: Path = Path("bufring-out")
    scopes: Sequence[Scope] = DEFAULT_SCOPES      # explore
    timeout: float = 5.0                          # prove: seconds per z3 query
    fuzz_examples: int = 10                       # fuzz: examples per round
    fuzz_steps: int = 30                          # fuzz: steps per run
    seed: int = 0                                 # fuzz
    jobs: int = 1                                 # explore: worker processes
    cluster: str | None = None                    # explore: Dask scheduler address
    progress: Callable[[str], None] | None = None  # one line per stage


@dataclass
class EngineResult:
    """One engine's answer for one variant.

    ``verdicts``: one per property it decided; ``coverage``: what the engine
    covered as a whole (explore: its per-scope ``runs``); ``files``: other files
    it wrote that belong beside the variant's traces (name -> path), such as the
    REGISTER boundary vectors for ``gen-tests``.
    """

    engine: str
    verdicts: list[Verdict]
    coverage: dict = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def traces(self) -> list[str]:
        """The trace files its verdicts cite."""
        return [v.trace for v in self.verdicts if v.trace is not None]


def engine_run(name: str) -> Callable[[Variant, Sequence[Property], EngineOptions], EngineResult]:
    """The ``run`` function of engine ``name`` (KeyError for an unknown one)."""
    return importlib.import_module(ENGINES[name]).run
