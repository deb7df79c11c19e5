"""The fairness of liveness (specs/fairness.py): the class each FUSE action belongs
to, which the search stores with every edge, and what each choice of fairness lets
a fair cycle leave untaken."""
from __future__ import annotations

import pytest

from bufring.model.actions import (Commit, CommitBegin, CommitEnd, Register, RegisterEnd,
                                   Request, Send)
from bufring.model.state import Ent, EntState, Queue, Req, State
from bufring.specs.fairness import (ANSWERS_ALL, FAIRNESS, SOME_UNANSWERED, enabled_classes,
                                    fairness_class, waits_in)

BUSY = State(queues=((0, Queue(bufring=None, ents=(
    Ent(EntState.AVAILABLE),
    Ent(EntState.USERSPACE, req=Req(7, True, False)),
    Ent(EntState.COMMIT, req=Req(9, False, False)),
    Ent(EntState.FUSE_REQ, req=Req(11, False, False)),
), avail=(0,))),), ring=True, ready=True)


@pytest.mark.parametrize("action,cls", [
    (Commit(0, 7), ("commit", 0, 1)),
    (CommitBegin(0, 7), ("commit", 0, 1)),
    (CommitEnd(0, 9), ("commit_end", 0, 2)),
    (Send(0, 3), ("send", 0, 3)),
    (RegisterEnd(1), ("register_end", 1)),
    (Commit(0, 99), None),
    (Request(0, 1, True), None),
    (Register(0), None),
])
def test_fairness_class_of_an_action_names_the_entry_or_thread_it_belongs_to(action, cls):
    assert fairness_class(BUSY, action) == cls


def test_enabled_classes_drop_actions_without_a_class():
    class Offers:
        def actions(self, s):
            return [Request(0, 1, True), Commit(0, 7), Send(0, 3)]
    assert enabled_classes(Offers(), BUSY) == {("commit", 0, 1), ("send", 0, 3)}


# Queue 0: two entries in user space; request 5 waits in fuse_req_queue, 6 in the bg list.
TWO_HELD = State(queues=((0, Queue(bufring=None, ents=(
    Ent(EntState.USERSPACE, req=Req(1, False, False)),
    Ent(EntState.USERSPACE, req=Req(2, False, False)),
), req_queue=(Req(5, False, False),), bg_queue=(Req(6, False, True),))),), ring=True, ready=True)


def test_waits_in_names_the_queue_of_either_list():
    assert (waits_in(TWO_HELD, 5), waits_in(TWO_HELD, 6), waits_in(TWO_HELD, 1)) == (0, 0, None)


def test_answers_all_tolerates_no_untaken_class():
    assert ANSWERS_ALL.tolerates(set(), TWO_HELD, 5)
    assert not ANSWERS_ALL.tolerates({("commit", 0, 0)}, TWO_HELD, 5)


@pytest.mark.parametrize("unfair,ok", [
    (set(), True),
    ({("commit", 0, 0)}, True),                        # one stuck request, the other entry answers
    ({("commit", 0, 1)}, True),
    ({("commit", 0, 0), ("commit", 0, 1)}, False),     # every entry stuck: the wait is by design
    ({("send", 0, 0)}, False),                         # the kernel's own work is always forced
    ({("commit_end", 0, 1)}, False),
    ({("register_end", 0)}, False),
])
def test_some_unanswered_leaves_some_commits_untaken_but_not_every_entrys(unfair, ok):
    assert SOME_UNANSWERED.tolerates(unfair, TWO_HELD, 5) is ok
    assert SOME_UNANSWERED.tolerates(unfair, TWO_HELD, 6) is ok


def test_fairness_names_are_the_keys():
    assert {name: f.name for name, f in FAIRNESS.items()} == {
        "answers_all": "answers_all", "some_unanswered": "some_unanswered"}
