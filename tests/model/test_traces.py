"""Traces (model/traces.py, TRACE-FORMAT v1): round trips, and the reader's
strictness. Every invalid trace is one BadInput naming file, line and field.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bufring.model.actions import Commit, Register, Request
from bufring.model.config import Config
from bufring.model.errors import BadInput
from bufring.model.system import next_state
from bufring.model.state import INITIAL_STATE
from bufring.model.traces import (expect_of, format_trace, parse_trace, read_trace, run_trace,
                                  write_trace)
from bufring.model.variant import V2
from modelkit import BUF, HDR, HEADERS, PAYLOAD, breg, commit, lreg

SRC = "t.jsonl"
HEADER = {"trace": 1, "variant": "v2", "config": {"nr_queues": 1}}
REG = {"op": "register", "qid": 0, "flags": 1, "queue_depth": 2, "buf_size": BUF,
       "headers": [HEADERS, 2 * HDR], "payload": [PAYLOAD, 2 * BUF]}
REQ = {"op": "request", "qid": 0, "unique": 1, "payload": True}
COMMIT = {"op": "commit", "qid": 0, "commit_id": 1}


def lines(*objs) -> list[str]:
    """Trace lines: dicts are dumped as JSON, strings are taken as they are."""
    return [o if isinstance(o, str) else json.dumps(o) for o in objs]


def bad(*objs) -> BadInput:
    with pytest.raises(BadInput) as e:
        trace = parse_trace(lines(*objs), SRC)
        run_trace(trace, V2)
    return e.value


def assert_names(e: BadInput, line: int, field: str):
    assert (e.source, e.line, e.field) == (SRC, line, field)
    assert str(e).startswith(f"{SRC}:{line}: {field}: ")


def replace(obj: dict, **kw) -> dict:
    out = dict(obj)
    out.update(kw)
    return out


# --- round trips -------------------------------------------------------------------------------

def test_written_trace_reads_back_with_the_same_config_variant_steps_and_lines(tmp_path):
    cfg = Config(nr_queues=2, max_payload_sz=8192, max_background=3, counter_bits=5,
                 counter_start=7, fetch_on_register=True)
    actions = [breg(qid=1, buf_size=8192, nbufs=3), lreg(qid=0, headers=0, payload=0),
               Request(qid=1, unique=(1 << 64) - 1, payload=False, background=True, opcode="READ"),
               Commit(qid=1, commit_id=(1 << 64) - 1, reply_error=-(1 << 31))]
    expects = [{"ret": 0, "ent": 0}, None, {"via": "dev", "dispatched": []}, {"ret": -2}]
    path = tmp_path / "sub" / "run.jsonl"
    write_trace(path, "v2", cfg, list(zip(actions, expects)), comments=["first", "second"])
    trace = read_trace(path)
    assert (trace.variant, trace.config, trace.header_line) == ("v2", cfg, 3)
    assert [s.action for s in trace.steps] == actions
    assert [s.expect for s in trace.steps] == expects
    assert [s.line for s in trace.steps] == [4, 5, 6, 7]
    assert not list(tmp_path.rglob("*.tmp"))


def test_trace_without_header_uses_every_default():
    trace = parse_trace(lines(REG), SRC)
    assert (trace.variant, trace.config, trace.header_line) == (None, Config(), None)


def test_blank_and_comment_lines_count_in_line_numbers():
    trace = parse_trace(["# c", "", json.dumps(HEADER), "   ", "  # x", json.dumps(REG)], SRC)
    assert trace.header_line == 3 and trace.steps[0].line == 6


u16, u32, u64 = (st.integers(0, (1 << b) - 1) for b in (16, 32, 64))
actions = st.one_of(
    st.builds(Register, qid=u16, flags=u64, buf_index=u16, queue_depth=u16, buf_size=u32,
              headers=st.tuples(u64, u64), payload=st.tuples(u64, u64)),
    st.builds(Request, qid=u16, unique=st.integers(1, (1 << 64) - 1), payload=st.booleans(),
              background=st.booleans(), opcode=st.one_of(st.none(), st.text(max_size=8))),
    st.builds(Commit, qid=u16, commit_id=u64, reply_error=st.integers(-(1 << 31), (1 << 31) - 1)))
configs = st.builds(Config, nr_queues=st.integers(1, (1 << 32) - 1), max_payload_sz=u64,
                    max_background=u32, counter_bits=st.just(32), counter_start=u32,
                    fetch_on_register=st.booleans())


@settings(max_examples=50, deadline=None)
@given(cfg=configs, steps=st.lists(actions, min_size=1, max_size=8), variant=st.one_of(st.none(), st.text(max_size=5)))
def test_format_then_parse_gives_the_same_actions_and_config(cfg, steps, variant):
    text = format_trace(variant, cfg, [(a, None) for a in steps])
    trace = parse_trace(text.splitlines(), SRC)
    assert (trace.variant, trace.config) == (variant, cfg)
    assert [s.action for s in trace.steps] == steps


@st.composite
def model_runs(draw):
    """A valid run: a config, REGISTERs then requests and commits, all on the model."""
    nr_queues = draw(st.integers(1, 2))
    bits = draw(st.integers(3, 32))
    nbufs = draw(st.integers(1, 5))
    cfg = Config(nr_queues=nr_queues, max_background=draw(st.integers(0, 3)), counter_bits=bits,
                 counter_start=draw(st.integers(max(0, (1 << bits) - nbufs - 4), (1 << bits) - nbufs)),
                 fetch_on_register=draw(st.booleans()))
    state, steps, unique, live = INITIAL_STATE, [], 1, []
    for qid in range(nr_queues):
        for i in range(draw(st.integers(1, 3))):
            if draw(st.booleans()):
                a = breg(qid=qid, buf_index=i, queue_depth=3, nbufs=nbufs,
                         payload=draw(st.sampled_from([0, PAYLOAD])))
            else:
                a = lreg(qid=qid, payload=draw(st.sampled_from([0, PAYLOAD])))
            if draw(st.integers(0, 5)) == 0:
                a = a._replace(buf_index=7, headers=(HEADERS, 1))          # a failing REGISTER
            steps.append(a)
    for _ in range(draw(st.integers(0, 25))):
        if live and draw(st.booleans()):
            qid, u = draw(st.sampled_from(live))
            steps.append(commit(u, qid=qid))
        else:
            steps.append(Request(qid=draw(st.integers(0, nr_queues)), unique=unique,
                                 payload=draw(st.booleans()), background=draw(st.booleans())))
            unique += 1
        state, obs = next_state(V2, cfg, state, steps[-1])
        if isinstance(steps[-1], Request) and obs.via == "ring":
            qid = 0 if steps[-1].qid >= nr_queues else steps[-1].qid     # §5.1 fallback
            live.append((qid, steps[-1].unique))
        if isinstance(steps[-1], Commit) and obs.ret == 0:
            live.remove((steps[-1].qid, steps[-1].commit_id))
    return cfg, steps


def observations(cfg, steps):
    state, out = INITIAL_STATE, []
    for a in steps:
        state, obs = next_state(V2, cfg, state, a)
        out.append(obs)
    return out


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(run_=model_runs())
def test_run_formatted_with_expect_of_replays_with_no_mismatch(run_):
    cfg, steps = run_
    obs = observations(cfg, steps)
    text = format_trace("v2", cfg, [(a, expect_of(a, o)) for a, o in zip(steps, obs)])
    result = run_trace(parse_trace(text.splitlines(), SRC), V2)
    assert result.first_mismatch is None
    assert [r.observation for r in result.results] == obs


def test_expect_with_a_wrong_value_is_the_first_mismatch():
    trace = parse_trace(lines(REG, replace(REQ, expect={"queued": True}),
                              replace(REQ, unique=2)), SRC)
    result = run_trace(trace, V2)
    assert len(result.results) == 2
    assert result.first_mismatch.mismatch == ("queued", True, False)
    assert result.first_mismatch.step.line == 2


def test_expect_compares_only_the_keys_it_names():
    d_partial = {"dispatched": [{"buf_id": 0}], "warnings": []}
    trace = parse_trace(lines(REG, replace(REQ, expect=d_partial)), SRC)
    assert run_trace(trace, V2).first_mismatch is None


def test_expect_compares_warnings_as_a_set():
    cfg = {"trace": 1, "config": {"nr_queues": 1}}
    reg0 = replace(REG, payload=[0, 2 * BUF])
    trace = parse_trace(lines(cfg, reg0, replace(REQ, qid=3, expect={
        "warnings": ["payload_copy_null", "qid_out_of_range"]})), SRC)
    assert run_trace(trace, V2).first_mismatch is None


# --- strictness: one BadInput naming file, line and field ----------------------------------------------

@pytest.mark.parametrize("objs, line, field", [
    ((replace(HEADER, verison=1), REG), 1, "verison"),
    ((replace(HEADER, config={"nr_queue": 1}), REG), 1, "config.nr_queue"),
    ((replace(REG, buf_idx=1),), 1, "buf_idx"),
    ((REG, replace(REQ, expect={"ret": 0, "rett": 0})), 2, "expect.rett"),
    ((REG, replace(REQ, expect={"dispatched": [{"ent": 0, "buf": 0}]})), 2, "expect.dispatched[0].buf"),
])
def test_unknown_key_is_invalid(objs, line, field):
    assert_names(bad(*objs), line, field)


def test_duplicate_key_in_a_step_is_invalid():
    assert_names(bad(REG, '{"op": "request", "qid": 0, "qid": 0, "unique": 1, "payload": true}'),
                 2, "qid")


def test_duplicate_key_in_config_names_the_key():
    e = bad('{"trace": 1, "config": {"nr_queues": 1, "nr_queues": 2}}')
    assert e.line == 1 and "nr_queues" in str(e)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_or_infinity_is_invalid_and_names_its_field(constant):
    e = bad(REG, '{"op": "request", "qid": %s, "unique": 1, "payload": true}' % constant)
    assert_names(e, 2, "qid")


def test_nan_later_in_a_list_names_its_field():
    e = bad(json.dumps(REG).replace(f"[{PAYLOAD}, {2 * BUF}]", f"[{PAYLOAD}, NaN]"))
    assert (e.line, e.field) in ((1, "payload"), (1, "payload[1]"))


@pytest.mark.parametrize("text, field", [
    ('{"trace": 1, "config": {"nr_queues": 1, "nr_queues": 2}}', "config.nr_queues"),
    ('{"trace": 1, "config": {"nr_queues": NaN}}', "config.nr_queues"),
    ('{"op": "commit", "qid": 0, "commit_id": 1, "expect": {"ret": 0, "ret": 1}}', "expect.ret"),
], ids=["config-duplicate", "config-nan", "expect-duplicate"])
def test_duplicate_key_or_nan_in_a_nested_object_names_its_path(text, field):
    assert_names(bad(text), 1, field)


@pytest.mark.parametrize("objs, line, field", [
    ((replace(REG, qid=True),), 1, "qid"),
    ((replace(REG, flags=False),), 1, "flags"),
    ((replace(REG, headers=[True, 288]),), 1, "headers[0]"),
    ((REG, replace(REQ, unique=True)), 2, "unique"),
    ((REG, replace(COMMIT, reply_error=False)), 2, "reply_error"),
    ((replace(HEADER, config={"nr_queues": True}),), 1, "config.nr_queues"),
    ((replace(HEADER, trace=True),), 1, "trace"),
    ((REG, replace(REQ, expect={"ret": False})), 2, "expect.ret"),
    ((REG, replace(REQ, expect={"recycled": [True]})), 2, "expect.recycled"),
    ((REG, replace(REQ, expect={"dispatched": [{"ent": True}]})), 2, "expect.dispatched[0].ent"),
])
def test_true_or_false_where_an_integer_is_expected_is_invalid(objs, line, field):
    assert_names(bad(*objs), line, field)


@pytest.mark.parametrize("objs, line, field", [
    ((replace(REG, qid=0.0),), 1, "qid"),
    ((replace(REG, buf_size=1e3),), 1, "buf_size"),
    ((replace(REG, payload=[PAYLOAD, 2.5]),), 1, "payload[1]"),
    ((REG, replace(REQ, unique=1.5)), 2, "unique"),
    ((replace(HEADER, config={"counter_bits": 3.0}),), 1, "config.counter_bits"),
    ((replace(HEADER, trace=1.0),), 1, "trace"),
    ((REG, replace(COMMIT, expect={"ret": 0.0})), 2, "expect.ret"),
])
def test_float_is_invalid(objs, line, field):
    assert_names(bad(*objs), line, field)


@pytest.mark.parametrize("objs, line, field", [
    ((replace(REG, qid=-1),), 1, "qid"),
    ((replace(REG, qid=65536),), 1, "qid"),
    ((replace(REG, buf_index=65536),), 1, "buf_index"),
    ((replace(REG, queue_depth=65536),), 1, "queue_depth"),
    ((replace(REG, buf_size=1 << 32),), 1, "buf_size"),
    ((replace(REG, flags=1 << 64),), 1, "flags"),
    ((replace(REG, headers=[-1, 288]),), 1, "headers[0]"),
    ((replace(REG, payload=[PAYLOAD, 1 << 64]),), 1, "payload[1]"),
    ((REG, replace(REQ, unique=1 << 64)), 2, "unique"),
    ((REG, replace(REQ, unique=-5)), 2, "unique"),
    ((REG, replace(COMMIT, commit_id=-1)), 2, "commit_id"),
    ((REG, replace(COMMIT, reply_error=1 << 31)), 2, "reply_error"),
    ((REG, replace(COMMIT, reply_error=-(1 << 31) - 1)), 2, "reply_error"),
    ((replace(HEADER, config={"nr_queues": 0}),), 1, "config.nr_queues"),
    ((replace(HEADER, config={"nr_queues": 1 << 32}),), 1, "config.nr_queues"),
    ((replace(HEADER, config={"max_background": -1}),), 1, "config.max_background"),
    ((replace(HEADER, config={"max_payload_sz": 1 << 64}),), 1, "config.max_payload_sz"),
    ((replace(HEADER, config={"counter_bits": 0}),), 1, "config.counter_bits"),
    ((replace(HEADER, config={"counter_bits": 33}),), 1, "config.counter_bits"),
    ((replace(HEADER, config={"counter_bits": 3, "counter_start": 8}),), 1, "config.counter_start"),
    ((replace(HEADER, config={"fetch_on_register": 1}),), 1, "config.fetch_on_register"),
])
def test_value_outside_its_c_type_is_invalid(objs, line, field):
    assert_names(bad(*objs), line, field)


def test_largest_values_of_each_c_type_are_valid():
    trace = parse_trace(lines(replace(REG, qid=65535, flags=(1 << 64) - 1, buf_size=(1 << 32) - 1,
                                      headers=[(1 << 64) - 1, (1 << 64) - 1]),
                              replace(REQ, unique=(1 << 64) - 1),
                              replace(COMMIT, reply_error=(1 << 31) - 1)), SRC)
    assert trace.steps[0].action.flags == (1 << 64) - 1


def test_unique_zero_is_invalid():
    assert_names(bad(REG, replace(REQ, unique=0)), 2, "unique")


def test_header_after_a_step_is_invalid():
    assert_names(bad(REG, HEADER), 2, "trace")


def test_second_header_is_invalid():
    assert_names(bad(HEADER, HEADER), 2, "trace")


@pytest.mark.parametrize("version", [0, 2, "1", None])
def test_trace_version_other_than_1_is_invalid(version):
    assert_names(bad(replace(HEADER, trace=version)), 1, "trace")


def test_header_config_that_is_not_an_object_is_invalid():
    assert_names(bad(replace(HEADER, config=[1])), 1, "config")


@pytest.mark.parametrize("obj, field", [
    ({"qid": 0, "unique": 1, "payload": True}, "op"),
    (replace(REQ, op="fetch"), "op"),
    (replace(REQ, op=7), "op"),
    ({k: v for k, v in REG.items() if k != "headers"}, "headers"),
    ({k: v for k, v in REG.items() if k != "qid"}, "qid"),
    ({k: v for k, v in REQ.items() if k != "payload"}, "payload"),
    ({k: v for k, v in COMMIT.items() if k != "commit_id"}, "commit_id"),
    (replace(REQ, payload=1), "payload"),
    (replace(REQ, opcode=3), "opcode"),
    (replace(REG, headers=[HEADERS]), "headers"),
    (replace(REG, headers={"base": 1, "len": 2}), "headers"),
    (replace(REQ, expect=[]), "expect"),
    (replace(REQ, expect={"via": "uring"}), "expect.via"),
    (replace(REQ, expect={"queued": 0}), "expect.queued"),
    (replace(REQ, expect={"warnings": [1]}), "expect.warnings"),
])
def test_step_with_missing_unknown_or_mistyped_argument_is_invalid(obj, field):
    assert_names(bad(REG, obj), 2, field)


@pytest.mark.parametrize("op", [["register"], {"name": "register"}])
def test_op_that_is_a_list_or_object_is_invalid(op):
    assert_names(bad(replace(REQ, op=op)), 1, "op")


def test_line_that_is_not_json_or_not_an_object_is_invalid():
    e = bad(REG, '{"op": "request",')
    assert (e.source, e.line) == (SRC, 2)
    e = bad(REG, "[1, 2]")
    assert (e.source, e.line) == (SRC, 2)


def test_unique_reused_while_its_request_is_queued_is_invalid():
    e = bad(replace(REG, queue_depth=1), REQ, replace(REQ, unique=2), replace(REQ, unique=2))
    assert_names(e, 4, "unique")


def test_unique_reused_while_its_request_is_in_user_space_is_invalid():
    assert_names(bad(REG, REQ, REQ), 3, "unique")


def test_unique_of_a_request_that_went_via_dev_is_never_reusable():
    cfg = replace(HEADER, config={"nr_queues": 2})
    assert_names(bad(cfg, REQ, REG, replace(REG, qid=1), REQ), 5, "unique")


def test_unique_is_reusable_once_its_commit_returned_0():
    trace = parse_trace(lines(REG, REQ, COMMIT, replace(REQ, expect={"queued": False})), SRC)
    assert run_trace(trace, V2).first_mismatch is None


def test_unique_stays_in_use_after_a_failed_commit():
    assert_names(bad(REG, REQ, replace(COMMIT, qid=1), REQ), 4, "unique")


@pytest.mark.parametrize("cfg, reg, field", [
    ({"counter_bits": 2}, replace(REG, payload=[PAYLOAD, 4 * BUF]), "config.counter_bits"),
    ({"counter_bits": 3, "counter_start": 6}, replace(REG, payload=[PAYLOAD, 3 * BUF]),
     "config.counter_start"),
])
def test_ring_breaking_the_counter_rule_is_invalid_and_names_the_header(cfg, reg, field):
    e = bad("# a comment", replace(HEADER, config=cfg), REQ, reg)
    assert_names(e, 2, field)
    assert "line 4" in e.message


def test_ring_exactly_filling_the_counter_width_is_valid():
    cfg = replace(HEADER, config={"counter_bits": 3, "counter_start": 5})
    trace = parse_trace(lines(cfg, replace(REG, payload=[PAYLOAD, 3 * BUF])), SRC)
    assert run_trace(trace, V2).results[0].observation.ret == 0


def test_failing_register_breaking_the_counter_rule_is_valid():
    # no ring is created, so the counter rule does not apply
    cfg = replace(HEADER, config={"counter_bits": 1})
    trace = parse_trace(lines(cfg, replace(REG, payload=[PAYLOAD, 4 * BUF], queue_depth=0)), SRC)
    assert run_trace(trace, V2).results[0].observation.ret == -22


def test_invalid_step_after_a_mismatch_is_still_found():
    e = bad(REG, replace(REQ, expect={"queued": True}), REQ)
    assert_names(e, 3, "unique")


def test_missing_file_is_invalid(tmp_path):
    with pytest.raises(BadInput) as e:
        read_trace(tmp_path / "nope.jsonl")
    assert e.value.source == str(tmp_path / "nope.jsonl")


def test_file_that_is_not_utf8_is_invalid(tmp_path):
    path = tmp_path / "bin.jsonl"
    path.write_bytes(b'{"op": "request"}\n\xff\xfe\n')
    with pytest.raises(BadInput) as e:
        read_trace(path)
    assert e.value.source == str(path)


@pytest.mark.parametrize("sep", ["\u2028", "\u0085"])
def test_unicode_line_separator_inside_a_json_string_is_not_a_line_break(tmp_path, sep):
    path = tmp_path / "sep.jsonl"
    path.write_text(json.dumps(REG) + "\n" + json.dumps(replace(REQ, opcode="a"), ensure_ascii=True)
                    .replace('"a"', f'"a{sep}b"') + "\n" + "{}\n", encoding="utf-8")
    with pytest.raises(BadInput) as e:
        run_trace(read_trace(path), V2)
    assert (e.value.line, e.value.field) == (3, "op")


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(run_=model_runs())
def test_run_formatted_with_expect_of_replays_with_no_mismatch_on_many_runs(run_):
    test_run_formatted_with_expect_of_replays_with_no_mismatch.hypothesis.inner_test(run_)
