"""Benchmark of the explicit-state explorer (issue 7): a ladder of scopes from tiny to
what fits in about two minutes, each measured in its own subprocess.

Usage (from the repository root, with the project's venv):

    python bench/explore_bench.py                 # the whole ladder
    python bench/explore_bench.py --rungs tiny,ring --modes bfs,explore
    python bench/explore_bench.py --profile ring   # cProfile summary
    python bench/explore_bench.py --memory ring    # columns vs networkx

Modes, one subprocess each, so that ``ru_maxrss`` is the peak of that mode alone:

* ``bfs``          the search alone (``checker.explore.statespace.bfs``, edges kept, no checks)
* ``explore``      ``checker.explore.explorer.explore_scope``: every catalog property, graph analyses
* ``explore-sym``  the same with symmetry reduction (liveness still runs unreduced)
* ``first:<id>``   time to the first counterexample of one property: the same BFS with only
                   that property's predicate, stopping at the first state/step that breaks it

Each child prints one JSON object (echoed on stderr as it arrives); the parent prints
Markdown tables, and with ``--out FILE`` writes all results as JSON. Times are wall and CPU (``time.process_time``) seconds; states/s
is states per CPU second, which is less sensitive to other load on the machine.
Nothing is asserted: this is a measurement, see bench/explore.md.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
import time
import tracemalloc
from array import array
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent


# --- the ladder -------------------------------------------------------------------------------------

def rungs() -> dict:
    """name -> (Scope, one line). Built from specs/scopes.py helpers."""
    from bufring.model.system import Environment
    from bufring.specs.scopes import BY_NAME, Scope, _cfg, bufring

    def scope(name, doc, cfg, env):
        return Scope(name, doc, cfg, env, max_states=20_000_000)

    return {s.name: (s, s.doc) for s in [
        scope("tiny", "1 entry, 2 buffers, 1 request alive", _cfg(),
              Environment(registers=(bufring(nbufs=2),), max_ents=1, max_live=1)),
        BY_NAME["register"],
        BY_NAME["null-payload"],
        BY_NAME["enobufs"],
        BY_NAME["ring"],
        scope("enobufs-live4", "default 'enobufs' (1 buffer, 2 entries) with 4 requests alive",
              _cfg(), replace(BY_NAME["enobufs"].env, max_live=4)),
        scope("ring-live3", "default 'ring' (3 buffers, 2 entries) with 3 requests alive",
              _cfg(), replace(BY_NAME["ring"].env, max_live=3)),
        scope("ring-4bit-live3", "'ring-live3' with 4-bit counters (wrap at 16)",
              _cfg(counter_bits=4), replace(BY_NAME["ring"].env, max_live=3)),
        scope("ring-5bit-live3", "'ring-live3' with 5-bit counters (wrap at 32)",
              _cfg(counter_bits=5), replace(BY_NAME["ring"].env, max_live=3)),
    ]}


LADDER = ("tiny", "register", "null-payload", "enobufs", "ring", "enobufs-live4", "ring-live3",
          "ring-4bit-live3", "ring-5bit-live3")
FIRST = ("flow.work_conserving", "ring.exclusive")
MODES = ("bfs", "explore", "explore-sym") + tuple(f"first:{p}" for p in FIRST)


# --- children -----------------------------------------------------------------------------------------

def rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class Found(Exception):
    pass


def child(mode: str, rung: str) -> dict:
    from bufring.checker.explore.explorer import explore_scope
    from bufring.checker.explore.statespace import bfs
    from bufring.model.system import Model
    from bufring.model.variant import V2
    from bufring.specs import catalog

    scope, _ = rungs()[rung]
    model = Model(V2, scope.config, scope.env)
    base = rss_mib()
    out = {"rung": rung, "mode": mode, "baseline_rss_mib": base}
    wall, cpu = time.perf_counter(), time.process_time()
    if mode == "bfs":
        space = bfs(model, max_states=scope.max_states)
        out.update(states=len(space.states), transitions=space.transitions, depth=space.max_depth,
                   capped=space.capped)
    elif mode in ("explore", "explore-sym"):
        run = explore_scope(V2, scope, symmetry=mode == "explore-sym")
        out.update(states=run.states, transitions=run.transitions, depth=run.depth, capped=run.capped,
                   findings=sorted(k for k, f in run.findings.items()
                                   if f is not None and catalog.get(k).kind is not catalog.Kind.SOMETIMES))
    elif mode.startswith("first:"):
        prop = catalog.get(mode.split(":", 1)[1])
        cfg = scope.config
        depth: list[int] = []                  # per stored state, from the callbacks' order
        last_src = [0]

        def on_state(i, s):
            depth.append(depth[last_src[0]] + 1 if i else 0)
            if prop.check_state is not None and not prop.check_state(cfg, s):
                raise Found(depth[i])

        def on_step(src, a, pre, post, obs):
            last_src[0] = src
            if prop.check_step is not None and not prop.check_step(cfg, pre, a, post, obs):
                raise Found(depth[src] + 1)

        try:
            space = bfs(model, max_states=scope.max_states, on_state=on_state, on_step=on_step)
            out.update(found=False, stored=len(space.states))
        except Found as e:
            out.update(found=True, length=e.args[0], stored=len(depth))
    else:
        raise SystemExit(f"unknown mode {mode}")
    out.update(wall_s=round(time.perf_counter() - wall, 3), cpu_s=round(time.process_time() - cpu, 3),
               peak_rss_mib=rss_mib())
    if "states" in out and out["cpu_s"] > 0:
        out["states_per_cpu_s"] = round(out["states"] / out["cpu_s"])
        out["transitions_per_cpu_s"] = round(out["transitions"] / out["cpu_s"])
    return out


def memory(rung: str) -> dict:
    """tracemalloc: the explorer's compact columns against networkx DiGraphs of the same graph."""
    import networkx as nx

    from bufring.checker.explore.statespace import bfs
    from bufring.specs.fairness import fairness_class
    from bufring.model.system import Model
    from bufring.model.variant import V2

    scope, _ = rungs()[rung]
    model = Model(V2, scope.config, scope.env)
    tracemalloc.start()
    t0, _ = tracemalloc.get_traced_memory()
    space = bfs(model, max_states=scope.max_states)
    after_bfs, peak_bfs = tracemalloc.get_traced_memory()
    n, m = len(space.states), space.transitions
    assert not space.capped

    def delta(build):
        before, _ = tracemalloc.get_traced_memory()
        obj = build()
        now, _ = tracemalloc.get_traced_memory()
        return obj, now - before

    # The action of every edge, in the columns' order (bfs appends a state's edges in
    # successors() order): what a graph that keeps actions on its edges must keep alive.
    edge_actions, actions_bytes = delta(lambda: [a for st in space.states for a, _, _ in model.successors(st)])
    assert len(edge_actions) == m
    cols, cols_bytes = delta(lambda: (array("l", space.src), array("l", space.dst), array("l", space.fair),
                                      array("l", space.parent), array("l", space.depth), list(space.via)))
    # Same information as the columns: int nodes with parent/depth/via, edges with their class.
    g_int, g_int_bytes = delta(lambda: _nx_int(nx, space))
    del g_int
    # The textbook state graph: states as nodes, each edge carrying its action and class.
    g_state, g_state_bytes = delta(lambda: _nx_state(nx, space, edge_actions, fairness_class))
    del g_state
    tracemalloc.stop()
    return {"rung": rung, "states": n, "transitions": m,
            "traced_after_bfs_mib": round((after_bfs - t0) / 2**20, 1),
            "edge_actions_mib": round(actions_bytes / 2**20, 2),
            "traced_peak_bfs_mib": round((peak_bfs - t0) / 2**20, 1),
            "columns_mib": round(cols_bytes / 2**20, 2),
            "columns_bytes_per_edge": round(cols_bytes / m, 1),
            "nx_int_mib": round(g_int_bytes / 2**20, 2),
            "nx_state_mib": round(g_state_bytes / 2**20, 2),
            "nx_int_over_columns": round(g_int_bytes / cols_bytes, 1),
            "nx_state_over_columns": round(g_state_bytes / cols_bytes, 1)}


def _nx_int(nx, space):
    g = nx.DiGraph()
    for i in range(len(space.states)):
        g.add_node(i, parent=space.parent[i], depth=space.depth[i], via=space.via[i])
    for s, d, f in zip(space.src, space.dst, space.fair):
        g.add_edge(s, d, fair=f)
    return g


def _nx_state(nx, space, edge_actions, fairness_class):
    g = nx.DiGraph()
    states = space.states
    for i, s in enumerate(states):
        g.add_node(s, depth=space.depth[i])
    for (s, d, a) in zip(space.src, space.dst, edge_actions):
        g.add_edge(states[s], states[d], action=a, fair=fairness_class(states[s], a))
    return g


def profile(rung: str, top: int = 18) -> str:
    """cProfile of explore_scope on one rung: top functions by own time, and own time per area."""
    from bufring.checker.explore.explorer import explore_scope
    from bufring.model.variant import V2

    scope, _ = rungs()[rung]
    prof = cProfile.Profile()
    prof.enable()
    explore_scope(V2, scope)
    prof.disable()
    stats = pstats.Stats(prof)
    total = sum(v[2] for v in stats.stats.values())
    areas: dict[str, float] = {}
    for (file, _, func), (_, _, tottime, _, _) in stats.stats.items():
        if "/model/" in file:
            area = "model/ (kernel steps, actions, ring)"
        elif "/specs/" in file:
            area = "specs/ (predicates)"
        elif "/checker/" in file:
            area = "checker/ (bfs, explore callbacks, graphs)"
        elif "networkx" in file:
            area = "networkx"
        elif "collections" in file or file == "<string>" or func in ("<built-in method __new__ of type object at 0x>",):
            area = "NamedTuple _replace/_make (collections; model/state.py's generated _replace)"
        else:
            area = "builtins (tuple new/hash, dict, list, any)"
        areas[area] = areas.get(area, 0.0) + tottime
    buf = io.StringIO()
    buf.write(f"total own time {total:.2f} s\n\n| area | own s | share |\n|---|---|---|\n")
    for area, t in sorted(areas.items(), key=lambda kv: -kv[1]):
        buf.write(f"| {area} | {t:.2f} | {100 * t / total:.0f}% |\n")
    phases = [("successors: enabled actions and the transition function (model/system.py, model/kernel.py)",
               "system.py", "successors"),
              ("actions: enabled actions (model/system.py)", "system.py", "actions"),
              ("step properties and premises (checker/explore/checks.py)", "checks.py", "step"),
              ("state properties (checker/explore/checks.py)", "checks.py", "state"),
              ("visited set: encode and look up (checker/explore/store.py)", "statespace.py", "visit"),
              ("rebuilding stored states (store.py decode)", "store.py", "decode"),
              ("fairness_class per edge (specs/fairness.py)", "fairness.py", "fairness_class"),
              ("flow.no_deadlock analysis (_deadlock)", "explorer.py", "_deadlock"),
              ("flow.eventually_dispatched analysis (_liveness)", "explorer.py", "_liveness"),
              ("path rebuilding (concrete_path)", "explorer.py", "concrete_path")]
    buf.write("\n| phase (inclusive) | s | share |\n|---|---|---|\n")
    for label, file, func in phases:
        # max, not sum: Model.next_state calls next_state, and both match.
        cum = max((v[3] for (f, _, fn), v in stats.stats.items() if f.endswith(file) and fn == func),
                  default=0.0)
        buf.write(f"| {label} | {cum:.2f} | {100 * cum / total:.0f}% |\n")
    s = io.StringIO()
    pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(top)
    lines = [ln for ln in s.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls"))
    buf.write("\n```\n" + "\n".join(ln.replace(str(Path.cwd()) + "/", "") for ln in lines[start:]) + "\n```\n")
    return buf.getvalue()


# --- the parent ----------------------------------------------------------------------------------------

def run_child(args: list[str], timeout: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"timeout": timeout}
    if p.returncode != 0:
        return {"error": p.stderr.strip().splitlines()[-1] if p.stderr.strip() else f"exit {p.returncode}"}
    return json.loads(p.stdout.strip().splitlines()[-1])


def table(results: list[dict]) -> str:
    rows = ["| rung | mode | states | transitions | depth | CPU s | wall s | states/CPU s | peak RSS MiB |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        if "timeout" in r or "error" in r:
            rows.append(f"| {r['rung']} | {r['mode']} | {r.get('timeout') and 'timeout ' + str(r['timeout']) + ' s' or r['error']} | | | | | | |")
            continue
        if r["mode"].startswith("first:"):
            continue
        rows.append(f"| {r['rung']} | {r['mode']} | {r['states']:,} | {r['transitions']:,} | {r['depth']} | "
                    f"{r['cpu_s']:.2f} | {r['wall_s']:.2f} | {r.get('states_per_cpu_s', 0):,} | "
                    f"{r['peak_rss_mib']} |")
    rows += ["", "| rung | property | first counterexample | length | states stored then | CPU s | wall s |",
             "|---|---|---|---:|---:|---:|---:|"]
    for r in results:
        if r.get("mode", "").startswith("first:") and "cpu_s" in r:
            rows.append(f"| {r['rung']} | {r['mode'][6:]} | {'found' if r['found'] else 'none (holds)'} | "
                        f"{r.get('length', '-')} | {r['stored']:,} | {r['cpu_s']:.2f} | {r['wall_s']:.2f} |")
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rungs", default=",".join(LADDER))
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per child (default 600)")
    ap.add_argument("--out", metavar="FILE", help="also write every result as JSON to FILE")
    ap.add_argument("--append", action="store_true",
                    help="merge into --out: replace its results of the same rung and mode")
    ap.add_argument("--profile", metavar="RUNG")
    ap.add_argument("--memory", metavar="RUNG")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        kind = a.child[0]
        if kind == "memory":
            print(json.dumps(memory(a.child[1])))
        else:
            print(json.dumps(child(kind, a.child[1])))
        return 0
    if a.profile:
        print(profile(a.profile))
        return 0
    if a.memory:
        print(json.dumps(run_child(["memory", a.memory], a.timeout), indent=1))
        return 0
    ladder = rungs()
    results = []
    for rung in a.rungs.split(","):
        if rung not in ladder:
            raise SystemExit(f"unknown rung {rung}; rungs: {', '.join(ladder)}")
        for mode in a.modes.split(","):
            r = {"rung": rung, "mode": mode, **run_child([mode, rung], a.timeout)}
            results.append(r)
            print(json.dumps(r), file=sys.stderr, flush=True)
    meta = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "loadavg_at_end": os.getloadavg(), "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    runs = [{"meta": meta, "rungs": a.rungs, "modes": a.modes}]
    if a.append and a.out and Path(a.out).is_file():
        old = json.loads(Path(a.out).read_text())
        done = {(r["rung"], r["mode"]) for r in results}
        results = [r for r in old["results"] if (r["rung"], r["mode"]) not in done] + results
        order = {name: i for i, name in enumerate(LADDER)}
        results.sort(key=lambda r: order.get(r["rung"], len(order)))
        runs = old.get("runs", [old.get("meta")]) + runs
    if a.out:
        Path(a.out).write_text(json.dumps({"runs": runs, "results": results}, indent=1) + "\n")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
