"""The property catalog (specs/catalog.py) against PROPERTIES.md, the one list of
what bufring must decide: the same ids, the same kinds, one predicate of the
shape each kind needs, and witnesses that exist. ``bufring properties --json``
lists exactly the catalog."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from bufring.checker.cli import main
from bufring.specs import catalog
from bufring.specs.catalog import CATALOG, Kind

# The design docs live in shared/ beside the checkout (read-only, not shipped).
_ROOT = Path(__file__).resolve().parents[2]
PROPERTIES_MD = _ROOT.parent / "shared" / "docs" / "PROPERTIES.md"

ROW = re.compile(r"^\|\s*`([a-z]+\.[a-z_]+)`\s*\|\s*([a-z]+)\s*\|")
WITNESS = re.compile(r"`(w\.[a-z_]+)`")


def documented() -> dict[str, str]:
    """id -> kind, from the tables of PROPERTIES.md and its list of witnesses."""
    text = PROPERTIES_MD.read_text(encoding="utf-8")
    ids: dict[str, str] = {}
    for line in text.splitlines():
        m = ROW.match(line)
        if m:
            assert m.group(1) not in ids, f"{m.group(1)} twice in PROPERTIES.md"
            ids[m.group(1)] = m.group(2)
    section = text.split("## Non-vacuity witnesses", 1)[1].split("\n## ", 1)[0]
    for wid in WITNESS.findall(section):
        ids.setdefault(wid, "sometimes")
    return ids


def test_properties_md_parses_to_19_table_rows_and_6_witnesses():
    ids = documented()
    assert len([k for k in ids.values() if k != "sometimes"]) == 19
    assert sorted(i for i, k in ids.items() if k == "sometimes") == [
        "w.buffer_reused", "w.counter_wrap", "w.recycle", "w.register_race",
        "w.ring_empty", "w.select_enobufs"]


def test_catalog_ids_match_properties_md_exactly():
    assert [p.id for p in CATALOG] and len({p.id for p in CATALOG}) == len(CATALOG)
    assert {p.id for p in CATALOG} == set(documented())


def test_catalog_kinds_match_properties_md():
    doc = documented()
    assert {p.id: p.kind.value for p in CATALOG} == doc


def test_catalog_lists_tables_in_document_order_then_witnesses():
    assert [p.id for p in CATALOG] == list(documented())


# Which predicate slot each kind uses. flow.no_deadlock is an invariant of the state
# graph (AG EF nothing-queued), so it carries a goal for the graph analysis instead of
# a state or step predicate; it is the only invariant that does.
GRAPH_INVARIANTS = {"flow.no_deadlock"}
SLOTS = {
    Kind.INVARIANT: {"check_state", "check_step"},
    Kind.CONTRACT: {"check_state", "check_step"},
    Kind.LIVENESS: {"goal"},
    Kind.SOMETIMES: {"check_state", "check_step"},
    Kind.INFORMATIONAL: {"check_step"},
}


@pytest.mark.parametrize("prop", CATALOG, ids=lambda p: p.id)
def test_each_property_has_exactly_one_predicate_of_the_slot_its_kind_needs(prop):
    present = [s for s in ("check_state", "check_step", "goal") if getattr(prop, s) is not None]
    assert len(present) == 1, present
    allowed = {"goal"} if prop.id in GRAPH_INVARIANTS else SLOTS[prop.kind]
    assert present[0] in allowed
    assert callable(getattr(prop, present[0]))


def test_only_the_two_graph_properties_carry_a_goal():
    assert {p.id for p in CATALOG if p.goal is not None} == {
        "flow.no_deadlock", "flow.eventually_dispatched"}


@pytest.mark.parametrize("prop", CATALOG, ids=lambda p: p.id)
def test_every_needs_entry_names_a_witness_of_the_catalog(prop):
    witness_ids = {w.id for w in catalog.witnesses()}
    assert set(prop.needs) <= witness_ids
    assert len(prop.needs) == len(set(prop.needs))
    if prop.kind is Kind.SOMETIMES:
        assert prop.needs == ()            # a witness needs no witness


def test_witnesses_are_exactly_the_sometimes_properties():
    assert [w.id for w in catalog.witnesses()] == [p.id for p in CATALOG if p.kind is Kind.SOMETIMES]


def test_every_witness_is_needed_by_some_property():
    needed = {w for p in CATALOG for w in p.needs}
    assert needed == {w.id for w in catalog.witnesses()}


def test_severity_is_set_for_every_failing_kind_and_absent_for_witnesses_and_fifo():
    for p in CATALOG:
        if p.kind in (Kind.SOMETIMES, Kind.INFORMATIONAL):
            assert p.severity is None, p.id
        else:
            assert p.severity is not None, p.id


def test_get_unknown_id_fails_and_lists_the_ids_that_exist():
    with pytest.raises(KeyError) as e:
        catalog.get("ring.nonsense")
    assert "ring.nonsense" in str(e.value) and "ring.conservation" in str(e.value)
    assert catalog.get("w.recycle") is catalog.BY_ID["w.recycle"]


def test_properties_json_lists_every_catalog_entry_in_order():
    out, err = io.StringIO(), io.StringIO()
    assert main(["properties", "--json"], out, err) == 0
    assert err.getvalue() == ""
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    listed = json.loads(lines[0])["properties"]
    assert [p["id"] for p in listed] == [p.id for p in CATALOG]
    for obj, prop in zip(listed, CATALOG):
        assert obj["kind"] == prop.kind.value
        assert obj["needs"] == list(prop.needs)
        assert obj["severity"] == (prop.severity.value if prop.severity else None)
        assert obj["meaning"] and obj["title"] and obj["source"]


def test_properties_table_names_every_id():
    out, err = io.StringIO(), io.StringIO()
    assert main(["properties"], out, err) == 0
    text = out.getvalue()
    for p in CATALOG:
        assert p.id in text


# --- ``ops``: the explorer skips a step property on ops outside its list ----------------------------

@pytest.fixture(scope="module")
def small_scope_steps():
    """Every transition of four small default scopes (and the split-op scope), as
    (cfg, pre, action, post, obs)."""
    from bufring.checker.explore.statespace import bfs
    from bufring.model.system import Model
    from bufring.model.variant import V2
    from bufring.specs.scopes import BY_NAME

    steps = []
    for name in ("register", "race", "null-payload", "legacy", "interleave"):
        scope = BY_NAME[name]
        bfs(Model(V2, scope.config, scope.env), max_states=100_000,
            on_step=lambda src, a, pre, post, obs, cfg=scope.config: steps.append((cfg, pre, a, post, obs)))
    return steps


def test_ops_name_only_ops_of_the_trace_format():
    from bufring.model.actions import OP_NAMES
    for prop in CATALOG:
        assert set(prop.ops) <= set(OP_NAMES.values()), prop.id
        assert not prop.ops or prop.check_step is not None, prop.id


def test_step_properties_never_fail_on_ops_outside_their_ops_list(small_scope_steps):
    """The explorer only evaluates a step property on its ``ops``: that skip is
    sound only if the predicate could not have failed (or, for a witness, been
    reached) on any other op. Checked on every transition of five scopes."""
    from bufring.model.actions import OP_NAMES
    limited = [p for p in CATALOG if p.check_step is not None and p.ops]
    assert limited
    for cfg, pre, a, post, obs in small_scope_steps:
        op = OP_NAMES[type(a)]
        for prop in limited:
            if op not in prop.ops:
                assert prop.check_step(cfg, pre, a, post, obs) is (prop.kind is not Kind.SOMETIMES), \
                    (prop.id, a)
