"""``bufring variants``: the built-in variants and what each changes."""
from __future__ import annotations

import json

from bufring.checker.cli.common import add_variants, add_json
from bufring.checker.report.render import console_for
from bufring.model.builtin import builtin_variants, load_variant
from bufring.model.variant import V2


def add_parser(sub) -> None:
    p = sub.add_parser("variants", help="list the built-in variants (and a user's, with --variant)")
    add_variants(p, "describe too", default="default: the built-in ones only")
    add_json(p, "print one JSON object")
    p.set_defaults(run=cmd_variants)


def cmd_variants(args, out, err) -> int:
    variants = list(builtin_variants().values())
    variants += [load_variant(spec) for spec in args.variant]
    rows = [{"name": v.name, "doc": v.doc, "source": v.source,
             "hooks": v.changed_hooks(V2)} for v in variants]
    if args.json:
        out.write(json.dumps({"variants": rows}) + "\n")
        return 0
    from rich.table import Table
    table = Table(title="bufring variants")
    for col in ("name", "changes (hooks)", "what it is", "source"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["name"], ", ".join(r["hooks"]) or "-", r["doc"], r["source"])
    console_for(out).print(table)
    return 0
