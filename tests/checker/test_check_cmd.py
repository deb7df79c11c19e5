"""bufring check and bufring report on small scopes (explore engine only: fast)."""
import io
import json
import xml.etree.ElementTree as ET

from bufring.checker.check import scope_admits
from bufring.checker.cli import main
from bufring.model.traces import read_trace
from bufring.model.variant import V2
from bufring.specs.scopes import BY_NAME


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, out, err)
    return code, out.getvalue(), err.getvalue()


def small_check(tmp_path, *extra):
    return run(["check", "--engine", "explore", "--scope", "null-payload", "--scope", "register",
                "--out", str(tmp_path), *extra])


def test_check_on_v2_small_scopes_exits_1_and_writes_report_results_and_traces(tmp_path):
    code, out, err = small_check(tmp_path, "--json")
    assert code == 1
    obj = json.loads(out)
    assert obj["variant"] == "v2" and obj["command"] == "check"
    verdicts = {v["property"]: v for v in obj["verdicts"]}
    assert verdicts["flow.payload_has_buffer"]["verdict"] == "violated"
    assert verdicts["reg.no_partial_effect"]["verdict"] == "violated"
    trace = verdicts["reg.no_partial_effect"]["trace"]
    assert trace.endswith("v2/reg.no_partial_effect.jsonl")
    assert run(["replay", trace])[0] == 1     # the trace asks: its property fails
    report = (tmp_path / "REPORT.md").read_text()
    assert "## Summary" in report and "```mermaid" in report
    assert "`reg.no_partial_effect`" in report
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["variants"][0]["variant"] == "v2"


def test_report_rebuilds_the_same_markdown_from_results_json(tmp_path):
    small_check(tmp_path)
    first = (tmp_path / "REPORT.md").read_text()
    (tmp_path / "REPORT.md").unlink()
    code, out, _ = run(["report", str(tmp_path)])
    assert code == 0 and (tmp_path / "REPORT.md").read_text() == first


def test_report_of_a_folder_without_results_exits_2_with_one_line(tmp_path):
    code, out, err = run(["report", str(tmp_path)])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "results.json" in err


def test_check_junit_marks_violations_as_failures(tmp_path):
    junit = tmp_path / "j.xml"
    small_check(tmp_path, "--junit", str(junit))
    root = ET.parse(junit).getroot()
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["flow.payload_has_buffer"].find("failure") is not None
    assert cases["flow.fifo"].find("failure") is None


def test_check_with_fixes_shows_the_all_fixes_variant_clean(tmp_path):
    code, out, err = run(["check", "--engine", "explore", "--scope", "null-payload", "--scope", "register",
                          "--variant", "all-fixes", "--out", str(tmp_path), "--json"])
    verdicts = {v["property"]: v["verdict"] for v in json.loads(out)["verdicts"]}
    assert verdicts["flow.payload_has_buffer"] != "violated"
    assert verdicts["reg.no_partial_effect"] != "violated"
    assert verdicts["hdr.slot_unique"] != "violated"


def test_scope_admits_its_own_counterexample_and_rejects_another_config(tmp_path):
    small_check(tmp_path)
    trace = read_trace(tmp_path / "v2" / "reg.no_partial_effect.jsonl")
    assert scope_admits(BY_NAME["register"], V2, trace)
    assert not scope_admits(BY_NAME["background"], V2, trace)


def test_check_unknown_variant_exits_2_with_one_line(tmp_path):
    code, out, err = run(["check", "--variant", "nope", "--out", str(tmp_path)])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
