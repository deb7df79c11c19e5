"""The breadth-first search on several processes, with the sequential search's result.

The sequential search expands states in index order (a FIFO queue is the BFS
order). Here the states waiting for expansion are cut into batches of
consecutive indices; worker processes expand them (successors, the ``checks``,
fairness classes) and send back, per state, what they found. This process merges
the batches strictly in index order and stores the new states exactly as the
sequential search would (``StateSpace.visit``), so indices, parents (the first
discoverer: smallest parent index, then action order), depths, edges, the cap and
the first state or step showing each check id are identical to ``jobs=1``; every
shortest counterexample stays the same one. Batches are sent ahead (a few per
worker) while earlier ones are merged, and a batch may start before the level
above it is finished: only the merge order matters, not BFS levels.

What runs where: expansion (the transition function and the property
predicates, most of the time) runs in the workers; the visited set, parents and
edge columns stay in this process, which deduplicates (one dict lookup per
transition) and so bounds the speed-up. Consecutive batches, not hash buckets:
with deduplication here, a hash partition would only delay merging until a
whole level was back. Workers are forked ``multiprocessing`` processes (``jobs``)
or the workers of a Dask distributed cluster (``cluster``, see
``checker.explore.cluster``). Scopes small enough never start a worker.
"""
from __future__ import annotations

import os
import time
from collections import deque

from bufring.checker.explore.statespace import StateSpace, bfs
from bufring.specs.fairness import fairness_class
from bufring.checker.explore.store import share_parts, store_for

LOCAL_BATCH = 2000
"""While fewer states than this wait for expansion (and no worker was started yet),
they are expanded in this process: scopes whose frontier stays smaller never start a
worker. Below that, starting workers and the round trips cost more than they save
(measured: ``bufring check`` on 2 cores took 45 s with a threshold of 64, 34 s with
this one and with ``--jobs 1``)."""

MIN_BATCH, MAX_BATCH = 16, 1000
"""States per batch: about the waiting states over the workers, within these bounds."""

IN_FLIGHT = 3
"""Batches per worker sent ahead, so that workers expand while this process merges."""


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                      # not Linux
        return os.cpu_count() or 1


def expand(job: tuple, batch: tuple) -> list:
    """Expand one batch: ``[(index, state ids, [(action, next, class, step ids), ...]), ...]``.

    ``job`` is ``(model, canonical, checks, keep_edges)``; ``batch`` is
    ``(done, [(index, state), ...])`` with ``done`` the ids already shown."""
    model, canonical, checks, keep_edges = job
    done, items = batch
    out = []
    memo: dict = {}                              # equal parts pickled once per batch
    for idx, state in items:
        sids = checks.state(state, done) if checks is not None else ()
        succs = []
        for action, nxt, obs in model.successors(state):
            step_ids = checks.step(state, action, nxt, obs, done) if checks is not None else ()
            succs.append((action, share_parts(canonical(nxt) if canonical is not None else nxt, memo),
                          fairness_class(state, action) if keep_edges else None, step_ids))
        out.append((idx, sids, succs))
    return out


_JOB = None


def _set_job(job) -> None:
    global _JOB
    _JOB = job


def _expand_forked(batch):
    return expand(_JOB, batch)


class ProcessPool:
    """Forked worker processes that inherit the job (no pickling of the model)."""

    def __init__(self, job, jobs: int):
        import multiprocessing
        self.workers = jobs
        self.pool = multiprocessing.get_context("fork").Pool(jobs, initializer=_set_job,
                                                             initargs=(job,))

    def submit(self, batch):
        """Start expanding ``batch``; returns a function that waits for its result."""
        return self.pool.apply_async(_expand_forked, (batch,)).get

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()


def search(model, *, max_states: int, canonical=None, checks=None, progress=None,
           keep_edges: bool = True, jobs: int = 1, cluster: str | None = None) -> StateSpace:
    """The breadth-first search on ``jobs`` processes (or a cluster's workers);
    ``jobs=1`` without a cluster is ``statespace.bfs`` itself."""
    if jobs <= 1 and cluster is None:
        return bfs(model, max_states=max_states, canonical=canonical, checks=checks,
                   progress=progress, keep_edges=keep_edges)
    return parallel_bfs(model, max_states=max_states, canonical=canonical, checks=checks,
                        progress=progress, keep_edges=keep_edges, jobs=jobs, cluster=cluster)


def parallel_bfs(model, *, max_states: int, canonical=None, checks=None, progress=None,
                 keep_edges: bool = True, jobs: int = 2, cluster: str | None = None) -> StateSpace:
    """``statespace.bfs`` with the frontier expanded by ``jobs`` processes or a cluster."""
    started = time.perf_counter()
    space = StateSpace(states=store_for(model.init_states()))
    key = canonical or (lambda s: s)
    job = (model, canonical, checks, keep_edges)
    for s in model.init_states():
        space.visit(-1, None, key(s), 0, max_states)
    states = space.states
    pool = None
    inflight: deque = deque()           # (result getter) of batches, in index order
    sent = 0                            # states [0, sent) are expanded or being expanded
    last_report = time.perf_counter()
    try:
        while True:
            waiting = len(states) - sent
            if pool is None and waiting >= LOCAL_BATCH:
                pool = _pool(job, jobs, cluster)
                space.jobs = pool.workers
            while waiting and (pool is None or len(inflight) < IN_FLIGHT * pool.workers):
                if pool is None:                       # a small frontier: expand it here
                    batch = _batch(space, sent, len(states))
                    result = expand(job, batch)
                    inflight.append(lambda result=result: result)
                else:
                    hi = sent + max(MIN_BATCH, min(MAX_BATCH, waiting // pool.workers))
                    batch = _batch(space, sent, min(hi, len(states)))
                    inflight.append(pool.submit(batch))
                sent += len(batch[1])
                waiting = len(states) - sent
            if not inflight:
                break
            _merge(space, inflight.popleft()(), max_states, keep_edges)
            if progress is not None and time.perf_counter() - last_report > 0.25:
                last_report = time.perf_counter()
                progress(space, len(states) - sent)
    finally:
        if pool is not None:
            pool.close()
    space.seconds = time.perf_counter() - started
    if progress is not None:
        progress(space, 0)
    return space


def _pool(job, jobs: int, cluster: str | None):
    if cluster is not None:
        from bufring.checker.explore.cluster import DaskPool
        return DaskPool(job, cluster, expand)
    return ProcessPool(job, jobs)


def _batch(space: StateSpace, lo: int, hi: int) -> tuple:
    """States ``[lo, hi)`` to expand, with the check ids shown so far."""
    states = space.states
    return frozenset(space.first), [(i, states[i]) for i in range(lo, hi)]


def _merge(space: StateSpace, result: list, max_states: int, keep_edges: bool) -> None:
    """Store a batch's successors in the order the sequential search meets them."""
    for idx, sids, succs in result:
        if sids:
            space.note(sids, ("state", idx))
        d = space.depth[idx] + 1
        for action, nxt, cls, step_ids in succs:
            if step_ids:
                space.note(step_ids, ("step", idx, action))
            j, _ = space.visit(idx, action, nxt, d, max_states)
            if j is not None and keep_edges:
                space.edge(idx, j, cls)
