"""Regression tests from counterexamples and boundary vectors (``bufring gen-tests``).

Inputs, under ``--from DIR`` (default ``bufring-out/``), one folder per variant:

* ``DIR/<variant>/<property-id>.jsonl``: counterexample (or witness) traces written
  by explore, prove and fuzz;
* ``DIR/<variant>/register-vectors.json``: SMT boundary vectors, a list of
  ``{"rule", "side": "accepted"|"rejected", "config", "register", "expect": {"ret", "nbufs"}}``.

Outputs, under ``--out DIR`` (default ``bufring-tests/``), made in a temporary
folder first and moved in when all are made (``checker.report.outdir`` rules):

* ``traces/<variant>/<property-id>.jsonl``: each trace with ``expect`` on every step
  (recomputed on the model of its variant), and ``traces/<variant>/vectors/*.jsonl``,
  one single-step trace per vector;
* ``vectors/<variant>/register-vectors.json``: the vectors, named and validated, with
  full configs and full REGISTER step objects, for implementations in any language;
* ``test_bufring_regressions.py`` and ``conftest.py``: pytest tests, one per trace
  property (its predicate along the replayed run: fails on the variant with the bug,
  passes on a fix), one per trace replaying its recorded expectations, and one per
  vector. ``--bufring-variant V`` / ``BUFRING_VARIANT`` picks the variant (default: the
  trace's own), ``--bufring-impl IMPL`` / ``BUFRING_IMPL`` replays on an implementation.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bufring.checker.judge import first_shown, run_actions
from bufring.checker.report.outdir import claim, clear_previous, write_manifest
from bufring.model.actions import OP_NAMES, Register
from bufring.model.errors import BadInput
from bufring.model.system import next_state
from bufring.model.state import INITIAL_STATE, get_queue
from bufring.model.traces import (action_json, expect_of, parse_action, parse_config,
                                  read_trace, write_trace)
from bufring.model.builtin import load_variant
from bufring.specs.catalog import BY_ID, Kind
from bufring.model.variant import Variant

__all__ = ["GenResult", "generate_tests", "read_vectors", "vector_outcome"]


@dataclass
class Case:
    variant: str
    prop: str
    trace: str                 # path relative to the output folder
    steps: int
    ops: list
    breaks: str                # one line: what the run breaks
    violated_at: int | None    # 1-based step on the trace's variant, None if not violated


@dataclass
class GenResult:
    out: Path
    cases: list[Case] = field(default_factory=list)
    vectors: int = 0
    skipped: list[str] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)    # every file written under ``out``


# --- vectors ------------------------------------------------------------------------------

def read_vectors(path: Path) -> list[dict]:
    """Read and validate a ``register-vectors.json``; BadInput names file and field."""
    source = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(source, None, None, f"cannot read: {e}") from None
    except ValueError as e:
        raise BadInput(source, None, None, f"invalid JSON: {e}") from None
    if not isinstance(data, list):
        raise BadInput(source, None, None, "must be a JSON list of vectors")
    out = []
    for n, v in enumerate(data):
        where = f"[{n}]"
        if not isinstance(v, dict):
            raise BadInput(source, None, where, "must be an object")
        unknown = set(v) - {"rule", "side", "config", "register", "expect", "name", "variant"}
        if unknown:
            raise BadInput(source, None, f"{where}.{sorted(unknown)[0]}",
                           "unknown key; known: rule, side, config, register, expect")
        for key in ("rule", "side", "config", "register", "expect"):
            if key not in v:
                raise BadInput(source, None, f"{where}.{key}", "missing")
        if not isinstance(v["rule"], str) or not v["rule"]:
            raise BadInput(source, None, f"{where}.rule", "must be a non-empty string")
        if v["side"] not in ("accepted", "rejected"):
            raise BadInput(source, None, f"{where}.side", 'must be "accepted" or "rejected"')
        cfg = parse_config(v["config"], source, None)
        if not isinstance(v["register"], dict):
            raise BadInput(source, None, f"{where}.register", "must be an object")
        reg_obj = {k: val for k, val in v["register"].items() if k != "op"}
        action = parse_action("register", reg_obj, source, None, prefix=f"{where}.register.")
        expect = v["expect"]
        if not isinstance(expect, dict) or set(expect) - {"ret", "nbufs"} or "ret" not in expect:
            raise BadInput(source, None, f"{where}.expect", 'must be {"ret": int, "nbufs": int|null}')
        if not _is_int(expect["ret"]) or not (expect.get("nbufs") is None or _is_int(expect["nbufs"])):
            raise BadInput(source, None, f"{where}.expect", "ret must be an integer, nbufs an integer or null")
        out.append({"rule": v["rule"], "side": v["side"], "config": cfg, "register": action,
                    "expect": {"ret": expect["ret"], "nbufs": expect.get("nbufs")}})
    return out


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def vector_outcome(variant: Variant, vector: dict) -> tuple[int, int | None]:
    """(ret, nbufs of the ring it created or None) of the vector's REGISTER on the model."""
    from bufring.model.config import Config

    cfg = vector["config"] if isinstance(vector["config"], Config) else parse_config(vector["config"], "vector", None)
    reg = vector["register"]
    if not isinstance(reg, Register):
        reg = parse_action("register", {k: v for k, v in reg.items() if k != "op"}, "vector", None)
    post, obs = next_state(variant, cfg, INITIAL_STATE, reg)
    q = get_queue(post, reg.qid)
    nbufs = q.bufring.nbufs if obs.ret == 0 and q is not None and q.bufring is not None else None
    return obs.ret, nbufs


# --- traces ---------------------------------------------------------------------------------

def _slug(text: str) -> str:
    return re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()


def scenario_name(ops: list[str]) -> str:
    """``register_x2_request_commit``: the ops in order, repeats folded."""
    parts: list[str] = []
    for op in ops:
        if parts and parts[-1].split("_x")[0] == op:
            base, _, n = parts[-1].partition("_x")
            parts[-1] = f"{op}_x{int(n or 1) + 1}"
        else:
            parts.append(op)
    name = "_".join(parts)
    return name if len(name) <= 70 else name[:60].rstrip("_") + f"_{len(ops)}_steps"


def _case(path: Path, variant_dir: str, out: Path, result: GenResult, in_place: Path | None) -> Case | None:
    prop_id = path.stem.split("@")[0]      # <property>.jsonl, <property>@<scope or width>.jsonl
    prop = BY_ID.get(prop_id)
    if prop is None:
        result.skipped.append(f"{path}: not named after a catalog property id (a user "
                              "property's trace is not turned into a test)")
        return None
    trace = read_trace(path)
    variant = load_variant(trace.variant or variant_dir)
    actions = [s.action for s in trace.steps]
    transitions = run_actions(variant, trace.config, actions)
    at = None
    if prop.kind is Kind.SOMETIMES:
        at = first_shown(prop, variant, trace.config, actions)
        breaks = f"witness {prop_id}: {prop.meaning}" + (
            f" (reached at step {at + 1})" if at is not None else " (NOT reached by this run)")
    elif prop.check_state is None and prop.check_step is None:
        breaks = (f"{prop_id} ({prop.kind.value}): {prop.meaning}; a graph property: this run is "
                  "pinned, deciding it again needs bufring explore")
    else:
        at = first_shown(prop, variant, trace.config, actions)
        sev = f", {prop.severity.value}" if prop.severity else ""
        breaks = (f"{prop_id} ({prop.kind.value}{sev}): {prop.meaning}" + (
            f"; violated after step {at + 1} on variant {variant.name}" if at is not None
            else f"; NOT violated by this run on variant {variant.name}"))
    if in_place is not None:       # the trace stays where check wrote it (it has every expect)
        rel = Path(os.path.relpath(path.resolve(), in_place.resolve()))
    else:
        rel = Path("traces") / variant.name / path.name
        write_trace(out / rel, variant.name, trace.config,
                    [(t.action, expect_of(t.action, t.obs)) for t in transitions],
                    [f"{prop_id}: regression trace from {path}", breaks])
    return Case(variant.name, prop_id, rel.as_posix(), len(actions),
                [OP_NAMES[type(a)] for a in actions], breaks, None if at is None else at + 1)


def generate_tests(source: str | Path = "bufring-out", out: str | Path = "bufring-tests",
                   impl: str | None = None, *, force: bool = False, in_place: bool = False) -> GenResult:
    """Turn every trace and vector file under ``source`` into tests under ``out``.

    The files are made in a scratch folder and moved into ``out`` only when all of
    them were made. ``out`` is handled as ``checker.report.outdir`` says: the files
    of the previous gen-tests into it are replaced, no other file is touched.
    ``in_place`` (for ``check``, whose ``out`` lies inside ``source`` and whose
    manifest covers it): the tests name the traces where they are instead of
    copying them, and no manifest of its own is kept.
    """
    source, out = Path(source), Path(out)
    if not source.is_dir():
        raise BadInput(str(source), None, None, "no such directory (give --from DIR)")
    if not in_place:
        claim(out, "--out", force)
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=parent))
    try:
        result = _generate(source, tmp, impl, out if in_place else None)
        if not in_place:
            clear_previous(out)
        result.files = _move_into(tmp, out)
        if not in_place:
            write_manifest(out, result.files)
        result.out = out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def _move_into(tmp: Path, out: Path) -> list[Path]:
    """Move every file under ``tmp`` to the same place under ``out``; the new paths."""
    moved = []
    for path in sorted(p for p in tmp.rglob("*") if p.is_file()):
        dest = out / path.relative_to(tmp)
        dest.parent.mkdir(parents=True, exist_ok=True)
        path.replace(dest)
        moved.append(dest)
    return moved


def _generate(source: Path, tmp: Path, impl: str | None, in_place: Path | None) -> GenResult:
    result = GenResult(out=tmp)
    vectors_out: dict[str, list] = {}
    skip = {(in_place or tmp).resolve()}
    for vdir in sorted(p for p in source.iterdir() if p.is_dir() and not p.name.startswith(".")
                       and p.resolve() not in skip):
        for path in sorted(vdir.glob("*.jsonl")):
            case = _case(path, vdir.name, tmp, result, in_place)
            if case is not None:
                result.cases.append(case)
        vec_path = vdir / "register-vectors.json"
        if vec_path.exists():
            vectors_out[vdir.name] = _vectors(vec_path, vdir.name, tmp, result, in_place is None)
    for name, vectors in vectors_out.items():
        target = tmp / "vectors" / name / "register-vectors.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(vectors, indent=1) + "\n", encoding="utf-8")
        result.vectors += len(vectors)
    (tmp / "conftest.py").write_text(CONFTEST.replace("@IMPL@", repr(impl)), encoding="utf-8")
    (tmp / "test_bufring_regressions.py").write_text(_test_file(result, vectors_out), encoding="utf-8")
    return result


def _vectors(path: Path, variant_dir: str, tmp: Path, result: GenResult, traces: bool) -> list[dict]:
    """The vectors of one variant, checked on its model; with ``traces``, also one
    single-step trace per vector (for implementations in any language)."""
    variant = load_variant(variant_dir) if not variant_dir.startswith(".") else load_variant("v2")
    out = []
    counts: dict[str, int] = {}
    for v in read_vectors(path):
        key = f"{v['rule']}__{v['side']}"
        counts[key] = counts.get(key, 0) + 1
        name = f"{_slug(v['rule'])}__{v['side']}_{counts[key]}"
        ret, nbufs = vector_outcome(variant, v)
        if ret != v["expect"]["ret"] or (v["expect"]["nbufs"] is not None and nbufs != v["expect"]["nbufs"]):
            result.disagreements.append(
                f"{path}: vector {name}: the model ({variant.name}) gives ret {ret}, nbufs {nbufs}; "
                f"the vector says ret {v['expect']['ret']}, nbufs {v['expect']['nbufs']}")
        reg_obj = action_json(v["register"])
        obs = next_state(variant, v["config"], INITIAL_STATE, v["register"])[1]
        if traces:
                write_trace(tmp / "traces" / variant.name / "vectors" / f"{name}.jsonl", variant.name,
                        v["config"], [(v["register"], expect_of(v["register"], obs))],
                        [f"REGISTER boundary vector {name}: rule {v['rule']}, {v['side']}"])
        out.append({"name": name, "variant": variant.name, "rule": v["rule"], "side": v["side"],
                    "config": v["config"].to_json(), "register": reg_obj,
                    "expect": {"ret": v["expect"]["ret"], "nbufs": v["expect"]["nbufs"]}})
    return out


# --- the generated files ------------------------------------------------------------------------

CONFTEST = '''"""Options of the bufring regression tests (generated by `bufring gen-tests`)."""
import os

import pytest

DEFAULT_IMPL = @IMPL@


def pytest_addoption(parser):
    group = parser.getgroup("bufring")
    group.addoption("--bufring-variant", default=None,
                    help="model variant to run (name or FILE.py:NAME); default: each trace's own "
                         "(env BUFRING_VARIANT)")
    group.addoption("--bufring-impl", default=None,
                    help="replay on this implementation instead (a command, or FILE.py:CLASS; "
                         "env BUFRING_IMPL)")


@pytest.fixture
def bufring_variant(request):
    return request.config.getoption("--bufring-variant") or os.environ.get("BUFRING_VARIANT") or None


@pytest.fixture
def bufring_impl(request):
    return (request.config.getoption("--bufring-impl") or os.environ.get("BUFRING_IMPL")
            or DEFAULT_IMPL)
'''


def _test_file(result: GenResult, vectors: dict[str, list]) -> str:
    lines = [
        '"""Regression tests generated by `bufring gen-tests`; regenerate rather than edit.',
        "",
        "Each property test replays a counterexample and checks the property's predicate",
        "along the run: it FAILS on the variant that has the bug and PASSES on one that",
        "fixes it. Each replay test checks the recorded expectations on the trace's own",
        "variant (it pins the scenario, so a property test cannot pass vacuously).",
        '"""',
        "import json",
        "from pathlib import Path",
        "",
        "import pytest",
        "",
        "from bufring.checker.report.testgen_runtime import (check_property, check_replays_as_recorded,",
        "                                             check_vector)",
        "",
        "HERE = Path(__file__).parent",
        "",
    ]
    seen: set[str] = set()
    for case in result.cases:
        base = f"{_slug(case.prop)}__{_slug(case.variant)}__{scenario_name(case.ops)}"
        name = base
        n = 2
        while name in seen:
            name, n = f"{base}_{n}", n + 1
        seen.add(name)
        lines += [
            "",
            f"# {case.breaks}",
            f"# Scenario: {case.steps} steps ({', '.join(case.ops)}), trace {case.trace}",
            f"def test_{name}(bufring_variant, bufring_impl):",
            f"    check_property(HERE / {case.trace!r}, {case.prop!r}, bufring_variant, bufring_impl)",
            "",
            "",
            f"# Pins the scenario of the test above: the model of variant {case.variant} still",
            "# produces every recorded observation of this trace.",
            f"def test_{name}__replays_as_recorded(bufring_variant, bufring_impl):",
            f"    if bufring_impl or (bufring_variant and bufring_variant != {case.variant!r}):",
            f"        pytest.skip('the recorded expectations are those of variant {case.variant}')",
            f"    check_replays_as_recorded(HERE / {case.trace!r}, bufring_variant)",
            "",
        ]
    for variant, vecs in vectors.items():
        if not vecs:
            continue
        path = f"vectors/{variant}/register-vectors.json"
        var = f"VECTORS_{_slug(variant).upper()}"
        lines += [
            "",
            f"{var} = json.loads((HERE / {path!r}).read_text())",
            "",
            "",
            f"# REGISTER boundary vectors of variant {variant}: each breaks the named rule",
            "# (rejected) or sits right inside it (accepted).",
            f"@pytest.mark.parametrize('vector', {var}, ids=[v['name'] for v in {var}])",
            f"def test_register_vector__{_slug(variant)}(vector, bufring_variant, bufring_impl):",
            "    check_vector(vector, bufring_variant, bufring_impl)",
            "",
        ]
    if not result.cases and not any(vectors.values()):
        lines += ["", "def test_nothing_to_regress():", "    pass  # no traces or vectors were found", ""]
    return "\n".join(lines).rstrip() + "\n"
