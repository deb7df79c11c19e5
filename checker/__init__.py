"""The engines (explore, smt, fuzz) behind one door each, the one run-and-judge
path, verdicts, reports and the command line (docs/architecture.md)."""
