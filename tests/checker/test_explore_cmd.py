"""``bufring explore`` (checker/cli/explore.py): the JSON object, exit codes 0/1/2/3,
the state cap, scope files (good and bad), user variant files with a seeded bug,
and the readable table. Every run is in-process through ``checker.cli.main``
(the ``bufring_cli`` fixture of tests/conftest.py) on small scopes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import replayed_as_recorded

from bufring.specs.catalog import CATALOG

BUFRING_REG = {"qid": 0, "flags": 1, "queue_depth": 1, "buf_size": 8192,
               "headers": [65536, 288], "payload": [1048576, 16384]}
TINY_HEADER = {"scope": 1, "name": "tiny", "doc": "one entry, two buffers",
               "config": {"counter_bits": 3, "max_payload_sz": 8192}, "max_ents": 1, "max_live": 1}

SEEDED_VARIANT = '''
from bufring.model import ring
from bufring.model.cint import CONCRETE
from bufring.model.variant import V2


def recycle_next_slot(r, buf_id, bits):
    warned = ring.recycle_warns(CONCRETE, r.head, r.tail, r.nbufs, bits)
    i = (r.tail + 1) % r.nbufs
    slots = r.slots[:i] + (buf_id,) + r.slots[i + 1:]
    return r._replace(tail=ring.next_counter(CONCRETE, r.tail, bits), slots=slots), warned


NEXT_SLOT = V2.derive("next-slot", "recycle writes slot (tail + 1) % nbufs", ring_recycle=recycle_next_slot)
'''


def jsonl(path: Path, *objs) -> str:
    path.write_text("".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objs))
    return str(path)


def explore_json(cli, *argv):
    code, out, err = cli("explore", "--json", *argv)
    lines = out.splitlines()
    assert len(lines) == 1, (out, err)
    return code, json.loads(lines[0]), err


def verdicts(obj) -> dict:
    return {v["property"]: v for v in obj["verdicts"]}


# --- the JSON object and exit codes --------------------------------------------------------------------

def test_explore_register_scope_exits_1_with_one_verdict_per_catalog_id(bufring_cli, tmp_path):
    code, obj, err = explore_json(bufring_cli, "--scope", "register", "--out", tmp_path)
    assert code == 1 and err == ""
    assert (obj["variant"], obj["command"]) == ("v2", "explore")
    assert [v["property"] for v in obj["verdicts"]] == [p.id for p in CATALOG]
    for v in obj["verdicts"]:
        assert v["engines"] == {"explore": v["verdict"]}
        assert "seconds" in v["coverage"] and v["message"]
    (run,) = obj["runs"]
    assert set(run) == {"scope", "states", "transitions", "depth", "seconds", "peak_mib", "capped"}
    assert (run["scope"], run["states"], run["transitions"], run["depth"], run["capped"]) == \
        ("register", 717, 1855, 18, False)


def test_explore_json_traces_live_under_out_per_variant_and_replay(bufring_cli, tmp_path):
    _, obj, _ = explore_json(bufring_cli, "--scope", "register", "--out", tmp_path / "o")
    shown = [v for v in obj["verdicts"] if "trace" in v]
    assert {v["verdict"] for v in shown} == {"violated", "reached"}
    for v in shown:
        assert Path(v["trace"]).parent == tmp_path / "o" / "v2"
        assert v["length"] >= 1
    code, _, err = bufring_cli("replay", "--json", *[v["trace"] for v in shown])
    assert replayed_as_recorded(code, err), err


def test_explore_a_property_that_holds_non_vacuously_exits_0(bufring_cli, tmp_path):
    code, obj, _ = explore_json(bufring_cli, "--scope", "race", "--property", "reg.flags_consistent",
                                "--out", tmp_path)
    assert code == 0
    assert [(v["property"], v["verdict"]) for v in obj["verdicts"]] == [("reg.flags_consistent", "holds")]


def test_explore_a_property_whose_witness_is_unreached_exits_3_vacuous(bufring_cli, tmp_path):
    code, obj, _ = explore_json(bufring_cli, "--scope", "register", "--property", "reg.flags_consistent",
                                "--out", tmp_path)
    assert code == 3
    (v,) = obj["verdicts"]
    assert v["verdict"] == "vacuous" and "w.register_race" in v["message"]


def test_explore_informational_violation_alone_exits_0(bufring_cli, tmp_path):
    code, obj, _ = explore_json(bufring_cli, "--scope", "legacy", "--property", "flow.fifo", "--out", tmp_path)
    assert code == 0
    assert verdicts(obj)["flow.fifo"]["verdict"] == "violated"


def test_explore_hitting_max_states_gives_unknown_and_exits_3(bufring_cli, tmp_path):
    code, obj, _ = explore_json(bufring_cli, "--scope", "register", "--property", "ring.count_bounded",
                                "--max-states", "50", "--out", tmp_path)
    assert code == 3
    (v,) = obj["verdicts"]
    assert v["verdict"] == "unknown" and "cap" in v["message"]
    assert obj["runs"][0]["capped"] is True and obj["runs"][0]["states"] == 50
    assert v["coverage"]["scopes"][0]["capped"] is True


def test_explore_violation_found_before_the_cap_still_exits_1(bufring_cli, tmp_path):
    code, obj, _ = explore_json(bufring_cli, "--scope", "register", "--max-states", "50", "--out", tmp_path)
    assert code == 1
    v = verdicts(obj)
    assert v["reg.no_partial_effect"]["verdict"] == "violated"
    assert v["ring.count_bounded"]["verdict"] == "unknown"
    assert "holds" not in {x["verdict"] for x in obj["verdicts"]}


def test_explore_two_variants_print_a_list_of_two_objects(bufring_cli, tmp_path):
    code, out, _ = bufring_cli("explore", "--json", "--scope", "register", "--variant", "v2",
                               "--variant", "ent-before-publish", "--property", "reg.no_partial_effect",
                               "--out", tmp_path)
    objs = json.loads(out)
    assert [(o["variant"], o["verdicts"][0]["verdict"]) for o in objs] == [
        ("v2", "violated"), ("ent-before-publish", "holds")]
    assert code == 1


def test_explore_table_names_each_property_and_each_scope_run(bufring_cli, tmp_path):
    code, out, _ = bufring_cli("explore", "--scope", "race", "--out", tmp_path)
    assert code == 1
    assert "scope race: 817 states, 1,729 transitions, depth 18" in out
    for p in CATALOG:
        assert p.id in out


def test_explore_symmetry_flag_is_reported_as_a_reduction(bufring_cli, tmp_path):
    _, obj, _ = explore_json(bufring_cli, "--scope", "legacy", "--symmetry", "--out", tmp_path)
    assert obj["runs"][0]["states"] == 151
    assert obj["verdicts"][0]["coverage"]["scopes"][0]["reductions"] == ["symmetry: request uniques"]


def test_explore_json_coverage_carries_the_documented_keys_at_top_level(bufring_cli, tmp_path):
    # DESIGN.md "Verdicts as JSON" (was only under coverage["scopes"][i]; fixed in 70669eb)
    _, obj, _ = explore_json(bufring_cli, "--scope", "race", "--out", tmp_path)
    for v in obj["verdicts"]:
        c = v["coverage"]
        assert {"seconds", "scope", "states", "transitions", "depth", "capped", "reductions"} <= set(c)
        assert (c["scope"], c["states"], c["transitions"], c["depth"], c["capped"]) == ("race", 817, 1729, 18, False)


# --- bad flags -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("argv,needle", [
    (["--property", "ring.nonsense"], "unknown property 'ring.nonsense'"),
    (["--max-states", "0"], "--max-states"),
    (["--max-states", "many"], "many"),
    (["--scope", "no-such-scope"], "no such scope or file"),
    (["--variant", "v9"], "unknown variant 'v9'"),
])
def test_explore_bad_flag_exits_2_with_one_line_and_nothing_written(bufring_cli, tmp_path, argv, needle):
    out_dir = tmp_path / "out"
    scope = [] if "--scope" in argv else ["--scope", "register"]
    code, out, err = bufring_cli("explore", "--json", *scope, *argv, "--out", out_dir)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err
    assert not out_dir.exists()


# --- scope files ------------------------------------------------------------------------------------------

def test_scope_file_in_the_documented_format_is_explored(bufring_cli, tmp_path):
    path = jsonl(tmp_path / "tiny.jsonl", "# a comment", "", TINY_HEADER, {"register": BUFRING_REG})
    code, obj, _ = explore_json(bufring_cli, "--scope", path, "--out", tmp_path / "o")
    assert code == 3                              # nothing violated; some properties vacuous
    (run,) = obj["runs"]
    assert (run["scope"], run["states"], run["transitions"], run["depth"]) == ("tiny", 25, 33, 16)
    v = verdicts(obj)
    assert v["ring.conservation"]["verdict"] == "holds"
    assert v["w.recycle"]["verdict"] == "reached" and v["w.buffer_reused"]["verdict"] == "unreached"
    assert v["flow.payload_has_buffer"]["verdict"] == "vacuous"
    bounds = v["ring.conservation"]["coverage"]["scopes"][0]["bounds"]
    assert (bounds["max_ents"], bounds["max_live"], bounds["registers"], bounds["counter_bits"]) == (1, 1, 1, 3)


def test_scope_file_and_default_scope_combine_into_one_verdict_each(bufring_cli, tmp_path):
    path = jsonl(tmp_path / "tiny.jsonl", TINY_HEADER, {"register": BUFRING_REG})
    code, obj, _ = explore_json(bufring_cli, "--scope", path, "--scope", "race", "--out", tmp_path / "o")
    assert [r["scope"] for r in obj["runs"]] == ["tiny", "race"]
    assert verdicts(obj)["reg.flags_consistent"]["verdict"] == "holds"      # non-vacuous in race
    assert code == 1


def test_user_variant_with_a_seeded_bug_is_caught_and_its_trace_replays_on_it(bufring_cli, tmp_path):
    variant = tmp_path / "seeded.py"
    variant.write_text(SEEDED_VARIANT)
    scope = jsonl(tmp_path / "tiny.jsonl", TINY_HEADER, {"register": BUFRING_REG})
    spec = f"{variant}:NEXT_SLOT"
    code, obj, _ = explore_json(bufring_cli, "--scope", scope, "--variant", spec,
                                "--property", "ring.conservation", "--out", tmp_path / "o")
    assert code == 1 and obj["variant"] == "next-slot"
    (v,) = obj["verdicts"]
    assert (v["verdict"], v["length"]) == ("violated", 3)
    code, _, err = bufring_cli("replay", "--json", "--variant", spec, v["trace"])
    assert code == 1 and err.count("\n") == 1 and "ring.conservation fails at step 3" in err
    # Without --variant the trace names a variant bufring does not know: bad input.
    code, _, err = bufring_cli("replay", "--json", v["trace"])
    assert code == 2 and "next-slot" in err


# (file content lines, line named, field named)
BAD_SCOPES = [
    ([{"name": "x"}, {"register": BUFRING_REG}], 1, "scope"),
    ([{"scope": 2}, {"register": BUFRING_REG}], 1, "scope"),
    ([{**TINY_HEADER, "bogus": 1}, {"register": BUFRING_REG}], 1, "bogus"),
    ([{**TINY_HEADER, "max_live": -1}, {"register": BUFRING_REG}], 1, "max_live"),
    ([{**TINY_HEADER, "max_ents": 65}, {"register": BUFRING_REG}], 1, "max_ents"),
    ([{**TINY_HEADER, "race": "yes"}, {"register": BUFRING_REG}], 1, "race"),
    ([{**TINY_HEADER, "payloads": []}, {"register": BUFRING_REG}], 1, "payloads"),
    ([{**TINY_HEADER, "fairness": "none"}, {"register": BUFRING_REG}], 1, "fairness"),
    ([{**TINY_HEADER, "max_states": 0}, {"register": BUFRING_REG}], 1, "max_states"),
    ([{**TINY_HEADER, "name": 7}, {"register": BUFRING_REG}], 1, "name"),
    ([{**TINY_HEADER, "config": {"counter_bits": 0}}, {"register": BUFRING_REG}], 1, "config.counter_bits"),
    ([{**TINY_HEADER, "config": {"colour": 1}}, {"register": BUFRING_REG}], 1, "config.colour"),
    ([TINY_HEADER, {"register": {**BUFRING_REG, "bogus": 1}}], 2, "register.bogus"),
    ([TINY_HEADER, {"register": {k: v for k, v in BUFRING_REG.items() if k != "qid"}}], 2, "register.qid"),
    ([TINY_HEADER, {"register": {**BUFRING_REG, "queue_depth": 65536}}], 2, "register.queue_depth"),
    ([TINY_HEADER, {"register": {**BUFRING_REG, "flags": -1}}], 2, "register.flags"),
    ([TINY_HEADER, {"request": {"qid": 0}}], 2, "request"),
    (["# header follows", "", TINY_HEADER, {"register": BUFRING_REG}, '{"register": {"qid": 0,}}'], 5, None),
    ([TINY_HEADER, '{"register": {"qid": 0, "qid": 1}}'], 2, "register.qid"),
]


@pytest.mark.parametrize("lines,line,field", BAD_SCOPES,
                         ids=[f"line{ln}-{fld or 'json'}" for _, ln, fld in BAD_SCOPES])
def test_bad_scope_file_exits_2_with_one_line_naming_file_line_and_field(bufring_cli, tmp_path, lines,
                                                                        line, field):
    path = jsonl(tmp_path / "bad.jsonl", *lines)
    out_dir = tmp_path / "out"
    code, out, err = bufring_cli("explore", "--json", "--scope", path, "--out", out_dir)
    assert code == 2 and out == "" and "Traceback" not in err
    assert len(err.splitlines()) == 1
    prefix = f"bufring: {path}:{line}: " + (f"{field}: " if field else "")
    assert err.startswith(prefix), err
    assert not out_dir.exists()


@pytest.mark.parametrize("lines,field", [
    ([], "scope"),
    (["# only a comment"], "scope"),
    ([TINY_HEADER], "register"),
])
def test_scope_file_without_header_or_registers_exits_2_naming_file_and_field(bufring_cli, tmp_path,
                                                                              lines, field):
    path = jsonl(tmp_path / "short.jsonl", *lines) if lines else str(tmp_path / "short.jsonl")
    if not lines:
        Path(path).write_text("")
    code, out, err = bufring_cli("explore", "--scope", path, "--out", tmp_path / "o")
    assert code == 2 and out == ""
    assert err.startswith(f"bufring: {path}: {field}: ") and len(err.splitlines()) == 1


def test_scope_file_whose_ring_outgrows_the_counter_width_exits_2_naming_file_and_field(bufring_cli, tmp_path):
    # (was a traceback from model.kernel.InvalidStep, exit 1; fixed in 70669eb)
    header = {**TINY_HEADER, "config": {"counter_bits": 1, "max_payload_sz": 8192}}
    path = jsonl(tmp_path / "narrow.jsonl", header, {"register": BUFRING_REG})
    code, out, err = bufring_cli("explore", "--json", "--scope", path, "--out", tmp_path / "o")
    assert code == 2 and out == "" and "Traceback" not in err
    assert len(err.splitlines()) == 1
    assert err.startswith(f"bufring: {path}:") and "config.counter_bits: " in err


def test_scope_file_whose_ring_outgrows_the_counter_width_names_the_header_line(bufring_cli, tmp_path):
    header = {**TINY_HEADER, "config": {"counter_bits": 1, "max_payload_sz": 8192}}
    path = jsonl(tmp_path / "narrow.jsonl", "# comment", header, {"register": BUFRING_REG})
    code, _, err = bufring_cli("explore", "--json", "--scope", path, "--out", tmp_path / "o")
    assert code == 2 and err.startswith(f"bufring: {path}:2: config.counter_bits: ")
