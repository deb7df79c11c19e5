"""``bufring report DIR``: rebuild REPORT.md from a check's saved results.json."""
from __future__ import annotations

from bufring.checker.report.markdown import write_report


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="rebuild REPORT.md from DIR/results.json")
    p.add_argument("dir", metavar="DIR", help="the --out folder of a bufring check")
    p.set_defaults(run=cmd_report)


def cmd_report(args, out, err) -> int:
    out.write(f"{write_report(args.dir)}\n")
    return 0
