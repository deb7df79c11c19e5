"""Shared rendering helpers: a rich console bound to the command's stream, JSON."""
from __future__ import annotations

import json
from typing import TextIO


def print_json(out: TextIO, objs: list) -> None:
    """DESIGN's rule: one variant gives one JSON object, several give a list."""
    out.write(json.dumps(objs[0] if len(objs) == 1 else objs) + "\n")


def console_for(stream: TextIO):
    """A rich Console writing to ``stream`` (colour only on a terminal)."""
    from rich.console import Console
    return Console(file=stream, highlight=False, soft_wrap=False,
                   width=None if stream.isatty() else 200)


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


def verdict_table(verdicts, title: str):
    """A rich table of verdicts: property, kind, verdict, engines, trace, message."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left")
    for col in ("property", "kind", "verdict", "engines", "coverage", "trace / why"):
        table.add_column(col, overflow="fold")
    for v in verdicts:
        status = v.status.value
        engines = ", ".join(f"{k}:{s}" for k, s in v.engines.items())
        detail = f"{v.trace} ({v.length} steps)" if v.trace else v.message
        table.add_row(v.property, v.kind.value, Text(status, style=STATUS_STYLE.get(status, "")),
                      engines, coverage_text(v.coverage), detail)
    return table
