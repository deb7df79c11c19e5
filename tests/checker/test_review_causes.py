"""Root causes in the default report (issue 13, point 1): each cause is a fix
variant the engines verified on the property and place where the violation was
found; a property broken twice names both fixes and what each clears."""
from __future__ import annotations

import json


def _causes(out) -> dict:
    results = json.loads((out / "results.json").read_text())
    return results["variants"][0]["causes"]


def test_a_property_broken_by_two_causes_names_both_and_where_each_clears_it(bufring_cli, tmp_path):
    out = tmp_path / "o"
    code, _, err = bufring_cli("check", "--engine", "explore", "--scope", "ring", "--scope", "null-payload",
                               "--property", "ring.conservation", "--property", "flow.commit_matches",
                               "--out", out)
    assert code == 1, err
    causes = {c["fix"]: c["removes"] for c in _causes(out)["causes"]}
    for pid in ("ring.conservation", "flow.commit_matches"):
        assert causes["reject-null-payload"][pid] == {"null-payload": "vacuous"}
        assert causes["nbufs-pow2"][pid] == {"ring": "vacuous"}
    assert _causes(out)["unexplained"] == {}
    report = (out / "REPORT.md").read_text()
    assert "## Root causes and the fixes that remove them" in report
    assert ("**Causes.** 2 causes break it: `reject-null-payload` removes it in scope `null-payload`; "
            "`nbufs-pow2` removes it in scope `ring`") in report
    # each cause comes with a run it clears: the shortest run, and the other cause's scope's run
    verdicts = json.loads((out / "results.json").read_text())["variants"][0]["verdicts"]
    for v in verdicts:
        other = ({"ring", "null-payload"} - {v["coverage"]["scope"]}).pop()
        assert (out / "v2" / f"{v['property']}@{other}.jsonl").exists(), (v["property"], other)


def test_causes_are_engine_verdicts_on_the_fix_not_text(bufring_cli, tmp_path):
    out = tmp_path / "o"
    assert bufring_cli("check", "--engine", "explore", "--scope", "register", "--out", out)[0] == 1
    causes = {c["fix"]: c["removes"] for c in _causes(out)["causes"]}
    assert causes["ent-before-publish"] == {"reg.no_partial_effect": {"register": "holds"}}
    assert causes["unique-buf-index"]["hdr.slot_unique"] == {"register": "holds"}
    assert causes["check-init-fields"]["reg.init_consistent"] == {"register": "holds"}
    assert "wake-idle-entries" not in causes              # nothing it removes was violated here


def test_a_user_variant_gets_no_causes(bufring_cli, tmp_path):
    out = tmp_path / "o"
    assert bufring_cli("check", "--variant", "all-fixes", "--engine", "explore", "--scope", "register",
                       "--out", out)[0] in (0, 1, 3)
    variant = json.loads((out / "results.json").read_text())["variants"][0]
    assert "causes" not in variant and "## Root causes" not in (out / "REPORT.md").read_text()
