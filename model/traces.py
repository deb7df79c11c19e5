"""Traces: the one interchange format (docs/trace-format.md, TRACE-FORMAT v1).

:func:`read_trace` validates a whole file before anything runs: strict JSON (no
duplicate keys, no NaN), known keys only, every argument of its C type. Errors
are one :class:`BadInput` naming file, line and field. :func:`run_trace` replays
the steps on the model, finds what only running can find (a ``unique`` in use, a
ring the counter width cannot hold) before returning anything, and compares each
step's ``expect``. :func:`write_trace` is the inverse of :func:`read_trace`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from bufring.model.actions import (OP_NAMES, Action, Commit, CommitBegin,
                                   CommitEnd, Observation, Register, RegisterBegin,
                                   RegisterEnd, Request, Send)
from bufring.model.config import CONFIG_TYPES, Config
from bufring.model.errors import BadInput
from bufring.model.kernel import InvalidStep
from bufring.model.system import next_state
from bufring.model.state import INITIAL_STATE, State
from bufring.model.variant import Variant

TRACE_VERSION = 1
CYCLE_MARKER = "# bufring:cycle"
"""A comment line before the first step of a lasso's cycle (docs/trace-format.md):
the steps after it repeat forever; with no step after it, the last state stutters
forever. Other readers see a comment and replay the prefix and one round."""

CHECK_MARKER = "# bufring:check:"
"""A comment line naming the property a trace was written to show
(``# bufring:check: ring.conservation``): ``bufring replay`` judges that property
along the run and exits 1 when it fails. Other readers see a comment."""

U16_MAX = (1 << 16) - 1
U32_MAX = (1 << 32) - 1
U64_MAX = (1 << 64) - 1
S32 = (-(1 << 31), (1 << 31) - 1)

# op -> {argument: (kind, required, default)}; kinds are checked by _value().
STEP_SCHEMA: dict[str, dict[str, tuple[str, bool, Any]]] = {
    "register": {
        "qid": ("u16", True, None), "flags": ("u64", False, 0),
        "buf_index": ("u16", False, 0), "queue_depth": ("u16", False, 0),
        "buf_size": ("u32", False, 0), "headers": ("iovec", True, None),
        "payload": ("iovec", True, None),
    },
    "request": {
        "qid": ("u16", True, None), "unique": ("unique", True, None),
        "payload": ("bool", True, None), "background": ("bool", False, False),
        "opcode": ("opcode", False, None),
    },
    "commit": {
        "qid": ("u16", True, None), "commit_id": ("u64", True, None),
        "reply_error": ("s32", False, 0),
    },
}
_REGISTER_ARGS = STEP_SCHEMA["register"]
# The project's split ops (docs/trace-format.md, "Extensions"): a trace using one is
# read only by bufring; a trace without them is plain TRACE-FORMAT v1.
EXTENSION_SCHEMA: dict[str, dict[str, tuple[str, bool, Any]]] = {
    "register_begin": {"thread": ("u16", True, None), **_REGISTER_ARGS},
    "register_end": {"thread": ("u16", True, None)},
    "send": {"qid": ("u16", True, None), "ent": ("u32", True, None)},
    "commit_begin": {"qid": ("u16", True, None), "commit_id": ("u64", True, None)},
    "commit_end": {"qid": ("u16", True, None), "commit_id": ("u64", True, None),
                   "reply_error": ("s32", False, 0)},
}
STEP_SCHEMA.update(EXTENSION_SCHEMA)
ACTION_TYPES = {"register": Register, "request": Request, "commit": Commit,
                "register_begin": RegisterBegin, "register_end": RegisterEnd, "send": Send,
                "commit_begin": CommitBegin, "commit_end": CommitEnd}

# Observation keys each op produces (TRACE-FORMAT "Observations").
OP_KEYS = {
    "register": ("ret", "ent", "dispatched", "recycled", "warnings"),
    "request": ("via", "queued", "dispatched", "recycled", "warnings"),
    "commit": ("ret", "dispatched", "recycled", "warnings"),
    "register_begin": ("ret", "ent", "pending", "dispatched", "recycled", "warnings"),
    "register_end": ("ret", "ent", "dispatched", "recycled", "warnings"),
    "send": ("dispatched", "recycled", "warnings"),
    "commit_begin": ("ret", "pending", "dispatched", "recycled", "warnings"),
    "commit_end": ("ret", "dispatched", "recycled", "warnings"),
}
EXPECT_KINDS = {"ret": "int", "ent": "int_or_null", "via": "via", "queued": "bool",
                "pending": "bool",
                "dispatched": "dispatched", "recycled": "int_list", "warnings": "str_list"}
DISPATCH_KEYS = ("ent", "unique", "buf_id", "payload_addr", "header_addr")


@dataclass(frozen=True)
class TraceStep:
    line: int
    action: Action
    expect: dict | None = None


@dataclass(frozen=True)
class Trace:
    source: str
    variant: str | None
    config: Config
    steps: tuple[TraceStep, ...]
    header_line: int | None = None
    cycle_start: int | None = None      # index into steps where a lasso's cycle starts
    checks: tuple[str, ...] = ()        # property ids of its CHECK_MARKER lines


@dataclass(frozen=True)
class StepResult:
    step: TraceStep
    observation: Observation
    mismatch: tuple[str, Any, Any] | None = None   # (key, expected, observed)


@dataclass
class ReplayResult:
    trace: Trace
    results: list[StepResult] = field(default_factory=list)
    cycle_closes: bool | None = None    # a lasso's last state equals its cycle's first
    variant: Variant | None = None      # the variant it was replayed on

    @property
    def first_mismatch(self) -> StepResult | None:
        return next((r for r in self.results if r.mismatch is not None), None)


# --- reading ------------------------------------------------------------------------------

class _Constant:
    """What ``NaN``/``Infinity`` parse to, so that the reader can say where they are."""

    def __init__(self, name: str):
        self.name = name


class _Object(dict):
    """A JSON object that remembers a key it saw twice."""

    duplicate: str | None = None


def _pairs(pairs) -> _Object:
    obj = _Object()
    for key, value in pairs:
        if key in obj and obj.duplicate is None:
            obj.duplicate = key
        obj[key] = value
    return obj


def _first_problem(value, path: str = ""):
    """(path, message) of the first duplicate key or NaN/Infinity in ``value``."""
    if isinstance(value, _Constant):
        return path, f"{value.name} is not allowed"
    if isinstance(value, _Object):
        if value.duplicate is not None:
            return (f"{path}.{value.duplicate}" if path else value.duplicate), "duplicate key"
        for key, item in value.items():
            found = _first_problem(item, f"{path}.{key}" if path else key)
            if found:
                return found
    if isinstance(value, list):
        for n, item in enumerate(value):
            found = _first_problem(item, f"{path}[{n}]")
            if found:
                return found
    return None


def parse_json_line(text: str, source: str, line: int) -> dict:
    """One JSON object, strictly: a duplicate key or NaN/Infinity anywhere is an
    error naming its path (``config.nr_queues``, ``headers[1]``)."""
    try:
        obj = json.loads(text, object_pairs_hook=_pairs, parse_constant=_Constant)
    except ValueError as e:
        raise BadInput(source, line, None, f"invalid JSON: {e}") from None
    problem = _first_problem(obj)
    if problem:
        raise BadInput(source, line, problem[0], f"invalid JSON: {problem[1]}")
    if not isinstance(obj, dict):
        raise BadInput(source, line, None, "each line must be one JSON object")
    return obj


def is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _value(kind: str, x, source: str, line: int, name: str):
    """Check one argument against its C type; return it in model form."""
    def bad(msg):
        raise BadInput(source, line, name, msg)

    if kind in ("u16", "u32", "u64", "unique"):
        limit = {"u16": U16_MAX, "u32": U32_MAX, "u64": U64_MAX, "unique": U64_MAX}[kind]
        if not is_int(x):
            bad(f"must be an integer, got {json.dumps(x)}")
        if not 0 <= x <= limit:
            bad(f"{x} is outside {kind if kind != 'unique' else 'u64'} (0 to {limit})")
        if kind == "unique" and x == 0:
            bad("must be non-zero")
        return x
    if kind == "s32":
        if not is_int(x):
            bad(f"must be an integer, got {json.dumps(x)}")
        if not S32[0] <= x <= S32[1]:
            bad(f"{x} is outside s32")
        return x
    if kind == "bool":
        if not isinstance(x, bool):
            bad(f"must be true or false, got {json.dumps(x)}")
        return x
    if kind == "opcode":
        if x is not None and not isinstance(x, str):
            bad(f"must be a string, got {json.dumps(x)}")
        return x
    if kind == "iovec":
        if not (isinstance(x, list) and len(x) == 2):
            bad("must be [base, len]")
        base = _value("u64", x[0], source, line, f"{name}[0]")
        length = _value("u64", x[1], source, line, f"{name}[1]")
        return (base, length)
    raise AssertionError(kind)


def _check_expect(op: str, expect, source: str, line: int) -> dict:
    if not isinstance(expect, dict):
        raise BadInput(source, line, "expect", "must be an object")
    for key, value in expect.items():
        name = f"expect.{key}"
        kind = EXPECT_KINDS.get(key)
        if kind is None:
            raise BadInput(source, line, name, f"unknown key; known: {', '.join(EXPECT_KINDS)}")
        if kind == "int" and not is_int(value):
            raise BadInput(source, line, name, f"must be an integer, got {json.dumps(value)}")
        if kind == "int_or_null" and value is not None and not is_int(value):
            raise BadInput(source, line, name, f"must be an integer or null, got {json.dumps(value)}")
        if kind == "via" and value not in ("ring", "dev"):
            raise BadInput(source, line, name, f'must be "ring" or "dev", got {json.dumps(value)}')
        if kind == "bool" and not isinstance(value, bool):
            raise BadInput(source, line, name, f"must be true or false, got {json.dumps(value)}")
        if kind == "int_list" and not (isinstance(value, list) and all(is_int(v) for v in value)):
            raise BadInput(source, line, name, "must be a list of integers")
        if kind == "str_list" and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise BadInput(source, line, name, "must be a list of strings")
        if kind == "dispatched":
            if not isinstance(value, list):
                raise BadInput(source, line, name, "must be a list of objects")
            for n, d in enumerate(value):
                where = f"{name}[{n}]"
                if not isinstance(d, dict):
                    raise BadInput(source, line, where, "must be an object")
                for dk, dv in d.items():
                    if dk not in DISPATCH_KEYS:
                        raise BadInput(source, line, f"{where}.{dk}",
                                       f"unknown key; known: {', '.join(DISPATCH_KEYS)}")
                    if dk == "buf_id" and dv is None:
                        continue
                    if not is_int(dv):
                        raise BadInput(source, line, f"{where}.{dk}",
                                       f"must be an integer, got {json.dumps(dv)}")
    return expect


def parse_config(obj, source: str, line: int) -> Config:
    if not isinstance(obj, dict):
        raise BadInput(source, line, "config", "must be an object")
    values = {}
    for key, value in obj.items():
        kind = CONFIG_TYPES.get(key)
        if kind is None:
            raise BadInput(source, line, f"config.{key}",
                           f"unknown key; known: {', '.join(CONFIG_TYPES)}")
        if kind is bool and not isinstance(value, bool):
            raise BadInput(source, line, f"config.{key}", f"must be true or false, got {json.dumps(value)}")
        if kind is int and not is_int(value):
            raise BadInput(source, line, f"config.{key}", f"must be an integer, got {json.dumps(value)}")
        values[key] = value
    cfg = Config(**values)
    problems = cfg.problems()
    if problems:
        key, msg = problems[0]
        raise BadInput(source, line, f"config.{key}", msg)
    return cfg


def parse_trace(lines: Iterable[str], source: str) -> Trace:
    """Validate a whole trace given as lines of text; see the module doc."""
    variant = None
    cfg = Config()
    header_line = None
    steps: list[TraceStep] = []
    seen_object = False
    cycle_start = None
    checks: list[str] = []
    for line_no, text in enumerate(lines, start=1):
        stripped = text.strip()
        if stripped.startswith(CYCLE_MARKER):
            if cycle_start is not None:
                raise BadInput(source, line_no, "cycle", "a trace has at most one cycle marker")
            cycle_start = len(steps)
            continue
        if stripped.startswith(CHECK_MARKER):
            checks.append(stripped[len(CHECK_MARKER):].strip())
            continue
        if not stripped or stripped.startswith("#"):
            continue
        obj = parse_json_line(stripped, source, line_no)
        if "op" not in obj and "trace" in obj:
            if seen_object:
                raise BadInput(source, line_no, "trace", "a header may only be the first object")
            seen_object = True
            header_line = line_no
            variant, cfg = _header(obj, source, line_no)
            continue
        seen_object = True
        steps.append(_step(obj, source, line_no))
    if not steps:
        raise BadInput(source, header_line, None, "no steps: a trace needs at least one step "
                       "(an empty run shows nothing)")
    return Trace(source=source, variant=variant, config=cfg, steps=tuple(steps),
                 header_line=header_line, cycle_start=cycle_start, checks=tuple(checks))


def _header(obj: dict, source: str, line: int) -> tuple[str | None, Config]:
    for key in obj:
        if key not in ("trace", "variant", "config"):
            raise BadInput(source, line, key, "unknown header key; known: trace, variant, config")
    version = obj["trace"]
    if not is_int(version) or version != TRACE_VERSION:
        raise BadInput(source, line, "trace", f"unsupported trace version {json.dumps(version)} "
                                              f"(this bufring reads version {TRACE_VERSION})")
    variant = obj.get("variant")
    if variant is not None and not isinstance(variant, str):
        raise BadInput(source, line, "variant", "must be a string")
    cfg = parse_config(obj.get("config", {}), source, line)
    return variant, cfg


def _step(obj: dict, source: str, line: int) -> TraceStep:
    op = obj.get("op")
    if op is None:
        raise BadInput(source, line, "op", "missing (a step needs an op; a header needs \"trace\": 1)")
    if not isinstance(op, str) or op not in STEP_SCHEMA:
        raise BadInput(source, line, "op", f"unknown op {json.dumps(op)}; known: {', '.join(STEP_SCHEMA)}")
    action = parse_action(op, obj, source, line, extra=("op", "expect"))
    expect = _check_expect(op, obj["expect"], source, line) if "expect" in obj else None
    return TraceStep(line=line, action=action, expect=expect)


def parse_action(op: str, obj: dict, source: str, line: int, extra: tuple = (),
                 prefix: str = "") -> Action:
    """The action of ``op`` from its JSON arguments, each checked against its C type."""
    schema = STEP_SCHEMA[op]
    for key in obj:
        if key not in schema and key not in extra:
            raise BadInput(source, line, prefix + key, f"unknown argument of {op}; known: {', '.join(schema)}")
    args = {}
    for name, (kind, required, default) in schema.items():
        if name not in obj:
            if required:
                raise BadInput(source, line, prefix + name, f"missing (required for {op})")
            args[name] = default
        else:
            args[name] = _value(kind, obj[name], source, line, prefix + name)
    return ACTION_TYPES[op](**args)


def read_trace(path: str | Path) -> Trace:
    """Read and validate a trace file (see :func:`parse_trace`)."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(source, None, None, "no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(source, None, None, f"cannot read: {e}") from None
    # JSON Lines: lines end at "\n" only (JSON strings may hold U+2028 and friends raw).
    return parse_trace([ln.rstrip("\r") for ln in text.split("\n")], source)


# --- running --------------------------------------------------------------------------------

def observation_json(op: str, obs: Observation) -> dict:
    """The observation with the keys its op produces (``ent`` only on success)."""
    full = obs.to_json()
    return {key: full[key] for key in OP_KEYS[op] if key in full}


def compare(expect: dict | None, op: str, obs: Observation) -> tuple[str, Any, Any] | None:
    """The first expected key whose value differs from the observation, if any.

    ``dispatched`` objects compare on the keys the expected object names;
    ``warnings`` compare as sets, since their order carries no meaning.
    """
    if not expect:
        return None
    got = observation_json(op, obs)
    for key, want in expect.items():
        have = got.get(key)
        if key == "dispatched":
            if len(want) != len(have) or any(
                    any(d_have.get(k) != v for k, v in d_want.items())
                    for d_want, d_have in zip(want, have)):
                return key, want, have
        elif key == "warnings":
            if sorted(want) != sorted(have):
                return key, want, have
        elif want != have:
            return key, want, have
    return None


def live_uniques(state: State) -> set[int]:
    """Uniques of the requests the ring holds: queued, or assigned to an entry."""
    out = set()
    for _, q in state.queues:
        out.update(r.unique for r in q.req_queue)
        out.update(r.unique for r in q.bg_queue)
        out.update(e.req.unique for e in q.ents if e.req is not None and not e.stale)
    return out


def run_trace(trace: Trace, variant: Variant, stop_at_mismatch: bool = True) -> ReplayResult:
    """Replay ``trace`` on ``variant``; every step's observation, and the first mismatch.

    Raises :class:`BadInput` for what only running finds (a ``unique`` in use, a
    buffer ring the counter width cannot hold), before any result is returned:
    the whole trace runs even past a mismatch, whose results are then dropped.
    """
    result = ReplayResult(trace, variant=variant)
    cfg = trace.config
    state = INITIAL_STATE
    dev_uniques: set[int] = set()
    cycle_state = None
    stopped = False
    for n, step in enumerate(trace.steps):
        if n == trace.cycle_start:
            cycle_state = state
        action = step.action
        op = OP_NAMES[type(action)]
        if op == "request" and (action.unique in dev_uniques or action.unique in live_uniques(state)):
            raise BadInput(trace.source, step.line, "unique", f"{action.unique} is already in use")
        try:
            state, obs = next_state(variant, cfg, state, action)
        except InvalidStep as e:
            if e.header:
                raise BadInput(trace.source, trace.header_line or step.line, e.field,
                               f"{e} (REGISTER at line {step.line})") from None
            raise BadInput(trace.source, step.line, e.field, str(e)) from None
        if op == "request" and obs.via == "dev":
            dev_uniques.add(action.unique)
        if stopped:
            continue          # past the first mismatch: only looking for invalid input
        mismatch = compare(step.expect, op, obs)
        result.results.append(StepResult(step, obs, mismatch))
        stopped = mismatch is not None and stop_at_mismatch
    if stopped:
        return result
    if trace.cycle_start is not None:
        result.cycle_closes = state == (state if cycle_state is None else cycle_state)
    return result


# --- writing --------------------------------------------------------------------------------

def action_json(action: Action) -> dict:
    """A step object (without ``expect``), defaults included, in schema order."""
    op = OP_NAMES[type(action)]
    out: dict = {"op": op}
    for name in STEP_SCHEMA[op]:
        value = getattr(action, name)
        if value is None:           # an optional argument left at its default ("opcode")
            continue
        out[name] = list(value) if isinstance(value, tuple) else value
    return out


def header_json(variant: str | None, cfg: Config) -> dict:
    out: dict = {"trace": TRACE_VERSION}
    if variant is not None:
        out["variant"] = variant
    out["config"] = cfg.to_json()
    return out


def format_trace(variant: str | None, cfg: Config, steps: Iterable[tuple[Action, dict | None]],
                 comments: Iterable[str] = (), cycle_start: int | None = None) -> str:
    """A trace file's text: comment lines, the header, one step per line, and the
    cycle marker before step ``cycle_start`` of a lasso."""
    lines = [f"# {c}" for c in comments]
    lines.append(json.dumps(header_json(variant, cfg)))
    steps = list(steps)
    for n, (action, expect) in enumerate(steps):
        if n == cycle_start:
            lines.append(f"{CYCLE_MARKER}: the steps below repeat forever")
        obj = action_json(action)
        if expect is not None:
            obj["expect"] = expect
        lines.append(json.dumps(obj))
    if cycle_start is not None and cycle_start >= len(steps):
        lines.append(f"{CYCLE_MARKER}: the last state stutters forever")
    return "\n".join(lines) + "\n"


def write_trace(path: str | Path, variant: str | None, cfg: Config,
                steps: Iterable[tuple[Action, dict | None]], comments: Iterable[str] = (),
                cycle_start: int | None = None) -> None:
    """Write a trace file whole (to a temporary name, then renamed: never half-written)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(format_trace(variant, cfg, steps, comments, cycle_start), encoding="utf-8")
    tmp.replace(path)


def expect_of(action: Action, obs: Observation) -> dict:
    """The full ``expect`` of a step: every observation key its op produces."""
    return observation_json(OP_NAMES[type(action)], obs)
