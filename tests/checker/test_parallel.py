"""The parallel search (checker/explore/parallel.py) and its cluster backend
(checker/explore/cluster.py) give the sequential search's answer: the same state
and transition counts, depths, first findings (so the same shortest
counterexamples), premises and verdicts, on two default scopes, with ``jobs=1``,
``jobs=2`` and a Dask ``LocalCluster`` in this process. Plus the flags' bad input."""
from __future__ import annotations

import subprocess
import sys

import pytest

from bufring.checker.explore.explorer import explore, explore_scope
from bufring.checker.explore.parallel import parallel_bfs
from bufring.checker.explore.statespace import bfs
from bufring.model.builtin import load_variant
from bufring.model.system import Model
from bufring.specs.scopes import BY_NAME

V2 = load_variant("v2")
SCOPES = ("enobufs", "background")


def summary(run) -> tuple:
    findings = {pid: (f.actions if f is not None else None) for pid, f in run.findings.items()}
    return run.states, run.transitions, run.depth, run.capped, findings, sorted(run.exercised)


def verdict_rows(result) -> list:
    return [(v.property, v.status, v.length) for v in result.verdicts]


@pytest.fixture(autouse=True)
def small_frontiers_use_workers(monkeypatch):
    """The default scopes' frontiers stay below LOCAL_BATCH; lower it so that the
    workers do expand them here."""
    from bufring.checker.explore import parallel
    monkeypatch.setattr(parallel, "LOCAL_BATCH", 64)


@pytest.fixture(scope="module")
def local_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


@pytest.mark.parametrize("name", [SCOPES[0], pytest.param(SCOPES[1], marks=pytest.mark.slow)])
def test_jobs_and_cluster_find_what_one_process_finds(name, local_cluster):
    scope = BY_NAME[name]
    one = explore_scope(V2, scope, jobs=1)
    two = explore_scope(V2, scope, jobs=2)
    dask = explore_scope(V2, scope, cluster=local_cluster)
    assert (one.workers, two.workers, dask.workers) == (1, 2, 2)     # the workers did expand
    assert summary(two) == summary(one)
    assert summary(dask) == summary(one)
    assert one.findings                                              # something to compare


@pytest.mark.slow
def test_verdicts_are_the_same_for_every_backend(tmp_path, local_cluster):
    scopes = [BY_NAME[n] for n in SCOPES]
    runs = [explore(V2, scopes, out_dir=tmp_path / str(i), **kw)
            for i, kw in enumerate(({"jobs": 1}, {"jobs": 2}, {"cluster": local_cluster}))]
    assert verdict_rows(runs[1]) == verdict_rows(runs[0]) == verdict_rows(runs[2])
    for a, b in zip(runs[0].verdicts, runs[1].verdicts):
        if a.trace is not None:                                      # the same trace, byte for byte
            assert open(a.trace).read() == open(b.trace).read()


def test_parallel_graph_is_the_sequential_graph():
    scope = BY_NAME["enobufs"]
    model = Model(V2, scope.config, scope.env)
    seq = bfs(model, max_states=scope.max_states)
    par = parallel_bfs(model, max_states=scope.max_states, jobs=2)
    assert par.jobs == 2 and list(par.states) == list(seq.states)
    assert (par.parent, par.depth, list(par.via)) == (seq.parent, seq.depth, list(seq.via))
    assert (par.src, par.dst, par.fair, par.classes) == (seq.src, seq.dst, seq.fair, seq.classes)


def test_the_cap_falls_on_the_same_state():
    scope = BY_NAME["enobufs"]
    model = Model(V2, scope.config, scope.env)
    seq = bfs(model, max_states=1000)
    par = parallel_bfs(model, max_states=1000, jobs=2)
    assert seq.capped and par.capped
    assert list(par.states) == list(seq.states) and par.src == seq.src and par.dst == seq.dst


@pytest.mark.parametrize("argv, field", [
    (["--jobs", "0"], "--jobs"),
    (["--cluster", "no-such-protocol://host"], "--cluster"),
    (["--cluster", "tcp://127.0.0.1:1"], "--cluster"),                # nothing listens on port 1
    (["--cluster", "127.0.0.1:port"], "--cluster"),
])
def test_bad_search_flags_are_one_line_exit_2(bufring_cli, argv, field):
    code, out, err = bufring_cli("explore", "--scope", "enobufs", *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and field in err


def test_a_bad_scheduler_address_from_the_environment_names_the_variable(bufring_cli, monkeypatch):
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "no-such-protocol://host")
    code, out, err = bufring_cli("explore", "--scope", "enobufs")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "$DASK_SCHEDULER_ADDRESS" in err


def test_without_a_cluster_nothing_of_dask_is_imported(tmp_path, monkeypatch):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    code = ("import sys; from bufring.checker.cli import main; "
            "main(['explore', '--scope', 'enobufs', '--jobs', '2', '--out', sys.argv[1]]); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "out")], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_a_users_property_file_runs_on_the_cluster(tmp_path, local_cluster):
    from bufring.specs.user import select_properties
    path = tmp_path / "mine.py"
    path.write_text(
        "from bufring.specs.catalog import Kind, Property\n"
        "def at_most_one_queued(cfg, state):\n"
        "    return all(len(q.req_queue) <= 1 for _, q in state.queues)\n"
        "MINE = Property('user.at_most_one_queued', Kind.INVARIANT, 'one queued', 'at most one queued request',\n"
        "                'test', check_state=at_most_one_queued)\n")
    props = select_properties([f"{path}:MINE"])
    one = explore_scope(V2, BY_NAME["enobufs"], props, jobs=1)
    dask = explore_scope(V2, BY_NAME["enobufs"], props, cluster=local_cluster)
    assert dask.workers == 2 and summary(dask) == summary(one)
    assert "user.at_most_one_queued" in one.findings
