"""Boundary vectors of the REGISTER rules (``checker.smt.vectors``) on v2."""
from __future__ import annotations

import json

import pytest
from bufring.checker.smt.vectors import fields_read, register_vectors, write_vectors
from bufring.model import rules
from bufring.model.actions import Register
from bufring.model.config import Config
from bufring.model.system import next_state
from bufring.model.state import INITIAL_STATE, get_queue
from bufring.model.traces import parse_config
from bufring.model.variant import V2

FAST_LISTS = ("gate_rules", "ent_bufring_rules")


@pytest.fixture(scope="module")
def vectors():
    """The vectors of the gate and entry rules (the setup rules' are in the slow test)."""
    return register_vectors(V2, 5.0, lists=FAST_LISTS)


def pairs(vectors, rule):
    out = []
    for a, r in zip(vectors[::2], vectors[1::2]):
        assert (a["side"], r["side"]) == ("accepted", "rejected") and a["rule"] == r["rule"]
        if a["rule"] == rule:
            out.append((a, r))
    return out


def test_every_vector_has_exactly_the_documented_keys(vectors):
    for v in vectors:
        assert set(v) == {"rule", "side", "config", "register", "expect"}
        assert set(v["register"]) == {"qid", "flags", "buf_index", "queue_depth", "buf_size",
                                      "headers", "payload"}
        assert set(v["expect"]) == {"ret", "nbufs"}
        parse_config(v["config"], "vector", 1)           # a full TRACE-FORMAT config


def test_every_vector_replays_on_the_model_with_its_expected_return_and_layout(vectors):
    for v in vectors:
        cfg = Config(**v["config"])
        reg = Register(**{**v["register"], "headers": tuple(v["register"]["headers"]),
                          "payload": tuple(v["register"]["payload"])})
        state, obs = next_state(V2, cfg, INITIAL_STATE, reg)
        q = get_queue(state, reg.qid)
        nbufs = q.bufring.nbufs if obs.ret == 0 and q is not None and q.bufring is not None else None
        assert {"ret": obs.ret, "nbufs": nbufs} == v["expect"], v


def test_every_gate_and_entry_rule_has_a_boundary_pair(vectors):
    assert {v["rule"] for v in vectors} == {r.name for r in V2.gate_rules + V2.ent_bufring_rules}


@pytest.mark.slow
def test_every_v2_rule_has_a_boundary_pair_that_replays():
    every = register_vectors(V2, 5.0)
    names = {r.name for r in V2.gate_rules + V2.bufring_setup_rules + V2.ent_bufring_rules
             + V2.ent_legacy_rules}
    assert {v["rule"] for v in every} == names
    test_every_vector_has_exactly_the_documented_keys(every)
    test_every_vector_replays_on_the_model_with_its_expected_return_and_layout(every)
    test_a_rejected_vector_returns_its_rules_errno(every)
    assert any(a["expect"]["nbufs"] == 65535 for a, _ in pairs(every, "bufring.nr_bufs_range"))
    lens = {(a["register"]["headers"][1], r["register"]["headers"][1])
            for a, r in pairs(every, "bufring.headers_too_small")
            if a["register"]["queue_depth"] == r["register"]["queue_depth"] == 2}
    assert lens == {(576, 575)}


def test_a_rejected_vector_returns_its_rules_errno(vectors):
    errno = {r.name: -int(r.errno) for r in rules.GATE_RULES + rules.BUFRING_SETUP_RULES
             + rules.ENT_BUFRING_RULES + rules.ENT_LEGACY_RULES}
    for v in vectors:
        if v["side"] == "rejected":
            assert v["expect"]["ret"] == errno[v["rule"]], v


def test_buf_index_boundary_is_queue_depth(vectors):
    got = {(a["register"]["buf_index"], r["register"]["buf_index"], a["register"]["queue_depth"])
           for a, r in pairs(vectors, "ent.buf_index_range")
           if a["register"]["queue_depth"] == r["register"]["queue_depth"]}
    assert (1, 2, 2) in got


def test_fields_read_names_what_each_rule_reads():
    by_name = {r.name: r for r in rules.BUFRING_SETUP_RULES + rules.ENT_BUFRING_RULES}
    assert fields_read(by_name["bufring.headers_too_small"]) == ["queue_depth", "headers_len"]
    assert fields_read(by_name["ent.buf_index_range"]) == ["buf_index", "queue_depth"]


def test_vectors_file_is_a_json_list(tmp_path, vectors):
    path = write_vectors(tmp_path / "v2" / "register-vectors.json", vectors)
    assert json.loads(path.read_text()) == vectors
