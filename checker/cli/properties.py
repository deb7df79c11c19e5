"""``bufring properties``: the property catalog (and a user's, with ``--property FILE.py:NAME``)."""
from __future__ import annotations

import json

from bufring.checker.cli.common import add_json
from bufring.checker.report.render import console_for
from bufring.specs.catalog import CATALOG
from bufring.specs.user import select_properties


def add_parser(sub) -> None:
    p = sub.add_parser("properties", help="list the properties bufring decides")
    p.add_argument("--property", action="append", default=[], metavar="FILE.py:NAME",
                   help="also check and describe a user's property (repeatable; docs/properties.md)")
    add_json(p, "print one JSON object")
    p.set_defaults(run=cmd_properties)


def cmd_properties(args, out, err) -> int:
    users = [p for p in select_properties(args.property) if p.origin != "catalog"] if args.property else []
    props = CATALOG + tuple(users)
    if args.json:
        out.write(json.dumps({"properties": [p.to_json() for p in props]}) + "\n")
        return 0
    from rich.table import Table
    table = Table(title="bufring properties", title_justify="left")
    for col in ("id", "kind"):
        table.add_column(col, no_wrap=True)         # ids are never broken mid-word
    for col in ("severity", "meaning", "from the patch"):
        table.add_column(col, overflow="fold")
    for p in props:
        table.add_row(p.id, p.kind.value, p.severity.value if p.severity else "-", p.meaning, p.source)
    console_for(out).print(table)
    return 0
