#!/usr/bin/env python3
"""Catch rate of ``bufring fuzz --impl`` at its default budget: every planted deviant of
tests/impls/faithful.py (in process) and the protocol failures of tests/impls/misbehaving.py
(over a subprocess), with the situation classes the conforming run reaches. Writes
bench/conformance.md.

    python bench/conformance_bench.py [--seeds 0,1,2] [--out bench/conformance.md]

Each deviant runs with the default ConformanceOptions (400 examples of at most 30 steps,
seed S) twice: as ``bufring fuzz --impl`` runs it (batches steered at the situation
classes not yet covered, ``checker.fuzz.conformance``), and with the whole budget in one
unsteered batch (the driver before the situation classes), to show what the steering
buys. Seconds are wall clock and CPU seconds of this process (the in-process
implementation runs in it; a subprocess implementation's own CPU is not counted).
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from bufring.checker.fuzz import conformance
from bufring.checker.fuzz.conformance import ConformanceOptions, check_conformance
from bufring.checker.fuzz.impl_adapter import open_adapter
from bufring.model.variant import V2

HERE = Path(__file__).resolve().parent
IMPLS = HERE.parent / "tests" / "impls"
FAITHFUL = IMPLS / "faithful.py"
MISBEHAVING = IMPLS / "misbehaving.py"


def deviants() -> dict[str, str]:
    """bug name -> deviant class name, from faithful.py itself."""
    spec = importlib.util.spec_from_file_location("faithful_bench", FAITHFUL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    by_bug = {getattr(v, "bug", None): k for k, v in vars(module).items()
              if isinstance(v, type) and k != "Faithful"}
    return {bug: by_bug[bug] for bug in module.BUGS}


@contextlib.contextmanager
def unsteered():
    """The whole budget in one batch without a focus (the driver before steering)."""
    saved = conformance._batches
    conformance._batches = lambda coverage, examples, first, tries: iter([(None, examples)])
    try:
        yield
    finally:
        conformance._batches = saved


def one(spec: str, seed: int, steered: bool) -> dict:
    adapter = open_adapter(spec)
    wall, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as out, (contextlib.nullcontext() if steered else unsteered()):
        try:
            r = check_conformance(V2, adapter, options=ConformanceOptions(seed=seed), out=out)
        finally:
            adapter.close()
    cov = r.coverage.to_json()
    return {"verdict": r.verdict, "length": r.length, "runs": r.stats.runs, "steps": r.stats.steps,
            "wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
            "reached": cov["situations_reached"], "total": cov["situations_total"],
            "missing": [c["class"] for c in cov["situations"] if not c["reached"]]}


def cell(r: dict) -> str:
    if r["verdict"] != "diverges":
        return f"**no** ({r['runs']} runs)"
    return f"yes, {r['length']} steps"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--out", default=str(HERE / "conformance.md"))
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    cases = [(bug, f"{FAITHFUL}:{cls}") for bug, cls in deviants().items()]
    cases += [(f"misbehaving {mode}", f"{sys.executable} {MISBEHAVING} {mode} 3")
              for mode in ("crash", "exit", "garbage")]
    rows = []
    for label, spec in cases:
        steered = [one(spec, s, True) for s in seeds]
        plain = [one(spec, s, False) for s in seeds]
        rows.append((label, steered, plain))
        print(label, [cell(r) for r in steered], [cell(r) for r in plain], flush=True)
    faithful = [one(f"{FAITHFUL}:Faithful", s, True) for s in seeds]
    faithful_plain = [one(f"{FAITHFUL}:Faithful", s, False) for s in seeds]
    caught = sum(r["verdict"] == "diverges" for _, st, _ in rows for r in st)
    caught_plain = sum(r["verdict"] == "diverges" for _, _, pl in rows for r in pl)
    n = len(rows) * len(seeds)
    cpu = platform.processor() or platform.machine()
    lines = [
        "# Conformance catch rate at the default budget",
        "",
        f"Produced by `python bench/conformance_bench.py --seeds {args.seeds}` "
        f"(default budget: {ConformanceOptions.examples} examples of at most "
        f"{ConformanceOptions.steps} steps; seeds {args.seeds}).",
        f"Machine: {os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}; other jobs "
        "shared the machine, so seconds are noisy (read them to +-50%).",
        "",
        f"**Caught: {caught} of {n}** deviant runs as `bufring fuzz --impl` runs them "
        f"(steered at the situation classes not yet covered); {caught_plain} of {n} with the "
        "same budget unsteered (one batch, no focus: the driver before the situation classes).",
        "",
        "Steps: the shrunk trace's length. Seconds: wall / CPU of the bench process, "
        "for the first seed (shrinking included).",
        "",
        "| deviant | caught (steered), per seed | steps | runs | wall s | CPU s | caught unsteered, per seed |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, st, pl in rows:
        first = st[0]
        lines.append(f"| {label} | {', '.join(cell(r) for r in st)} | {first['length'] or '-'} | "
                     f"{first['runs']} | {first['wall']:.1f} | {first['cpu']:.1f} | "
                     f"{', '.join(cell(r) for r in pl)} |")
    lines += [
        "",
        "## Situation classes reached by the conforming implementation",
        "",
        "The faithful implementation conforms, so the whole budget runs; the coverage is what "
        "`bufring fuzz --impl ... --json` prints under `coverage.situations`.",
        "",
        "| run | seed | verdict | runs | steps | wall s | CPU s | classes reached | not reached |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, results in (("steered", faithful), ("unsteered", faithful_plain)):
        for s, r in zip(seeds, results):
            lines.append(f"| {label} | {s} | {r['verdict']} | {r['runs']} | {r['steps']} | "
                         f"{r['wall']:.1f} | {r['cpu']:.1f} | {r['reached']} of {r['total']} | "
                         f"{', '.join(r['missing']) or '-'} |")
    lines.append("")
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
