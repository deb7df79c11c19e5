"""Ctrl-C stops every command within a second, exit 130, no finalizer noise
(issue 13, point 7): a z3 query or a long search must not swallow or delay it."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest


def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)     # a shell's background job ignores it


@pytest.mark.parametrize("argv, delay", [
    (["check"], 0.8), (["check"], 2.5),               # prove (z3) runs first, then explore
    (["prove"], 1.5), (["explore"], 1.5), (["fuzz", "--examples", "100000"], 1.5),
])
def test_sigint_stops_the_command_within_a_second(tmp_path, argv, delay):
    p = subprocess.Popen([sys.executable, "-c", "from bufring.checker.cli import entry; entry()",
                          *argv, "--out", str(tmp_path / "o")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                         preexec_fn=_default_sigint)
    time.sleep(delay)
    if p.poll() is not None:
        pytest.fail(f"{argv} finished before the interrupt; raise the work")
    sent = time.monotonic()
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)
    took = time.monotonic() - sent
    assert p.returncode == 130, err
    assert took < 1.0, f"{argv}: {took:.2f} s"
    assert err == "bufring: interrupted\n", err
