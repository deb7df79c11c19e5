"""``bufring variants``: the built-in variants and what each changes."""
from __future__ import annotations

import json

from bufring.checker.render import console_for
from bufring.model.variant import V2, builtin_variants, load_variant


def add_parser(sub) -> None:
    p = sub.add_parser("variants", help="list the built-in variants (and a user's, with --variant)")
    p.add_argument("--variant", action="append", default=[], metavar="V",
                   help="also describe this variant (name or path/to/file.py:NAME)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
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
