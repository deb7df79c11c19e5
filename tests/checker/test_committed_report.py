"""The committed review (reports/v2) is what the current code makes (issue 10, issue 13).

Fast: from what git keeps (the report, its traces, its tests): the command at the
top is the documented one, every trace it names is there and replays showing its
property, the summary lists the catalog, and every cause it names removes a
committed run of the property it is said to break. Slow: regenerate it in a
scratch folder and compare the verdict and cause tables line by line.
"""
from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bufring.checker.causes import _still_shows
from bufring.checker.cli import main
from bufring.model.builtin import load_variant
from bufring.specs.catalog import BY_ID, CATALOG, Kind

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "reports" / "v2"
COMMAND = "bufring check --out reports/v2"
REPORT = (FOLDER / "REPORT.md").read_text(encoding="utf-8")


def _section(text: str, title: str) -> list[str]:
    lines = text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0].splitlines()
    return [ln for ln in lines if ln.startswith("|")]


def test_the_report_names_the_command_that_remakes_it_and_its_source():
    made = REPORT.splitlines()[2]
    assert made.startswith(f"Made by `{COMMAND}` with bufring "), made
    assert re.search(r"\(source [0-9a-f]{7,}(-dirty)?\)|\(source bufring ", made), made
    assert f"```sh\n{COMMAND}\n```" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_summary_lists_every_catalog_property_in_order():
    rows = _section(REPORT, "Summary")[2:]
    assert [r.split("`")[1] for r in rows] == [p.id for p in CATALOG]


def test_every_trace_the_report_names_is_committed_and_replays_showing_its_property(monkeypatch):
    monkeypatch.chdir(ROOT)
    commands = re.findall(r"`bufring replay --check (reports/v2/[^`]+\.jsonl)`", REPORT)
    assert len(commands) >= 10
    for path in commands:
        prop = BY_ID[Path(path).name.removesuffix(".jsonl").split("@")[0]]
        out, err = io.StringIO(), io.StringIO()
        code = main(["replay", "--check", path], out, err)
        if prop.kind is Kind.INFORMATIONAL:        # a remark, not a failure: exit 0, still shown
            assert code == 0 and f"{prop.id} (informational): fails at step" in out.getvalue(), path
        elif prop.goal is not None:                # a graph property: the run replays; explore decided
            assert "MISMATCH" not in out.getvalue() and "expected" not in err.getvalue(), path
        else:
            assert code == 1 and f"{prop.id} fails at step" in err.getvalue(), (path, err.getvalue())


def test_the_committed_regression_tests_name_committed_traces():
    tests = (FOLDER / "tests" / "test_bufring_regressions.py").read_text(encoding="utf-8")
    named = re.findall(r"HERE / '([^']+\.jsonl)'", tests)
    assert named
    for rel in named:
        assert (FOLDER / "tests" / rel).resolve().is_file(), rel
    assert (FOLDER / ".bufring-manifest").is_file()


def test_every_cause_removes_a_committed_run_of_each_property_it_breaks():
    rows = _section(REPORT, "Root causes and the fixes that remove them")[2:]
    assert rows, "the default report groups violations by cause"
    checked = 0
    for row in rows:
        fix = load_variant(row.split("`")[1])
        props = re.findall(r"`([a-z]+\.[a-z_]+)`", row.split(" | ")[1])
        for pid in props:
            prop = BY_ID[pid]
            if prop.goal is not None:          # a graph property: its engine decides, not a run
                continue
            runs = sorted((FOLDER / "v2").glob(f"{pid}.jsonl")) + sorted((FOLDER / "v2").glob(f"{pid}@*.jsonl"))
            assert runs, pid
            assert any(not _still_shows(prop, fix, str(r)) for r in runs), (fix.name, pid)
            checked += 1
    assert checked >= 6


@pytest.mark.slow
def test_regenerating_the_report_gives_the_committed_verdicts_and_causes(tmp_path):
    done = subprocess.run([sys.executable, "-c", "from bufring.checker.cli import entry; entry()",
                           *COMMAND.split()[1:]], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    fresh = (tmp_path / "reports" / "v2" / "REPORT.md").read_text(encoding="utf-8")
    for title in ("Summary", "Root causes and the fixes that remove them"):
        assert _section(fresh, title) == _section(REPORT, title), title
    mine = sorted((tmp_path / "reports" / "v2" / ".bufring-manifest").read_text().split())
    assert mine == sorted((FOLDER / ".bufring-manifest").read_text().split())
