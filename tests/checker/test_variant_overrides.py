"""Every kernel function of the model replaceable by name in a variant
(model/variant.py): each replacement is the one that runs, wherever the kernel
calls it; a variant replacing any one of them loads, explores and replays; the
original stays callable; an unknown name is refused (TypeError; exit 2 from a
--variant file)."""
from __future__ import annotations

from pathlib import Path

import pytest

from bufring.checker.explore.explorer import explore
from bufring.checker.explore.statespace import bfs
from bufring.checker.judge import run_actions
from bufring.checker.verdict import Status
from bufring.model import kernel
from bufring.model.actions import Commit, Request
from bufring.model.builtin import load_variant
from bufring.model.system import Environment, Model
from bufring.model.traces import read_trace, run_trace
from bufring.model.variant import HOOK_FUNCTIONS, KERNEL_FUNCTIONS, V2
from bufring.specs import catalog
from bufring.specs.scopes import BY_NAME, Scope, _cfg, bufring

# Two tiny scopes that between them call every kernel function: split commits,
# deferred task work, racing REGISTERs and background requests; and whole commits
# with a request waiting for fetch-next.
SPLIT = Scope("split", "", _cfg(deferred_send=True),
              Environment(registers=(bufring(nbufs=1), bufring(buf_index=2)), max_ents=1, max_live=1,
                          background=True, race=True, split_commit=True, threads=1))
WHOLE = Scope("whole", "", _cfg(),
              Environment(registers=(bufring(nbufs=1), bufring(buf_index=2)), max_ents=1, max_live=2,
                          background=True))


def counting(name: str, calls: dict):
    """A replacement that counts its calls and runs the original."""
    original = KERNEL_FUNCTIONS[name]

    def replacement(*args, **kwargs):
        calls[name] = calls.get(name, 0) + 1
        return original(*args, **kwargs)
    return replacement


def test_the_replaceable_functions_are_every_function_of_kernel_and_register():
    assert {"fuse_uring_flush_bg", "fuse_request_end", "fuse_uring_req_end", "fuse_uring_queue_bq_req",
            "fuse_uring_register", "fuse_uring_create_ring_ent", "request", "send"} <= KERNEL_FUNCTIONS.keys()
    assert all(f.__module__ in ("bufring.model.kernel", "bufring.model.register")
               for f in KERNEL_FUNCTIONS.values())
    assert set(HOOK_FUNCTIONS.values()) <= KERNEL_FUNCTIONS.keys()


@pytest.fixture(scope="module")
def v2_spaces():
    return {s.name: len(bfs(Model(V2, s.config, s.env), max_states=10 ** 6).states) for s in (SPLIT, WHOLE)}


@pytest.mark.parametrize("name", sorted(KERNEL_FUNCTIONS))
def test_a_variant_replacing_the_function_runs_the_replacement_and_explores_as_v2(name, v2_spaces):
    calls: dict = {}
    variant = V2.derive(f"replaced-{name}", "runs the original, counting", **{name: counting(name, calls)})
    spaces = {s.name: len(bfs(Model(variant, s.config, s.env), max_states=10 ** 6).states)
              for s in (SPLIT, WHOLE)}
    assert calls.get(name, 0) > 0, f"{name} was never called through the variant's table"
    assert spaces == v2_spaces
    assert name in variant.changed_hooks(V2) or any(
        hook in variant.changed_hooks(V2) for hook, f in HOOK_FUNCTIONS.items() if f == name)


@pytest.fixture(scope="module")
def example_traces():
    from pathlib import Path
    import bufring.checker
    return sorted((Path(bufring.checker.__file__).parent / "examples").glob("*.jsonl"))


@pytest.mark.parametrize("name", sorted(KERNEL_FUNCTIONS))
def test_a_variant_replacing_the_function_replays_the_example_traces(name, example_traces):
    variant = V2.derive(f"replaced-{name}", "runs the original", **{name: counting(name, {})})
    for path in example_traces:
        result = run_trace(read_trace(str(path)), variant)
        assert result.results and result.first_mismatch is None, path.name


def test_a_replacement_takes_effect_at_every_call_site():
    """fuse_uring_flush_bg is called from the bg arrival (fuse_uring_queue_bq_req)
    and from fuse_uring_req_end: both calls reach the replacement. A flush that
    promotes nothing leaves the request in the bg list."""
    cfg = _cfg()
    actions = [bufring(nbufs=2), Request(0, 1, False, background=True), Commit(0, 1)]
    calls: dict = {}
    run_actions(V2.derive("counted", "", fuse_uring_flush_bg=counting("fuse_uring_flush_bg", calls)),
                cfg, actions)
    assert calls == {"fuse_uring_flush_bg": 2}
    never = V2.derive("never-flush", "bg requests are never promoted", fuse_uring_flush_bg=lambda k, q: None)
    q = run_actions(never, cfg, actions[:2])[-1].post.queues[0][1]
    assert [r.unique for r in q.bg_queue] == [1] and q.avail == (0,)
    assert run_actions(V2, cfg, actions[:2])[-1].obs.dispatched          # v2 dispatches it at once


def test_the_original_stays_callable_from_a_replacement():
    seen = []

    def flush_and_log(k, q):
        seen.append(len(q.bg_queue))
        kernel.fuse_uring_flush_bg(k, q)           # v2's original
    logged = V2.derive("logged-flush", "", fuse_uring_flush_bg=flush_and_log)
    actions = [bufring(nbufs=2), Request(0, 1, False, background=True), Commit(0, 1)]
    mine, theirs = run_actions(logged, _cfg(), actions), run_actions(V2, _cfg(), actions)
    assert [t.post for t in mine] == [t.post for t in theirs] and seen == [1, 0]


def test_a_hook_named_by_its_kernel_name_sets_the_hook():
    def no_select(k, q, i):
        return kernel.fuse_uring_select_buffer(k, q, i)
    by_kernel_name = V2.derive("a", "", fuse_uring_select_buffer=no_select)
    by_hook = V2.derive("a", "", select_buffer=no_select)
    assert by_kernel_name == by_hook and by_kernel_name.select_buffer is no_select
    assert by_kernel_name.fn.fuse_uring_select_buffer is no_select


def test_variants_with_replacements_compare_by_what_they_replace():
    f = counting("fuse_request_end", {})
    assert V2.derive("x", "", fuse_request_end=f) == V2.derive("x", "", fuse_request_end=f)
    assert V2.derive("x", "", fuse_request_end=f) != V2.derive("x", "")
    assert hash(V2.derive("x", "", fuse_request_end=f)) == hash(V2.derive("x", "", fuse_request_end=f))


def test_an_unknown_name_is_a_type_error_naming_what_exists():
    with pytest.raises(TypeError, match="fuse_uring_flush_bgg.*any function of model.kernel"):
        V2.derive("typo", "", fuse_uring_flush_bgg=lambda k, q: None)


def test_a_variant_file_with_an_unknown_name_is_bad_input_with_exit_2(bufring_cli, tmp_path):
    path = tmp_path / "typo.py"
    path.write_text("from bufring.model.variant import V2\n\n"
                    "TYPO = V2.derive('typo', 'doc', fuse_uring_flush_bgg=print)\n", encoding="utf-8")
    code, out, err = bufring_cli("explore", "--variant", f"{path}:TYPO", "--scope", "register")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and f"{path}:3:" in err and "fuse_uring_flush_bgg" in err


WORKED_EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "variant_flush_bg_after_end.py"


def test_the_worked_example_loads_from_a_file_and_removes_the_background_wait(tmp_path):
    """docs/variants.md's one-line fix, loaded as a user's file: the bg request of
    background-limit no longer waits beside an idle entry while the limits let it go."""
    variant = load_variant(f"{WORKED_EXAMPLE}:FLUSH_AFTER_END")
    assert variant.changed_hooks(V2) == ["fuse_uring_req_end"]
    props = [catalog.get("flow.work_conserving"), catalog.get("flow.eventually_dispatched")]
    res = explore(variant, [BY_NAME["background-limit"]], props, out_dir=tmp_path / "out")
    assert all(v.status is not Status.VIOLATED for v in res.verdicts), [v.message for v in res.verdicts]
    v2 = explore(V2, [BY_NAME["background-limit"]], props, out_dir=tmp_path / "v2")
    assert all(v.status is Status.VIOLATED for v in v2.verdicts)
