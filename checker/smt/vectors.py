"""Boundary vectors: for each REGISTER rule, a point just accepted and one just rejected.

For a rule ``R`` of one of the variant's rule lists, the solver finds a REGISTER
``a`` that the whole REGISTER path accepts (return 0) and a neighbour ``r`` that
differs from ``a`` in one field ``R`` reads, by one unit, such that the path
reaches ``R`` for ``r`` (every check before it passes) and ``R`` rejects it. So
``r`` returns ``-R.errno`` and sits right on ``R``'s boundary, next to ``a``.
Fields ``R`` does not read keep a plain server's values when the solver can (a
readable vector), and are free otherwise.

Each vector's ``expect`` is computed by running the REGISTER on the concrete model
(``model.kernel``), and checked against what the solver was asked for; a
disagreement is a checker bug. docs/smt.md documents the file format.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from bufring.checker.judge import CheckerBug
from bufring.checker.smt.register import (
    CONFIG_BITS,
    REGISTER_BITS,
    Existing,
    list_accepts,
    model_config,
    model_register,
    register_path,
    symbolic_register,
)
from bufring.checker.smt.solver import decide
from bufring.model.actions import Register
from bufring.model.cint import CONCRETE, U64
from bufring.model.config import Config
from bufring.model.system import next_state
from bufring.model.rules import RegisterValues, wants_bufring
from bufring.model.state import INITIAL_STATE, get_queue
from bufring.model.uapi import FUSE_MIN_READ_BUFFER, FUSE_URING_BUFRING, REQ_HEADER_SZ
from bufring.model.variant import Variant

FIELD_BITS = {**REGISTER_BITS, **CONFIG_BITS}

CANONICAL = {"qid": 0, "buf_index": 0, "queue_depth": 2, "buf_size": 131072,
             "headers_base": 0x10000000, "headers_len": 2 * REQ_HEADER_SZ,
             "payload_base": 0x20000000, "payload_len": 3 * 131072,
             "nr_queues": 1, "max_payload_sz": 131072}
"""A plain server's REGISTER: two entries, three buffers of the default max payload."""


# --- which fields a rule reads -------------------------------------------------------------------

class _Reads:
    """A RegisterValues stand-in that records the fields a rule's predicate reads."""

    def __init__(self):
        self.read: set[str] = set()

    def __getattr__(self, name):
        if name in FIELD_BITS or name == "ring_queue_depth":
            self.read.add("queue_depth" if name == "ring_queue_depth" else name)
            return 1
        raise AttributeError(name)

    def ring_depth(self):
        self.read.add("queue_depth")
        return 1


def fields_read(rule) -> list[str]:
    """The REGISTER and ring fields ``rule.rejects`` reads, in a stable order."""
    probe = _Reads()
    rule.rejects(CONCRETE, probe)
    return [f for f in FIELD_BITS if f in probe.read]


# --- where each rule list sits in the REGISTER path ------------------------------------------------

def contexts(variant: Variant):
    """``(list name, rules, bufring flag, reach)``: ``reach(c, p, before)`` is the
    condition for the path to run the list's rule at index ``before``."""
    def gate(c, p, before):
        return list_accepts(c, variant.gate_rules[:before], p)

    def setup(c, p, before):
        return c.and_(list_accepts(c, variant.gate_rules, p), wants_bufring(c, p.flags),
                      list_accepts(c, variant.bufring_setup_rules[:before], p))

    def ent_bufring(c, p, before):
        return c.and_(setup(c, p, len(variant.bufring_setup_rules)),
                      list_accepts(c, variant.ent_bufring_rules[:before], p))

    def ent_legacy(c, p, before):
        return c.and_(list_accepts(c, variant.gate_rules, p), c.not_(wants_bufring(c, p.flags)),
                      list_accepts(c, variant.ent_legacy_rules[:before], p))

    return (("gate_rules", variant.gate_rules, True, gate),
            ("bufring_setup_rules", variant.bufring_setup_rules, True, setup),
            ("ent_bufring_rules", variant.ent_bufring_rules, True, ent_bufring),
            ("ent_legacy_rules", variant.ent_legacy_rules, False, ent_legacy))


def _neighbour(sym, p: RegisterValues, field: str, delta: int):
    """``p`` with ``field`` moved by ``delta``, and the condition that it does not wrap."""
    c, bits = sym.c, FIELD_BITS[field]
    x = getattr(p, field)
    if delta > 0:
        moved, ok = c.add(x, 1, bits), c.ult(x, sym.const((1 << bits) - 1, bits))
    else:
        moved, ok = c.sub(x, 1, bits), c.ugt(x, sym.const(0, bits))
    return dataclasses.replace(p, **{field: moved}), ok


def _canonical(sym, p: RegisterValues, keep: list[str], bufring: bool):
    c = sym.c
    out = []
    for f, value in CANONICAL.items():
        if f not in keep:
            out.append(c.eq(getattr(p, f), sym.const(value, FIELD_BITS[f])))
    if "flags" not in keep:
        out.append(c.eq(p.flags, sym.const(FUSE_URING_BUFRING if bufring else 0, U64)))
    return out


def boundary(variant: Variant, rule, index: int, reach, bufring: bool, field: str, delta: int,
             timeout: float, log=None):
    """``(config, accepted, config, rejected)`` across ``rule``'s boundary on ``field``
    (the rejected REGISTER is the accepted one with ``field`` moved by ``delta``), or None."""
    for whole, plain in ((True, True), (True, False), (False, True), (False, False)):
        ctx = {}

        def build(sym, whole=whole, plain=plain, ctx=ctx):
            c = sym.c
            p = ctx["p"] = symbolic_register(sym, "a")
            q, ok = _neighbour(sym, p, field, delta)
            if whole:       # the neighbour is a REGISTER the kernel accepts
                accepted = c.eq(register_path(c, variant, p, Existing.NONE).ret, sym.const(0, 32))
            else:           # no accepted neighbour exists: one that passes this rule
                accepted = c.and_(reach(c, p, index), c.not_(rule.rejects(c, p)))
            # A configuration a kernel can have: nr_queues >= 1, max_payload_sz at least
            # FUSE_MIN_READ_BUFFER (SEMANTICS §9), on both sides of the boundary.
            valid = c.and_(c.uge(q.nr_queues, sym.const(1, 32)),
                           c.uge(p.max_payload_sz, sym.const(FUSE_MIN_READ_BUFFER, 64)),
                           c.uge(q.max_payload_sz, sym.const(FUSE_MIN_READ_BUFFER, 64)))
            cons = [accepted, ok, valid, reach(c, q, index), rule.rejects(c, q)]
            if bufring is not None:
                cons.append(wants_bufring(c, p.flags) if bufring else c.not_(wants_bufring(c, p.flags)))
            return cons + (_canonical(sym, p, [field], bufring) if plain else [])
        sign = "+1" if delta > 0 else "-1"
        d = decide(build, timeout, name=f"vector: {rule.name} on {field} {sign}"
                   f"{'' if whole else ', passing the rule only'}{'' if plain else ' (free)'}",
                   log=log)
        if d.outcome.sat:
            sym, m, p = d.sym, d.outcome.model, ctx["p"]
            a = model_register(sym, m, p)
            cfg = model_config(sym, m, p)
            return (cfg, a) + _moved(a, cfg, field, delta)
        if d.outcome.unknown:
            return None
    return None


def _moved(a: Register, cfg: Config, field: str, delta: int):
    """``(config, REGISTER)`` with ``field`` moved by ``delta``."""
    if field in ("nr_queues", "max_payload_sz"):
        return dataclasses.replace(cfg, **{field: getattr(cfg, field) + delta}), a
    if field in ("headers_base", "headers_len", "payload_base", "payload_len"):
        name, at = field.split("_")[0], 0 if field.endswith("base") else 1
        pair = list(getattr(a, name))
        pair[at] += delta
        return cfg, a._replace(**{name: tuple(pair)})
    return cfg, a._replace(**{field: getattr(a, field) + delta})


def _passes(variant: Variant, rule, cfg: Config, reg: Register) -> bool:
    """The concrete REGISTER passes ``rule`` (another, later check rejects it)."""
    from bufring.model.register import register_values
    return not rule.rejects(CONCRETE, register_values(cfg, reg))


# --- the vectors ------------------------------------------------------------------------------------

def expect(variant: Variant, cfg: Config, reg: Register) -> dict:
    """What the concrete model answers: ``ret`` and, for an accepted bufring
    REGISTER, the ring's ``nbufs`` (null otherwise)."""
    state, obs = next_state(variant, cfg, INITIAL_STATE, reg)
    q = get_queue(state, reg.qid)
    nbufs = q.bufring.nbufs if obs.ret == 0 and q is not None and q.bufring is not None else None
    return {"ret": obs.ret, "nbufs": nbufs}


def vector(rule_name: str, side: str, cfg: Config, reg: Register, exp: dict) -> dict:
    return {"rule": rule_name, "side": side, "config": cfg.to_json(),
            "register": {"qid": reg.qid, "flags": reg.flags, "buf_index": reg.buf_index,
                         "queue_depth": reg.queue_depth, "buf_size": reg.buf_size,
                         "headers": list(reg.headers), "payload": list(reg.payload)},
            "expect": exp}


def register_vectors(variant: Variant, timeout: float, log=None, lists: tuple[str, ...] | None = None) -> list[dict]:
    """Every rule's boundary pairs: an ``accepted`` vector immediately followed by
    its ``rejected`` neighbour, rule by rule in the kernel's order (``lists``: only
    these rule lists, by hook name)."""
    out = []
    for name, rules, bufring, reach in contexts(variant):
        if lists is not None and name not in lists:
            continue
        for index, rule in enumerate(rules):
            for field in fields_read(rule):
                for delta in (-1, +1):
                    found = boundary(variant, rule, index, reach, bufring, field, delta, timeout, log)
                    if found is None:
                        continue
                    cfg_a, a, cfg_r, r = found
                    got_a, got_r = expect(variant, cfg_a, a), expect(variant, cfg_r, r)
                    if got_r["ret"] != -int(rule.errno) or (
                            got_a["ret"] != 0 and not _passes(variant, rule, cfg_a, a)):
                        raise CheckerBug(f"boundary of {rule.name} on {field}: the model answers "
                                         f"{got_a['ret']} / {got_r['ret']}, the solver expected "
                                         f"0 / {-int(rule.errno)}")
                    out += [vector(rule.name, "accepted", cfg_a, a, got_a),
                            vector(rule.name, "rejected", cfg_r, r, got_r)]
                    break
    return out


def write_vectors(path: str | Path, vectors: list[dict]) -> Path:
    """Write the vectors whole (temporary name, then renamed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(vectors, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
