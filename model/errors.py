"""The one error type for bad user input (traces, variants, scopes, flags).

Raised at the boundary where input is read; the CLI prints ``str(e)`` as one line
and exits 2. Kernel outcomes are never exceptions (STYLE.md).
"""
from __future__ import annotations


class BadInput(Exception):
    """Bad user input: which file (or flag), which line, which field, and why."""

    def __init__(self, source: str, line: int | None, field: str | None, message: str):
        self.source = source
        self.line = line
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        what = f"{self.field}: " if self.field else ""
        return " ".join(f"{where}: {what}{self.message}".split())   # always one line
