"""``bufring prove``: verdict JSON, exit codes, traces that ``bufring replay`` reproduces."""
from __future__ import annotations

import json

import pytest


def test_prove_json_is_one_object_with_coverage_per_verdict(bufring_cli, tmp_path):
    code, out, err = bufring_cli("prove", "--property", "hdr.slot_bounds", "--property",
                                 "ring.count_bounded", "--json", "--no-vectors", "--out", tmp_path)
    assert code == 0, err
    obj = json.loads(out)
    assert (obj["variant"], obj["command"]) == ("v2", "prove")
    assert [v["property"] for v in obj["verdicts"]] == ["ring.count_bounded", "hdr.slot_bounds"]
    for v in obj["verdicts"]:
        assert v["verdict"] == "proved" and v["engines"] == {"prove": "proved"}
        assert {"seconds", "widths", "encoding", "lemmas"} <= set(v["coverage"])
    assert obj["verdicts"][0]["coverage"]["widths"] == [32]
    assert obj["verdicts"][0]["coverage"]["lemmas"] == ["ring.free_plus_held_le_nbufs"]


@pytest.mark.slow
def test_prove_writes_register_vectors_next_to_the_traces(bufring_cli, tmp_path):
    code, _, err = bufring_cli("prove", "--property", "reg.unknown_flags_rejected", "--out", tmp_path)
    assert code == 0, err
    vectors = json.loads((tmp_path / "v2" / "register-vectors.json").read_text())
    assert {v["side"] for v in vectors} == {"accepted", "rejected"}


def test_prove_violation_exits_1_and_its_trace_replays(bufring_cli, tmp_path):
    code, out, _ = bufring_cli("prove", "--property", "reg.no_partial_effect", "--json", "--no-vectors",
                               "--out", tmp_path)
    assert code == 1
    [v] = json.loads(out)["verdicts"]
    assert v["verdict"] == "violated" and v["length"] == 1
    code, _, err = bufring_cli("replay", v["trace"])
    assert code == 1 and "reg.no_partial_effect fails at step 1" in err, err


def test_prove_with_two_variants_prints_a_list(bufring_cli, tmp_path):
    code, out, _ = bufring_cli("prove", "--variant", "v2", "--variant", "all-fixes", "--property",
                               "reg.unknown_flags_rejected", "--json", "--no-vectors", "--out", tmp_path)
    assert code == 0
    assert [o["variant"] for o in json.loads(out)] == ["v2", "all-fixes"]


@pytest.mark.parametrize("argv, field", [
    (("--property", "flow.fifo"), "--property"),
    (("--property", "no.such"), "--property"),
    (("--width", "33"), "--width"),
    (("--timeout", "0"), "--timeout"),
    (("--variant", "no-such-variant"), "variant"),
])
def test_prove_bad_input_exits_2_with_one_line(bufring_cli, tmp_path, argv, field):
    code, out, err = bufring_cli("prove", *argv, "--out", tmp_path)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and field in err


def test_prove_table_names_lemmas_and_the_vectors_file(bufring_cli, tmp_path):
    code, out, _ = bufring_cli("prove", "--property", "ring.buf_id_fits", "--no-vectors", "--out", tmp_path)
    assert code == 0
    assert "ring.ids_below_nbufs" in out and "1..65535" in out
