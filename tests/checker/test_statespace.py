"""The breadth-first search (checker/explore/statespace.py) on toy models whose state spaces
are known by hand, independent of the FUSE model: a counter modulo n, a grid, a
branching tree, and the state cap. The same answers are cross-checked against
networkx's own BFS on the explicit graph (the networkx way: one table of inputs,
two engines, one expected answer). The fairness classes the search stores with
every edge are tested in tests/specs/test_fairness.py."""
from __future__ import annotations

from collections import Counter

import networkx as nx
import pytest

from bufring.checker.explore.statespace import StateSpace, bfs


# --- toy models ----------------------------------------------------------------------------------

class ModCounter:
    """``x -> x + 1 mod n`` from 0: exactly n states, n transitions (a ring)."""

    def __init__(self, n: int):
        self.n = n

    def init_states(self):
        return (0,)

    def actions(self, s):
        return ["inc"]

    def successors(self, s):
        return [("inc", (s + 1) % self.n, None)]


class Grid:
    """A w x h grid from (0, 0), moving one cell in any of four directions."""

    MOVES = (("right", 1, 0), ("down", 0, 1), ("left", -1, 0), ("up", 0, -1))

    def __init__(self, w: int, h: int, start=((0, 0),)):
        self.w, self.h, self.start = w, h, start

    def init_states(self):
        return self.start

    def actions(self, s):
        return [name for name, dx, dy in self.MOVES
                if 0 <= s[0] + dx < self.w and 0 <= s[1] + dy < self.h]

    def successors(self, s):
        moves = {name: (dx, dy) for name, dx, dy in self.MOVES}
        return [(a, (s[0] + moves[a][0], s[1] + moves[a][1]), None) for a in self.actions(s)]


class Tree:
    """Binary strings up to length ``depth``: 2^(depth+1) - 1 states, a tree."""

    def __init__(self, depth: int):
        self.depth = depth

    def init_states(self):
        return ("",)

    def actions(self, s):
        return ["0", "1"] if len(s) < self.depth else []

    def successors(self, s):
        return [(a, s + a, None) for a in self.actions(s)]


def explicit_graph(model) -> nx.DiGraph:
    """The whole reachable graph, built the plain way for cross-checks."""
    g = nx.DiGraph()
    todo = list(model.init_states())
    g.add_nodes_from(todo)
    while todo:
        s = todo.pop()
        for _, t, _ in model.successors(s):
            if t not in g:
                todo.append(t)
            g.add_edge(s, t)
    return g


# --- counts -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 5, 64])
def test_counter_mod_n_reaches_exactly_n_states_and_n_transitions(n):
    space = bfs(ModCounter(n), max_states=1000)
    assert len(space.states) == n and space.transitions == n
    assert list(space.states) == list(range(n))
    assert list(space.depth) == list(range(n)) and space.max_depth == n - 1
    assert not space.capped


def test_counter_edges_form_one_cycle_back_to_the_initial_state():
    space = bfs(ModCounter(4), max_states=100)
    assert list(zip(space.src, space.dst)) == [(0, 1), (1, 2), (2, 3), (3, 0)]


@pytest.mark.parametrize("w,h", [(1, 1), (3, 2), (4, 4), (7, 3)])
def test_grid_reaches_every_cell_with_every_move_as_a_transition(w, h):
    space = bfs(Grid(w, h), max_states=1000)
    assert len(space.states) == w * h
    assert space.transitions == 2 * (w * (h - 1) + h * (w - 1))


def test_grid_depths_are_manhattan_distances_and_paths_are_shortest():
    space = bfs(Grid(5, 4), max_states=1000)
    for i, (x, y) in enumerate(space.states):
        assert space.depth[i] == x + y
        path = space.path(i)
        assert len(path) == x + y
        assert Counter(path) == Counter({"right": x, "down": y})
    assert space.max_depth == 4 + 3


def test_grid_path_follows_the_first_listed_action_first():
    space = bfs(Grid(3, 3), max_states=100)
    assert space.path(space.states.index((2, 2))) == ["right", "right", "down", "down"]


def test_grid_with_two_initial_states_measures_depth_from_the_nearer():
    space = bfs(Grid(5, 1, start=((0, 0), (4, 0))), max_states=100)
    assert {s: space.depth[i] for i, s in enumerate(space.states)} == {
        (0, 0): 0, (4, 0): 0, (1, 0): 1, (3, 0): 1, (2, 0): 2}
    assert space.parent[0] == -1 and space.parent[1] == -1 and space.via[0] is None


def test_duplicate_initial_states_are_stored_once():
    space = bfs(Grid(2, 1, start=((0, 0), (0, 0))), max_states=100)
    assert len(space.states) == 2


def test_tree_of_depth_4_has_31_states_and_30_transitions():
    space = bfs(Tree(4), max_states=1000)
    assert (len(space.states), space.transitions, space.max_depth) == (31, 30, 4)
    assert space.path(space.states.index("0110")) == ["0", "1", "1", "0"]


@pytest.mark.parametrize("model", [ModCounter(9), Grid(4, 3), Grid(6, 2), Tree(3)],
                         ids=["counter9", "grid4x3", "grid6x2", "tree3"])
def test_bfs_agrees_with_networkx_on_states_edges_and_distances(model):
    space = bfs(model, max_states=10_000)
    g = explicit_graph(model)
    assert set(space.states) == set(g.nodes)
    assert {(space.states[s], space.states[d]) for s, d in zip(space.src, space.dst)} == set(g.edges)
    dist = nx.multi_source_dijkstra_path_length(g, set(model.init_states()))
    assert {s: space.depth[i] for i, s in enumerate(space.states)} == dist


# --- the cap ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("cap", [1, 3, 7])
def test_counter_over_the_cap_stops_at_cap_states_with_capped_set(cap):
    space = bfs(ModCounter(10), max_states=cap)
    assert space.capped and len(space.states) == cap
    assert list(space.states) == list(range(cap))


def test_cap_equal_to_the_state_count_is_not_capped():
    space = bfs(ModCounter(10), max_states=10)
    assert not space.capped and len(space.states) == 10 and space.transitions == 10


def test_capped_grid_keeps_only_edges_between_stored_states():
    space = bfs(Grid(5, 5), max_states=6)
    assert space.capped and len(space.states) == 6
    assert all(0 <= d < 6 for d in space.dst)


# --- options and callbacks -------------------------------------------------------------------------

def test_until_stops_the_search_once_a_matching_state_is_stored():
    space = bfs(ModCounter(100), max_states=1000, until=lambda s: s == 10)
    assert list(space.states) == list(range(11)) and not space.capped


def test_until_finishes_the_expansion_it_is_in_and_expands_nothing_more():
    space = bfs(Grid(5, 5), max_states=1000, until=lambda s: s == (1, 0))
    assert list(space.states) == [(0, 0), (1, 0), (0, 1)]       # both successors of the start
    assert space.transitions == 2


def test_until_true_on_an_initial_state_expands_nothing():
    space = bfs(Grid(3, 3), max_states=1000, until=lambda s: s == (0, 0))
    assert list(space.states) == [(0, 0)] and space.transitions == 0


def test_until_never_true_explores_everything():
    space = bfs(Grid(3, 3), max_states=1000, until=lambda s: False)
    assert len(space.states) == 9 and space.transitions == 24

def test_canonical_stores_one_representative_per_class():
    space = bfs(ModCounter(12), max_states=100, canonical=lambda s: s % 4)
    assert list(space.states) == [0, 1, 2, 3] and space.transitions == 4


def test_on_state_sees_each_state_once_and_on_step_each_transition_once():
    seen, steps = [], []
    space = bfs(Grid(3, 2), max_states=100, on_state=lambda i, s: seen.append((i, s)),
                on_step=lambda src, a, pre, post, obs: steps.append((src, a, pre, post)))
    assert seen == list(enumerate(space.states))
    assert len(steps) == space.transitions == 14
    assert all(space.states[src] == pre for src, _, pre, _ in steps)


def test_on_step_still_sees_transitions_to_states_beyond_the_cap():
    steps = []
    space = bfs(ModCounter(10), max_states=3, on_step=lambda *a: steps.append(a))
    assert space.transitions == 2 and len(steps) == 3


def test_keep_edges_false_stores_no_transitions_but_every_state():
    space = bfs(Grid(4, 4), max_states=100, keep_edges=False)
    assert len(space.states) == 16 and space.transitions == 0 and len(space.fair) == 0


def test_progress_gets_the_space_and_an_empty_frontier_at_the_end():
    calls = []
    space = bfs(ModCounter(5), max_states=100, progress=lambda sp, frontier: calls.append((sp, frontier)))
    assert calls[-1] == (space, 0)


def test_toy_edges_carry_no_fairness_class():
    space = bfs(ModCounter(3), max_states=100)
    assert list(space.fair) == [-1, -1, -1] and space.classes == {}


def test_class_id_numbers_classes_in_order_of_first_use():
    space = StateSpace()
    assert [space.class_id(c) for c in ("a", "b", "a", None, "c")] == [0, 1, 0, -1, 2]


def test_empty_space_has_depth_0_and_no_transitions():
    space = StateSpace()
    assert space.max_depth == 0 and space.transitions == 0
