"""``bufring variants``: the built-in variants, a user's variant file, bad files."""
from __future__ import annotations

import json

import pytest

from bufring.model.variant import V2

NOBUF_VARIANT = '''\
from bufring.model.variant import V2


def never_a_buffer(bufring, bits):
    return None


NOBUF = V2.derive("nobuf", "a ring that never has a free buffer", ring_select=never_a_buffer)
'''

V2_ROW = {"name": "v2", "doc": V2.doc, "source": "built-in", "hooks": []}


def test_variants_json_lists_v2_as_built_in_with_no_changed_hooks(bufring_cli):
    code, out, err = bufring_cli("variants", "--json")
    assert (code, err) == (0, "")
    assert out.count("\n") == 1
    rows = json.loads(out)["variants"]
    assert list(json.loads(out)) == ["variants"]
    assert rows[0] == V2_ROW
    assert all(set(r) == {"name", "doc", "source", "hooks"} for r in rows)


def test_variants_json_with_a_user_variant_file_adds_it_last_with_its_hooks(bufring_cli, tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(NOBUF_VARIANT, encoding="utf-8")
    code, out, err = bufring_cli("variants", "--json", "--variant", f"{path}:NOBUF")
    assert (code, err) == (0, "")
    rows = json.loads(out)["variants"]
    assert rows[-1] == {"name": "nobuf", "doc": "a ring that never has a free buffer",
                        "source": f"{path}:NOBUF", "hooks": ["ring_select"]}
    assert V2_ROW in rows


def test_variants_json_with_a_built_in_name_lists_it_again(bufring_cli):
    code, out, _ = bufring_cli("variants", "--json", "--variant", "v2")
    rows = json.loads(out)["variants"]
    assert code == 0 and rows[-1] == V2_ROW


def test_variants_table_names_v2(bufring_cli):
    code, out, err = bufring_cli("variants")
    assert (code, err) == (0, "")
    assert "v2" in out and V2.doc[:20] in out


@pytest.mark.parametrize("text, parts", [
    ("def f(:\n", [":1: variant: ", "syntax error"]),
    ("NOBUF = 'v2'\n", ["not a Variant"]),
    ("X = 1\n", ["defines no 'NOBUF'"]),
    ("x = 1\nraise ValueError('no')\n", [":2: variant: ", "ValueError"]),
])
def test_variants_with_a_bad_variant_file_exits_2_with_one_line(bufring_cli, tmp_path, text, parts):
    path = tmp_path / "bad.py"
    path.write_text(text, encoding="utf-8")
    code, out, err = bufring_cli("variants", "--json", "--variant", f"{path}:NOBUF")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and str(path) in err
    for part in parts:
        assert part in err


def test_variants_with_an_unknown_name_exits_2(bufring_cli):
    code, out, err = bufring_cli("variants", "--variant", "v7")
    assert (code, out) == (2, "") and err.count("\n") == 1 and "v7" in err


def test_variants_with_a_file_raising_a_multi_line_error_still_prints_one_line(bufring_cli, tmp_path):
    path = tmp_path / "bad.py"
    path.write_text('raise ValueError("first\\nsecond")\n', encoding="utf-8")
    code, out, err = bufring_cli("variants", "--variant", f"{path}:NOBUF")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and f"{path}:1: variant: " in err
