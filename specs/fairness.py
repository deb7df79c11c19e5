"""The server's fairness for liveness: which steps a fair run must eventually take.

Liveness (``flow.eventually_dispatched``) is judged on runs that are *fair*: a
run may not starve a request just by never letting the server answer or the
kernel finish its own pending work. This module states that, in two parts:

* :func:`fairness_class`: the weakly fair class an action belongs to (per
  entry: its commit, its task work, the rest of its split commit; per thread:
  the rest of a split REGISTER), or None for steps that are never forced
  (arrivals, REGISTERs). The classes do not depend on the chosen fairness, so
  the search stores them once per transition.
* :data:`FAIRNESS`: the fairnesses a scope may choose, each deciding which
  classes a fair cycle may leave enabled forever without taking them.

Weak fairness: a class that stays enabled forever must be taken infinitely often.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from bufring.model.actions import Commit, CommitBegin, CommitEnd, RegisterEnd, Send


def _holder(state, qid: int, unique: int) -> int | None:
    """The entry of queue ``qid`` that holds the request ``unique``, if any."""
    for q_id, q in state.queues:
        if q_id == qid:
            for i, e in enumerate(q.ents):
                if e.req is not None and e.req.unique == unique:
                    return i
    return None


def fairness_class(state, action):
    """The weakly fair action class an action belongs to, or None.

    ``("commit", qid, ent)``: the server answers the request an entry holds in
    user space (``commit``, or ``commit_begin`` with split commits);
    ``("send", qid, ent)``, ``("commit_end", qid, ent)`` and
    ``("register_end", thread)``: the kernel's own pending work. Arrivals and
    REGISTERs are never forced.
    """
    kind = type(action)
    if kind is Commit or kind is CommitBegin:
        i = _holder(state, action.qid, action.commit_id)
        return None if i is None else ("commit", action.qid, i)
    if kind is Send:
        return ("send", action.qid, action.ent)
    if kind is CommitEnd:
        i = _holder(state, action.qid, action.commit_id)
        return None if i is None else ("commit_end", action.qid, i)
    if kind is RegisterEnd:
        return ("register_end", action.thread)
    return None


def enabled_classes(model, state) -> set:
    """The fairness classes enabled in ``state``."""
    return {fairness_class(state, a) for a in model.actions(state)} - {None}


def waits_in(state, unique: int) -> int | None:
    """The qid of the queue where request ``unique`` waits (either list), if any."""
    for qid, q in state.queues:
        if any(r.unique == unique for r in q.req_queue) or any(r.unique == unique for r in q.bg_queue):
            return qid
    return None


@dataclass(frozen=True)
class Fairness:
    """A choice of fairness: its name, one line for people, and ``tolerates``.

    ``tolerates(unfair, state, unique)`` says whether a cycle (or a stutter) in
    which request ``unique`` waits may leave the classes ``unfair`` enabled
    forever without ever taking them; ``state`` is a state of that cycle (the
    queues' entries are the same in all of them: entries are never removed).
    """

    name: str
    doc: str
    tolerates: Callable[[set, object, int], bool]


def _answers_all(unfair: set, state, unique: int) -> bool:
    return not unfair


def _some_unanswered(unfair: set, state, unique: int) -> bool:
    """Only commits may be left untaken, and not those of every entry of the
    queue the request waits in: a request waiting where every entry holds an
    unanswered request waits by design (nothing could take it)."""
    if any(cls[0] != "commit" for cls in unfair):
        return False
    qid = waits_in(state, unique)
    if qid is None:
        return not unfair
    ents = next(len(q.ents) for q_id, q in state.queues if q_id == qid)
    return any(("commit", qid, i) not in unfair for i in range(ents))


ANSWERS_ALL = Fairness(
    "answers_all",
    "every request handed to user space is eventually committed, and the kernel's own "
    "pending work (task work, the rest of a split command) runs",
    _answers_all)

SOME_UNANSWERED = Fairness(
    "some_unanswered",
    "the server may never answer some of the requests it holds (their commits are not "
    "forced), but not those of every entry of the waiting request's queue; it answers the "
    "others, and the kernel's own pending work runs: does one stuck request hold the "
    "others back?",
    _some_unanswered)

FAIRNESS: dict[str, Fairness] = {f.name: f for f in (ANSWERS_ALL, SOME_UNANSWERED)}
"""The fairnesses a scope may name, by name."""
