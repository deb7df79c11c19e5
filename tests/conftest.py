"""Shared fixtures: the CLI run in-process with captured streams, and trace files.

Model-test builders live in ``tests/model/modelkit.py``.
"""
from __future__ import annotations

import io
import json

import pytest


@pytest.fixture
def bufring_cli():
    """``bufring_cli(*argv) -> (exit code, stdout text, stderr text)`` through
    ``checker.cli.main`` with StringIO streams."""
    from bufring.checker.cli import main

    def run(*argv):
        out, err = io.StringIO(), io.StringIO()
        code = main([str(a) for a in argv], out, err)
        return code, out.getvalue(), err.getvalue()

    return run


@pytest.fixture
def trace_file(tmp_path):
    """``trace_file(name, *objs) -> path``: one line per object (dicts as JSON,
    strings as they are) in a file under the test's tmp_path."""

    def write(name, *objs):
        path = tmp_path / name
        path.write_text("".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objs),
                        encoding="utf-8")
        return str(path)

    return write


def replayed_as_recorded(code: int, err: str) -> bool:
    """A ``bufring replay`` result whose every ``expect`` matched: exit 0, or exit 1
    only because the traces' own ``# bufring:check:`` properties fail (a
    counterexample shows what it was written to show)."""
    lines = [ln for ln in err.splitlines() if ln]
    return code == 0 or (code == 1 and bool(lines) and all(" fails at step " in ln for ln in lines))
