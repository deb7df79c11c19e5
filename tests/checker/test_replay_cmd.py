"""``bufring replay`` through ``checker.cli.main`` (TRACE-FORMAT "Machine-readable
replay output" and "Errors"): output shape, exit codes 0/1/2, streams, variants.
"""
from __future__ import annotations

import json

import pytest

HEADERS, PAYLOAD, BUF = 0x10000, 0x1000000, 131072
HEADER = {"trace": 1, "variant": "v2", "config": {"nr_queues": 1, "max_payload_sz": BUF,
                                                  "max_background": 12, "counter_bits": 32,
                                                  "counter_start": 0, "fetch_on_register": False}}
REG = {"op": "register", "qid": 0, "flags": 1, "buf_index": 1, "queue_depth": 2,
       "buf_size": BUF, "headers": [HEADERS, 576], "payload": [PAYLOAD, 2 * BUF]}
REQ = {"op": "request", "qid": 0, "unique": 7, "payload": True}
COMMIT = {"op": "commit", "qid": 0, "commit_id": 7}

OBS_REG = {"ret": 0, "ent": 0, "dispatched": [], "recycled": [], "warnings": []}
OBS_REQ = {"via": "ring", "queued": False,
           "dispatched": [{"ent": 0, "unique": 7, "buf_id": 0, "payload_addr": PAYLOAD,
                           "header_addr": HEADERS + 288}],
           "recycled": [], "warnings": []}
OBS_COMMIT = {"ret": 0, "dispatched": [], "recycled": [0], "warnings": []}

NOBUF_VARIANT = '''\
from bufring.model.variant import V2


def never_a_buffer(bufring, bits):
    return None


NOBUF = V2.derive("nobuf", "a ring that never has a free buffer", ring_select=never_a_buffer)
'''


def with_expect(step, **expect):
    return {**step, "expect": expect}


def json_lines(text):
    return [json.loads(line) for line in text.splitlines()]


def assert_one_error_line(code, out, err, *parts):
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.endswith("\n")
    for part in parts:
        assert part in err, (part, err)


@pytest.fixture
def variant_file(tmp_path):
    def write(text, name="my_variant.py"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)
    return write


# --- output shape, exit 0 ----------------------------------------------------------------------

def test_replay_json_prints_one_object_per_step_with_line_op_and_observation(bufring_cli, trace_file):
    path = trace_file("ok.jsonl", "# comment", HEADER, "", REG, REQ, COMMIT)
    code, out, err = bufring_cli("replay", path, "--json")
    assert (code, err) == (0, "")
    assert json_lines(out) == [
        {"line": 4, "op": "register", "observation": OBS_REG},
        {"line": 5, "op": "request", "observation": OBS_REQ},
        {"line": 6, "op": "commit", "observation": OBS_COMMIT},
    ]
    assert all(list(obj) == ["line", "op", "observation"] for obj in json_lines(out))


def test_replay_json_with_every_expect_matching_exits_0(bufring_cli, trace_file):
    path = trace_file("ok.jsonl", HEADER, with_expect(REG, **OBS_REG), with_expect(REQ, **OBS_REQ),
                      with_expect(COMMIT, ret=0, recycled=[0]))
    code, out, err = bufring_cli("replay", path, "--json")
    assert (code, err) == (0, "")
    assert len(json_lines(out)) == 3


def test_replay_json_of_a_failed_register_omits_ent(bufring_cli, trace_file):
    path = trace_file("bad_reg.jsonl", {**REG, "queue_depth": 0})
    code, out, _ = bufring_cli("replay", path, "--json")
    assert code == 0
    assert json_lines(out) == [{"line": 1, "op": "register", "observation": {
        "ret": -22, "dispatched": [], "recycled": [], "warnings": []}}]


def test_replay_table_output_exits_0_and_names_the_file(bufring_cli, trace_file):
    path = trace_file("ok.jsonl", HEADER, REG, with_expect(REQ, queued=False), COMMIT)
    code, out, err = bufring_cli("replay", path)
    assert (code, err) == (0, "")
    assert "ok.jsonl" in out and "register" in out and "commit" in out


def test_replay_of_two_files_tags_each_json_object_with_its_file(bufring_cli, trace_file):
    a = trace_file("a.jsonl", REG)
    b = trace_file("b.jsonl", REG, REQ)
    code, out, _ = bufring_cli("replay", a, b, "--json")
    assert code == 0
    assert [(o["file"], o["line"], o["op"]) for o in json_lines(out)] == [
        (a, 1, "register"), (b, 1, "register"), (b, 2, "request")]


# --- mismatch, exit 1 ----------------------------------------------------------------------------

def test_replay_mismatch_prints_steps_up_to_it_and_names_file_line_and_key(bufring_cli, trace_file):
    path = trace_file("mis.jsonl", HEADER, REG, with_expect(REQ, queued=True), COMMIT)
    code, out, err = bufring_cli("replay", path, "--json")
    assert code == 1
    assert json_lines(out) == [
        {"line": 2, "op": "register", "observation": OBS_REG},
        {"line": 3, "op": "request", "observation": OBS_REQ},
    ]
    assert err == f"bufring: {path}:3: queued: expected true, observed false\n"


def test_replay_mismatch_in_a_dispatched_object_names_dispatched(bufring_cli, trace_file):
    wrong = [{**OBS_REQ["dispatched"][0], "buf_id": 1}]
    path = trace_file("mis.jsonl", REG, with_expect(REQ, dispatched=wrong))
    code, out, err = bufring_cli("replay", path, "--json")
    assert code == 1 and len(json_lines(out)) == 2
    assert err.startswith(f"bufring: {path}:2: dispatched: ") and err.count("\n") == 1


def test_replay_table_mismatch_exits_1_with_one_stderr_line(bufring_cli, trace_file):
    path = trace_file("mis.jsonl", REG, with_expect(REQ, via="dev"))
    code, out, err = bufring_cli("replay", path)
    assert code == 1
    assert err == f'bufring: {path}:2: via: expected "dev", observed "ring"\n'
    assert "MISMATCH" in out


# --- invalid input, exit 2, nothing on stdout --------------------------------------------------------

@pytest.mark.parametrize("bad_line, line, field", [
    ('{"op": "request", "qid": 0,', 3, None),
    ({"op": "fetch", "qid": 0}, 3, "op"),
    ({**REQ, "unique": 0}, 3, "unique"),
    ({**REQ, "qid": 70000}, 3, "qid"),
    ({**REQ, "payload": 1}, 3, "payload"),
    ({**REQ, "extra": 1}, 3, "extra"),
    (HEADER, 3, "trace"),
])
def test_replay_of_an_invalid_trace_exits_2_with_one_line_and_no_stdout(bufring_cli, trace_file,
                                                                         bad_line, line, field):
    path = trace_file("bad.jsonl", HEADER, REG, bad_line)
    code, out, err = bufring_cli("replay", path, "--json")
    assert_one_error_line(code, out, err, f"{path}:{line}: ", *([f": {field}: "] if field else []))


def test_replay_of_a_unique_in_use_found_by_running_prints_nothing(bufring_cli, trace_file):
    path = trace_file("reuse.jsonl", HEADER, REG, REQ, REQ)
    code, out, err = bufring_cli("replay", path, "--json")
    assert_one_error_line(code, out, err, f"{path}:4: unique: ")


def test_replay_of_a_ring_breaking_the_counter_rule_names_the_header(bufring_cli, trace_file):
    header = {**HEADER, "config": {**HEADER["config"], "counter_bits": 1}}
    path = trace_file("ctr.jsonl", header, REG)
    code, out, err = bufring_cli("replay", path, "--json")
    assert_one_error_line(code, out, err, f"{path}:1: config.counter_bits: ")


def test_replay_of_a_unique_in_use_after_a_mismatch_still_exits_2(bufring_cli, trace_file):
    path = trace_file("reuse.jsonl", HEADER, REG, with_expect(REQ, queued=True), REQ)
    code, out, err = bufring_cli("replay", path, "--json")
    assert_one_error_line(code, out, err, f"{path}:4: unique: ")


def test_replay_reads_every_file_before_printing_anything(bufring_cli, trace_file):
    good = trace_file("good.jsonl", REG, REQ)
    broken = trace_file("broken.jsonl", REG, {**REQ, "unique": -1})
    code, out, err = bufring_cli("replay", good, broken, "--json")
    assert_one_error_line(code, out, err, f"{broken}:2: unique: ")


def test_replay_of_a_missing_file_exits_2(bufring_cli, tmp_path):
    code, out, err = bufring_cli("replay", tmp_path / "none.jsonl", "--json")
    assert_one_error_line(code, out, err, "none.jsonl", "no such file")


def test_replay_without_a_file_exits_2(bufring_cli):
    code, out, err = bufring_cli("replay", "--json")
    assert_one_error_line(code, out, err)


def test_replay_with_an_unknown_flag_exits_2(bufring_cli, trace_file):
    code, out, err = bufring_cli("replay", trace_file("t.jsonl", REG), "--jsn")
    assert_one_error_line(code, out, err, "--jsn")


def test_replay_of_a_trace_naming_an_unknown_variant_names_its_header(bufring_cli, trace_file):
    path = trace_file("v.jsonl", {**HEADER, "variant": "v9"}, REG)
    code, out, err = bufring_cli("replay", path, "--json")
    assert_one_error_line(code, out, err, f"{path}:1: variant: ", "v9")


# --- variants -----------------------------------------------------------------------------------

def test_replay_variant_override_replaces_the_traces_variant(bufring_cli, trace_file, variant_file):
    spec = variant_file(NOBUF_VARIANT) + ":NOBUF"
    path = trace_file("t.jsonl", HEADER, REG, REQ)
    code, out, err = bufring_cli("replay", path, "--json", "--variant", spec)
    assert (code, err) == (0, "")
    assert json_lines(out)[1]["observation"] == {"via": "ring", "queued": True, "dispatched": [],
                                                 "recycled": [], "warnings": []}


def test_replay_variant_v2_overrides_a_user_variant_named_in_the_header(bufring_cli, trace_file, variant_file):
    spec = variant_file(NOBUF_VARIANT) + ":NOBUF"
    path = trace_file("t.jsonl", {**HEADER, "variant": spec}, REG, with_expect(REQ, queued=True))
    assert bufring_cli("replay", path, "--json")[0] == 0           # the header's own variant
    code, out, err = bufring_cli("replay", path, "--json", "--variant", "v2")
    assert code == 1 and err == f"bufring: {path}:3: queued: expected true, observed false\n"


def test_replay_with_an_unknown_variant_name_exits_2(bufring_cli, trace_file):
    code, out, err = bufring_cli("replay", trace_file("t.jsonl", REG), "--variant", "v9")
    assert_one_error_line(code, out, err, "variant", "v9")


@pytest.mark.parametrize("text, name, parts", [
    ("x = 1\n\ndef broken(:\n    pass\n", "NOBUF", [":3: variant: ", "syntax error"]),
    ("from bufring.model.variant import V2\nOTHER = V2\n", "NOBUF", ["variant: ", "NOBUF"]),
    ("NOBUF = 5\n", "NOBUF", ["variant: ", "not a Variant"]),
    ("import os\nraise RuntimeError('boom')\n", "NOBUF", [":2: variant: ", "RuntimeError", "boom"]),
    (NOBUF_VARIANT, "1NOBUF", ["variant: "]),
])
def test_replay_with_a_bad_variant_file_exits_2_with_one_line(bufring_cli, trace_file, variant_file,
                                                              text, name, parts):
    spec = variant_file(text) + ":" + name
    code, out, err = bufring_cli("replay", trace_file("t.jsonl", REG), "--variant", spec)
    assert_one_error_line(code, out, err, spec.rpartition(":")[0], *parts)


def test_replay_with_a_missing_variant_file_exits_2(bufring_cli, trace_file, tmp_path):
    spec = f"{tmp_path / 'gone.py'}:NOBUF"
    code, out, err = bufring_cli("replay", trace_file("t.jsonl", REG), "--variant", spec)
    assert_one_error_line(code, out, err, "gone.py", "no such file")
