"""``bufring check``: every engine, one verdict per property, the report."""
from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

from bufring.checker.check import check_variant
from bufring.checker.engines import ENGINES
from bufring.checker.cli.common import (add_force, add_json, add_out, add_properties, add_search,
                                        add_variants, search_options, source_revision, version)
from bufring.checker.report.junit import write_junit
from bufring.checker.report.outdir import check_file_target, claim, clear_previous, write_manifest
from bufring.checker.report.render import print_json, print_verdicts
from bufring.checker.report.testgen import generate_tests
from bufring.checker.report.markdown import save_results, write_report
from bufring.checker.verdict import exit_code
from bufring.model.errors import BadInput
from bufring.model.fixes import FIXES
from bufring.model.builtin import load_variant
from bufring.specs.scopes import DEFAULT_SCOPES, load_scope
from bufring.specs.user import select_properties


def add_parser(sub) -> None:
    p = sub.add_parser("check", help="run every engine and write the review (REPORT.md)")
    add_variants(p, "check")
    p.add_argument("--fixes", action="store_true", help="also check every built-in fix variant")
    p.add_argument("--scope", action="append", default=[], metavar="NAME|FILE",
                   help="explore these scopes (repeatable; default: all default scopes)")
    add_properties(p)
    p.add_argument("--engine", action="append", default=[], choices=tuple(ENGINES),
                   help="run only these engines (repeatable; default: all)")
    p.add_argument("--fuzz-examples", type=int, default=10, metavar="N",
                   help="fuzz examples per round (default 10)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="fuzz seed (default 0)")
    p.add_argument("--timeout", type=float, default=5.0, metavar="S",
                   help="z3 timeout per query in seconds (default 5)")
    add_out(p, "REPORT.md, results.json, traces and tests")
    add_force(p)
    add_search(p)
    add_json(p, "print the verdicts as JSON")
    p.add_argument("--junit", metavar="FILE", help="also write JUnit XML")
    p.set_defaults(run=cmd_check)


def cmd_check(args, out, err) -> int:
    variants = [load_variant(v) for v in (args.variant or ["v2"])]
    if args.fixes:
        variants += [f for f in FIXES if f not in variants]
    scopes = [load_scope(s) for s in args.scope] or list(DEFAULT_SCOPES)
    props = select_properties(args.property)
    jobs, cluster = search_options(args)
    if args.fuzz_examples < 1:
        raise BadInput("--fuzz-examples", None, None, "must be a positive integer")
    folder = claim(args.out, "--out", args.force)
    revision = source_revision()           # before the run rewrites a committed report
    junit = check_file_target(args.junit, "--junit") if args.junit else None
    show = (lambda msg: err.write(f"bufring: {msg}\n")) if err.isatty() else None
    started = time.perf_counter()
    clear_previous(folder)
    checks = [check_variant(v, scopes=scopes, out=folder, engines=tuple(args.engine or ENGINES),
                            fuzz_examples=args.fuzz_examples, seed=args.seed, timeout=args.timeout,
                            properties=props, progress=show, jobs=jobs, cluster=cluster)
              for v in variants]
    tests = generate_tests(folder, folder / "tests", in_place=True)
    results = {"bufring": version(), "commit": revision,
               "command": "bufring " + shlex.join(sys.argv[1:] or ["check"]), "out": str(args.out),
               "seconds": round(time.perf_counter() - started, 1),
               "tests": f"tests/test_bufring_regressions.py ({len(tests.cases)} cases, "
                        f"{tests.vectors} REGISTER vectors)",
               "user_properties": [p.origin for p in props if p.origin != "catalog"],
               "variants": [{**c.to_json(), "source": c.variant.source} for c in checks]}
    written = [save_results(folder, results), write_report(folder, results), *tests.files,
               *(f for c in checks for f in c.files)]
    report = written[1]
    if junit is not None:
        write_junit(junit, checks)
        written.append(junit)
    write_manifest(folder, [f for f in written if folder.resolve() in Path(f).resolve().parents])
    if args.json:
        print_json(out, [c.to_json() for c in checks])
    else:
        for c in checks:
            print_verdicts(out, c.verdicts, f"bufring check: variant {c.variant.name}")
        out.write(f"report: {report}  ({results['seconds']:.0f} s)\n")
    return max(exit_code(c.verdicts) for c in checks)
