"""Conformance: run the model and an implementation in lockstep and find where they part.

:func:`check_conformance` drives :class:`ConformanceMachine` (the state machine of
``checker.fuzz.machine``) under Hypothesis: each run draws a config (counter widths
3..32, starts near the wrap, nbufs powers of two or not, max_background 0..12,
fetch_on_register both ways, one or two queues, small payload sizes), sends it to
the implementation as a header, then sends every step to both sides and compares
the observation keys ``ret ent via queued dispatched recycled`` (``warnings`` too
when asked). The first divergence is shrunk on model and implementation together
(``checker.fuzz.shrink``), written as a trace with the model's ``expect`` on every
step, replayed on the model, re-run on the implementation to confirm it, and
reported with both observations side by side.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from hypothesis import reject
from hypothesis.errors import Unsatisfiable

from bufring.checker.fuzz.gen import CONFORMANCE, NO_FOCUS, GenOptions
from bufring.checker.fuzz.machine import BufringMachine, RunStats, run_machine
from bufring.checker.judge import run_actions
from bufring.checker.fuzz.shrink import shrink
from bufring.checker.fuzz.situations import Coverage
from bufring.checker.fuzz.impl_adapter import Adapter, CannotRun, ImplFailure
from bufring.model.actions import OP_NAMES
from bufring.model.config import Config
from bufring.specs.catalog import CATALOG
from bufring.model.traces import (DISPATCH_KEYS, OP_KEYS, action_json, expect_of, read_trace,
                                  run_trace, write_trace)
from bufring.model.variant import Variant

__all__ = ["COMPARED_KEYS", "ConformanceOptions", "Divergence", "ConformanceResult",
           "check_conformance", "compare_observations", "first_divergence"]

COMPARED_KEYS = ("ret", "ent", "via", "queued", "dispatched", "recycled")


@dataclass(frozen=True)
class ConformanceOptions:
    examples: int = 400
    steps: int = 30
    seed: int | None = 0
    compare_warnings: bool = False
    gen: GenOptions = CONFORMANCE
    database: object = None
    properties: tuple = CATALOG       # whose premises are situation classes to cover


@dataclass
class Divergence:
    """Where model and implementation part: the step (1-based; 0 = the header)."""

    step: int
    op: str | None
    key: str
    expected: Any
    observed: Any
    expected_observation: dict | None = None
    observed_observation: dict | None = None
    failure: str | None = None          # crash / exit / garbage / timeout / exception
    stderr: str = ""
    line: int | None = None             # the step's line in the written trace

    def to_json(self) -> dict:
        out = {"step": self.step, "line": self.line, "op": self.op, "key": self.key,
               "expected": self.expected, "observed": self.observed,
               "expected_observation": self.expected_observation,
               "observed_observation": self.observed_observation}
        if self.failure:
            out["failure"] = self.failure
            out["stderr_tail"] = self.stderr
        return out


@dataclass
class ConformanceResult:
    verdict: str                        # conforms / diverges / cannot-run / inconclusive
    implementation: str
    variant: str
    stats: RunStats
    divergence: Divergence | None = None
    trace: str | None = None
    length: int | None = None
    config: Config | None = None
    message: str = ""
    problems: list = field(default_factory=list)
    coverage: Coverage | None = None    # the situation classes the runs reached

    def exit_code(self) -> int:
        return {"conforms": 0, "diverges": 1, "cannot-run": 2, "inconclusive": 3}[self.verdict]

    def to_json(self) -> dict:
        return {"command": "fuzz", "mode": "conformance", "variant": self.variant,
                "implementation": self.implementation, "verdict": self.verdict,
                "divergence": self.divergence.to_json() if self.divergence else None,
                "trace": self.trace, "length": self.length,
                "config": self.config.to_json() if self.config else None,
                "coverage": {"runs": self.stats.runs, "steps": self.stats.steps,
                             "seconds": self.stats.seconds(),
                             "skipped_configs": dict(self.stats.skipped_configs),
                             **(self.coverage.to_json() if self.coverage else {})},
                "message": self.message}


def compare_observations(op: str, expected: dict, observed: dict,
                         compare_warnings: bool = False) -> tuple[str, Any, Any] | None:
    """The first compared key on which the implementation's answer differs, if any.

    ``ent`` is compared as absent/null when the model has none (a failed REGISTER);
    ``dispatched`` objects on their five keys, in order; ``warnings`` as sets.
    """
    keys = [k for k in OP_KEYS[op] if k in COMPARED_KEYS or (compare_warnings and k == "warnings")]
    for key in keys:
        want = expected.get(key)
        have = observed.get(key)
        if key == "dispatched":
            if not isinstance(have, list) or not all(isinstance(d, dict) for d in have):
                return key, want, have
            have_n = [{k: d.get(k) for k in DISPATCH_KEYS} for d in have]
            if have_n != want:
                return key, want, have
        elif key == "warnings":
            if not isinstance(have, list) or sorted(map(str, have)) != sorted(want):
                return key, want, have
        elif key == "recycled":
            if have != want:
                return key, want, have
        elif type(have) is not type(want) or have != want:
            # bool vs int: 0 == False in Python, not in JSON
            if not (want is None and have is None):
                return key, want, have
    return None


def first_divergence(adapter: Adapter, variant: Variant, cfg: Config, actions, *,
                     compare_warnings: bool = False) -> Divergence | None:
    """Run ``actions`` on both sides from a fresh start; the first divergence, or None.

    None also when the implementation declines the config. Raises ``InvalidRun``
    when ``actions`` is no valid trace.
    """
    transitions = run_actions(variant, cfg, actions)
    try:
        reason = adapter.reset(cfg.to_json())
    except ImplFailure as e:
        return Divergence(0, None, "header", {"ok": True}, str(e), {"ok": True}, None,
                          failure=e.kind, stderr=e.stderr)
    if reason is not None:
        return None
    for n, t in enumerate(transitions, start=1):
        op = OP_NAMES[type(t.action)]
        expected = expect_of(t.action, t.obs)
        try:
            observed = adapter.step(action_json(t.action))
        except ImplFailure as e:
            return Divergence(n, op, "answer", _brief(expected), str(e), expected, None,
                              failure=e.kind, stderr=e.stderr)
        diff = compare_observations(op, expected, observed, compare_warnings)
        if diff is not None:
            key, want, have = diff
            return Divergence(n, op, key, want, have, expected, observed)
    return None


def _brief(expected: dict) -> dict:
    return {k: v for k, v in expected.items() if k != "warnings"}


class ConformanceMachine(BufringMachine):
    """The model and the implementation in lockstep; a divergence fails the run."""

    adapter: Adapter = None
    compare_warnings = False
    sink: dict = None

    def start(self, cfg):
        try:
            reason = self.adapter.reset(cfg.to_json())
        except ImplFailure as e:
            self.sink["finding"] = (cfg, [])
            raise AssertionError(f"the implementation failed on the header: {e}") from None
        if reason is not None:
            self.stats.runs -= 1
            self.stats.skipped_configs[reason] = self.stats.skipped_configs.get(reason, 0) + 1
            reject()

    def after_step(self, action, pre, post, obs):
        op = OP_NAMES[type(action)]
        try:
            observed = self.adapter.step(action_json(action))
        except ImplFailure as e:
            self._found()
            raise AssertionError(f"step {len(self.steps)}: {e}") from None
        if compare_observations(op, expect_of(action, obs), observed, self.compare_warnings):
            self._found()
            raise AssertionError(f"step {len(self.steps)}: observations differ")

    def _found(self):
        old = self.sink.get("finding")
        actions = [a for a, _ in self.steps]
        if old is None or len(actions) < len(old[1]):
            self.sink["finding"] = (self.cfg, actions)


def _slug(text: str) -> str:
    name = Path(text.split(":")[0].split()[-1] if text.split() else "impl").stem
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name)[:40] or "impl"


FREE_SHARE = 4
"""The first 1/FREE_SHARE of the examples run as drawn, without a focus."""
FOCUS_EXAMPLES = 4
"""Examples of one focused batch."""
FOCUS_TRIES = 2
"""Focused batches per situation class not yet reached before the budget moves on."""


def _batches(coverage: Coverage, examples: int, first: list[str], tries: dict[str, int]):
    """``(focus class or None, examples)`` of each Hypothesis run, decided as the
    coverage grows: the batches of earlier divergences (from the database) first,
    then a quarter of the budget as drawn, then small batches aimed at each class
    not reached yet (at most FOCUS_TRIES each, counted in ``tries``), then half of
    what is left aimed at the classes reached least often (a corner reached once is
    seldom where a deviation shows), then the rest as drawn."""
    left = examples
    for name in first:
        yield name, FOCUS_EXAMPLES
    free = max(1, examples // FREE_SHARE)
    yield None, free
    left -= free
    while left > 0:
        todo = [n for n in coverage.uncovered() if tries.get(n, 0) < FOCUS_TRIES]
        if not todo:
            break
        tries[todo[0]] = tries.get(todo[0], 0) + 1
        batch = min(FOCUS_EXAMPLES, left)
        yield todo[0], batch
        left -= batch
    rare = left // 2
    while rare > 0:
        reached = [n for n in coverage.names if coverage.count(n)]
        if not reached:
            break
        name = min(reached, key=lambda n: (coverage.count(n), tries.get(n, 0)))
        tries[name] = tries.get(name, 0) + 1
        batch = min(FOCUS_EXAMPLES, rare)
        yield name, batch
        rare -= batch
        left -= batch
    if left > 0:
        yield None, left


def check_conformance(variant: Variant, adapter: Adapter, *, options: ConformanceOptions = ConformanceOptions(),
                      out: str | Path = "bufring-out",
                      progress: Callable[[dict], None] | None = None) -> ConformanceResult:
    """Does ``adapter``'s implementation behave as ``variant`` of the model?

    The examples are spent in batches (:func:`_batches`), each a Hypothesis run whose
    runs all aim at one situation class (``checker.fuzz.situations``) or at none; the
    result's coverage says which classes the runs reached. A divergence is kept in the
    example database under its batch's key, and that batch runs first next time."""
    stats = RunStats()
    sink: dict = {}
    coverage = Coverage(options.properties)
    key = f"fuzz-conformance|{variant.name}|{adapter.name}|{options.compare_warnings}"
    db = options.database
    marker = f"{key}|focus".encode()
    first = [] if db is None else [v.decode() for v in db.fetch(marker)]
    first = [n for n in first if n in coverage.names]

    def result(verdict: str, **kw) -> ConformanceResult:
        return ConformanceResult(verdict, adapter.name, variant.name, stats, coverage=coverage, **kw)

    tries: dict[str, int] = {}
    try:
        for i, (name, examples) in enumerate(_batches(coverage, options.examples, first, tries)):
            machine = type("ConformanceMachine", (ConformanceMachine,), {
                "variant": variant, "options": options.gen, "stats": stats, "adapter": adapter,
                "compare_warnings": options.compare_warnings, "sink": sink, "coverage": coverage,
                "focus": coverage.focus(name) if name else NO_FOCUS})
            sink["focus"] = name
            try:
                run_machine(machine, examples=examples, steps=options.steps,
                            seed=None if options.seed is None else options.seed + i,
                            database=db, key=key if name is None else f"{key}|{name}")
            except Unsatisfiable:          # the implementation declined every config drawn
                if name is None and stats.runs == 0:
                    break
                tries[name] = FOCUS_TRIES
    except CannotRun as e:
        return result("cannot-run", message=str(e))
    except BaseException as e:  # noqa: BLE001 - Hypothesis raises one error or a group
        if isinstance(e, KeyboardInterrupt):
            raise
        inner = _cannot_run(e)
        if inner is not None:
            return result("cannot-run", message=str(inner))
        if "finding" not in sink and stats.runs > 0:
            raise
    if db is not None:
        for old in db.fetch(marker):
            db.delete(marker, old)
        if "finding" in sink and sink["focus"] is not None:
            db.save(marker, sink["focus"].encode())
    if "finding" not in sink:
        if stats.runs == 0:
            reasons = "; ".join(f"{r} ({n}x)" for r, n in stats.skipped_configs.items())
            return result("inconclusive", message=f"the implementation declined every config: {reasons}")
        return result("conforms", message=f"no divergence in {stats.runs} runs ({stats.steps} steps)")
    if progress:
        progress({"event": "shrinking"})
    found = _report(variant, adapter, sink["finding"], options, stats, Path(out))
    found.coverage = coverage
    return found


def _cannot_run(e: BaseException):
    stack = [e]
    while stack:
        x = stack.pop()
        if isinstance(x, CannotRun):
            return x
        if isinstance(x, BaseExceptionGroup):
            stack.extend(x.exceptions)
        for linked in (x.__cause__, x.__context__):
            if linked is not None:
                stack.append(linked)
    return None


def _report(variant: Variant, adapter, finding, options, stats, out: Path) -> ConformanceResult:
    cfg, actions = finding

    def find(c, acts):
        d = first_divergence(adapter, variant, c, acts, compare_warnings=options.compare_warnings)
        return None if d is None else d.step - 1

    first = first_divergence(adapter, variant, cfg, actions, compare_warnings=options.compare_warnings)
    # A crash, exit, garbage or hang restarts the process on every try (and a hang
    # costs the whole answer timeout): shrink those runs in steps only.
    failed = first is not None and first.failure is not None
    cfg, run = shrink(find, cfg, actions, evaluations=60 if failed else 1500, seconds=40,
                      values=not failed)
    divergence = first_divergence(adapter, variant, cfg, run, compare_warnings=options.compare_warnings)
    if divergence is None:
        return ConformanceResult("diverges", adapter.name, variant.name, stats, config=cfg,
                                 message="the implementation diverged, but the shrunk run does not "
                                         "reproduce it (is the implementation deterministic?)")
    path = out / variant.name / f"conformance-{_slug(adapter.name)}.jsonl"
    transitions = run_actions(variant, cfg, run)
    where = "the header" if divergence.step == 0 else f"step {divergence.step} ({divergence.op})"
    write_trace(path, variant.name, cfg, [(t.action, expect_of(t.action, t.obs)) for t in transitions],
                [f"conformance: {adapter.name} diverges from model {variant.name} at {where}",
                 f"key {divergence.key}: model {json.dumps(divergence.expected)}, "
                 f"implementation {json.dumps(divergence.observed)}",
                 "found by bufring fuzz --impl"])
    trace = read_trace(path)
    replay = run_trace(trace, variant)
    problems = [] if replay.first_mismatch is None else [f"{path}: the model does not replay its own trace"]
    divergence.line = (trace.header_line if divergence.step == 0
                       else trace.steps[divergence.step - 1].line)
    message = (f"{adapter.name} diverges at {where}, line {divergence.line}: {divergence.key}: "
               f"model {json.dumps(divergence.expected)}, implementation {json.dumps(divergence.observed)}")
    if divergence.failure:
        message = f"{adapter.name} {divergence.failure} at {where}, line {divergence.line}"
    return ConformanceResult("diverges", adapter.name, variant.name, stats, divergence=divergence,
                             trace=str(path), length=len(run), config=cfg, message=message,
                             problems=problems)
