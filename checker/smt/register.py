"""The REGISTER path as one term, from the variant's own rule lists.

:func:`register_path` follows ``fuse_uring_register()`` as ``model.kernel`` runs
it (SEMANTICS §3.2 to §3.4): the gate rules, then for a new queue the bufring
setup rules (or nothing, legacy) and the entry rules, for an existing queue
``queue_init_flags_consistent()`` and the entry rules. Each rule list is folded
by ``model.rules.symbolic_ret`` / ``symbolic_accepts``: the very ``Rule``
predicates the concrete model runs, never a second encoding of a check. What this
module adds is the order in which the lists run, and that order is cross-checked
against ``model.kernel`` on concrete inputs (tests/checker/test_smt_register.py):
the function runs on ``CONCRETE`` too.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from bufring.model.actions import Register
from bufring.model.cint import U16, U32, U64
from bufring.model.config import Config
from bufring.model.errno import Errno
from bufring.model.rules import (
    RegisterValues,
    first_rejection,
    symbolic_accepts,
    symbolic_ret,
    wants_bufring,
)
from bufring.model.variant import V2, Variant

RET_BITS = 32

REGISTER_BITS = {"qid": U16, "flags": U64, "buf_index": U16, "queue_depth": U16, "buf_size": U32,
                 "headers_base": U64, "headers_len": U64, "payload_base": U64, "payload_len": U64}
"""C width of every REGISTER field the rules read (SEMANTICS §8.1)."""

CONFIG_BITS = {"nr_queues": U32, "max_payload_sz": U64}
"""The ring values the rules read, with their widths (TRACE-FORMAT ``config``)."""

PARAMETER_RANGES = {
    "qid": "u16", "flags": "u64", "buf_index": "u16", "queue_depth": "u16", "buf_size": "u32",
    "headers": "[u64 base, u64 len]", "payload": "[u64 base, u64 len]",
    "nr_queues": "1..2^32-1", "max_payload_sz": "0..2^64-1",
}
"""What "for all values" covers in a contract proof (a verdict's ``coverage.parameters``)."""


class Existing(Enum):
    """What ``ring->queues[qid]`` holds when the REGISTER arrives."""

    NONE = "no queue"
    BUFRING = "a bufring queue"
    LEGACY = "a legacy queue"


def symbolic_register(sym, name: str, cfg: Config | None = None,
                      ring_queue_depth=None) -> RegisterValues:
    """A REGISTER with every field a fresh variable of its C width.

    ``cfg`` fixes ``nr_queues`` and ``max_payload_sz``; without it they are
    variables too (``nr_queues >= 1``), so a proof covers every configuration.
    """
    fields = {k: sym.var(f"{name}.{k}", bits) for k, bits in REGISTER_BITS.items()}
    if cfg is None:
        nr_queues = sym.var(f"{name}.nr_queues", U32)
        sym.side.append(sym.c.uge(nr_queues, sym.const(1, U32)))
        max_payload_sz = sym.var(f"{name}.max_payload_sz", U64)
    else:
        nr_queues = sym.const(cfg.nr_queues, U32)
        max_payload_sz = sym.const(cfg.max_payload_sz, U64)
    return RegisterValues(nr_queues=nr_queues, max_payload_sz=max_payload_sz,
                          ring_queue_depth=ring_queue_depth, **fields)


def joining(p: RegisterValues, other: RegisterValues, ring_queue_depth) -> RegisterValues:
    """``other``'s SQE meeting the ring of ``p``: same qid and ring values, the
    existing queue's depth for the entry check."""
    import dataclasses
    return dataclasses.replace(other, qid=p.qid, nr_queues=p.nr_queues,
                               max_payload_sz=p.max_payload_sz,
                               ring_queue_depth=ring_queue_depth)


def model_register(sym, model, p: RegisterValues) -> Register:
    """The REGISTER action a model of ``p`` describes."""
    v = {k: sym.value(model, getattr(p, k)) for k in REGISTER_BITS}
    return Register(qid=v["qid"], flags=v["flags"], buf_index=v["buf_index"],
                    queue_depth=v["queue_depth"], buf_size=v["buf_size"],
                    headers=(v["headers_base"], v["headers_len"]),
                    payload=(v["payload_base"], v["payload_len"]))


def model_config(sym, model, p: RegisterValues, **extra) -> Config:
    """The trace configuration a model of ``p`` needs (its ring values)."""
    return Config(nr_queues=sym.value(model, p.nr_queues),
                  max_payload_sz=sym.value(model, p.max_payload_sz), **extra)


# --- folding one rule list -----------------------------------------------------------------

def list_ret(c, rules, p: RegisterValues):
    """``-errno`` of the list's first rejecting rule, else 0 (a ``RET_BITS`` value)."""
    if c.symbolic:
        return symbolic_ret(c, rules, p, RET_BITS)
    rule = first_rejection(c, rules, p)
    return c.const(0 if rule is None else -int(rule.errno), RET_BITS)


def list_accepts(c, rules, p: RegisterValues):
    """No rule of the list rejects ``p``."""
    if c.symbolic:
        return symbolic_accepts(c, rules, p)
    return first_rejection(c, rules, p) is None


def _choose(c, cond, then, other):
    """``cond ? then() : other()``, evaluating only the taken side when concrete;
    symbolic outcomes merge field by field."""
    if not c.symbolic:
        return then() if cond else other()
    a, b = then(), other()
    if isinstance(a, RegisterOutcome):
        return RegisterOutcome(c.ite(cond, a.ret, b.ret), c.ite(cond, a.created, b.created),
                               c.ite(cond, a.ent, b.ent))
    return c.ite(cond, a, b)


# --- the path ----------------------------------------------------------------------------------

@dataclass
class RegisterOutcome:
    """What one REGISTER does: its return value, whether it published a queue and
    whether it added an entry (terms, or Python values on ``CONCRETE``)."""

    ret: Any
    created: Any
    ent: Any

    def rejected(self, c):
        return c.ne(self.ret, c.const(0, RET_BITS))


def same_mode_term(c, existing: Existing, p: RegisterValues):
    """``queue_init_flags_consistent()`` of v2: the queue's mode equals the flag."""
    flag = wants_bufring(c, p.flags)
    return flag if existing is Existing.BUFRING else c.not_(flag)


def reads_join_symbolically(variant: Variant) -> bool:
    """Is the variant's ``queue_init_consistent`` v2's mode check, the one hook
    of the REGISTER path that is a Python function and not a rule list?"""
    return variant.queue_init_consistent is V2.queue_init_consistent


def register_path(c, variant: Variant, p: RegisterValues, existing: Existing = Existing.NONE,
                  join_ok=None) -> RegisterOutcome:
    """Models ``fuse_uring_register()`` for one REGISTER with nothing interleaved.

    ``existing`` is the queue the REGISTER finds; for ``BUFRING`` the entry rules
    read ``p.ring_queue_depth`` (the existing ring's depth). ``join_ok`` is the
    answer of ``queue_init_flags_consistent()`` when the variant replaced that
    hook (a free Bool: the proof then covers either answer); by default v2's
    mode check is used.
    """
    zero = c.const(0, RET_BITS)
    no = False if not c.symbolic else c.z3.BoolVal(False)
    yes = True if not c.symbolic else c.z3.BoolVal(True)
    gate = list_ret(c, variant.gate_rules, p)

    def after_gate():
        if existing is Existing.NONE:
            return new_queue()
        ok = same_mode_term(c, existing, p) if join_ok is None else join_ok
        ent_rules = variant.ent_bufring_rules if existing is Existing.BUFRING else variant.ent_legacy_rules
        return _choose(c, ok,
                       lambda: entry(list_ret(c, ent_rules, p), created=no),
                       lambda: RegisterOutcome(c.const(-int(Errno.EINVAL), RET_BITS), no, no))

    def entry(ent_ret, created):
        return _choose(c, c.eq(ent_ret, zero),
                       lambda: RegisterOutcome(zero, created, yes),
                       lambda: RegisterOutcome(ent_ret, created, no))

    def publish(ent_ret):
        # fuse_uring_create_queue() published the queue; the entry check comes after
        # (v2), or before publishing (the ent_before_publish fix).
        if variant.ent_before_publish:
            return _choose(c, c.eq(ent_ret, zero),
                           lambda: RegisterOutcome(zero, yes, yes),
                           lambda: RegisterOutcome(ent_ret, no, no))
        return entry(ent_ret, created=yes)

    def new_queue():
        own = p if p.ring_queue_depth is None else _own(p)

        def bufring():
            setup = list_ret(c, variant.bufring_setup_rules, own)
            return _choose(c, c.eq(setup, zero),
                           lambda: publish(list_ret(c, variant.ent_bufring_rules, own)),
                           lambda: RegisterOutcome(setup, no, no))

        return _choose(c, wants_bufring(c, p.flags), bufring,
                       lambda: publish(list_ret(c, variant.ent_legacy_rules, own)))

    return _choose(c, c.eq(gate, zero), after_gate, lambda: RegisterOutcome(gate, no, no))


def _own(p: RegisterValues) -> RegisterValues:
    import dataclasses
    return dataclasses.replace(p, ring_queue_depth=None)


def creates_bufring(c, variant: Variant, p: RegisterValues):
    """The REGISTER publishes a new bufring queue (whatever its entry check says,
    unless the variant checks the entry first): the ring ``ring.buf_in_region``
    speaks of."""
    setup_ok = c.and_(list_accepts(c, variant.gate_rules, p), wants_bufring(c, p.flags),
                      list_accepts(c, variant.bufring_setup_rules, p))
    if variant.ent_before_publish:
        return c.and_(setup_ok, list_accepts(c, variant.ent_bufring_rules, _own(p)))
    return setup_ok


def creates_queue(c, variant: Variant, p: RegisterValues):
    """The REGISTER publishes a new queue of either mode."""
    return register_path(c, variant, _own(p), Existing.NONE).created
