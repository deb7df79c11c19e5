"""Explorer speed and scale (issue 12): before/after on one core, --jobs 2, the Dask backend.

Usage (from the repository root, in the project's venv with the ``test`` extra):

    git worktree add ../bufring-before f3b7d78        # the code before issue 12, once
    python bench/explore_scale.py --before ../bufring-before [--rungs tiny,ring] [--out FILE]
    python bench/explore_scale.py --default-scopes      # cost of each default scope (docs/scopes.md)

Without ``--before`` the "before" columns are left out. Every measurement runs in
its own subprocess (so peak RSS is that run's alone); the "before" children import
bufring from the ``--before`` checkout, the others from the checkout this script is
in (not from wherever bufring is installed). Per rung:

* ``bfs``: the bare search (no checks, edges kept), before and after: states per
  CPU second of the process, and bytes per state = (peak RSS - RSS after imports)
  / states, which counts everything the search keeps (visited set, parents, edges).
* ``explore``: ``explore_scope`` (every catalog property, graph analyses) with
  ``jobs=1`` and ``jobs=2``: wall seconds, CPU seconds of the parent and of its
  worker processes, the speed-up in wall time.
* ``cluster``: the same on a Dask ``LocalCluster`` (2 worker processes, one thread
  each) started by the child: wall seconds.

``--default-scopes`` instead runs ``explore_scope`` once per default scope
(``specs/scopes.py``, jobs=1) and prints states, transitions, CPU seconds and bytes
per state: the cost table of docs/scopes.md.

The three ``explore`` runs must agree on states, transitions, depth and on every
finding's run length; the table says ``same`` or ``DIFFERENT``. Nothing is asserted:
this is a measurement (bench/explore.md).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNGS = ("tiny", "enobufs", "ring", "enobufs-live4", "ring-live3", "ring-4bit-live3", "ring-5bit-live3")


def rungs() -> dict:
    """name -> Scope, built from helpers that exist before and after (same states in both)."""
    from dataclasses import replace

    from bufring.model.system import Environment
    from bufring.specs.scopes import DEFAULT_SCOPES, Scope, _cfg, bufring

    ring = Environment(registers=(bufring(nbufs=3), bufring(buf_index=1, nbufs=3)), max_ents=2, max_live=2)
    enobufs = Environment(registers=(bufring(), bufring(buf_index=1)), max_ents=2, max_live=3)

    def scope(name, cfg, env):
        return Scope(name, name, cfg, env, max_states=20_000_000)

    return {s.name: s for s in [
        scope("tiny", _cfg(), Environment(registers=(bufring(nbufs=2),), max_ents=1, max_live=1)),
        scope("enobufs", _cfg(), enobufs),
        scope("ring", _cfg(), ring),
        scope("enobufs-live4", _cfg(), replace(enobufs, max_live=4)),
        scope("ring-live3", _cfg(), replace(ring, max_live=3)),
        scope("ring-4bit-live3", _cfg(counter_bits=4), replace(ring, max_live=3)),
        scope("ring-5bit-live3", _cfg(counter_bits=5), replace(ring, max_live=3)),
    ]} | {f"scope:{s.name}": s for s in DEFAULT_SCOPES}


# --- children ------------------------------------------------------------------------------------

def use_checkout(folder: str) -> None:
    """Import ``bufring`` from the checkout ``folder``: a ``bufring`` folder of links to
    its three packages, first on sys.path, and an editable install's finder removed."""
    shim = Path(tempfile.mkdtemp(prefix="bufring-before-")) / "bufring"
    shim.mkdir()
    for part in ("model", "specs", "checker"):
        (shim / part).symlink_to(Path(folder).resolve() / part)
    sys.path.insert(0, str(shim.parent))
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__name__.lower()
                        and "editable" not in getattr(f, "__module__", "")]


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def child(mode: str, rung: str) -> dict:
    from bufring.checker.explore.explorer import explore_scope
    from bufring.checker.explore.statespace import bfs
    from bufring.model.builtin import load_variant
    from bufring.model.system import Model

    v2 = load_variant("v2")
    scope = rungs()[rung]
    cluster = None
    if mode == "cluster":
        from distributed import LocalCluster
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    base = rss_mib()
    wall, cpu, kids = time.perf_counter(), time.process_time(), children_cpu()
    out: dict = {"rung": rung, "mode": mode}
    if mode == "bfs":
        space = bfs(Model(v2, scope.config, scope.env), max_states=scope.max_states)
        out.update(states=len(space.states), transitions=space.transitions)
    else:
        kw = {"cluster": cluster.scheduler_address} if cluster else {"jobs": int(mode[-1])} if mode != "explore" else {}
        run = explore_scope(v2, scope, **kw)
        out.update(states=run.states, transitions=run.transitions, depth=run.depth,
                   findings={k: (len(f.actions) if f is not None else None) for k, f in sorted(run.findings.items())})
    out.update(wall_s=round(time.perf_counter() - wall, 3), cpu_s=round(time.process_time() - cpu, 3),
               workers_cpu_s=round(children_cpu() - kids, 3),
               bytes_per_state=round((rss_mib() - base) * 2**20 / max(out["states"], 1)))
    if cluster is not None:
        cluster.close()
    return out


# --- the parent ------------------------------------------------------------------------------------

def run_child(args: list[str], timeout: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout {timeout} s"}
    if p.returncode != 0:
        return {"error": (p.stderr.strip().splitlines() or [f"exit {p.returncode}"])[-1]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def rate(r: dict) -> str:
    if "error" in r or not r.get("cpu_s"):
        return r.get("error", "-")
    return f"{r['states'] / r['cpu_s']:,.0f}"


def tables(results: dict, rung_names: list[str]) -> str:
    rows = ["| rung | states | transitions | before: states/CPU s | after: states/CPU s | x | "
            "before: B/state | after: B/state |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name in rung_names:
        b, a = results[name].get("before-bfs", {}), results[name]["bfs"]
        if "error" in a:
            rows.append(f"| {name} | {a['error']} |||||||")
            continue
        speedup = (f"{(a['states'] / a['cpu_s']) / (b['states'] / b['cpu_s']):.2f}"
                   if b.get("cpu_s") and a.get("cpu_s") else "-")
        rows.append(f"| {name} | {a['states']:,} | {a['transitions']:,} | {rate(b) if b else '-'} | "
                    f"{rate(a)} | {speedup} | {b.get('bytes_per_state', '-')} | {a['bytes_per_state']} |")
    rows += ["", "| rung | explore --jobs 1: wall s (CPU s) | --jobs 2: wall s (parent + workers CPU s) | "
             "speed-up | Dask LocalCluster (2 workers): wall s | same states and findings |",
             "|---|---:|---:|---:|---:|---|"]
    for name in rung_names:
        r = results[name]
        one, two, dask = r["explore-1"], r["explore-2"], r["cluster"]
        if any("error" in x for x in (one, two, dask)):
            rows.append(f"| {name} | {one.get('error', one.get('wall_s'))} | {two.get('error', two.get('wall_s'))} "
                        f"| | {dask.get('error', dask.get('wall_s'))} | |")
            continue
        keys = ("states", "transitions", "depth", "findings")
        same = all(one[k] == two[k] == dask[k] for k in keys)
        rows.append(f"| {name} | {one['wall_s']:.2f} ({one['cpu_s']:.2f}) | {two['wall_s']:.2f} "
                    f"({two['cpu_s']:.2f} + {two['workers_cpu_s']:.2f}) | {one['wall_s'] / two['wall_s']:.2f} | "
                    f"{dask['wall_s']:.2f} | {'same' if same else 'DIFFERENT'} |")
    return "\n".join(rows)


def scope_costs(timeout: float) -> str:
    """One ``explore`` (jobs=1) per default scope: the cost table of docs/scopes.md."""
    names = [n for n in rungs() if n.startswith("scope:")]
    rows = ["| scope | states | transitions | depth | CPU s | wall s | B/state (peak RSS) |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    total = 0.0
    for name in names:
        r = run_child(["explore-1", name], timeout)
        print(json.dumps(r), file=sys.stderr, flush=True)
        if "error" in r:
            rows.append(f"| {name[6:]} | {r['error']} ||||||")
            continue
        total += r["cpu_s"]
        rows.append(f"| {name[6:]} | {r['states']:,} | {r['transitions']:,} | {r['depth']} | {r['cpu_s']:.2f} | "
                    f"{r['wall_s']:.2f} | {r['bytes_per_state']} |")
    rows.append(f"| all | | | | {total:.2f} | | |")
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", metavar="DIR", help="a checkout of the code to compare with")
    ap.add_argument("--rungs", default=",".join(RUNGS))
    ap.add_argument("--timeout", type=float, default=1200.0, help="seconds per child (default 1200)")
    ap.add_argument("--out", metavar="FILE", help="also write every result as JSON")
    ap.add_argument("--default-scopes", action="store_true", help="the cost of each default scope")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        mode, rung, *before = a.child
        use_checkout(before[0] if before else str(Path(__file__).resolve().parents[1]))
        print(json.dumps(child(mode, rung)))
        return 0
    if a.default_scopes:
        print(scope_costs(a.timeout))
        return 0
    names = a.rungs.split(",")
    results: dict = {}
    for name in names:
        results[name] = r = {}
        if a.before:
            r["before-bfs"] = run_child(["bfs", name, a.before], a.timeout)
        for mode in ("bfs", "explore-1", "explore-2", "cluster"):
            r[mode] = run_child([mode, name], a.timeout)
        print(json.dumps({name: r}), file=sys.stderr, flush=True)
    meta = {"python": platform.python_version(), "cpus": os.cpu_count(), "loadavg_at_end": os.getloadavg(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S"), "command": " ".join(["python", *sys.argv])}
    if a.out:
        Path(a.out).write_text(json.dumps({"meta": meta, "results": results}, indent=1) + "\n")
    print(f"python {meta['python']}, {meta['cpus']} CPUs, load average at the end {meta['loadavg_at_end']}\n")
    print(tables(results, names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
