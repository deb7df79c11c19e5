"""The catalog's state and step predicates as one object the search can carry.

:class:`ScopeChecks` is what ``checker.explore.statespace.bfs`` calls on every
stored state and every step (its ``checks``). It holds no results: it answers
which ids a state or step shows, and the search records the first state or step
showing each. So it works the same in this process and in worker processes
(``checker.explore.parallel``), which receive a pickled copy.

Ids: a property id when the property fails there (a witness: is reached there);
``("exercised", id)`` when a step shows the situation a property speaks of.
"""
from __future__ import annotations

from bufring.model.actions import OP_NAMES
from bufring.specs.catalog import Kind


def exercised_id(pid: str) -> tuple:
    """The check id recording that property ``pid``'s premise occurred."""
    return ("exercised", pid)


class ScopeChecks:
    """State and step predicates of ``properties`` for configuration ``cfg``."""

    def __init__(self, cfg, properties):
        self.cfg = cfg
        self.state_props = [p for p in properties if p.check_state is not None]
        self.step_props = [p for p in properties if p.check_step is not None]
        self.premises = [p for p in properties if p.exercised is not None]
        both = {p.id for p in self.state_props} & {p.id for p in self.step_props}
        if both:
            raise ValueError(f"properties with both a state and a step predicate: {sorted(both)}")
        self._by_type: dict[type, list] = {}

    def state(self, state, done) -> list:
        """Ids of the state properties ``state`` shows."""
        cfg = self.cfg
        return [p.id for p in self.state_props
                if p.id not in done and p.check_state(cfg, state) == (p.kind is Kind.SOMETIMES)]

    def step(self, pre, action, post, obs, done) -> list:
        """Ids of the step properties the step shows, and of the premises it exercises."""
        props = self._by_type.get(type(action))
        if props is None:
            op = OP_NAMES[type(action)]
            props = self._by_type[type(action)] = [p for p in self.step_props if p.checks_op(op)]
        cfg = self.cfg
        out = [p.id for p in props
               if p.id not in done and p.check_step(cfg, pre, action, post, obs) == (p.kind is Kind.SOMETIMES)]
        for p in self.premises:
            eid = exercised_id(p.id)
            if eid not in done and p.exercised(cfg, pre, action, post, obs):
                out.append(eid)
        return out
