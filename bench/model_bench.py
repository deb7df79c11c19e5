#!/usr/bin/env python3
"""Benchmark of the executable model (issue 3).

1. ``next_state`` steps per second on a long random run: two queues in buffer-ring
   mode, a few REGISTERs each, then requests (fg and bg, with and without payload)
   and commits at random. Each queue has fewer buffers than entries, so requests
   meet ``-ENOBUFS`` at arrival and at fetch-next. The action list is generated
   first (online, on the model), then ``next_state`` is timed alone on it.
2. Replay of a 10,000-step trace of such a run (written with ``write_trace``, every
   step with its full ``expect``): ``bufring replay FILE --json`` end to end in a
   subprocess, and ``read_trace`` / ``run_trace`` in-process.
3. A cProfile of the ``next_state`` loop: top functions by own time.

Run from the repository root:

    python bench/model_bench.py

It prints a Markdown report on stdout (``bench/model.md`` is made from it).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bufring.model.actions import Commit, Register, Request
from bufring.model.config import Config
from bufring.model.kernel import next_state
from bufring.model.state import INITIAL_STATE
from bufring.model.traces import expect_of, read_trace, run_trace, write_trace
from bufring.model.variant import V2

HEADERS, PAYLOAD, BUF, HDR = 0x10000, 0x1000000, 131072, 288
NR_QUEUES, ENTS, NBUFS = 2, 8, 5           # 8 entries share 5 buffers per queue
CFG = Config(nr_queues=NR_QUEUES, max_background=4)


def registers() -> list[Register]:
    out = []
    for qid in range(NR_QUEUES):
        base_h, base_p = HEADERS + qid * 0x100000, PAYLOAD + qid * 0x10000000
        for i in range(ENTS):
            out.append(Register(qid=qid, flags=1, buf_index=i, queue_depth=ENTS, buf_size=BUF,
                                headers=(base_h, ENTS * HDR), payload=(base_p, NBUFS * BUF)))
    return out


def random_run(steps: int, seed: int):
    """``steps`` valid actions and their observations, generated on the model."""
    rng = random.Random(seed)
    state = INITIAL_STATE
    actions, observations = [], []
    in_user: list[tuple[int, int]] = []        # (qid, unique) of requests user space holds
    waiting = 0                                # requests queued in the kernel
    unique = 1

    def step(a):
        nonlocal state
        state, obs = next_state(V2, CFG, state, a)
        actions.append(a)
        observations.append(obs)
        return obs

    for a in registers():
        step(a)
    while len(actions) < steps:
        if in_user and (waiting > 24 or rng.random() < 0.48):
            qid, u = in_user.pop(rng.randrange(len(in_user)))
            obs = step(Commit(qid=qid, commit_id=u, reply_error=0 if rng.random() < 0.9 else -2))
        elif rng.random() < 0.01:
            obs = step(Commit(qid=rng.randrange(NR_QUEUES), commit_id=1 << 40))   # -ENOENT
        else:
            qid = rng.randrange(NR_QUEUES)
            obs = step(Request(qid=qid, unique=unique, payload=rng.random() < 0.7,
                               background=rng.random() < 0.2))
            unique += 1
            waiting += 1 if obs.queued else 0
        for d in obs.dispatched:
            qid = actions[-1].qid
            in_user.append((qid, d.unique))
            if not (isinstance(actions[-1], Request) and d.unique == actions[-1].unique):
                waiting -= 1                   # a queued request left the kernel's lists
    return actions, observations


class Clock:
    """Wall time and CPU time of a block (CPU of this process, or of the children
    it waited for): on a shared machine the CPU time is the steadier number."""

    def __init__(self, children: bool = False):
        self.children = children

    def _cpu(self) -> float:
        if self.children:
            t = os.times()
            return t.children_user + t.children_system
        return time.process_time()

    def __enter__(self):
        self.wall0, self.cpu0 = time.perf_counter(), self._cpu()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall0
        self.cpu = self._cpu() - self.cpu0


def best(clocks) -> tuple[float, float]:
    """Smallest wall time and smallest CPU time over repetitions."""
    return min(c.wall for c in clocks), min(c.cpu for c in clocks)


def time_next_state(actions, repeat: int) -> list[Clock]:
    clocks = []
    for _ in range(repeat):
        state = INITIAL_STATE
        with Clock() as c:
            for a in actions:
                state, _ = next_state(V2, CFG, state, a)
        clocks.append(c)
    return clocks


def top_functions(prof: cProfile.Profile, key: str, top: int) -> str:
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(key).print_stats(top)
    lines = [line for line in buf.getvalue().splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if "ncalls" in line)
    return "\n".join(lines[start:])


def profile_next_state(actions, top: int) -> tuple[str, str]:
    """Top functions of the next_state loop, by own time and by cumulative time."""
    prof = cProfile.Profile()
    state = INITIAL_STATE
    prof.enable()
    for a in actions:
        state, _ = next_state(V2, CFG, state, a)
    prof.disable()
    return top_functions(prof, "tottime", top), top_functions(prof, "cumtime", top)


def profile_replay(path: Path, top: int) -> str:
    """Top functions of read_trace + run_trace, by own time."""
    prof = cProfile.Profile()
    prof.enable()
    run_trace(read_trace(path), V2)
    prof.disable()
    return top_functions(prof, "tottime", top)


def describe(observations) -> Counter:
    c = Counter()
    for o in observations:
        c["enobufs"] += "enobufs" in o.events
        c["buffer_kept"] += "buffer_kept" in o.events
        c["dispatched"] += len(o.dispatched)
        c["recycled"] += len(o.recycled)
        c["queued"] += bool(o.queued)
        c["enoent"] += o.ret == -2
    return c


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200_000, help="length of the random run")
    ap.add_argument("--trace-steps", type=int, default=10_000, help="length of the replayed trace")
    ap.add_argument("--repeat", type=int, default=5, help="timed repetitions (best is reported)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile-steps", type=int, default=50_000)
    ap.add_argument("--top", type=int, default=18)
    args = ap.parse_args()
    out = sys.stdout

    with Clock() as gen:
        actions, observations = random_run(args.steps, args.seed)
    kinds = Counter(type(a).__name__ for a in actions)
    seen = describe(observations)
    step_wall, step_cpu = best(time_next_state(actions, args.repeat))

    trace_actions, trace_obs = random_run(args.trace_steps, args.seed + 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench-10k.jsonl"
        write_trace(path, "v2", CFG, [(a, expect_of(a, o)) for a, o in zip(trace_actions, trace_obs)],
                    comments=[f"model_bench.py seed {args.seed + 1}"])
        size = path.stat().st_size
        bufring = Path(sys.executable).with_name("bufring")
        cli, startup, reads, runs = [], [], [], []
        for _ in range(args.repeat):
            with Clock(children=True) as c:
                proc = subprocess.run([str(bufring), "replay", str(path), "--json"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            cli.append(c)
            assert proc.returncode == 0, proc.stderr
            assert proc.stdout.count("\n") == len(trace_actions)
            with Clock(children=True) as c:
                subprocess.run([str(bufring), "variants", "--json"], stdout=subprocess.PIPE, check=True)
            startup.append(c)
            with Clock() as c:
                trace = read_trace(path)
            reads.append(c)
            with Clock() as c:
                result = run_trace(trace, V2)
            runs.append(c)
            assert result.first_mismatch is None and len(result.results) == len(trace_actions)
        replay_profile = profile_replay(path, 12)

    profile = profile_next_state(actions[:args.profile_steps], args.top)

    def pair(wall_cpu) -> str:
        return f"{wall_cpu[0]:.2f} s wall / {wall_cpu[1]:.2f} s CPU"

    out.write("## Command\n\n```\npython bench/model_bench.py"
              + "".join(f" {a}" for a in sys.argv[1:]) + "\n```\n\n")
    out.write("## Machine\n\n")
    out.write(f"- nproc: {os.cpu_count()}\n- python: {platform.python_version()} "
              f"({platform.python_implementation()})\n- platform: {platform.platform()}\n"
              f"- load average at the end of the run: "
              f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}\n"
              f"- every time is the best of {args.repeat} runs; CPU time is the steadier one "
              "when the machine is shared\n\n")
    out.write("## 1. next_state on a long random run\n\n")
    out.write(f"- config: {CFG.to_json()}; {ENTS} entries and {NBUFS} buffers per queue\n")
    out.write(f"- {len(actions)} steps: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
              + "\n")
    out.write("- what happened: " + ", ".join(f"{k} {v}" for k, v in sorted(seen.items())) + "\n")
    out.write(f"- generating the run (online, with bookkeeping): {pair((gen.wall, gen.cpu))}\n")
    out.write(f"- next_state alone: {pair((step_wall, step_cpu))}: "
              f"**{len(actions) / step_cpu:,.0f} steps/s** on CPU time "
              f"({step_cpu / len(actions) * 1e6:.1f} µs/step), "
              f"{len(actions) / step_wall:,.0f} steps/s on wall time\n\n")
    out.write(f"## 2. Replay of a {len(trace_actions)}-step trace\n\n")
    out.write(f"- trace: {len(trace_actions)} steps, full `expect` on every step, {size / 1e6:.1f} MB\n")
    out.write(f"- `bufring replay FILE --json`, end to end in a subprocess: **{pair(best(cli))}**\n")
    out.write(f"- of which interpreter + imports + CLI start-up (`bufring variants --json`): "
              f"{pair(best(startup))}\n")
    out.write(f"- in-process `read_trace`: {pair(best(reads))}\n")
    out.write(f"- in-process `run_trace` alone: **{pair(best(runs))}** "
              f"({len(trace_actions) / best(runs)[1]:,.0f} steps/s on CPU time)\n\n")
    n = min(args.profile_steps, len(actions))
    out.write(f"## 3. Profile of next_state ({n} steps of the run above)\n\n"
              f"By own time (top {args.top}):\n\n```\n{profile[0]}\n```\n\n"
              f"By cumulative time (top {args.top}):\n\n```\n{profile[1]}\n```\n\n")
    out.write(f"## 4. Profile of read_trace + run_trace ({len(trace_actions)}-step trace, "
              f"by own time, top 12)\n\n```\n{replay_profile}\n```\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
