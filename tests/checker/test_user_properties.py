"""User-defined properties (``--property FILE.py:NAME``, specs.user): the worked example of
docs/examples is decided by explore, fuzz and check with replaying traces, prove refuses
it clearly, and a bad property file is one line naming the file (and line), exit 2."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from bufring.model.errors import BadInput
from bufring.specs.catalog import BY_ID, CATALOG
from bufring.specs.user import load_property, select_properties

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "user_properties.py"
WAITING = f"{EXAMPLE}:WAITING_AT_MOST_ONE"
LEGACY = f"{EXAMPLE}:LEGACY_HOLDS_NO_BUFFER"


def by_id(obj: dict) -> dict:
    return {v["property"]: v for v in obj["verdicts"]}


def test_the_example_loads_as_a_property_marked_with_its_origin():
    prop = load_property(WAITING)
    assert prop.id == "user.waiting_at_most_one" and prop.origin == WAITING
    assert prop.to_json()["origin"] == WAITING and prop.needs == ("w.select_enobufs",)
    assert select_properties([]) == CATALOG
    chosen = select_properties(["ring.conservation", WAITING, LEGACY])
    assert [p.id for p in chosen] == ["ring.conservation", "user.waiting_at_most_one",
                                      "user.legacy_holds_no_buffer"]
    assert chosen[0] is BY_ID["ring.conservation"]


def test_explore_decides_the_example_both_ways_and_the_violation_replays(bufring_cli, tmp_path):
    code, out, _ = bufring_cli("explore", "--json", "--scope", "enobufs", "--scope", "legacy",
                               "--property", WAITING, "--property", LEGACY, "--out", tmp_path)
    assert code == 1
    v = by_id(json.loads(out))
    assert set(v) == {"user.waiting_at_most_one", "user.legacy_holds_no_buffer"}
    bad = v["user.waiting_at_most_one"]
    assert (bad["verdict"], bad["length"]) == ("violated", 4)
    good = v["user.legacy_holds_no_buffer"]
    assert good["verdict"] == "holds" and "non-vacuously in legacy" in good["message"]
    assert "vacuously in enobufs" in good["message"]          # its premise never occurs there
    # the trace names no property the catalog knows, and replays all the same
    code, out, err = bufring_cli("replay", "--json", bad["trace"])
    assert code == 0 and err == "" and len(out.splitlines()) == 4


def test_a_user_property_whose_premise_never_occurs_is_vacuous_not_holds(bufring_cli, tmp_path):
    code, out, _ = bufring_cli("explore", "--json", "--scope", "enobufs", "--property", LEGACY,
                               "--out", tmp_path)
    (v,) = json.loads(out)["verdicts"]
    assert code == 3 and v["verdict"] == "vacuous"


def test_fuzz_decides_the_example_and_its_violation_replays(bufring_cli, tmp_path):
    code, out, _ = bufring_cli("fuzz", "--json", "--no-db", "--examples", "60", "--property", WAITING,
                               "--property", LEGACY, "--out", tmp_path)
    v = by_id(json.loads(out))
    assert code == 1 and set(v) == {"user.waiting_at_most_one", "user.legacy_holds_no_buffer"}
    bad = v["user.waiting_at_most_one"]
    assert bad["verdict"] == "violated" and bad["length"] <= 6
    assert bufring_cli("replay", "--json", bad["trace"])[0] == 0
    assert v["user.legacy_holds_no_buffer"]["verdict"] in ("holds", "vacuous")


def test_check_decides_a_user_property_and_the_report_names_it(bufring_cli, tmp_path):
    code, out, _ = bufring_cli("check", "--json", "--engine", "explore", "--scope", "enobufs",
                               "--property", WAITING, "--out", tmp_path)
    (v,) = json.loads(out)["verdicts"]
    assert code == 1 and (v["property"], v["verdict"]) == ("user.waiting_at_most_one", "violated")
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["user_properties"] == [WAITING]
    report = (tmp_path / "REPORT.md").read_text()
    assert "`user.waiting_at_most_one`: at most one request waits per queue" in report
    assert bufring_cli("report", tmp_path)[0] == 0               # rebuilt from results.json alone


def test_prove_says_it_cannot_decide_a_user_property(bufring_cli, tmp_path):
    code, out, err = bufring_cli("prove", "--property", WAITING, "--out", tmp_path)
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert "user property" in err and "no z3 form" in err and "explore" in err


PROP_HEAD = ("from bufring.specs.catalog import Kind, Property\n"
             "def ok(cfg, state):\n    return True\n")

# (file text, expected line, text in the message)
BAD_FILES = [
    ("X = Property(\n", 1, "syntax error"),
    ("X = 3\n", 1, "not a Property"),
    (PROP_HEAD + "X = Property('ring.conservation', Kind.INVARIANT, 't', 'm', 's', check_state=ok)\n",
     4, "catalog property"),
    (PROP_HEAD + "X = Property('u.live', Kind.LIVENESS, 't', 'm', 's', check_state=ok)\n", 4, "kind"),
    (PROP_HEAD + "X = Property('u.none', Kind.INVARIANT, 't', 'm', 's')\n", 4, "neither check_state"),
    (PROP_HEAD + "X = Property('u.w', Kind.INVARIANT, 't', 'm', 's', check_state=ok, needs=('w.x',))\n",
     4, "not a witness"),
    (PROP_HEAD + "X = Property('u.a', Kind.INVARIANT, 't', 'm', 's', check_step=ok)\n", 4,
     "must take 5 arguments"),
    (PROP_HEAD + "X = Property('u s', Kind.INVARIANT, 't', 'm', 's', check_state=ok)\n", 4, "id"),
    ("import no_such_module_here\n", 1, "ModuleNotFoundError"),
]


@pytest.mark.parametrize("text,line,needle", BAD_FILES, ids=[n for _, _, n in BAD_FILES])
@pytest.mark.parametrize("command", ["explore", "fuzz", "check", "prove"])
def test_a_bad_property_file_is_one_line_naming_file_and_line_exit_2(bufring_cli, tmp_path, command,
                                                                     text, line, needle):
    path = tmp_path / "mine.py"
    path.write_text(text)
    out_dir = tmp_path / "out"
    code, out, err = bufring_cli(command, "--property", f"{path}:X", "--out", out_dir)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"{path}:{line}:" in err and needle in err
    assert not (out_dir / "v2").exists()


@pytest.mark.parametrize("spec,needle", [
    ("{tmp}/absent.py:X", "no such file"),
    ("{tmp}/mine.py:Y", "defines no 'Y'"),
    ("user.nothing", "unknown property 'user.nothing'"),
])
def test_a_missing_file_or_name_is_bad_input(bufring_cli, tmp_path, spec, needle):
    (tmp_path / "mine.py").write_text("X = 1\n")
    code, out, err = bufring_cli("explore", "--property", spec.format(tmp=tmp_path), "--out", tmp_path / "o")
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and needle in err


def test_two_files_giving_one_id_is_bad_input(tmp_path):
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text(PROP_HEAD + "X = Property('u.same', Kind.INVARIANT, 't', 'm', 's', "
                                                 "check_state=ok)\n")
    with pytest.raises(BadInput, match="also the id of"):
        select_properties([f"{tmp_path}/a.py:X", f"{tmp_path}/b.py:X"])


def test_a_predicate_that_raises_is_bad_input_naming_its_line(bufring_cli, tmp_path):
    path = tmp_path / "crash.py"
    path.write_text(textwrap.dedent("""\
        from bufring.specs.catalog import Kind, Property
        def crash(cfg, state):
            return 1 / 0
        X = Property('u.crash', Kind.INVARIANT, 't', 'm', 's', check_state=crash)
        """))
    code, out, err = bufring_cli("explore", "--scope", "enobufs", "--property", f"{path}:X",
                                 "--out", tmp_path / "o")
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert f"{path}:3:" in err and "ZeroDivisionError" in err


def test_properties_lists_a_user_property_after_the_catalog(bufring_cli):
    code, out, _ = bufring_cli("properties", "--json", "--property", WAITING)
    props = json.loads(out)["properties"]
    assert code == 0 and len(props) == len(CATALOG) + 1
    assert props[-1]["id"] == "user.waiting_at_most_one" and props[-1]["origin"] == WAITING
    assert {p["origin"] for p in props[:-1]} == {"catalog"}
