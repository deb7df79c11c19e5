#!/usr/bin/env python3
"""Benchmark of ``bufring prove`` (issue 4): every query of the default run.

1. The default ``prove`` on ``v2`` (all properties, 32-bit counters, 5 s per query,
   boundary vectors included), timed end to end, with its query log: each query's
   encoding, time and answer.
2. The same run with ``--recheck-bv``: every answer found over integers is solved
   again over bit-vectors (the reference semantics) with a budget; the table says
   which re-checks agreed and which ran out of time (docs/smt.md, "Encodings").
3. The fix variant ``all-fixes`` (ring invariants proved), for comparison.

Run from the repository root:

    python bench/smt_bench.py > bench/smt.md

It prints a Markdown report on stdout.
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter

from bufring.checker.smt.prove import prove
from bufring.checker.smt.solver import QueryLog, z3_version
from bufring.model.variant import builtin_variants


def machine() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or "unknown CPU"
    return f"{model}, {os.cpu_count()} CPUs, Python {platform.python_version()}, z3 {z3_version()}"


def cli_seconds(out: str) -> tuple[float, int]:
    """``bufring prove --json`` in a subprocess, end to end: seconds and exit code."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bufring.checker.cli", "prove", "--json", "--out", out],
                          capture_output=True, text=True, check=False)
    return time.perf_counter() - started, done.returncode


def run(variant_name: str, recheck: float, out: str):
    log = QueryLog()
    started = time.perf_counter()
    verdicts = prove(builtin_variants()[variant_name], out=out, log=log, recheck_bv=recheck)
    return verdicts, log, time.perf_counter() - started


def verdict_table(verdicts) -> list[str]:
    lines = ["| property | verdict | seconds | queries | encoding | lemmas | trace steps |",
             "|---|---|---:|---:|---|---|---:|"]
    for v in verdicts:
        c = v.coverage
        lines.append(f"| `{v.property}` | {v.status.value} | {c['seconds']:.2f} | {c.get('queries', 0)} | "
                     f"{c.get('encoding', '')} | {', '.join(c.get('lemmas', [])) or '-'} | "
                     f"{v.length if v.length is not None else '-'} |")
    return lines


def query_table(log: QueryLog) -> list[str]:
    lines = ["| # | property | query | encoding | seconds | result | note |",
             "|---:|---|---|---|---:|---|---|"]
    for i, r in enumerate(log.records, 1):
        lines.append(f"| {i} | {r.property} | {r.query} | {r.encoding} | {r.seconds:.3f} | {r.result} | "
                     f"{r.note} |")
    return lines


def summary(log: QueryLog) -> list[str]:
    by_enc = Counter(r.encoding for r in log.records)
    slow = [r for r in log.records if r.seconds >= 5.0]
    worst = max(log.records, key=lambda r: r.seconds)
    return [f"- {len(log.records)} queries: " + ", ".join(f"{n} {e}" for e, n in sorted(by_enc.items())),
            f"- slowest: {worst.seconds:.2f} s ({worst.property}: {worst.query}, {worst.encoding}, "
            f"{worst.result})",
            f"- queries of 5 s or more: {len(slow)}",
            f"- answers `unknown` (a try that ran out of its share, then another encoding or seed "
            f"answered, or the verdict says unknown): {sum(1 for r in log.records if r.result == 'unknown')}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recheck", type=float, default=5.0, help="bit-vector re-check budget (s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cli, code = cli_seconds(os.path.join(tmp, "cli"))
        verdicts, log, seconds = run("v2", 0.0, os.path.join(tmp, "v2"))
        _, re_log, re_seconds = run("v2", args.recheck, os.path.join(tmp, "re"))
        fix_verdicts, _, fix_seconds = run("all-fixes", 0.0, os.path.join(tmp, "fix"))
    rechecks = [r for r in re_log.records if r.query.endswith("[bv re-check]")]
    agree = sum(1 for r in rechecks if r.result != "unknown")
    out = ["# `bufring prove`: every query of the default run", "",
           f"Machine: {machine()}.", "",
           "Command that produced this file:", "",
           "    python bench/smt_bench.py > bench/smt.md", "",
           "## End to end", "",
           f"- `bufring prove --json` (variant v2, all {len(verdicts)} properties, 32-bit counters, "
           f"5 s per query, boundary vectors) in a subprocess: **{cli:.1f} s**, exit code {code}",
           f"- the same run in-process (`checker.smt.prove`): {seconds:.1f} s",
           f"- with every integer answer re-checked over bit-vectors ({args.recheck:g} s each): "
           f"{re_seconds:.1f} s; {agree} of {len(rechecks)} re-checks finished and agreed, "
           f"{len(rechecks) - agree} ran out of time (their validity rests on the operation "
           "equivalence of docs/smt.md)",
           f"- variant all-fixes, all properties: {fix_seconds:.1f} s", "",
           "## Verdicts (v2)", "", *verdict_table(verdicts), "",
           "## Verdicts (all-fixes)", "", *verdict_table(fix_verdicts), "",
           "## Queries of the default run (v2)", "", *summary(log), "",
           "`encoding`: `int` (z3 integers, wrap written out), `bv` (z3 bit-vectors), `explicit` "
           "(the bounded search of checker.smt.bmc, in Python). A query tries its schedule of "
           "encodings and seeds within its 5 s (checker.smt.solver); each try is one row.", "",
           *query_table(log), "",
           "## Bit-vector re-checks (v2, `--recheck-bv` "
           f"{args.recheck:g})", "",
           "| query | result | seconds |", "|---|---|---:|",
           *[f"| {r.query} | {r.result} | {r.seconds:.3f} |" for r in rechecks], ""]
    print("\n".join(out))


if __name__ == "__main__":
    main()
