"""``bufring gen-tests``: counterexamples and boundary vectors become regression tests.

Reads ``--from DIR`` (default ``bufring-out/``), writes ``--out DIR`` (default
``bufring-tests/``) whole or not at all (``checker.report.testgen``). Exit 0, or 1 when a
boundary vector disagrees with the model (two engines disagree: a checker bug),
2 for bad input.
"""
from __future__ import annotations

import json
from bufring.checker.cli.common import add_force, add_json, out_folder


def add_parser(sub) -> None:
    p = sub.add_parser("gen-tests", help="turn counterexample traces and REGISTER vectors into "
                                         "pytest regression tests and JSON vectors")
    p.add_argument("--from", dest="source", default="bufring-out", metavar="DIR",
                   help="where explore/prove/fuzz wrote DIR/<variant>/<property>.jsonl and "
                        "register-vectors.json (default bufring-out)")
    p.add_argument("--out", default="bufring-tests", metavar="DIR", type=out_folder,
                   help="where the tests go (default bufring-tests); the files of an earlier "
                        "gen-tests there are replaced, no other file is touched")
    add_force(p)
    p.add_argument("--impl", metavar="IMPL",
                   help="make the tests replay on this implementation by default "
                        "(a command, or FILE.py:CLASS)")
    add_json(p, "print one JSON object on stdout")
    p.set_defaults(run=cmd_gen_tests)


def cmd_gen_tests(args, out, err) -> int:
    from bufring.checker.report.testgen import generate_tests

    result = generate_tests(args.source, args.out, impl=args.impl, force=args.force)
    if args.json:
        out.write(json.dumps({"command": "gen-tests", "out": str(result.out),
                              "tests": [{"property": c.prop, "variant": c.variant, "trace": c.trace,
                                         "steps": c.steps, "violated_at": c.violated_at}
                                        for c in result.cases],
                              "vectors": result.vectors, "skipped": result.skipped,
                              "disagreements": result.disagreements}) + "\n")
    else:
        out.write(f"wrote {len(result.cases)} trace test(s) and {result.vectors} REGISTER vector(s) "
                  f"to {result.out}/\n")
        for c in result.cases:
            out.write(f"  {c.variant}/{c.prop}: {c.steps} steps\n")
        out.write(f"run them: python -m pytest {result.out}\n")
    for line in result.skipped:
        err.write(f"bufring: skipped {line}\n")
    for line in result.disagreements:
        err.write(f"bufring: {line}\n")
    return 1 if result.disagreements else 0
