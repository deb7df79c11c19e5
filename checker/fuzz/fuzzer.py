"""Deep random runs of the model that check every catalog invariant after each step.

``fuzz(variant)`` runs :class:`InvariantMachine` (a Hypothesis state machine,
``checker.fuzz.machine``) for several rounds. Each step is checked against every
state and step predicate of kind invariant, contract and informational
(``flow.fifo``, reported only). A failing property raises its own exception type,
so Hypothesis keeps distinct properties apart and shrinks each one to a minimal
run. The next round leaves the properties already found out, so that a property
that always fails after another one is still found; rounds stop when one finds
nothing new.

Hypothesis generates; a failing run is shrunk on the model (``checker.fuzz.shrink``:
1-minimal in steps, plain values and config),
written as a TRACE-FORMAT file with ``expect`` on every step, read back and
replayed with ``run_trace`` (and its property re-checked along the replay) before
it is reported: a trace that does not replay is a checker bug and gives
``unknown``, never ``violated``. Witnesses (``sometimes``) are tracked on the way;
a property that holds while a witness it needs was never reached is ``vacuous``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from bufring.checker.fuzz.gen import DEEP, GenOptions
from bufring.checker.fuzz.machine import BufringMachine, RunStats, run_machine
from bufring.checker.judge import (Transition, checkable, fails, first_shown, reached,
                                   run_actions, witnesses)
from bufring.checker.fuzz.shrink import shrink
from bufring.checker.verdict import Status, Verdict
from bufring.model.actions import OP_NAMES
from bufring.model.config import Config
from bufring.model.errors import BadInput
from bufring.model.traces import expect_of, read_trace, run_trace, write_trace
from bufring.specs.catalog import CATALOG, Property
from bufring.model.variant import Variant

__all__ = ["FuzzOptions", "FuzzResult", "fuzz", "PropertyViolated"]

ENGINE = "fuzz"


@dataclass(frozen=True)
class FuzzOptions:
    examples: int = 300              # Hypothesis examples per round
    steps: int = 60                  # at most this many steps per run
    seed: int | None = 0
    max_rounds: int = 20             # a round stops at its first violation: keep this
                                     # above the number of checked properties (17)
    gen: GenOptions = DEEP
    database: object = None          # a hypothesis ExampleDatabase, or None


class PropertyViolated(AssertionError):
    """Base of the per-property exception types the machine raises."""

    property_id = ""


_TYPES: dict[str, type] = {}


def violation_type(prop_id: str) -> type:
    """One exception class per property id, so Hypothesis shrinks each apart."""
    if prop_id not in _TYPES:
        name = "Violated_" + prop_id.replace(".", "_")
        _TYPES[prop_id] = type(name, (PropertyViolated,), {"property_id": prop_id})
    return _TYPES[prop_id]


@dataclass
class Finding:
    cfg: Config
    actions: list
    final: bool


@dataclass
class Sink:
    """What the machines report back: failing runs per property, witness runs."""

    failures: dict[str, Finding] = field(default_factory=dict)
    witness_runs: dict[str, Finding] = field(default_factory=dict)
    exercised: set[str] = field(default_factory=set)    # ids whose premise some step showed

    def fail(self, prop_id: str, cfg: Config, actions: list, final: bool) -> None:
        old = self.failures.get(prop_id)
        if old is None or (final and not old.final) or (final == old.final and len(actions) <= len(old.actions)):
            self.failures[prop_id] = Finding(cfg, actions, final)

    def witness(self, prop_id: str, cfg: Config, actions: list) -> None:
        old = self.witness_runs.get(prop_id)
        if old is None or len(actions) < len(old.actions):
            self.witness_runs[prop_id] = Finding(cfg, actions, False)


class InvariantMachine(BufringMachine):
    """Checks the active properties after every step; tracks witnesses."""

    active: tuple[Property, ...] = ()
    tracked: tuple[Property, ...] = ()
    sink: Sink = None

    def after_step(self, action, pre, post, obs):
        from hypothesis.control import current_build_context

        t = Transition(pre, action, post, obs)
        actions = [a for a, _ in self.steps]
        for w in self.tracked:
            known = self.sink.witness_runs.get(w.id)
            if (known is None or len(known.actions) > len(actions)) and reached(w, self.cfg, t):
                self.sink.witness(w.id, self.cfg, actions)
        failing = []
        for prop in self.active:
            if prop.exercised is not None and prop.id not in self.sink.exercised \
                    and prop.exercised(self.cfg, *t):
                self.sink.exercised.add(prop.id)
            if fails(prop, self.cfg, t):
                failing.append(prop)
        if failing:
            # Every property this step breaks is recorded, not only the one raised:
            # one step often breaks several (a buffer at address 0 breaks four), and
            # Hypothesis shrinks toward the raised one, which would hide the others.
            final = current_build_context().is_final
            for prop in failing:
                self.sink.fail(prop.id, self.cfg, actions, final)
            first = failing[0].id
            raise violation_type(first)(f"{first} violated at step {len(actions)}")


@dataclass
class FuzzResult:
    variant: str
    verdicts: list[Verdict]
    stats: RunStats
    rounds: int
    problems: list[str] = field(default_factory=list)   # checker bugs, if any


def _machine(variant: Variant, options: FuzzOptions, stats, active, tracked, sink) -> type:
    return type("InvariantMachine", (InvariantMachine,), {
        "variant": variant, "options": options.gen, "stats": stats,
        "active": tuple(active), "tracked": tuple(tracked), "sink": sink})


def fuzz(variant: Variant, *, options: FuzzOptions = FuzzOptions(), out: str | Path = "bufring-out",
         catalog=CATALOG, progress: Callable[[dict], None] | None = None) -> FuzzResult:
    """Deep random runs of ``variant``; one verdict per property the fuzzer decides.

    Violations come with a trace under ``out/<variant>/<property>.jsonl`` that has
    already been replayed. Raises ``BadInput`` only for an unwritable ``out``.
    """
    stats = RunStats()
    sink = Sink()
    checked = checkable(catalog)
    reported = witnesses(catalog)
    needed = {w for p in checked for w in p.needs}       # tracked even when not asked for
    tracked = reported + tuple(w for w in witnesses(CATALOG) if w.id in needed and w not in reported)
    catalog_by_id = {p.id: p for p in checked}
    found: set[str] = set()
    rounds = 0
    settled = False          # a round found nothing new: the budget was not cut short
    for rounds in range(1, options.max_rounds + 1):
        active = [p for p in checked if p.id not in found]
        if not active:
            settled = True
            break
        if progress:
            progress({"event": "round", "round": rounds, "active": len(active), "found": sorted(found)})
        machine = _machine(variant, options, stats, active, tracked, sink)
        key = f"fuzz-invariants|{variant.name}|{','.join(p.id for p in active)}"
        seed = None if options.seed is None else options.seed + rounds - 1
        new = set()
        try:
            run_machine(machine, examples=options.examples, steps=options.steps, seed=seed,
                        database=options.database, key=key)
        except BaseException as e:  # noqa: BLE001 - Hypothesis raises one error or a group
            if isinstance(e, KeyboardInterrupt):
                raise
            new = {pid for pid in _violated_ids(e)}
            unexpected = _unexpected(e)
            if unexpected:
                raise unexpected
        new |= set(sink.failures) - found
        if not new:
            settled = True
            break
        for pid in sorted(new):
            if pid in sink.failures:
                sink.failures[pid] = _shrunk(catalog_by_id[pid], variant, sink.failures[pid])
        found |= new
    return FuzzResult(variant=variant.name, rounds=rounds, stats=stats,
                      verdicts=_verdicts(variant, checked, tracked, sink, stats, options, out, rounds,
                                         settled, reported))


def _shrunk(prop: Property, variant: Variant, finding: "Finding") -> "Finding":
    def find(cfg, acts):
        return first_shown(prop, variant, cfg, acts)

    cfg, run = shrink(find, finding.cfg, finding.actions)
    return Finding(cfg, run, True)


def _leaves(e: BaseException):
    if isinstance(e, BaseExceptionGroup):
        for sub in e.exceptions:
            yield from _leaves(sub)
    else:
        yield e


def _violated_ids(e: BaseException):
    for leaf in _leaves(e):
        if isinstance(leaf, PropertyViolated):
            yield leaf.property_id


def _unexpected(e: BaseException) -> BaseException | None:
    """The first exception that is not a property violation (a bug in bufring)."""
    for leaf in _leaves(e):
        if not isinstance(leaf, PropertyViolated):
            return leaf
    return None


# --- verdicts ---------------------------------------------------------------------------------

def _coverage(stats: RunStats, options: FuzzOptions, rounds: int) -> dict:
    return {"runs": stats.runs, "steps": stats.steps, "seconds": stats.seconds(), "method": "sampled",
            "rounds": rounds, "examples_per_round": options.examples, "max_steps": options.steps,
            "seed": options.seed}


def _describe(action) -> str:
    op = OP_NAMES[type(action)]
    if op == "register":
        return f"register qid={action.qid} flags={action.flags:#x} buf_index={action.buf_index}"
    if op == "request":
        return (f"request qid={action.qid} unique={action.unique} "
                f"payload={'yes' if action.payload else 'no'}{' bg' if action.background else ''}")
    return f"commit qid={action.qid} commit_id={action.commit_id}"


def write_finding(path: Path, variant: Variant, cfg: Config, actions: list, comments: list[str]) -> int:
    """Write a run as a trace with ``expect`` on every step, read it back, replay it.

    Returns the number of steps; raises ``AssertionError`` when the written trace
    does not replay (a checker bug)."""
    transitions = run_actions(variant, cfg, actions)
    write_trace(path, variant.name, cfg, [(t.action, expect_of(t.action, t.obs)) for t in transitions],
                comments)
    replay = run_trace(read_trace(path), variant)
    mismatch = replay.first_mismatch
    if mismatch is not None or len(replay.results) != len(actions):
        raise AssertionError(f"{path}: the written trace does not replay "
                             f"(line {mismatch.step.line if mismatch else '?'}: {mismatch and mismatch.mismatch})")
    return len(actions)


def _verdicts(variant: Variant, checked, tracked, sink: Sink, stats, options, out, rounds,
              settled: bool = True, reported=None) -> list[Verdict]:
    """One verdict per checked property and per ``reported`` witness (default: all
    tracked); a property holds only when the witnesses it needs were reached and
    its premise (``Property.exercised``) occurred, else it is vacuous."""
    out_dir = Path(out) / variant.name
    coverage = _coverage(stats, options, rounds)
    verdicts: list[Verdict] = []
    reached_ids = set()
    witness_verdicts = []
    for w in tracked:
        finding = sink.witness_runs.get(w.id)
        if finding is None:
            witness_verdicts.append(Verdict(w.id, w.kind, Status.UNREACHED, {ENGINE: "unreached"},
                                            coverage=coverage, message=f"{w.title}: not reached in "
                                            f"{stats.runs} runs"))
            continue
        cfg, run = shrink(lambda c, acts, w=w: first_shown(w, variant, c, acts), finding.cfg,
                          finding.actions, evaluations=1500, seconds=10)
        path = out_dir / f"{w.id}.jsonl"
        try:
            n = write_finding(path, variant, cfg, run,
                              [f"{w.id} ({w.title}): reached at the last step", "found by bufring fuzz"])
        except (AssertionError, BadInput) as e:
            witness_verdicts.append(Verdict(w.id, w.kind, Status.UNKNOWN, {ENGINE: "unknown"},
                                            coverage=coverage, message=f"checker bug: {e}"))
            continue
        reached_ids.add(w.id)
        witness_verdicts.append(Verdict(w.id, w.kind, Status.REACHED, {ENGINE: "reached"},
                                        trace=str(path), length=n, coverage=coverage,
                                        message=f"{w.title}: reached in {n} steps"))
    for prop in checked:
        finding = sink.failures.get(prop.id)
        if finding is None and not settled:
            # each round stops at its first violation: when the rounds ran out while
            # still finding, the properties not found yet were hardly sampled
            verdicts.append(Verdict(prop.id, prop.kind, Status.UNKNOWN, {ENGINE: "unknown"},
                                    coverage=coverage, message=f"not decided: the fuzz budget of "
                                    f"{options.max_rounds} rounds ended while rounds still found "
                                    "violations (raise max_rounds)"))
            continue
        if finding is None:
            missing = [w for w in prop.needs if w not in reached_ids]
            if missing:
                verdicts.append(Verdict(prop.id, prop.kind, Status.VACUOUS, {ENGINE: "vacuous"},
                                        coverage=coverage, message=f"holds in {stats.runs} runs, but "
                                        f"witness {', '.join(missing)} was never reached"))
            elif prop.exercised is not None and prop.id not in sink.exercised:
                verdicts.append(Verdict(prop.id, prop.kind, Status.VACUOUS, {ENGINE: "vacuous"},
                                        coverage=coverage, message=f"holds in {stats.runs} runs, but "
                                        "no run exercised what it speaks of"))
            else:
                verdicts.append(Verdict(prop.id, prop.kind, Status.HOLDS, {ENGINE: "holds"},
                                        coverage=coverage, message=f"holds in {stats.runs} sampled runs "
                                        f"({stats.steps} steps)"))
            continue
        verdicts.append(_violation(prop, variant, finding, out_dir, coverage))
    shown = {w.id for w in (tracked if reported is None else reported)}
    return verdicts + [v for v in witness_verdicts if v.property in shown]


def _violation(prop: Property, variant: Variant, finding: Finding, out_dir: Path, coverage: dict) -> Verdict:
    run = finding.actions
    path = out_dir / f"{prop.id}.jsonl"
    last = _describe(run[-1]) if run else "?"
    comments = [f"{prop.id} ({prop.kind.value}): {prop.meaning}",
                f"violated after the last step ({last}); found by bufring fuzz"]
    try:
        n = write_finding(path, variant, finding.cfg, run, comments)
        if first_shown(prop, variant, read_trace(path).config, run) != n - 1:
            raise AssertionError("the property does not fail at the last step of the replay")
    except (AssertionError, BadInput) as e:
        return Verdict(prop.id, prop.kind, Status.UNKNOWN, {ENGINE: "unknown"}, coverage=coverage,
                       message=f"checker bug: a violation did not replay: {e}")
    sev = f" [{prop.severity.value}]" if prop.severity else ""
    return Verdict(prop.id, prop.kind, Status.VIOLATED, {ENGINE: "violated"}, trace=str(path),
                   length=n, coverage=coverage,
                   message=f"{prop.title}: violated after {n} steps, last: {last}{sev}")
