"""``bufring fuzz``: deep random runs of the model, or conformance of an implementation.

Without ``--impl``: every catalog invariant (or those ``--property`` names: catalog ids
or a user's ``FILE.py:NAME``) checked after each step of long random runs
(``checker.fuzz.fuzzer``); verdicts as DESIGN.md's JSON with ``"command": "fuzz"``.
With ``--impl CMD`` or ``--impl FILE.py:CLASS``: the implementation and the model in
lockstep (``checker.fuzz.conformance``). Exit 0 all hold / conforms, 1 violation /
divergence, 2 bad input or an implementation that cannot start, 3 inconclusive.
"""
from __future__ import annotations

import json
from pathlib import Path

from bufring.checker.cli.common import add_json, add_out, add_properties, add_variants
from bufring.checker.report.render import console_for
from bufring.model.errors import BadInput
from bufring.model.builtin import load_variant
from bufring.specs.user import select_properties

DEFAULT_DB = ".bufring-fuzz-db"


def add_parser(sub) -> None:
    p = sub.add_parser("fuzz", help="random deep runs of the model, or conformance of an "
                                    "implementation (--impl)")
    add_variants(p, "run")
    p.add_argument("--impl", metavar="IMPL",
                   help="implementation under test: a shell command speaking the protocol of "
                        "TRACE-FORMAT.md, or FILE.py:CLASS (docs/conformance.md)")
    add_properties(p)
    p.add_argument("--examples", type=_positive, metavar="N",
                   help="Hypothesis examples (invariants: per round, default 300; conformance: default 400)")
    p.add_argument("--steps", type=_positive, metavar="N",
                   help="at most N steps per run (default 60 for invariants, 30 for conformance)")
    p.add_argument("--seed", type=_seed, default=0, metavar="S",
                   help="random seed (default 0); 'random' for a fresh one")
    p.add_argument("--timeout", type=_seconds, default=10.0, metavar="SECONDS",
                   help="answer timeout of a subprocess implementation (default 10)")
    p.add_argument("--compare-warnings", action="store_true",
                   help="also compare the implementation's warning codes")
    p.add_argument("--db", default=DEFAULT_DB, metavar="DIR",
                   help=f"Hypothesis example database; failures are re-run first (default {DEFAULT_DB})")
    p.add_argument("--no-db", action="store_true", help="use no example database")
    add_json(p, "print one JSON object on stdout")
    add_out(p, "traces")
    p.set_defaults(run=cmd_fuzz)


def _positive(text: str) -> int:
    import argparse
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _seed(text: str):
    import argparse
    if text == "random":
        return None
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer or 'random'") from None


def _seconds(text: str) -> float:
    import argparse
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive")
    return value


def _database(args):
    if args.no_db:
        return None
    from hypothesis.database import DirectoryBasedExampleDatabase
    path = Path(args.db)
    if path.exists() and not path.is_dir():
        raise BadInput("--db", None, None, f"{args.db} is not a directory")
    return DirectoryBasedExampleDatabase(str(path))


def _progress(err):
    """A callback printing progress on stderr, only on a terminal."""
    if not err.isatty():
        return None
    console = console_for(err)

    def show(event: dict) -> None:
        if event["event"] == "round":
            console.print(f"[dim]fuzz round {event['round']}: {event['active']} properties checked, "
                          f"{len(event['found'])} violated so far[/dim]")
        elif event["event"] == "shrinking":
            console.print("[dim]divergence found; shrinking[/dim]")
    return show


def cmd_fuzz(args, out, err) -> int:
    variants = [load_variant(v) for v in (args.variant or ["v2"])]
    props = select_properties(args.property)
    try:
        Path(args.out).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BadInput("--out", None, None, f"cannot create {args.out}: {e.strerror}") from None
    db = _database(args)
    if args.impl is not None:
        return _conformance(args, variants, props, db, out, err)
    from bufring.checker.fuzz.fuzzer import FuzzOptions, fuzz
    from bufring.checker.verdict import exit_code
    options = FuzzOptions(examples=args.examples or FuzzOptions.examples,
                          steps=args.steps or FuzzOptions.steps, seed=args.seed, database=db)
    results = [fuzz(v, options=options, out=args.out, catalog=props, progress=_progress(err))
               for v in variants]
    objs = [{"variant": r.variant, "command": "fuzz", "verdicts": [v.to_json() for v in r.verdicts]}
            for r in results]
    if args.json:
        out.write(json.dumps(objs[0] if len(objs) == 1 else objs) + "\n")
    else:
        for r in results:
            _table(r, out)
    return max(exit_code(r.verdicts) for r in results)


def _table(result, out) -> None:
    from rich.table import Table
    s = result.stats
    table = Table(title=f"bufring fuzz, variant {result.variant}: {s.runs} runs, {s.steps} steps, "
                        f"{s.seconds():.1f} s, {result.rounds} rounds", title_justify="left")
    for col in ("property", "kind", "verdict", "steps", "trace / note"):
        table.add_column(col, overflow="fold")
    style = {"violated": "bold red", "holds": "green", "reached": "green", "vacuous": "yellow",
             "unknown": "yellow", "unreached": "yellow"}
    for v in result.verdicts:
        table.add_row(v.property, v.kind.value, f"[{style.get(v.status.value, '')}]{v.status.value}[/]",
                      str(v.length or ""), v.trace or v.message)
    console_for(out).print(table)


def _conformance(args, variants, props, db, out, err) -> int:
    from bufring.checker.fuzz.conformance import ConformanceOptions, check_conformance
    from bufring.checker.fuzz.impl_adapter import open_adapter
    if len(variants) != 1:
        raise BadInput("--variant", None, None, "conformance runs against one variant at a time")
    variant = variants[0]
    adapter = open_adapter(args.impl, timeout=args.timeout)
    options = ConformanceOptions(examples=args.examples or ConformanceOptions.examples,
                                 steps=args.steps or ConformanceOptions.steps, seed=args.seed,
                                 compare_warnings=args.compare_warnings, database=db,
                                 properties=props)
    try:
        result = check_conformance(variant, adapter, options=options, out=args.out,
                                   progress=_progress(err))
    finally:
        adapter.close()
    if args.json:
        out.write(json.dumps(result.to_json()) + "\n")
    else:
        render_conformance(result, out)
    if result.verdict == "cannot-run" and not args.json:
        err.write(f"bufring: {result.message}\n")
    return result.exit_code()


def render_conformance(result, out) -> None:
    """The verdict, and for a divergence both observations side by side."""
    from rich.table import Table
    console = console_for(out)
    s = result.stats
    colour = {"conforms": "green", "diverges": "bold red"}.get(result.verdict, "yellow")
    console.print(f"[{colour}]{result.verdict.upper()}[/]  {result.implementation} against model "
                  f"{result.variant}: {s.runs} runs, {s.steps} steps, {s.seconds():.1f} s")
    for reason, n in result.stats.skipped_configs.items():
        console.print(f"  skipped {n} run(s): the implementation declined the config: {reason}")
    if result.coverage is not None:
        cov = result.coverage.to_json()
        missing = [c["class"] for c in cov["situations"] if not c["reached"]]
        console.print(f"  situations reached: {cov['situations_reached']} of {cov['situations_total']}"
                      + (f"; not reached: {', '.join(missing)}" if missing else ""))
    console.print(f"  {result.message}")
    d = result.divergence
    if d is None:
        return
    console.print(f"  config: {json.dumps(result.config.to_json())}")
    table = Table(title=f"step {d.step} ({d.op or 'header'}), trace line {d.line}", title_justify="left")
    for col in ("key", "model", "implementation"):
        table.add_column(col, overflow="fold")
    keys = list(dict.fromkeys(list((d.expected_observation or {}).keys())
                              + list((d.observed_observation or {}).keys())))
    for key in keys:
        want = (d.expected_observation or {}).get(key)
        have = (d.observed_observation or {}).get(key) if d.observed_observation is not None else None
        mark = "bold red" if key == d.key else ""
        table.add_row(f"[{mark}]{key}[/]" if mark else key, json.dumps(want), json.dumps(have))
    if d.failure:
        table.add_row(f"[bold red]{d.failure}[/]", "", str(d.observed))
    console.print(table)
    if d.stderr.strip():
        console.print("  implementation stderr (tail):")
        for line in d.stderr.strip().splitlines()[-15:]:
            console.print(f"    {line}", markup=False)
    console.print(f"  shrunk trace ({result.length} steps): {result.trace}")
    console.print(f"  reproduce: bufring replay {result.trace}")
