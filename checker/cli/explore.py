"""``bufring explore``: the explicit-state explorer on named scopes or scope files."""
from __future__ import annotations

import contextlib

from bufring.checker.cli.common import (add_json, add_out, add_properties, add_search, add_variants,
                                        search_options)
from bufring.checker.explore.explorer import explore
from bufring.checker.progress import progress_for
from bufring.checker.report.render import console_for, print_json, print_verdicts
from bufring.checker.verdict import exit_code
from bufring.model.errors import BadInput
from bufring.model.builtin import load_variant
from bufring.specs.scopes import DEFAULT_SCOPES, load_scope
from bufring.specs.user import select_properties


def add_parser(sub) -> None:
    p = sub.add_parser("explore", help="search every reachable state of bounded scopes")
    add_variants(p, "check")
    p.add_argument("--scope", action="append", default=[], metavar="NAME|FILE",
                   help="a default scope by name or a scope file (repeatable; default: all default scopes)")
    add_properties(p)
    p.add_argument("--symmetry", action="store_true",
                   help="reduce by request-unique symmetry (safety properties only; docs/explore.md)")
    p.add_argument("--max-states", type=int, metavar="N", help="state cap per scope (hit: unknown, exit 3)")
    add_search(p)
    add_out(p, "traces")
    add_json(p, "print the verdicts as one JSON object")
    p.set_defaults(run=cmd_explore)


def cmd_explore(args, out, err) -> int:
    variants = [load_variant(v) for v in (args.variant or ["v2"])]
    scopes = [load_scope(s) for s in args.scope] or list(DEFAULT_SCOPES)
    props = select_properties(args.property)
    if args.max_states is not None and args.max_states < 1:
        raise BadInput("--max-states", None, None, "must be a positive integer")
    jobs, cluster = search_options(args)
    results = []
    for variant in variants:
        progress = progress_for(err, enabled=True)
        with progress or contextlib.nullcontext():
            results.append(explore(variant, scopes, props, out_dir=args.out, symmetry=args.symmetry,
                                   max_states=args.max_states, progress=progress, jobs=jobs,
                                   cluster=cluster))
    if args.json:
        print_json(out, [r.to_json() for r in results])
    else:
        console = console_for(out)
        for r in results:
            print_verdicts(out, r.verdicts, f"bufring explore: variant {r.variant}")
            for run in r.runs:
                console.print(f"  scope {run.scope.name}: {run.states:,} states, {run.transitions:,} "
                              f"transitions, depth {run.depth}, {run.seconds:.1f} s"
                              + (" [CAPPED]" if run.capped else ""))
    return max(exit_code(r.verdicts) for r in results)
