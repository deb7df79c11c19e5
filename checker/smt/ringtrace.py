"""From an abstract ring run (``checker.smt.induction.AbstractRun``) to a trace.

The abstract transitions map onto trace steps of the real model:

* the REGISTERs first: one ring of exactly ``nbufs`` buffers (a REGISTER the
  variant's rules accept, ``checker.smt.nbufs.register_for``), and one entry per
  buffer the run ever holds at once, plus one;
* ``select`` is a ``request`` with payload: it goes to the head of
  ``ent_avail_queue``, an entry holding nothing, which selects;
* ``recycle b`` is a ``commit`` of the request of an entry holding ``b`` while
  no request waits: fetch-next finds nothing and recycles;
* ``select over unseen buffer 0`` is a ``commit`` of the entry holding buffer 0
  at address 0 (the kernel does not see it, recycles nothing, the entry goes
  idle holding it) then a ``request`` with payload, which that entry, now
  heading ``ent_avail_queue``, selects for, dropping buffer 0.

The configuration starts the counters at the run's ``counter_start`` (TRACE-FORMAT
``config.counter_start``), so a run at the 32-bit wrap is a handful of steps. The
steps are run on the concrete model as they are chosen (which entry holds what is
the model's answer, not the abstraction's), cut after the first step where the
catalog property fails, and handed to ``checker.judge``, which writes
the trace with ``expect`` on every step and replays it. A run on which the
property does not fail is a checker bug and raises.
"""
from __future__ import annotations

from bufring.checker.judge import CheckerBug, run_actions, run_shows
from bufring.checker.smt.nbufs import register_for
from bufring.checker.smt.ring import OVR, REC, SEL
from bufring.model.actions import Commit, Request
from bufring.model.system import next_state
from bufring.model.state import INITIAL_STATE, EntState, get_queue
from bufring.model.variant import Variant


def entries_needed(run) -> int:
    """One entry per buffer held at once at the peak, plus one to select with."""
    held = peak = 0
    for kind, _ in run.events:
        held += {SEL: 1, REC: -1}.get(kind, 0)
        peak = max(peak, held)
    return peak + 1


def ring_actions(variant: Variant, run, bits: int, timeout: float, log=None):
    """``(config, actions)`` realising ``run`` on the model, or None when no REGISTER
    of the variant creates that ring."""
    entries = entries_needed(run)
    found = register_for(variant, run.nbufs, run.payload_at_0, entries, timeout, log,
                         bits=bits, counter_start=run.counter_start)
    if found is None:
        return None
    cfg, reg = found
    actions = [reg._replace(buf_index=i) for i in range(entries)]
    state = INITIAL_STATE
    for a in actions:
        state, _ = next_state(variant, cfg, state, a)
    unique = 0

    def step(a):
        nonlocal state
        actions.append(a)
        state, _ = next_state(variant, cfg, state, a)

    def holder(buf):
        q = get_queue(state, reg.qid)
        for e in q.ents:
            if e.buf == buf and e.state == EntState.USERSPACE and e.req is not None:
                return e.req.unique
        raise CheckerBug(f"abstract run {run.describe()}: no entry in user space holds buffer {buf}")

    for kind, buf in run.events:
        if kind == SEL:
            unique += 1
            step(Request(qid=reg.qid, unique=unique, payload=True))
        elif kind == REC:
            step(Commit(qid=reg.qid, commit_id=holder(buf)))
        elif kind == OVR:
            step(Commit(qid=reg.qid, commit_id=holder(0)))
            unique += 1
            step(Request(qid=reg.qid, unique=unique, payload=True))
    return cfg, actions


def shortest_failing_prefix(variant: Variant, cfg, prop, actions) -> list:
    """``actions`` cut after the first step where ``prop`` fails; raises when it never does."""
    steps = run_actions(variant, cfg, actions)
    for end in range(1, len(steps) + 1):
        if run_shows(prop, cfg, steps[:end]):
            return actions[:end]
    raise CheckerBug(f"{prop.id}: the run the SMT engine found does not fail on the concrete model "
                     f"({len(actions)} steps)")


def comment_lines(prop, variant: Variant, run, bits: int) -> list[str]:
    return [f"{prop.id} violated: found by bufring prove (variant {variant.name}), "
            f"{bits}-bit counters",
            f"abstract run: {run.describe()}",
            f"config.counter_start {run.counter_start} starts the ring "
            f"{(1 << bits) - run.counter_start} selects before the counter wrap"
            if run.counter_start else "config.counter_start 0: the ring as REGISTER sets it up"]
