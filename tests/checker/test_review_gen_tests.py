"""The generated regression suite keeps its promise on a fixing variant (issue 13,
point 4): after check and gen-tests, BUFRING_VARIANT=all-fixes fails nothing, and a
test that cannot apply to the variant is skipped with its reason."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bufring.checker.report.testgen_runtime import added_rule_rejecting, check_vector
from bufring.model.fixes import ALL_FIXES
from bufring.model.variant import V2


def _suite_on_all_fixes(bufring_cli, tmp_path, engines, vectors: bool):
    src, dest = tmp_path / "out", tmp_path / "tests-out"
    code, _, err = bufring_cli("check", *engines, "--scope", "null-payload",
                               "--scope", "enobufs", "--scope", "register", "--out", src)
    assert code == 1, err
    assert bufring_cli("gen-tests", "--from", src, "--out", dest)[0] == 0
    for suite in (dest, src / "tests"):           # standalone and the copy check made in place
        env = {**os.environ, "BUFRING_VARIANT": "all-fixes"}
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                               "-p", "no:randomly", str(suite)], capture_output=True, text=True, env=env,
                              cwd=tmp_path)
        assert done.returncode == 0, done.stdout[-3000:]
        assert " failed" not in done.stdout
        skips = [ln for ln in done.stdout.splitlines() if ln.startswith("SKIPPED")]
        assert any("adds REGISTER rule fix." in ln for ln in skips) == vectors, skips  # a v2 vector
        assert any("informational" in ln for ln in skips), skips                 # flow.fifo
        # on the trace's own variant the property tests fail: the suite tests something
        bad = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              "-p", "no:randomly", str(suite)], capture_output=True, text=True,
                             env={k: v for k, v in os.environ.items() if k != "BUFRING_VARIANT"}, cwd=tmp_path)
        assert bad.returncode == 1 and "flow_payload_has_buffer__v2" in bad.stdout


def test_generated_suite_on_all_fixes_from_explore(bufring_cli, tmp_path):
    _suite_on_all_fixes(bufring_cli, tmp_path, ["--engine", "explore"], vectors=False)


@pytest.mark.slow
def test_generated_suite_on_all_fixes_with_register_vectors(bufring_cli, tmp_path):
    _suite_on_all_fixes(bufring_cli, tmp_path, ["--engine", "explore", "--engine", "prove"], vectors=True)


VECTOR = {"name": "bufring_headers_too_small__accepted_1", "variant": "v2",
          "rule": "bufring.headers_too_small", "side": "accepted",
          "config": {"nr_queues": 1, "max_payload_sz": 8192},
          "register": {"op": "register", "qid": 0, "flags": 1, "buf_index": 0, "queue_depth": 1,
                       "buf_size": 8192, "headers": [0x10000000, 288], "payload": [0x40000000, 3 * 8192]},
          "expect": {"ret": 0, "nbufs": 3}}


def test_a_vector_a_fix_rejects_by_a_new_rule_is_skipped_with_that_rule():
    assert added_rule_rejecting(ALL_FIXES, V2, VECTOR) == "fix.nbufs_not_pow2"
    check_vector(VECTOR, "v2")                          # holds on its own variant
    with pytest.raises(pytest.skip.Exception, match="adds REGISTER rule fix.nbufs_not_pow2"):
        check_vector(VECTOR, "all-fixes")
    wrong = {**VECTOR, "expect": {"ret": -22, "nbufs": None}}
    with pytest.raises(AssertionError):                 # a real disagreement still fails
        check_vector(wrong, "v2")
