"""The Hypothesis state machine that drives the model (and, in lockstep, an implementation).

:class:`BufringMachine` draws a config at ``@initialize``, then REGISTERs,
requests and commits whose arguments come from the model's current state
(``checker.fuzz.gen``). Every step goes through :meth:`BufringMachine.step`, which
runs the model's ``next_state`` and hands the result to :meth:`after_step`; the
two engines subclass it:

* ``checker.fuzz.fuzzer.InvariantMachine`` checks the catalog after each step;
* ``checker.fuzz.conformance.ConformanceMachine`` also runs the implementation and
  compares observations.

The machine has no kernel logic of its own: the model decides every outcome.
A step the model cannot represent (``InvalidStep``: a ring the counter width
cannot hold) is skipped, not run, so every recorded run is a valid trace.
"""
from __future__ import annotations

import hashlib
import time
from contextlib import contextmanager
from pathlib import Path
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, get_state_machine_test,
                                 initialize, precondition, rule)

from bufring.checker.fuzz.gen import (COMMIT_ARGS, CONFORMANCE, NO_FOCUS, REQUEST_ARGS, GenOptions,
                                      configs, draw_register, held_uniques, make_commit,
                                      make_request)
from bufring.model.actions import Action, Commit, Observation
from bufring.model.config import Config
from bufring.model.kernel import InvalidStep
from bufring.model.system import next_state
from bufring.model.state import INITIAL_STATE, State

__all__ = ["RunStats", "BufringMachine", "run_machine", "UNIQUE_BASES"]

# Where a run's uniques start: small ids, around 2^32, and near the top of u64.
UNIQUE_BASES = (0, (1 << 32) - 3, (1 << 64) - 1_000_001)


@dataclass
class RunStats:
    """What the runs covered, for the verdicts' ``coverage``."""

    runs: int = 0
    steps: int = 0
    skipped_configs: dict = field(default_factory=dict)   # reason -> count
    started: float = field(default_factory=time.monotonic)

    def seconds(self) -> float:
        return round(time.monotonic() - self.started, 3)


class BufringMachine(RuleBasedStateMachine):
    """REGISTER / request / commit on the model, arguments drawn from its state.

    Subclasses set ``variant``, ``options`` and ``stats`` (class attributes, bound by
    :func:`run_machine`) and override :meth:`start` and :meth:`after_step`. ``focus``
    (a ``gen.Focus``) forces the draws a situation class needs, for every run of
    this machine; with a ``coverage`` (``checker.fuzz.situations.Coverage``) every
    run and step is counted into it.
    """

    variant = None
    options: GenOptions = CONFORMANCE
    stats: RunStats = None
    focus = NO_FOCUS
    coverage = None

    def __init__(self):
        super().__init__()
        self.cfg: Config | None = None
        self.state: State = INITIAL_STATE
        self.steps: list[tuple[Action, Observation]] = []
        self.next_unique = 1
        self.unique_base = 0
        self.finished: list[int] = []
        self.registers_left = 0
        self.register_gap = 0
        self.since_register = 0

    # --- hooks ------------------------------------------------------------------------
    def start(self, cfg: Config) -> None:
        """Called once the config is drawn, before any step."""

    def after_step(self, action: Action, pre: State, post: State, obs: Observation) -> None:
        """Called after each step the model ran; raise to fail the run."""

    # --- the run --------------------------------------------------------------------------
    @initialize(data=st.data())
    def setup(self, data):
        self.cfg = data.draw(configs(self.options, self.focus), label="config")
        self.unique_base = data.draw(st.sampled_from(UNIQUE_BASES), label="unique base")
        if self.focus.unique_base is not None:
            self.unique_base = UNIQUE_BASES[self.focus.unique_base]
        self.registers_left = self.cfg.nr_queues + data.draw(
            st.integers(0, self.options.max_registers), label="extra registers")
        # later REGISTERs come at least this many steps apart, so that some arrive
        # while requests wait (fetch_on_register) instead of all at the start
        self.register_gap = data.draw(st.integers(0, 6), label="register gap")
        self.stats.runs += 1
        self.start(self.cfg)
        if self.coverage is not None:
            self.coverage.on_config(self.cfg)

    def wants_register(self) -> bool:
        if self.cfg is None or self.registers_left <= 0:
            return False
        missing = len(self.state.queues) < self.cfg.nr_queues
        return missing or self.since_register >= self.register_gap

    @precondition(lambda self: self.wants_register())
    @rule(data=st.data())
    def register(self, data):
        action, kind = draw_register(data, self.cfg, self.state, self.options, self.focus)
        self.registers_left -= 1
        self.since_register = -1
        self.step(action, kind)

    @precondition(lambda self: self.cfg is not None)
    @rule(**REQUEST_ARGS)
    def request(self, beyond, qid_pick, payload, background):
        unique = self.unique_base + self.next_unique
        self.next_unique += 1
        payload = payload or (self.focus.payload and qid_pick % 4 != 0)
        background = background or (self.focus.background and qid_pick % 4 != 1)
        self.step(make_request(self.cfg, unique, beyond, qid_pick, payload, background))

    def wants_commit(self) -> bool:
        """A commit of a held request whenever there is one; otherwise (a commit of an
        id that names nothing) only every fourth step, so that idle runs keep moving."""
        if self.cfg is None:
            return False
        return bool(held_uniques(self.state)) or len(self.steps) % 4 == 3

    @precondition(lambda self: self.wants_commit())
    @rule(**COMMIT_ARGS)
    def commit(self, roll, pick, kind, reply):
        self.step(make_commit(self.cfg, self.state, self.finished, self.unique_base + self.next_unique,
                              roll=roll, pick=pick, kind=kind, reply=reply))

    def step(self, action: Action, register_class: str | None = None) -> None:
        """Run ``action`` on the model (``register_class``: the generator's class of a
        REGISTER, for the coverage), then :meth:`after_step`."""
        self.since_register += 1
        pre = self.state
        try:
            post, obs = next_state(self.variant, self.cfg, pre, action)
        except InvalidStep:
            return
        self.state = post
        self.steps.append((action, obs))
        self.stats.steps += 1
        if isinstance(action, Commit) and obs.ret == 0:
            self.finished.append(action.commit_id)
        if self.coverage is not None:
            self.coverage.on_step(self.cfg, pre, action, post, obs, register_class)
        self.after_step(action, pre, post, obs)


def machine_settings(examples: int, steps: int, database) -> settings:
    """Settings for one engine run: quiet, no deadline, every health check off (long
    stateful runs are slow by design), and no Hypothesis shrinking: a failing run is
    shrunk by ``checker.fuzz.shrink`` on the model, which is much faster here and
    gives 1-minimal runs (see that module). Generation stops at the first failure."""
    return settings(max_examples=examples, stateful_step_count=steps, deadline=None,
                    database=database, suppress_health_check=list(HealthCheck),
                    phases=(Phase.explicit, Phase.reuse, Phase.generate),
                    report_multiple_bugs=True, verbosity=Verbosity.quiet, print_blob=False)


def run_machine(machine_cls: type[BufringMachine], *, examples: int, steps: int, seed: int | None,
                database, key: str) -> None:
    """Run ``machine_cls`` under Hypothesis; raises what the final (shrunk) runs raise.

    ``seed`` makes the run deterministic (the example database still replays first);
    ``key`` names the run in the database, so that failures of one variant, property
    set and implementation are re-run first by the next run of the same.
    """
    import tempfile

    from hypothesis import configuration
    from hypothesis.reporting import with_reporter

    test = get_state_machine_test(machine_cls, settings=machine_settings(examples, steps, database))
    test._hypothesis_internal_use_seed = seed
    test.hypothesis.inner_test._hypothesis_internal_add_digest = hashlib.sha256(
        key.encode()).digest()
    # Hypothesis keeps some files of its own under a home folder (".hypothesis" in the
    # working directory by default): keep them next to our database, or in a temp dir.
    home = getattr(database, "path", None)
    old_home = vars(configuration).get("__hypothesis_home_directory")
    with tempfile.TemporaryDirectory(prefix="bufring-hypothesis-") as tmp:
        configuration.set_hypothesis_home_dir(str(Path(home) / "hypothesis-home") if home else tmp)
        try:
            with with_reporter(lambda _text: None), _no_local_constants():
                test()
        finally:
            configuration.set_hypothesis_home_dir(old_home)


@contextmanager
def _no_local_constants():
    """Keep Hypothesis from mixing in constants of the modules loaded around us.

    Hypothesis draws, now and then, literals found in the source of "local" modules
    (those under the working directory that are imported at the time). Which those
    are depends on where bufring runs and what else is loaded, so the same ``--seed``
    would give other runs in a test session than on the command line. The global
    (built-in) constants stay; only the local pool is emptied, for our runs only.
    """
    from hypothesis.internal.conjecture import providers

    saved = providers._get_local_constants
    empty = providers.Constants()
    providers.CONSTANTS_CACHE.cache.clear()
    providers._get_local_constants = lambda: empty
    try:
        yield
    finally:
        providers._get_local_constants = saved
        providers.CONSTANTS_CACHE.cache.clear()
