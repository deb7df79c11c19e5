"""The catalog's state and step predicates as one object the search can carry.

:class:`ScopeChecks` is what ``checker.explore.statespace.bfs`` calls on every
stored state and every step (its ``checks``). It holds no results: it answers
which ids a state or step shows, and the search records the first state or step
showing each. So it works the same in this process and in worker processes
(``checker.explore.parallel``), which receive a pickled copy.

Ids: a property id when the property fails there (a witness: is reached there);
``("exercised", id)`` when a step shows the situation a property speaks of.

An id in ``done`` (already shown) is not asked again. The lists of checks still
open are kept, and rebuilt only when ``done`` grows, so that a step pays only
for the predicates whose answer can still matter: the invariants that hold, and
the witnesses and premises not met yet.
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
        self._forget()

    def _forget(self) -> None:
        """Drop the lists of open checks (rebuilt from ``done`` on the next call)."""
        self._done = None            # the ``done`` the open lists were built for,
        self._seen = -1              # and its size then (ids are only ever added)
        self._open_state: list = []  # (id, predicate, the answer that shows the id)
        self._open_premises: list = []
        self._open_by_type: dict[type, list] = {}

    def __getstate__(self):
        return {"cfg": self.cfg, "state_props": self.state_props, "step_props": self.step_props,
                "premises": self.premises}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._forget()

    def _refresh(self, done) -> None:
        """Make the open lists those of the checks whose ids ``done`` lacks."""
        if done is self._done and len(done) == self._seen:
            return
        self._done, self._seen = done, len(done)
        self._open_state = [(p.id, p.check_state, p.kind is Kind.SOMETIMES)
                            for p in self.state_props if p.id not in done]
        self._open_premises = [(eid, p.exercised) for p in self.premises
                               if (eid := exercised_id(p.id)) not in done]
        self._open_by_type = {}

    def _step_checks(self, kind: type) -> list:
        """The open step checks that can show something on a step of action type ``kind``."""
        checks = self._open_by_type.get(kind)
        if checks is None:
            op = OP_NAMES[kind]
            checks = self._open_by_type[kind] = [
                (p.id, p.check_step, p.kind is Kind.SOMETIMES) for p in self.step_props
                if p.checks_op(op) and p.id not in self._done]
        return checks

    def state(self, state, done) -> list:
        """Ids of the state properties ``state`` shows."""
        self._refresh(done)
        cfg = self.cfg
        return [pid for pid, check, shows in self._open_state if check(cfg, state) == shows]

    def step(self, pre, action, post, obs, done) -> list:
        """Ids of the step properties the step shows, and of the premises it exercises."""
        self._refresh(done)
        cfg = self.cfg
        out = [pid for pid, check, shows in self._step_checks(type(action))
               if check(cfg, pre, action, post, obs) == shows]
        for eid, exercised in self._open_premises:
            if exercised(cfg, pre, action, post, obs):
                out.append(eid)
        return out
