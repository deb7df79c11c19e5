"""A reviewer's own properties: ``--property FILE.py:NAME`` beside the catalog's ids.

A user's file builds a :class:`~bufring.specs.catalog.Property` exactly as the
catalog does, from the same predicate helpers (``specs.predicates``): an id, a
kind, a meaning, a state or step predicate, the premise that says the situation
it speaks of occurred (``exercised``), the witnesses it needs (``needs``) and a
severity (docs/properties.md, docs/examples/user_properties.py). Every engine
then treats it as a catalog entry: explore, fuzz and check decide it, write its
counterexample as a trace and replay it. ``prove`` has no z3 form for it.

A user property is an invariant, a contract, an informational property or a
``sometimes`` witness: the liveness and deadlock analyses are the explorer's
graph searches for the catalog's two flow properties, not predicates a file can
supply. Anything else wrong with the file is one :class:`BadInput` line naming
the file and, where it can, the line of NAME's definition.
"""
from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
from pathlib import Path
from typing import Callable, Sequence

from bufring.model.actions import OP_NAMES
from bufring.model.errors import BadInput
from bufring.model.userfile import is_file_spec, load_name, user_line
from bufring.specs.catalog import BY_ID, CATALOG, Kind, Property, Severity, witnesses

USER_KINDS = (Kind.INVARIANT, Kind.CONTRACT, Kind.INFORMATIONAL, Kind.SOMETIMES)
"""The kinds a user property may have: those decided by a state or step predicate."""

ARITY = {"check_state": 2, "check_step": 5, "exercised": 5}
"""Positional arguments of each predicate: (cfg, state) or (cfg, pre, action, post, obs)."""


def select_properties(specs: Sequence[str], where: str = "--property") -> tuple[Property, ...]:
    """The properties ``--property`` names: catalog ids and ``FILE.py:NAME``, in the
    order given (the whole catalog when none is given)."""
    if not specs:
        return CATALOG
    chosen: dict[str, Property] = {}
    for spec in specs:
        if spec in BY_ID:
            prop = BY_ID[spec]
        elif is_file_spec(spec):
            prop = load_property(spec)
        else:
            raise BadInput(where, None, None, f"unknown property {spec!r}; known: "
                           f"{', '.join(BY_ID)}; or give path/to/file.py:NAME")
        old = chosen.get(prop.id)
        if old is not None and old.origin != prop.origin:
            raise BadInput(prop.origin.rpartition(":")[0], None, "property",
                           f"id {prop.id!r} is also the id of {old.origin}")
        chosen[prop.id] = prop
    return tuple(chosen.values())


def load_property(spec: str) -> Property:
    """The :class:`Property` NAME of ``FILE.py:NAME``, checked and marked with its origin."""
    path_text, value = load_name(spec, "property")
    attr = spec.rpartition(":")[2]
    line = _definition_line(Path(path_text), attr)

    def bad(message: str) -> BadInput:
        return BadInput(path_text, line, "property", f"{attr}: {message}")

    if not isinstance(value, Property):
        raise bad(f"is a {type(value).__name__}, not a Property "
                  "(build it with bufring.specs.catalog.Property(...))")
    if not isinstance(value.id, str) or not value.id or value.id != value.id.strip() or " " in value.id:
        raise bad(f"id {value.id!r} is not a non-empty name without spaces")
    if value.id in BY_ID:
        raise bad(f"id {value.id!r} is a catalog property's; give yours another id (e.g. user.…)")
    if value.kind not in USER_KINDS:
        raise bad(f"kind {getattr(value.kind, 'value', value.kind)!r} cannot be a user property's: "
                  f"give one of {', '.join(k.value for k in USER_KINDS)} (liveness and deadlock "
                  "are the explorer's graph analyses of flow.eventually_dispatched and flow.no_deadlock)")
    if value.goal is not None:
        raise bad("a goal is the catalog's graph properties' own; give check_state or check_step")
    if value.check_state is None and value.check_step is None:
        raise bad("has neither check_state nor check_step: nothing to decide")
    if value.severity is not None and not isinstance(value.severity, Severity):
        raise bad(f"severity {value.severity!r} is not a bufring.specs.catalog.Severity")
    known_witnesses = {w.id for w in witnesses()}
    for w in value.needs:
        if w not in known_witnesses:
            raise bad(f"needs {w!r}, which is not a witness; witnesses: {', '.join(sorted(known_witnesses))}")
    ops = set(OP_NAMES.values())
    for op in value.ops:
        if op not in ops:
            raise bad(f"ops names {op!r}, which is not an op; ops: {', '.join(sorted(ops))}")
    guarded = {}
    for name, arity in ARITY.items():
        fn = getattr(value, name)
        if fn is None:
            continue
        if not callable(fn):
            raise bad(f"{name} is a {type(fn).__name__}, not a function")
        if not _accepts(fn, arity):
            args = "(cfg, state)" if arity == 2 else "(cfg, pre, action, post, obs)"
            raise bad(f"{name} must take {arity} arguments {args}")
        guarded[name] = _guard(fn, Path(path_text), f"{attr}.{name}")
    return dataclasses.replace(value, origin=f"{path_text}:{attr}", **guarded)


def _accepts(fn: Callable, n: int) -> bool:
    try:
        inspect.signature(fn).bind(*range(n))
    except TypeError:
        return False
    except ValueError:          # no signature (a builtin): let the call decide
        return True
    return True


def _guard(fn: Callable, path: Path, what: str) -> Callable:
    """``fn``, with an exception it raises turned into one BadInput line naming the
    file and line (a user's predicate that crashes is bad input, not a bufring bug)."""
    @functools.wraps(fn)
    def guarded(*args):
        try:
            return fn(*args)
        except Exception as e:  # noqa: BLE001 - any failure of the user's code
            raise BadInput(str(path), user_line(e, path), "property",
                           f"{what} raised {type(e).__name__}: {e}") from None
    return guarded


def _definition_line(path: Path, attr: str) -> int | None:
    """The line where the file assigns ``attr`` at module level, if it does."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any(isinstance(t, ast.Name) and t.id == attr for t in targets):
            return node.lineno
    return None
