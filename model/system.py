"""The model as a transition system, in Stateright's shape.

:class:`Model` binds a variant, a configuration and an :class:`Environment` (what
the server and the applications may do: which REGISTER SQEs, how many requests,
which kinds) and offers ``init_states()``, ``actions(state)`` and
``next_state(state, action)``. ``actions`` lists only enabled actions, in a
deterministic order, so that the explorer's shortest counterexample is the same
on every run.

What an environment leaves out, and why no behaviour is lost by it:

* requests before the ring is ready go ``via "dev"`` and leave the ring's state
  as it was (a stutter step), so they are not offered;
* commits of unknown ids (-ENOENT) and of requests not yet in user space change
  nothing either (the server only knows a ``unique`` once it has read it);
* the ``unique`` of a new request is the smallest positive number not in use:
  the kernel only compares uniques for equality, so which free number is chosen
  never changes what happens.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from bufring.model.actions import (Action, Commit, CommitBegin, CommitEnd, Observation, Register,
                                   RegisterBegin, RegisterEnd, Request, Send)
from bufring.model.config import Config
from bufring.model.state import (INITIAL_STATE, Ent, EntState, PendingRegister, Req, State,
                                 get_queue)
from bufring.model.variant import Variant

STEPS = {
    Request: "request",
    Commit: "fuse_uring_commit_fetch",
    Register: "fuse_uring_register",
    RegisterBegin: "register_begin",
    RegisterEnd: "register_end",
    Send: "send",
    CommitBegin: "commit_begin",
    CommitEnd: "commit_end",
}
"""Action type -> the name of the kernel path one trace step of it runs (in
``model.kernel`` or ``model.register``; a variant may replace it)."""


def next_state(v: Variant, cfg: Config, state: State, action: Action) -> tuple[State, Observation]:
    """The transition function: one trace step on one state, ``(next state, observation)``,
    run by the variant's own kernel functions."""
    return getattr(v.fn, STEPS[type(action)])(v, cfg, state, action)


USERSPACE = EntState.USERSPACE
COMMIT = EntState.COMMIT
FUSE_REQ = EntState.FUSE_REQ


@dataclass(frozen=True)
class Environment:
    """What the outside world may do in a bounded run (TLA+'s constants of Next).

    ``registers`` are the REGISTER SQEs the server may issue, each any number of
    times, until a queue has ``max_ents`` entries. ``max_live`` bounds requests
    alive at once (queued or held by an entry). ``payloads`` and ``background``
    say which requests arrive. With ``race``, a REGISTER that creates a queue may
    also be split (``register_begin``/``register_end``, up to ``threads`` in
    flight); with ``split_commit``, commits are split at their unlocked part.
    Task work is split from assignment by ``Config.deferred_send``.
    """

    registers: tuple[Register, ...]
    max_ents: int = 2
    max_live: int = 2
    payloads: tuple[bool, ...] = (True, False)
    background: bool = False
    race: bool = False
    threads: int = 2
    split_commit: bool = False

    def relaxed(self, extra_live: int) -> "Environment":
        """The same environment with room for ``extra_live`` more requests."""
        from dataclasses import replace
        return replace(self, max_live=self.max_live + extra_live)


def live_count(state: State | Enabling) -> int:
    """Requests alive in the ring: queued, or held by an entry."""
    n = 0
    for _, q in state.queues:
        n += len(q.req_queue) + len(q.bg_queue)
        for e in q.ents:
            if e.req is not None and not e.stale:
                n += 1
    return n


def free_unique(state: State | Enabling) -> int:
    """The smallest positive unique not in use."""
    used = set()
    for _, q in state.queues:
        used.update(r.unique for r in q.req_queue)
        used.update(r.unique for r in q.bg_queue)
        used.update(e.req.unique for e in q.ents if e.req is not None)
    n = 1
    while n in used:
        n += 1
    return n


def _reuses_slot(view: "Enabling", reg: Register) -> bool:
    """Does this REGISTER name a ``buf_index`` an entry of its queue already has?
    Such REGISTERs are offered last, so that shortest runs of other properties
    (ties broken by action order) do not lean on duplicate header slots."""
    queue = get_queue(view, reg.qid)
    return queue is not None and queue.has_bufring and any(e.id == reg.buf_index for e in queue.ents)


class QueueEnabling(NamedTuple):
    """What of a queue decides the enabled actions: its mode, entries and lists."""

    has_bufring: bool
    ents: tuple[Ent, ...]
    req_queue: tuple[Req, ...]
    bg_queue: tuple[Req, ...]


class Enabling(NamedTuple):
    """What of a state decides its enabled actions (:meth:`Model.actions` reads
    nothing else, so it computes them once per distinct value: most states share
    theirs with thousands of others, which differ in ring counters and slots)."""

    ready: bool
    pending: tuple[PendingRegister, ...]
    queues: tuple[tuple[int, QueueEnabling], ...]

    @classmethod
    def of(cls, state: State) -> "Enabling":
        return cls(state.ready, state.pending,
                   tuple([(qid, QueueEnabling(q.bufring is not None, q.ents, q.req_queue, q.bg_queue))
                          for qid, q in state.queues]))


ENABLED_MEMO_SIZE = 100_000
"""Entries of a model's memo of enabled actions before it is emptied (a bound on its memory)."""


class Model:
    """A variant, a configuration and an environment: a finite transition system."""

    def __init__(self, variant: Variant, config: Config, env: Environment, init: tuple[State, ...] = (INITIAL_STATE,)):
        self.variant = variant
        self.config = config
        self.env = env
        self.init = init
        self._bind()

    def _bind(self) -> None:
        """Look up once the variant's kernel path of each action type (``STEPS``);
        start an empty memo of enabled actions."""
        self._steps = {kind: getattr(self.variant.fn, name) for kind, name in STEPS.items()}
        self._enabled: dict[Enabling, tuple] = {}

    def __getstate__(self):
        state = dict(self.__dict__)
        del state["_steps"], state["_enabled"]  # the variant's own copies: bound again on load
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._bind()

    def init_states(self) -> tuple[State, ...]:
        """The connection with no ring yet, unless the model was started elsewhere."""
        return self.init

    def next_state(self, state: State, action):
        """``(next state, observation)`` of one action."""
        return next_state(self.variant, self.config, state, action)

    def actions(self, state: State) -> list:
        """Every enabled action of the environment in ``state``, in a fixed order."""
        view = Enabling.of(state)
        actions = self._enabled.get(view)
        if actions is None:
            if len(self._enabled) >= ENABLED_MEMO_SIZE:
                self._enabled.clear()
            actions = self._enabled[view] = tuple(self.enabled(view))
        return list(actions)

    def enabled(self, view: Enabling) -> list:
        """:meth:`actions` computed from what decides them (:class:`Enabling`)."""
        env = self.env
        out: list = []
        pending_qids = [p.qid for p in view.pending]
        for reg in sorted(env.registers, key=lambda r: _reuses_slot(view, r)):
            queue = get_queue(view, reg.qid)
            ents = (len(queue.ents) if queue is not None else 0) + pending_qids.count(reg.qid)
            if ents >= env.max_ents:
                continue
            out.append(reg)
            if env.race and queue is None:
                busy = {p.thread for p in view.pending}
                thread = next((t for t in range(env.threads) if t not in busy), None)
                if thread is not None:
                    out.append(RegisterBegin(thread, *reg))
        for parked in view.pending:
            out.append(RegisterEnd(parked.thread))
        if view.ready and live_count(view) < env.max_live:
            unique = free_unique(view)
            for qid in range(self.config.nr_queues):
                for payload in env.payloads:
                    out.append(Request(qid, unique, payload))
                    if env.background:
                        out.append(Request(qid, unique, payload, background=True))
        for qid, q in view.queues:
            for i, e in enumerate(q.ents):
                if e.req is None or e.stale:
                    continue
                if e.state == USERSPACE:
                    out.append(CommitBegin(qid, e.req.unique) if env.split_commit
                               else Commit(qid, e.req.unique))
                elif e.state == COMMIT:
                    out.append(CommitEnd(qid, e.req.unique))
                elif e.state == FUSE_REQ:
                    out.append(Send(qid, i))
        return out

    def successors(self, state: State):
        """``(action, next state, observation)`` for every enabled action."""
        v, cfg, steps = self.variant, self.config, self._steps
        return [(a, *steps[type(a)](v, cfg, state, a)) for a in self.actions(state)]
