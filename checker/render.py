"""Shared rendering helpers: a rich console bound to the command's stream."""
from __future__ import annotations

from typing import TextIO


def console_for(stream: TextIO):
    """A rich Console writing to ``stream`` (colour only on a terminal)."""
    from rich.console import Console
    return Console(file=stream, highlight=False, soft_wrap=False,
                   width=None if stream.isatty() else 200)
