#!/usr/bin/env python3
"""Speed of the lockstep conformance driver: examples/s and steps/s, in process and
over a subprocess, against the faithful sample implementation; and of the deep
invariant runs of the model. Writes bench/fuzz.md.

    python bench/fuzz_bench.py [--examples N] [--repeat R]

Shrinking is not timed here: the faithful implementation conforms, so every
example is a full run. Times are wall-clock, best of R.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

from bufring.checker.fuzz.conformance import ConformanceOptions, check_conformance
from bufring.checker.fuzz.fuzzer import FuzzOptions, fuzz
from bufring.checker.fuzz.impl_adapter import open_adapter
from bufring.model.variant import V2, load_variant

HERE = Path(__file__).resolve().parent
FAITHFUL = HERE.parent / "tests" / "impls" / "faithful.py"


def conformance(spec: str, examples: int) -> tuple[float, int, int]:
    adapter = open_adapter(spec)
    started = time.perf_counter()
    try:
        r = check_conformance(V2, adapter, options=ConformanceOptions(examples=examples, seed=0),
                              out="/tmp/bufring-bench")
    finally:
        adapter.close()
    assert r.verdict == "conforms", r.message
    return time.perf_counter() - started, r.stats.runs, r.stats.steps


def invariants(variant: str, examples: int) -> tuple[float, int, int, int]:
    started = time.perf_counter()
    r = fuzz(load_variant(variant), options=FuzzOptions(seed=0), out="/tmp/bufring-bench")
    violated = sum(v.status.value == "violated" for v in r.verdicts)
    return time.perf_counter() - started, r.stats.runs, r.stats.steps, violated


def best(fn, repeat):
    return min((fn() for _ in range(repeat)), key=lambda t: t[0])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(HERE / "fuzz.md"))
    args = ap.parse_args()
    rows = []
    for label, spec in (("in process", f"{FAITHFUL}:Faithful"),
                        ("subprocess", f"{sys.executable} {FAITHFUL}")):
        secs, runs, steps = best(lambda: conformance(spec, args.examples), args.repeat)
        rows.append((label, args.examples, runs, steps, secs))
        print(f"{label}: {runs} runs, {steps} steps, {secs:.1f} s", flush=True)
    inv = {}
    for variant in ("v2", "all-fixes"):
        secs, runs, steps, violated = best(lambda: invariants(variant, FuzzOptions.examples), 1)
        inv[variant] = (runs, steps, secs, violated)
        print(f"invariants {variant}: {runs} runs, {steps} steps, {secs:.1f} s", flush=True)
    cpu = platform.processor() or platform.machine()
    lines = [
        "# Fuzz and conformance speed",
        "",
        "Produced by `python bench/fuzz_bench.py"
        + (f" --examples {args.examples}" if args.examples != 400 else "")
        + (f" --repeat {args.repeat}" if args.repeat != 3 else "") + "` (best of "
        f"{args.repeat}, wall clock, seed 0).",
        f"Machine: {os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}.",
        "",
        "## Lockstep conformance driver (`bufring fuzz --impl`)",
        "",
        "Model and `tests/impls/faithful.py` in lockstep under Hypothesis; the faithful",
        "implementation conforms, so every example is a whole run (no shrinking).",
        "A run is at most 30 steps; `runs` counts every run started (Hypothesis also",
        "replays and mutates examples, so it exceeds `--examples`).",
        "",
        "| adapter | --examples | runs | steps | seconds | examples/s | runs/s | steps/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, ex, runs, steps, secs in rows:
        lines.append(f"| {label} | {ex} | {runs} | {steps} | {secs:.1f} | {ex / secs:.1f} | "
                     f"{runs / secs:.1f} | {steps / secs:.0f} |")
    lines += [
        "",
        "The default budget of `bufring fuzz --impl` is these 400 examples plus the",
        "shrinking of a divergence when there is one (a few seconds in process).",
        "",
        "## Deep invariant runs of the model (`bufring fuzz`, default budget)",
        "",
        "Rounds of 300 examples of at most 60 steps; each round stops at its first",
        "violation (then shrunk), the last round finds nothing new.",
        "",
        "| variant | runs | steps | seconds | steps/s | violated properties |",
        "|---|---|---|---|---|---|",
    ]
    for variant, (runs, steps, secs, violated) in inv.items():
        lines.append(f"| {variant} | {runs} | {steps} | {secs:.1f} | {steps / secs:.0f} | {violated} |")
    lines += ["", "Most of the time per step is Hypothesis drawing the step's arguments; the",
              "model step and the catalog predicates take the rest (rings of thousands of",
              "buffers make the ring predicates O(nbufs) per step, so they stay rare).", ""]
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
