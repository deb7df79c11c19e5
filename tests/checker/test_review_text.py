"""What a reader of the review sees: pointers into the patch, verdict tables on
terminals and in pipes, README and docs fences, and empty traces refused
(issue 13, points 2, 7 and 8)."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from bufring.checker.report.markdown import _counters, _shown, _width
from bufring.checker.report.render import print_verdicts
from bufring.checker.verdict import Status, Verdict
from bufring.model.variant import V2
from bufring.specs.catalog import CATALOG, Kind

ROOT = Path(__file__).resolve().parents[2]


# --- point 2: file and function of the patch, no line numbers of a mail ---------------------------

@pytest.mark.parametrize("prop", [p for p in CATALOG if p.kind is not Kind.SOMETIMES], ids=lambda p: p.id)
def test_every_property_points_to_a_file_and_function_of_the_patch(prop):
    where = prop.patch_lines
    assert re.match(r"^(fs/fuse/|include/uapi/linux/)[\w/]+\.[ch]: ", where), where
    assert re.search(r"\w+\(\)", where), where
    assert not re.search(r"\b\d+-\d+\b|\blines?\b", where), where


# --- point 7: tables --------------------------------------------------------------------------------

class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _verdicts():
    return [Verdict(p.id, p.kind, Status.VIOLATED if p.kind is not Kind.SOMETIMES else Status.REACHED,
                    {"explore": "violated"}, trace=f"some/folder/v2/{p.id}.jsonl", length=3)
            for p in CATALOG]


def test_an_80_column_terminal_gets_one_line_per_property_with_whole_ids(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    out = _Terminal()
    print_verdicts(out, _verdicts(), "bufring check: variant v2")
    lines = out.getvalue().splitlines()
    assert max(len(re.sub(r"\x1b\[[0-9;]*m", "", ln)) for ln in lines) <= 80
    text = out.getvalue()
    for p in CATALOG:
        assert p.id in text, p.id


def test_piped_verdicts_are_neither_padded_nor_coloured():
    out = io.StringIO()
    print_verdicts(out, _verdicts(), "bufring check: variant v2")
    lines = out.getvalue().splitlines()
    assert lines[0] == "bufring check: variant v2"
    assert all(ln == ln.rstrip() for ln in lines)
    assert "\x1b[" not in out.getvalue()
    assert "flow.fifo" in out.getvalue() and "violated (informational)" in out.getvalue()


def test_informational_violation_is_not_shown_as_a_defect():
    assert _shown("violated", "informational") == "violated (informational)"
    assert _shown("violated", "invariant") == "**violated**"
    assert _shown("holds", "invariant") == "holds"


# --- point 8: README and docs -----------------------------------------------------------------------

def _fences(path: Path):
    inside = False
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("```"):
            if not inside:
                yield n, line[3:].strip()
            inside = not inside


@pytest.mark.parametrize("doc", ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))])
def test_every_fenced_block_names_its_language(doc):
    missing = [n for n, lang in _fences(ROOT / doc) if not lang]
    assert not missing, f"{doc}: fenced blocks without a language at lines {missing}"


def test_readme_starts_with_the_two_set_up_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(\w+)\n(.*?)```", text, re.S)
    assert [lang for lang, _ in blocks[:2]] == ["sh", "sh"]
    assert "pip install . && bufring check" in blocks[0][1]
    assert 'pip install ".[test]" && python -m pytest' in blocks[1][1]


@pytest.mark.parametrize("text", ["", "# only a comment\n",
                                  '{"trace": 1, "variant": "v2", "config": {}}\n'])
def test_an_empty_or_header_only_trace_is_bad_input(bufring_cli, tmp_path, text):
    path = tmp_path / "t.jsonl"
    path.write_text(text, encoding="utf-8")
    code, out, err = bufring_cli("replay", path)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "no steps" in err and str(path) in err


# --- point 3: honest width --------------------------------------------------------------------------

def _trace(path: Path, bits: int, start: int) -> str:
    path.write_text(json.dumps({"trace": 1, "variant": "v2", "config": {"counter_bits": bits,
                                                                         "counter_start": start}}) + "\n"
                    + json.dumps({"op": "register", "qid": 0, "flags": 1, "buf_index": 0, "queue_depth": 1,
                                  "buf_size": 8192, "headers": [0x10000000, 288],
                                  "payload": [0x40000000, 3 * 8192]}) + "\n", encoding="utf-8")
    return str(path)


def test_a_narrow_run_says_so_and_names_the_32_bit_one(tmp_path):
    narrow, wide = _trace(tmp_path / "n.jsonl", 8, 253), _trace(tmp_path / "w.jsonl", 32, (1 << 32) - 3)
    results = {"out": "reports/v2"}
    v = {"trace": narrow, "engines": {"prove": "violated", "fuzz": "violated"},
         "coverage": {"at_32_bits": {"trace": wide, "length": 4, "counter_start": (1 << 32) - 3,
                                     "engines": ["prove"]}}}
    (text, _) = _width(v, tmp_path, results, V2)
    assert "found with 8-bit counters starting at 253" in text
    assert "at 32 bits with counters starting at 2^32-3: `w.jsonl`" in text
    assert "bufring replay --check reports/v2/w.jsonl" in text
    assert "8-bit counters starting at 253, so they wrap at 256" in _counters(narrow)
    assert _width({**v, "trace": wide}, tmp_path, results, V2) == []
    del v["coverage"]["at_32_bits"]
    assert "No engine produced a 32-bit run" in _width(v, tmp_path, results, V2)[0]


def test_properties_table_on_80_columns_keeps_ids_whole(bufring_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    out = _Terminal()
    from bufring.checker.cli import main
    assert main(["properties"], out, io.StringIO()) == 0
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())
    assert max(len(ln) for ln in text.splitlines()) <= 80
    for p in CATALOG:
        assert p.id in text, p.id
