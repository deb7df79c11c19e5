"""The graph analyses (checker/explore/graphs.py) on hand-drawn toy graphs with known
answers, independent of the FUSE model: backward reachability and stuck states
for ``flow.no_deadlock``, fair lassos under weak fairness for
``flow.eventually_dispatched``.

A toy graph is a ``StateSpace`` built from an edge list: node i is state i, its
depth is its BFS distance from node 0, each edge carries a fairness class id
(-1 for none). ``enabled`` maps a node to the class ids enabled there.
"""
from __future__ import annotations

from array import array

import networkx as nx

from bufring.checker.explore.graphs import coreachable, fair_lasso, stuck_states
from bufring.checker.explore.statespace import StateSpace


def space_of(n: int, edges, fair=None) -> StateSpace:
    """A StateSpace of nodes 0..n-1, with BFS depths from node 0 (unreachable: n)."""
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges)
    dist = nx.single_source_shortest_path_length(g, 0)
    space = StateSpace(states=list(range(n)))
    space.depth = array("l", [dist.get(i, n) for i in range(n)])
    space.parent = array("l", [-1] * n)
    space.src = array("l", [s for s, _ in edges])
    space.dst = array("l", [d for _, d in edges])
    space.fair = array("l", fair if fair is not None else [-1] * len(edges))
    return space


def lasso_is_a_closed_walk(space, lasso) -> bool:
    entry, cycle = lasso
    edges = set(zip(space.src, space.dst))
    return cycle[0] == entry and cycle[-1] == entry and all(e in edges for e in zip(cycle, cycle[1:]))


# --- coreachable and stuck states -------------------------------------------------------------------

# 0 -> 1 -> 2 (goal);  0 -> 3 (a sink);  1 -> 4 <-> 5 (a trap without the goal)
TRAP = [(0, 1), (1, 2), (0, 3), (1, 4), (4, 5), (5, 4)]


def test_coreachable_marks_exactly_the_states_with_a_path_to_the_goal():
    space = space_of(6, TRAP)
    assert coreachable(space, [i == 2 for i in range(6)]) == [True, True, True, False, False, False]


def test_stuck_states_are_the_sink_and_the_trap_shallowest_first():
    space = space_of(6, TRAP)
    assert stuck_states(space, [i == 2 for i in range(6)]) == [3, 4, 5]


def test_no_state_is_stuck_when_every_state_is_a_goal():
    space = space_of(6, TRAP)
    assert stuck_states(space, [True] * 6) == []


def test_a_goal_reachable_only_around_a_cycle_leaves_nothing_stuck():
    space = space_of(4, [(0, 1), (1, 2), (2, 0), (2, 3)])
    assert stuck_states(space, [i == 3 for i in range(4)]) == []


def test_without_edges_every_non_goal_state_is_stuck():
    space = space_of(3, [])
    assert stuck_states(space, [False, True, False]) == [0, 2]


def test_coreachable_agrees_with_networkx_ancestors_on_a_random_graph():
    g = nx.gnp_random_graph(40, 0.06, seed=7, directed=True)
    space = space_of(40, list(g.edges))
    goal = [i % 9 == 0 for i in range(40)]
    expected = set().union(*(nx.ancestors(g, i) | {i} for i in range(40) if goal[i]))
    assert {i for i, ok in enumerate(coreachable(space, goal)) if ok} == expected


# --- fair lassos --------------------------------------------------------------------------------------

CYCLE = [(0, 1), (1, 2), (2, 0)]
ALL_WAIT = [True, True, True]


def always(*cids):
    return lambda i: set(cids)


def test_cycle_with_a_class_always_enabled_and_never_taken_is_unfair():
    space = space_of(3, CYCLE)
    assert fair_lasso(space, ALL_WAIT, always(0)) is None


def test_cycle_that_takes_the_always_enabled_class_is_a_fair_lasso():
    space = space_of(3, CYCLE, fair=[-1, -1, 0])
    lasso = fair_lasso(space, ALL_WAIT, always(0))
    assert lasso is not None and lasso[0] == 0 and lasso_is_a_closed_walk(space, lasso)
    assert (2, 0) in set(zip(lasso[1], lasso[1][1:]))


def test_cycle_where_the_class_is_disabled_somewhere_is_fair_under_weak_fairness():
    space = space_of(3, CYCLE)
    lasso = fair_lasso(space, ALL_WAIT, lambda i: {0} if i != 2 else set())
    assert lasso is not None and 2 in lasso[1] and lasso_is_a_closed_walk(space, lasso)


def test_cycle_needs_every_enabled_class_served_not_just_one():
    space = space_of(3, CYCLE, fair=[-1, -1, 0])
    assert fair_lasso(space, ALL_WAIT, always(0, 1)) is None


def test_cycle_serving_two_classes_on_two_edges_visits_both():
    space = space_of(3, CYCLE, fair=[1, -1, 0])
    entry, cycle = fair_lasso(space, ALL_WAIT, always(0, 1))
    walked = set(zip(cycle, cycle[1:]))
    assert {(0, 1), (2, 0)} <= walked


def test_a_waiting_state_with_nothing_enabled_is_a_lasso_of_one_node():
    space = space_of(3, [(0, 1), (1, 2)])
    assert fair_lasso(space, [False, True, True], lambda i: {0} if i == 1 else set()) == (2, [2])


def test_stutter_state_shallower_than_any_cycle_wins():
    space = space_of(4, [(0, 1), (1, 2), (2, 3), (3, 2)], fair=[-1, -1, -1, -1])
    assert fair_lasso(space, [False, True, True, True], lambda i: set() if i == 1 else {5}) == (1, [1])


def test_cycle_leaving_the_waiting_states_is_no_lasso():
    space = space_of(3, CYCLE)
    assert fair_lasso(space, [True, False, True], always()) == (0, [0])    # stutter only
    assert fair_lasso(space, [True, False, True], always(0)) is None


def test_fair_self_loop_is_a_two_element_walk():
    space = space_of(2, [(0, 1), (1, 1)])
    assert fair_lasso(space, [False, True], always()) == (1, [1])           # stutter first
    assert fair_lasso(space, [False, True], always(0)) is None              # loop does not take 0
    looped = space_of(2, [(0, 1), (1, 1)], fair=[-1, 0])
    assert fair_lasso(looped, [False, True], always(0)) == (1, [1, 1])


def test_node_without_self_loop_is_not_a_cycle():
    space = space_of(2, [(0, 1)])
    assert fair_lasso(space, [True, True], always(0)) is None


def test_of_two_fair_cycles_the_one_with_the_shallower_entry_is_returned():
    # 0 -> 1 -> 2 -> 3 <-> 4 (entry at depth 3);  0 -> 5 <-> 6 (entry at depth 1)
    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 3), (0, 5), (5, 6), (6, 5)]
    space = space_of(7, edges, fair=[0] * len(edges))
    waiting = [i in (3, 4, 5, 6) for i in range(7)]
    assert fair_lasso(space, waiting, always(0)) == (5, [5, 6, 5])
    assert fair_lasso(space, [i in (3, 4) for i in range(7)], always(0)) == (3, [3, 4, 3])


def test_tour_through_a_large_scc_returns_to_its_entry_and_takes_each_needed_edge():
    # a 6-cycle with a chord; class 0 taken only on (3, 4), class 1 only on (5, 0)
    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0), (2, 5)]
    fair = [-1, -1, -1, 0, -1, 1, -1]
    space = space_of(6, edges, fair=fair)
    lasso = fair_lasso(space, [True] * 6, always(0, 1))
    assert lasso_is_a_closed_walk(space, lasso)
    walked = set(zip(lasso[1], lasso[1][1:]))
    assert {(3, 4), (5, 0)} <= walked


# --- a fairness that tolerates some untaken classes -----------------------------------------------

def tolerating(*cids):
    """``tolerates`` accepting exactly the untaken classes among ``cids``."""
    return lambda unfair, i: unfair <= set(cids)


def test_tolerated_untaken_class_makes_the_cycle_fair_and_still_serves_the_others():
    space = space_of(3, CYCLE, fair=[-1, -1, 1])
    assert fair_lasso(space, ALL_WAIT, always(0, 1)) is None
    entry, cycle = fair_lasso(space, ALL_WAIT, always(0, 1), tolerating(0))
    assert (2, 0) in set(zip(cycle, cycle[1:]))          # class 1 is still taken
    assert fair_lasso(space, ALL_WAIT, always(0, 2), tolerating(0)) is None   # 2 is not tolerated


def test_tolerates_is_asked_only_for_the_classes_no_cycle_of_the_component_takes():
    space = space_of(3, CYCLE, fair=[0, -1, -1])
    asked = []

    def record(unfair, i):
        asked.append(set(unfair))
        return not unfair
    assert fair_lasso(space, ALL_WAIT, always(0, 1), record) is None
    assert asked[-1] == {1}          # the stutters ask first, with all they enable


def test_stutter_is_fair_when_every_enabled_class_is_tolerated():
    space = space_of(2, [(0, 1)])
    assert fair_lasso(space, [False, True], always(3)) is None
    assert fair_lasso(space, [False, True], always(3), tolerating(3)) == (1, [1])


def test_visit_requires_the_cycle_to_pass_an_accepting_state():
    space = space_of(4, [(0, 1), (1, 2), (2, 1), (0, 3), (3, 3)])
    visit = [False, False, True, False]
    entry, cycle = fair_lasso(space, [False, True, True, True], always(), visit=visit)
    assert entry == 1 and 2 in cycle                          # the 1-2 cycle passes state 2
    assert fair_lasso(space, [False, True, True, True], always(0), visit=[False] * 4) is None


def test_visit_rules_out_stutters_in_states_that_do_not_accept():
    space = space_of(2, [(0, 1)])
    assert fair_lasso(space, [False, True], always(), visit=[False, False]) is None
    assert fair_lasso(space, [False, True], always(), visit=[False, True]) == (1, [1])
