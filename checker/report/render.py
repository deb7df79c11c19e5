"""Shared rendering helpers: a rich console bound to the command's stream, JSON."""
from __future__ import annotations

import json
import re
from typing import TextIO


def print_json(out: TextIO, objs: list) -> None:
    """DESIGN's rule: one variant gives one JSON object, several give a list."""
    out.write(json.dumps(objs[0] if len(objs) == 1 else objs) + "\n")


class _Unpadded:
    """A stream that drops the spaces rich pads each line with up to the table width."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(re.sub(r" +\n", "\n", text))

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return False


def console_for(stream: TextIO):
    """A rich Console writing to ``stream``: colour and the terminal's width on a
    terminal; elsewhere (a pipe, a file) no colour, room for wide tables, and no
    trailing padding."""
    from rich.console import Console
    if stream.isatty():
        return Console(file=stream, highlight=False, soft_wrap=False)
    return Console(file=_Unpadded(stream), highlight=False, soft_wrap=False, width=200)


STATUS_STYLE = {"proved": "bold green", "holds": "green", "violated": "bold red",
                "vacuous": "yellow", "unknown": "yellow", "reached": "cyan", "unreached": "yellow"}


def coverage_text(coverage: dict) -> str:
    """A short human summary of a verdict's coverage."""
    if "scopes" in coverage:
        states = sum(s["states"] for s in coverage["scopes"])
        capped = any(s["capped"] for s in coverage["scopes"])
        text = f"{len(coverage['scopes'])} scopes, {states:,} states"
        return text + (" (capped)" if capped else "")
    parts = []
    for key in ("widths", "encoding", "runs", "steps"):
        if key in coverage:
            parts.append(f"{key} {coverage[key]}")
    return ", ".join(parts) or "-"


def status_style(status: str, kind: str) -> str:
    """How a status is shown: an informational property's "violated" is a note, not an alarm."""
    if kind == "informational" and status == "violated":
        return "yellow"
    return STATUS_STYLE.get(status, "")


def _detail(v) -> str:
    return f"{v.trace} ({v.length} steps)" if v.trace else v.message


def verdict_table(verdicts, title: str):
    """A rich table of verdicts: property, kind, verdict, engines, coverage, trace or why.
    Ids never wrap (a column too narrow for them makes the table too wide to use:
    :func:`print_verdicts` then prints one line per property instead)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left")
    for col in ("property", "kind", "verdict"):
        table.add_column(col, no_wrap=True)
    for col in ("engines", "coverage", "trace / why"):
        table.add_column(col, overflow="fold")
    for v in verdicts:
        status = v.status.value
        engines = ", ".join(f"{k}:{s}" for k, s in v.engines.items())
        table.add_row(v.property, v.kind.value, Text(status, style=status_style(status, v.kind.value)),
                      engines, coverage_text(v.coverage), _detail(v))
    return table


def verdict_lines(verdicts, title: str, width: int | None = None) -> list[str]:
    """The verdicts as plain text, one line per property (id, verdict, engines) and
    the trace or reason indented below it, wrapped at ``width`` between words only."""
    import textwrap

    lines = [title]
    idw = max((len(v.property) for v in verdicts), default=0)
    for v in verdicts:
        status = v.status.value + (" (informational)" if v.kind.value == "informational" else "")
        engines = ", ".join(f"{k}:{s}" for k, s in v.engines.items())
        lines.append(f"  {v.property:<{idw}}  {status:<9}  [{engines}]")
        detail = _detail(v)
        if width:
            lines += textwrap.wrap(detail, width, initial_indent="      ", subsequent_indent="      ",
                                   break_long_words=False, break_on_hyphens=False)
        elif detail:
            lines.append("      " + detail)
    return lines


TABLE_MIN_WIDTH = 120
"""Below this many terminal columns the verdict table cannot show its six columns
without squeezing ids: one line per property instead."""


def print_verdicts(stream: TextIO, verdicts, title: str) -> None:
    """Verdicts for a person: the table on a wide terminal, else one line per property
    (wrapped at the terminal's width; unwrapped and unpadded into a pipe or file)."""
    console = console_for(stream)
    if stream.isatty() and console.width >= TABLE_MIN_WIDTH:
        console.print(verdict_table(verdicts, title))
        return
    width = console.width if stream.isatty() else None
    stream.write("\n".join(verdict_lines(verdicts, title, width)) + "\n")
