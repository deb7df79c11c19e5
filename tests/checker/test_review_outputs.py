"""Outputs are safe and replays show the violation (issue 13, points 5 and 6)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bufring.checker.report.outdir import MANIFEST

CHEAP = ("--engine", "explore", "--scope", "register")


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_out_on_a_file_and_junit_on_a_folder_are_refused_before_any_work(bufring_cli, tmp_path):
    f = tmp_path / "f"
    f.write_text("mine\n")
    code, out, err = bufring_cli("check", *CHEAP, "--out", f)
    assert (code, out) == (2, "") and err.count("\n") == 1 and "not a directory" in err
    code, out, err = bufring_cli("check", *CHEAP, "--out", tmp_path / "o", "--junit", tmp_path)
    assert (code, out) == (2, "") and err.count("\n") == 1 and "is a directory" in err
    assert not (tmp_path / "o").exists() and f.read_text() == "mine\n"


def test_a_foreign_folder_is_refused_without_force_and_kept_with_it(bufring_cli, tmp_path):
    (tmp_path / "notes.txt").write_text("mine\n")
    code, out, err = bufring_cli("check", *CHEAP, "--out", tmp_path)
    assert code == 2 and err.count("\n") == 1 and "--force" in err
    assert _files(tmp_path) == {"notes.txt"}
    code, _, _ = bufring_cli("check", *CHEAP, "--out", tmp_path, "--force")
    assert code == 1 and (tmp_path / "notes.txt").read_text() == "mine\n"
    assert "notes.txt" not in (tmp_path / MANIFEST).read_text().split()


def test_each_trace_once_and_a_rerun_leaves_nothing_stale(bufring_cli, tmp_path):
    out = tmp_path / "out"
    assert bufring_cli("check", *CHEAP, "--out", out)[0] == 1
    first = _files(out)
    listed = set((out / MANIFEST).read_text().split())
    assert listed == first - {MANIFEST}
    assert not any(p.startswith("engines/") or "/." in p for p in first)
    traces = [out / p for p in first if p.endswith(".jsonl")]
    assert traces and len({t.read_bytes() for t in traces}) == len(traces)   # no copies
    results = json.loads((out / "results.json").read_text())
    cited = {v["trace"] for x in results["variants"] for v in x["verdicts"] if "trace" in v}
    assert cited <= {str(t) for t in traces}
    (out / "v2" / "stale-from-an-old-run.jsonl").write_text("x\n")
    with (out / MANIFEST).open("a") as m:
        m.write("v2/stale-from-an-old-run.jsonl\n")
    assert bufring_cli("check", "--engine", "explore", "--scope", "race", "--out", out)[0] == 1
    second = _files(out)
    assert "v2/stale-from-an-old-run.jsonl" not in second
    assert "v2/reg.no_partial_effect.jsonl" in first and "v2/reg.no_partial_effect.jsonl" not in second


def test_gen_tests_refuses_a_foreign_folder(bufring_cli, tmp_path):
    src = tmp_path / "src"
    assert bufring_cli("check", *CHEAP, "--out", src)[0] == 1
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "keep.py").write_text("x = 1\n")
    code, out, err = bufring_cli("gen-tests", "--from", src, "--out", dest)
    assert code == 2 and err.count("\n") == 1 and (dest / "keep.py").exists()
    assert bufring_cli("gen-tests", "--from", src, "--out", dest, "--force")[0] == 0
    assert (dest / "keep.py").exists() and (dest / "test_bufring_regressions.py").exists()
    assert bufring_cli("gen-tests", "--from", src, "--out", dest)[0] == 0    # its own now


def test_an_impl_that_cannot_start_is_exit_2(bufring_cli, tmp_path):
    code, out, err = bufring_cli("fuzz", "--impl", str(tmp_path / "no-such-program"), "--examples", "1")
    assert code == 2 and "no-such-program" in err


def test_replay_names_the_failing_property_and_step(bufring_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert bufring_cli("check", *CHEAP, "--out", "o")[0] == 1
    trace = Path("o/v2/reg.no_partial_effect.jsonl")
    assert "# bufring:check: reg.no_partial_effect" in trace.read_text()
    code, out, err = bufring_cli("replay", trace)
    assert code == 1
    assert "reg.no_partial_effect: fails at step 1 (line" in out
    assert "reg.no_partial_effect fails at step 1" in err
    # without the header line, only --check judges
    plain = tmp_path / "plain.jsonl"
    plain.write_text("".join(ln + "\n" for ln in trace.read_text().splitlines() if "bufring:check" not in ln))
    assert bufring_cli("replay", plain)[0] == 0
    code, out, _ = bufring_cli("replay", "--check", plain)
    assert code == 1 and "reg.no_partial_effect: fails at step 1" in out
    # the report's replay commands work from the folder check ran in
    report = Path("o/REPORT.md").read_text()
    commands = [ln.split("`")[1] for ln in report.split("reproduce with ")[1:]]
    assert commands
    for c in commands:
        argv = c.split()
        assert argv[:3] == ["bufring", "replay", "--check"]
        assert bufring_cli(*argv[1:])[0] == 1


@pytest.mark.parametrize("command", ["explore", "prove", "fuzz", "gen-tests"])
def test_every_out_on_an_existing_file_is_one_line_exit_2(bufring_cli, tmp_path, command):
    f = tmp_path / "f"
    f.write_text("mine\n")
    code, out, err = bufring_cli(command, "--out", f)
    assert (code, out) == (2, "") and err.count("\n") == 1 and "not a directory" in err
    assert f.read_text() == "mine\n"
