"""Progress of long searches on a terminal (rich), off elsewhere.

Reporting is separate from search (Stateright's Reporter): the explorer calls
``start_scope`` and ``update``; this module decides what a person sees.
"""
from __future__ import annotations

import time
from typing import TextIO


class ExploreProgress:
    """One live line per scope: states, frontier, depth, states/s."""

    def __init__(self, stream: TextIO):
        from rich.console import Console
        from rich.live import Live

        self.console = Console(file=stream)
        self.live = Live(console=self.console, transient=False, refresh_per_second=4)
        self.scope = None
        self.started = 0.0

    def __enter__(self):
        self.live.__enter__()
        return self

    def __exit__(self, *exc):
        self.live.__exit__(*exc)

    def start_scope(self, scope) -> None:
        self.scope = scope
        self.started = time.perf_counter()
        self.live.console.print(f"[bold]scope {scope.name}[/]: {scope.doc}")

    def update(self, space, frontier: int) -> None:
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        n = len(space.states)
        self.live.update(f"  {n:,} states  {space.transitions:,} transitions  frontier {frontier:,}  "
                         f"depth {space.max_depth}  {n / elapsed:,.0f} states/s")


def progress_for(stream: TextIO, enabled: bool = True):
    """An ExploreProgress on a terminal, else None (no progress output at all)."""
    if enabled and hasattr(stream, "isatty") and stream.isatty():
        return ExploreProgress(stream)
    return None
