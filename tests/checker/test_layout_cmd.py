"""``bufring layout`` (checker/cli/layout.py): exit codes, the JSON object, the
readable summary, and bad flags (exit 2, one stderr line, nothing on stdout)."""
from __future__ import annotations

import io
import json

import pytest

from bufring.checker.cli import main
from bufring.model.uapi import MAX_RW_COUNT, REQ_HEADER_SZ

GOOD = ["layout", "--queue-depth", "4", "--buf-size", "131072",
        "--headers", "0x10000:1152", "--payload", "0x1000000:0x80000"]


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, out, err)
    return code, out.getvalue(), err.getvalue()


def run_json(argv: list[str]) -> tuple[int, dict]:
    code, out, err = run(argv + ["--json"])
    assert err == ""
    lines = out.splitlines()
    assert len(lines) == 1, out
    return code, json.loads(lines[0])


def replace_flag(argv: list[str], flag: str, value: str) -> list[str]:
    argv = list(argv)
    argv[argv.index(flag) + 1] = value
    return argv


# --- exit codes and the JSON object -----------------------------------------------------

def test_accepted_layout_exits_0_with_buffers_and_header_slots():
    code, obj = run_json(GOOD)
    assert code == 0
    assert (obj["ret"], obj["accepted"], obj["errno"], obj["rule"]) == (0, True, None, None)
    assert obj["nbufs"] == 4
    assert obj["buffers"] == [[0x1000000 + i * 0x20000, 0x1000000 + (i + 1) * 0x20000]
                              for i in range(4)]
    assert obj["header_slots"] == [0x10000, 0x10120, 0x10240, 0x10360]
    assert obj["warnings"] == []


def test_json_object_has_every_documented_key():
    _, obj = run_json(GOOD)
    assert set(obj) == {"ret", "accepted", "errno", "rule", "checked", "queue_created",
                        "variant", "mode",
                        "inputs", "max_payload_sz", "headers_size", "payload_size", "nbufs",
                        "buffers", "header_slots", "ent", "unused", "warnings"}
    assert obj["inputs"] == {"flags": 1, "queue_depth": 4, "buf_size": 131072,
                             "headers": [0x10000, 1152], "payload": [0x1000000, 0x80000],
                             "buf_index": 0, "qid": 0, "nr_queues": 1}
    assert (obj["variant"], obj["mode"], obj["max_payload_sz"]) == ("v2", "bufring", 131072)
    assert obj["unused"] == {"headers_trailing": 0, "headers_capped": 0, "payload_trailing": 0,
                             "payload_capped": 0, "buffer_tails": 0, "total": 0}
    assert obj["ent"] == {"id": 0, "header_slot": 0x10000}


def test_rejected_layout_exits_1_and_names_the_rule_with_its_section():
    code, obj = run_json(replace_flag(GOOD, "--headers", "0x10000:1151"))
    assert code == 1
    assert (obj["ret"], obj["accepted"], obj["errno"]) == (-22, False, "EINVAL")
    assert obj["rule"] == {"name": "bufring.headers_too_small", "errno": "EINVAL",
                           "text": "headers_size < queue_depth * sizeof(struct fuse_uring_req_header)",
                           "section": "§3.3 step 3d", "kernel": "fuse_uring_bufring_setup"}
    assert obj["checked"][-1] == "bufring.headers_too_small"
    assert obj["queue_created"] is False
    assert (obj["nbufs"], obj["buffers"], obj["header_slots"], obj["unused"]) == (None, [], [], None)


def test_efault_rejection_reports_ret_minus_14():
    code, obj = run_json(replace_flag(GOOD, "--payload", "0x7fffffff0000:0x20000"))
    assert (code, obj["ret"], obj["errno"], obj["rule"]["name"]) == (
        1, -14, "EFAULT", "iovec.payload_not_user")


def test_legacy_layout_exits_0_with_null_nbufs_and_empty_lists():
    code, obj = run_json(["layout", "--flags", "0", "--queue-depth", "0", "--buf-size", "0",
                          "--headers", "0x10000:288", "--payload", "0x1000000:131072"])
    assert code == 0
    assert (obj["mode"], obj["nbufs"], obj["buffers"], obj["header_slots"]) == (
        "legacy", None, [], [])
    assert obj["ent"] == {"header": 0x10000, "payload": [0x1000000, 0x1000000 + 131072]}


def test_legacy_rejection_exits_1():
    code, obj = run_json(["layout", "--flags", "0x0", "--queue-depth", "1", "--buf-size", "1",
                          "--headers", "0x10000:287", "--payload", "0x1000000:131072"])
    assert (code, obj["rule"]["name"]) == (1, "ent.legacy_headers_too_small")


def test_unknown_flag_bit_exits_1_from_the_gate():
    code, obj = run_json(GOOD + ["--flags", "0x3"])
    assert (code, obj["rule"]["name"], obj["checked"]) == (
        1, "register.unknown_flags", ["register.qid_range", "register.unknown_flags"])


def test_buf_index_and_max_payload_sz_flags_reach_the_rules():
    code, obj = run_json(GOOD + ["--buf-index", "4"])
    assert (code, obj["rule"]["name"], obj["queue_created"]) == (1, "ent.buf_index_range", True)
    code, obj = run_json(GOOD + ["--max-payload-sz", "0x20001"])
    assert (code, obj["rule"]["name"]) == (1, "bufring.buf_size_too_small")


def test_json_lists_all_65535_buffers():
    code, obj = run_json(["layout", "--queue-depth", "1", "--buf-size", "8192",
                          "--max-payload-sz", "8192", "--headers", "0x10000:288",
                          "--payload", f"0x40000000:{65535 * 8192}"])
    assert code == 0
    assert len(obj["buffers"]) == obj["nbufs"] == 65535
    assert obj["buffers"][-1] == [0x40000000 + 65534 * 8192, 0x40000000 + 65535 * 8192]


def test_warnings_carry_code_and_message():
    argv = replace_flag(replace_flag(GOOD, "--payload", "0:0x60000"), "--headers", "0x10000000:1152")
    code, obj = run_json(argv)
    assert code == 0
    assert [w["code"] for w in obj["warnings"]] == [
        "payload_base_zero", "nbufs_not_power_of_two", "nbufs_below_queue_depth"]
    assert all(isinstance(w["message"], str) and w["message"] for w in obj["warnings"])


def test_cap_starving_the_payload_is_rejected_with_the_cap_warning():
    code, obj = run_json(["layout", "--queue-depth", "1", "--buf-size", "131072",
                          "--headers", f"0x10000:{MAX_RW_COUNT - 131071}",
                          "--payload", "0x10000000000:0x100000"])
    assert (code, obj["rule"]["name"], obj["payload_size"]) == (1, "bufring.nr_bufs_range", 131071)
    assert [w["code"] for w in obj["warnings"]] == ["payload_len_capped"]


# --- the readable summary --------------------------------------------------------------------

def test_summary_of_an_accepted_layout_shows_nbufs_buffers_and_slots():
    code, out, err = run(GOOD)
    assert (code, err) == (0, "")
    assert "ACCEPTED" in out and "nbufs 4" in out
    assert "0x1060000" in out            # buffer 3's start
    assert "0x10360" in out              # header slot 3


def test_summary_of_a_rejected_layout_names_rule_text_and_section():
    code, out, _ = run(replace_flag(GOOD, "--buf-size", "131071"))
    assert code == 1
    assert "REJECTED" in out and "-EINVAL" in out
    assert "bufring.buf_size_too_small" in out
    assert "buf_size < ring->max_payload_sz" in out
    assert "§3.3 step 3e" in out


def test_summary_lists_many_buffers_compactly_with_an_ellipsis():
    code, out, _ = run(["layout", "--queue-depth", "1", "--buf-size", "8192",
                        "--max-payload-sz", "8192", "--headers", "0x10000:288",
                        "--payload", f"0x40000000:{1000 * 8192}"])
    assert code == 0
    assert "…" in out
    assert "999" in out and f"{0x40000000 + 999 * 8192:#x}" in out     # the last buffer
    assert f"{0x40000000 + 500 * 8192:#x}" not in out                   # one from the middle
    assert len(out.splitlines()) < 60


def test_summary_of_an_entry_rejection_says_the_queue_was_still_created():
    code, out, _ = run(GOOD + ["--buf-index", "7"])
    assert code == 1
    assert "ent.buf_index_range" in out and "queue 0 was still created" in out


def test_summary_shows_warning_codes():
    _, out, _ = run(replace_flag(GOOD, "--headers", "0x10004:1152"))
    assert "headers_unaligned" in out


# --- variants --------------------------------------------------------------------------------

def test_variant_from_a_users_file_applies_its_extra_rule(tmp_path):
    path = tmp_path / "fix.py"
    path.write_text(
        "from bufring.model.cint import U64\n"
        "from bufring.model.errno import Errno\n"
        "from bufring.model.rules import BUFRING_SETUP_RULES, Rule\n"
        "from bufring.model.variant import V2\n"
        "NULL = Rule('fix.payload_base_null', Errno.EINVAL, 'fuse_uring_bufring_setup', '§10',\n"
        "            'iov[1].iov_base is NULL', lambda c, p: c.eq(p.payload_base, c.const(0, U64)))\n"
        "FIX = V2.derive('null-payload', 'reject NULL', bufring_setup_rules=BUFRING_SETUP_RULES + (NULL,))\n")
    argv = replace_flag(GOOD, "--payload", "0:0x80000") + ["--variant", f"{path}:FIX"]
    code, obj = run_json(argv)
    assert (code, obj["variant"], obj["rule"]["name"], obj["rule"]["section"]) == (
        1, "null-payload", "fix.payload_base_null", "§10")


# --- bad input: exit 2, one line on stderr naming the flag, nothing on stdout ---------------------

@pytest.mark.parametrize("flag, value", [
    ("--queue-depth", "-1"),
    ("--queue-depth", "four"),
    ("--queue-depth", "65536"),
    ("--queue-depth", "0x10000"),
    ("--buf-size", "4294967296"),
    ("--buf-size", "1.5"),
    ("--buf-index", "65536"),
    ("--flags", str(1 << 64)),
    ("--flags", "-1"),
    ("--max-payload-sz", "0x10000000000000000"),
    ("--headers", "0x10000"),
    ("--headers", "0x10000:"),
    ("--headers", ":288"),
    ("--headers", "1:2:3"),
    ("--headers", "-1:288"),
    ("--headers", "0x10000:0x10000000000000000"),
    ("--payload", "0x10000000000000000:1"),
    ("--payload", "x:1"),
    ("--payload", "1:-5"),
])
def test_bad_flag_value_exits_2_with_one_stderr_line_naming_the_flag(flag, value):
    argv = GOOD + [flag, value] if flag not in GOOD else replace_flag(GOOD, flag, value)
    for json_flag in ([], ["--json"]):
        code, out, err = run(argv + json_flag)
        assert code == 2
        assert out == ""
        assert len(err.splitlines()) == 1, err
        assert flag in err


def test_missing_required_flag_exits_2_naming_it():
    code, out, err = run(["layout", "--queue-depth", "1", "--buf-size", "131072",
                          "--headers", "0x10000:288"])
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1 and "--payload" in err


def test_unknown_variant_exits_2_with_one_line():
    code, out, err = run(GOOD + ["--variant", "nosuch", "--json"])
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1 and "nosuch" in err


def test_largest_values_of_each_c_type_are_not_bad_input():
    code, obj = run_json(["layout", "--queue-depth", "0xffff", "--buf-size", "0xffffffff",
                          "--buf-index", "0xffff", "--flags", str((1 << 64) - 1),
                          "--max-payload-sz", str((1 << 64) - 1),
                          "--headers", f"{(1 << 64) - 1}:{(1 << 64) - 1}",
                          "--payload", f"0:{REQ_HEADER_SZ}"])
    assert (code, obj["rule"]["name"]) == (1, "register.unknown_flags")
