"""Pictures of a run for people: a Mermaid sequence diagram and the ring per step.

Both are drawn from a trace file by re-running it on the model, so what the
report shows is what the model does, step by step.
"""
from __future__ import annotations

from bufring.model.actions import (Commit, CommitBegin, CommitEnd, Register, RegisterBegin,
                                   RegisterEnd, Request, Send)
from bufring.model.errno import Errno
from bufring.model.traces import read_trace
from bufring.specs.predicates import step_qid, window
from bufring.model.variant import Variant

SERVER, KERNEL = "S", "K"


def _ring(qid: int) -> str:
    return f"R{qid}"


def _register_text(a) -> str:
    mode = "bufring" if a.flags & 1 else "legacy"
    extra = f" flags={a.flags:#x}" if a.flags & ~1 else ""
    text = f"REGISTER qid {a.qid} {mode}{extra}"
    if a.flags & 1:
        text += (f" buf_index {a.buf_index} depth {a.queue_depth} buf_size {a.buf_size}"
                 f" payload {a.payload[0]:#x}+{a.payload[1]:#x}")
    return text


def sequence_diagram(path: str, variant: Variant) -> str:
    """A Mermaid ``sequenceDiagram`` of the trace at ``path`` (server, kernel, rings)."""
    from bufring.checker.judge import run_actions

    trace = read_trace(path)
    cfg = trace.config
    steps = run_actions(variant, cfg, [s.action for s in trace.steps])
    qids = sorted({step_qid(cfg, a) for _, a, _, _ in steps if hasattr(a, "qid")} | {0})
    lines = ["sequenceDiagram", f"    participant {SERVER} as FUSE server",
             f"    participant {KERNEL} as kernel (dev_uring.c)"]
    lines += [f"    participant {_ring(q)} as buffer ring q{q}" for q in qids]
    for n, (pre, a, post, obs) in enumerate(steps, start=1):
        if n - 1 == trace.cycle_start:
            lines.append(f"    Note over {SERVER},{KERNEL}: the steps below repeat forever")
        kind = type(a)
        ring = _ring(step_qid(cfg, a)) if hasattr(a, "qid") else _ring(0)
        if kind in (Register, RegisterBegin):
            reg = a if kind is Register else a.register()
            lines.append(f"    {SERVER}->>{KERNEL}: {n}. {_register_text(reg)}")
        elif kind is RegisterEnd:
            lines.append(f"    Note over {KERNEL}: {n}. REGISTER thread {a.thread} continues")
        elif kind is Request:
            what = ("background " if a.background else "") + ("request" if a.payload else "request (no payload)")
            lines.append(f"    Note over {KERNEL}: {n}. {what} {a.unique} arrives on q{a.qid}")
        elif kind in (Commit, CommitBegin):
            lines.append(f"    {SERVER}->>{KERNEL}: {n}. COMMIT_AND_FETCH {a.commit_id}")
        elif kind is CommitEnd:
            lines.append(f"    Note over {KERNEL}: {n}. commit of {a.commit_id} continues")
        elif kind is Send:
            lines.append(f"    Note over {KERNEL}: {n}. task work of ent {a.ent} runs")
        for b in obs.recycled:
            lines.append(f"    {KERNEL}->>{ring}: recycle buffer {b}")
        for d in obs.dispatched:
            if d.buf_id is not None and d.payload_addr:
                lines.append(f"    {ring}-->>{KERNEL}: buffer {d.buf_id} @ {d.payload_addr:#x}")
            buf = "" if d.buf_id is None else f" buf_id {d.buf_id}"
            lines.append(f"    {KERNEL}-->>{SERVER}: CQE ent {d.ent}: unique {d.unique}{buf}"
                         f" payload @{d.payload_addr:#x}")
        if obs.ret is not None:
            ent = f" (ent {obs.ent})" if obs.ent is not None else ""
            lines.append(f"    {KERNEL}-->>{SERVER}: ret {Errno.name_of(obs.ret)}{ent}")
        if obs.queued:
            lines.append(f"    Note over {KERNEL}: request {a.unique} waits in the queue")
        for w in obs.warnings:
            lines.append(f"    Note over {KERNEL}: WARN {w}")
    if trace.cycle_start is not None and trace.cycle_start >= len(steps):
        lines.append(f"    Note over {SERVER},{KERNEL}: nothing more happens: the last state stays forever")
    return "\n".join(lines)


def ring_table(path: str, variant: Variant) -> str:
    """A Markdown table: after each step, each bufring queue's head, tail, free
    window (in select order) and which entry holds which buffer."""
    from bufring.checker.judge import run_actions

    trace = read_trace(path)
    cfg = trace.config
    steps = run_actions(variant, cfg, [s.action for s in trace.steps])
    rows = ["| step | op | queue | head | tail | free window [head, tail) | held by entries | waiting |",
            "|---|---|---|---|---|---|---|---|"]
    for n, (pre, a, post, obs) in enumerate(steps, start=1):
        op = type(a).__name__
        shown = False
        for qid, q in post.queues:
            waiting = ", ".join(str(r.unique) for r in q.req_queue + q.bg_queue) or "-"
            if q.bufring is None:
                continue
            r = q.bufring
            free = " ".join(str(b) for b in window(r, cfg.counter_bits)) or "(empty)"
            held = ", ".join(f"ent {i}: buf {e.buf}" + ("" if e.req else " (idle)")
                             for i, e in enumerate(q.ents) if e.buf is not None) or "-"
            rows.append(f"| {n} | {op} | {qid} | {r.head} | {r.tail} | {free} | {held} | {waiting} |")
            shown = True
        if not shown:
            rows.append(f"| {n} | {op} | - | - | - | (no buffer ring) | - | - |")
    return "\n".join(rows)
