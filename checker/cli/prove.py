"""``bufring prove``: the SMT engine (``checker.smt.prove``) on one or more variants."""
from __future__ import annotations

import json
import time

from bufring.checker.cli.common import add_variants, add_json, add_out
from bufring.checker.report.render import console_for, print_verdicts
from bufring.checker.smt.prove import PROVABLE, provable, prove
from bufring.checker.verdict import exit_code
from bufring.model.errors import BadInput
from bufring.model.builtin import load_variant
from bufring.specs.user import select_properties


def add_parser(sub) -> None:
    p = sub.add_parser("prove", help="prove REGISTER contracts and ring invariants for all values (z3)")
    add_variants(p, "prove")
    p.add_argument("--property", action="append", default=[], metavar="ID",
                   help=f"decide only these properties (repeatable; default all {len(PROVABLE)}); "
                        "a user's FILE.py:NAME has no z3 form and is refused")
    p.add_argument("--width", type=int, default=32, metavar="BITS",
                   help="counter width of the ring induction (default 32, the kernel's)")
    p.add_argument("--timeout", type=float, default=5.0, metavar="S",
                   help="seconds per query; a timeout is unknown (exit 3), never proved (default 5)")
    p.add_argument("--recheck-bv", type=float, default=0.0, metavar="S",
                   help="re-solve every integer answer over bit-vectors with this budget")
    add_out(p, "traces and register-vectors.json")
    p.add_argument("--no-vectors", action="store_true",
                   help="skip the boundary vectors of the REGISTER rules")
    add_json(p, "print the verdicts as one JSON object")
    p.set_defaults(run=cmd_prove)


def _check(args) -> None:
    if not 1 <= args.width <= 32:
        raise BadInput("--width", None, None, f"{args.width} is not a counter width (1 to 32)")
    if not args.timeout > 0:
        raise BadInput("--timeout", None, None, "must be a positive number of seconds")
    if args.recheck_bv < 0:
        raise BadInput("--recheck-bv", None, None, "must not be negative")
    for prop in select_properties(args.property) if args.property else ():
        if prop.origin != "catalog":
            raise BadInput("--property", None, None,
                           f"{prop.id!r} ({prop.origin}) is a user property: it has no z3 form, so "
                           "prove cannot decide it (bufring explore, fuzz and check can); prove "
                           f"decides: {', '.join(PROVABLE)}")
    try:
        provable(args.property or None)
    except ValueError as e:
        raise BadInput("--property", None, None, str(e)) from None


def cmd_prove(args, out, err) -> int:
    _check(args)
    variants = [load_variant(v) for v in (args.variant or ["v2"])]
    results = []
    for variant in variants:
        started = time.perf_counter()
        verdicts = prove(variant, args.property or None, args.width, args.timeout, out=args.out,
                         recheck_bv=args.recheck_bv, vectors=not args.no_vectors)
        results.append((variant, verdicts, time.perf_counter() - started))
    if args.json:
        objs = [{"variant": v.name, "command": "prove", "verdicts": [x.to_json() for x in vs]}
                for v, vs, _ in results]
        out.write(json.dumps(objs[0] if len(objs) == 1 else objs) + "\n")
    else:
        console = console_for(out)
        for variant, verdicts, seconds in results:
            print_verdicts(out, verdicts, f"bufring prove: variant {variant.name} "
                                          f"({args.width}-bit counters, {seconds:.1f} s)")
            for v in verdicts:
                lemmas = ", ".join(v.coverage.get("lemmas", [])) or "none"
                console.print(f"  {v.property}: {v.coverage.get('parameters', {}).get('nbufs', 'all REGISTERs')}"
                              f"; lemmas: {lemmas}; {v.coverage.get('queries', 0)} queries, "
                              f"{v.coverage.get('seconds', 0):.2f} s")
            if not args.no_vectors:
                console.print(f"  boundary vectors: {args.out}/{variant.name}/register-vectors.json")
    return max(exit_code(vs) for _, vs, _ in results)
