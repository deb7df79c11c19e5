"""Contracts over REGISTER parameters, for every value the rules accept.

Each catalog property that speaks of what REGISTERs set up becomes a list of
:class:`Obligation` s: the negation of one conjunct of the property's predicate
(``specs.predicates``), over symbolic REGISTERs whose acceptance is the
variant's own rule lists (``checker.smt.register``). An unsat obligation is
proved for all parameter values (and every ``nr_queues`` and
``max_payload_sz``); a sat one is a REGISTER (or two) that breaks it, which
``checker.smt.prove`` writes as a trace and replays before reporting.

Overflow questions (u64 base + length, u32 sizes times counts, u16 ids, the
narrowing of ``nr_bufs``, the ``int`` header offset) are obligations marked
``fact``: each is answered and shown in the verdict's coverage, and none decides
a verdict on its own, since a wrap the predicate cannot observe is not a
violation of the property as the catalog defines it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bufring.checker.smt.register import (
    RET_BITS,
    Existing,
    creates_bufring,
    creates_queue,
    joining,
    model_config,
    model_register,
    reads_join_symbolically,
    register_path,
    symbolic_register,
)
from bufring.model.cint import U16, U32, U64
from bufring.model.errno import Errno
from bufring.model.ring import buffer_addr
from bufring.model.rules import RegisterValues, nr_bufs, payload_size, wants_bufring
from bufring.model.uapi import (
    HEADER_OFFSET_RING_ENT,
    NBUFS_MAX,
    REQ_HEADER_SZ,
    VALID_INIT_FLAGS,
    header_slot,
)
from bufring.model.variant import Variant

INT_MAX = (1 << 31) - 1


@dataclass
class Built:
    """One obligation as a query: ``violation`` constraints (sat = counterexample)
    and how to read a model back as trace steps."""

    violation: list
    decode: Callable            # (sym, model) -> (Config, [Register, ...])
    opaque: bool = False        # a hook was over-approximated: a model may not replay
    registers: list = field(default_factory=list)   # the symbolic REGISTERs, in step order


@dataclass(frozen=True)
class Obligation:
    """One conjunct of a property, negated: ``build(sym, variant, cfg) -> Built``."""

    property: str
    name: str
    build: Callable
    fact: bool = False          # an overflow question: reported, not a verdict
    steps: int = 1              # REGISTERs in a counterexample


# --- helpers -----------------------------------------------------------------------------------

def _exact(sym, x, bits):
    return sym.nat(x, bits)


def _one(p: RegisterValues):
    def decode(sym, model):
        return model_config(sym, model, p), [model_register(sym, model, p)]
    return decode


def _two(p0: RegisterValues, p1: RegisterValues):
    def decode(sym, model):
        return model_config(sym, model, p0), [model_register(sym, model, p0),
                                               model_register(sym, model, p1)]
    return decode


def _buffer(sym, p: RegisterValues, i):
    """Buffer ``i`` of the ring ``p`` sets up: its ``uintptr_t`` address as the
    populate loop computes it (``model.ring.buffer_addr``)."""
    return buffer_addr(sym.c, p.payload_base, p.buf_size, i)


def _join(sym, variant: Variant, p0: RegisterValues, name: str, existing: Existing):
    """A second REGISTER meeting the queue ``p0`` created, and whether the join
    hook is read symbolically or left free (``opaque``)."""
    depth = p0.queue_depth if existing is Existing.BUFRING else None
    p1 = joining(p0, symbolic_register(sym, name), depth)
    join_ok = None if reads_join_symbolically(variant) else sym.bool(f"{name}.join_ok")
    return p1, register_path(sym.c, variant, p1, existing, join_ok), join_ok is not None


# --- ring.buf_in_region -------------------------------------------------------------------------

def _region(sym, variant: Variant, cfg, conjunct: str) -> Built:
    c = sym.c
    p = symbolic_register(sym, "p", cfg)
    n = nr_bufs(c, p)
    i = sym.var("i", U32)
    a = _buffer(sym, p, i)
    base, length, size = (_exact(sym, p.payload_base, U64), _exact(sym, p.payload_len, U64),
                          _exact(sym, p.buf_size, U32))
    start = _exact(sym, a, U64)
    if conjunct == "inside":
        bad = [c.ult(i, n), c.or_(start < base, start + size > base + length)]
    elif conjunct == "disjoint":
        nxt = _exact(sym, _buffer(sym, p, c.add(i, 1, U32)), U64)
        bad = [c.ult(c.add(i, 1, U32), n), c.ugt(c.add(i, 1, U32), i), start + size > nxt]
    else:  # "size"
        bad = [c.ult(c.zext(p.buf_size, U32, U64), p.max_payload_sz)]
    return Built([creates_bufring(c, variant, p), *bad], _one(p), registers=[p])


def _region_fact(sym, variant: Variant, cfg, question: str) -> Built:
    c = sym.c
    p = symbolic_register(sym, "p", cfg)
    n = nr_bufs(c, p)
    created = creates_bufring(c, variant, p)
    if question == "payload_end":
        bad = [c.add_overflows(p.payload_base, p.payload_len, U64)]
    elif question == "addr_wrap":
        i = sym.var("i", U32)
        exact = _exact(sym, p.payload_base, U64) + _exact(sym, i, U32) * _exact(sym, p.buf_size, U32)
        bad = [c.ult(i, n), exact > (1 << 64) - 1]
    elif question == "pool_size":
        bad = [_exact(sym, n, U32) * _exact(sym, p.buf_size, U32) > _exact(sym, payload_size(c, p), U64)]
    else:  # "narrowing": size_t quotient narrowed to unsigned int
        q = c.udiv(payload_size(c, p), c.zext(p.buf_size, U32, U64), U64)
        bad = [c.uge(q, c.const(1 << 32, U64))]
    return Built([created, *bad], _one(p), registers=[p])


# --- hdr.slot_bounds ------------------------------------------------------------------------------

def _slot_addr(sym, headers, ent_id):
    """``bufring->headers + 288 * ent->id`` as copy_header_to_ring() forms it:
    ``model.uapi.header_slot`` on operands widened to 64 bits, wrapping at 2^64
    (``model.kernel.header_addr``)."""
    c = sym.c
    return c.trunc(header_slot(c.zext(headers, U64, U64), c.zext(ent_id, U16, U64)), U64)


def _outside_headers(sym, p: RegisterValues, ent_id):
    start = _exact(sym, _slot_addr(sym, p.headers_base, ent_id), U64)
    base, length = _exact(sym, p.headers_base, U64), _exact(sym, p.headers_len, U64)
    return sym.c.or_(start < base, start + REQ_HEADER_SZ > base + length)


def _slot_own(sym, variant: Variant, cfg) -> Built:
    """The entry of the REGISTER that creates the queue."""
    c = sym.c
    p = symbolic_register(sym, "p", cfg)
    out = register_path(c, variant, p, Existing.NONE)
    return Built([out.ent, wants_bufring(c, p.flags), _outside_headers(sym, p, p.buf_index)], _one(p), registers=[p])


def _slot_joined(sym, variant: Variant, cfg) -> Built:
    """The entry of a later REGISTER on the queue (its buf_index, the queue's headers)."""
    c = sym.c
    p0 = symbolic_register(sym, "p0", cfg)
    p1, out, opaque = _join(sym, variant, p0, "p1", Existing.BUFRING)
    return Built([creates_bufring(c, variant, p0), out.ent, _outside_headers(sym, p0, p1.buf_index)],
                 _two(p0, p1), opaque, [p0, p1])


def _slot_fact(sym, variant: Variant, cfg, question: str) -> Built:
    c = sym.c
    p = symbolic_register(sym, "p", cfg)
    if question == "depth_product":
        exact = _exact(sym, p.queue_depth, U16) * REQ_HEADER_SZ
        bad = [exact > INT_MAX]
    elif question == "offset_int":
        bad = [_exact(sym, p.buf_index, U16) * REQ_HEADER_SZ + HEADER_OFFSET_RING_ENT > INT_MAX]
    else:  # "headers_end"
        bad = [creates_bufring(c, variant, p), c.add_overflows(p.headers_base, p.headers_len, U64)]
    return Built(bad, _one(p), registers=[p])


# --- ring.buf_id_fits (the contract part) -----------------------------------------------------------

def _ids_fact(sym, variant: Variant, cfg) -> Built:
    c = sym.c
    p = symbolic_register(sym, "p", cfg)
    return Built([creates_bufring(c, variant, p),
                  c.ugt(nr_bufs(c, p), c.const(NBUFS_MAX + 1, U32))], _one(p), registers=[p])


# --- reg.unknown_flags_rejected -------------------------------------------------------------------

def _unknown_flags(c, flags):
    """The property's own test: a bit outside ``VALID_INIT_FLAGS`` is set."""
    return c.ne(c.band(flags, c.const(~VALID_INIT_FLAGS, U64), U64), c.const(0, U64))


def _flags(sym, variant: Variant, cfg, existing: Existing) -> Built:
    c = sym.c
    einval = c.const(-int(Errno.EINVAL), RET_BITS)
    if existing is Existing.NONE:
        p = symbolic_register(sym, "p", cfg)
        out = register_path(c, variant, p, existing)
        return Built([_unknown_flags(c, p.flags),
                      c.or_(c.ne(out.ret, einval), out.created, out.ent)], _one(p), registers=[p])
    p0 = symbolic_register(sym, "p0", cfg)
    if existing is Existing.BUFRING:
        exists = creates_bufring(c, variant, p0)
    else:
        exists = c.and_(creates_queue(c, variant, p0), c.not_(wants_bufring(c, p0.flags)))
    p1, out, opaque = _join(sym, variant, p0, "p1", existing)
    return Built([exists, _unknown_flags(c, p1.flags), c.or_(c.ne(out.ret, einval), out.ent)],
                 _two(p0, p1), opaque, [p0, p1])


# --- reg.no_partial_effect -----------------------------------------------------------------------

def _partial(sym, variant: Variant, cfg) -> Built:
    c = sym.c
    p = symbolic_register(sym, "p", cfg)
    out = register_path(c, variant, p, Existing.NONE)
    return Built([out.rejected(c), out.created], _one(p), registers=[p])


# --- the table -----------------------------------------------------------------------------------

def _with(fn, *args):
    return lambda sym, variant, cfg: fn(sym, variant, cfg, *args)


OBLIGATIONS: tuple[Obligation, ...] = (
    Obligation("ring.buf_in_region", "every buffer lies inside iov[1] (exact arithmetic)",
               _with(_region, "inside")),
    Obligation("ring.buf_in_region", "consecutive buffers do not overlap",
               _with(_region, "disjoint")),
    Obligation("ring.buf_in_region", "every buffer is at least max_payload_sz long",
               _with(_region, "size")),
    Obligation("ring.buf_in_region", "u64 iov[1] base + length does not wrap",
               _with(_region_fact, "payload_end"), fact=True),
    Obligation("ring.buf_in_region", "u64 buffer address base + i * buf_size does not wrap",
               _with(_region_fact, "addr_wrap"), fact=True),
    Obligation("ring.buf_in_region", "nr_bufs * buf_size (u32 x u32) fits payload_size",
               _with(_region_fact, "pool_size"), fact=True),
    Obligation("ring.buf_in_region", "size_t -> unsigned int narrowing of nr_bufs is exact",
               _with(_region_fact, "narrowing"), fact=True),
    Obligation("hdr.slot_bounds", "the creating REGISTER's header slot lies in iov[0]", _slot_own),
    Obligation("hdr.slot_bounds", "a joining REGISTER's header slot lies in the queue's iov[0]",
               _slot_joined, steps=2),
    Obligation("hdr.slot_bounds", "queue_depth * 288 (u16 promoted) fits int",
               _with(_slot_fact, "depth_product"), fact=True),
    Obligation("hdr.slot_bounds", "header offset 256 + 288 * id fits int (buf_offset)",
               _with(_slot_fact, "offset_int"), fact=True),
    Obligation("hdr.slot_bounds", "u64 iov[0] base + length does not wrap",
               _with(_slot_fact, "headers_end"), fact=True),
    Obligation("ring.buf_id_fits", "every buffer id (< nr_bufs) fits the u16 buf_id",
               _ids_fact, fact=True),
    Obligation("reg.unknown_flags_rejected", "no queue yet: -EINVAL, nothing created",
               _with(_flags, Existing.NONE)),
    Obligation("reg.unknown_flags_rejected", "on a bufring queue: -EINVAL, no entry",
               _with(_flags, Existing.BUFRING), steps=2),
    Obligation("reg.unknown_flags_rejected", "on a legacy queue: -EINVAL, no entry",
               _with(_flags, Existing.LEGACY), steps=2),
    Obligation("reg.no_partial_effect", "a rejected REGISTER publishes no queue", _partial),
)
"""Every obligation, by property. ``reg.no_partial_effect`` needs only the REGISTER
that meets no queue: on an existing queue the entry is added last, after every
check, so a rejected REGISTER changes nothing there (``fuse_uring_register()``)."""

CONTRACT_PROPERTIES = ("ring.buf_in_region", "hdr.slot_bounds", "reg.unknown_flags_rejected",
                       "reg.no_partial_effect")
"""Properties decided by contracts alone (``ring.buf_id_fits`` adds the ring induction)."""


def obligations_for(prop_id: str) -> tuple[Obligation, ...]:
    return tuple(o for o in OBLIGATIONS if o.property == prop_id)


# --- readable counterexamples ---------------------------------------------------------------------

def _plain_values(index: int) -> dict:
    from bufring.checker.smt.register import REGISTER_BITS
    from bufring.checker.smt.vectors import CANONICAL
    from bufring.model.uapi import FUSE_URING_BUFRING
    values = {"flags": FUSE_URING_BUFRING}
    values.update({f: v for f, v in CANONICAL.items() if f in REGISTER_BITS})
    values["buf_index"] = index
    return values


def canonical_preferences(run, o: Obligation, d, ctx: dict):
    """The counterexample of ``o`` with as many fields as possible at a plain
    server's values (one greedy query per field), so that a reader sees what
    matters. Returns the last satisfiable ``(decision, ctx)``."""
    from bufring.checker.smt.register import REGISTER_BITS
    from bufring.checker.smt.solver import decide
    cfg = ctx.get("cfg")
    chosen: list = []
    best = (d, ctx)
    for index in range(len(ctx["built"].registers)):
        for name, value in _plain_values(index).items():
            trial = chosen + [(index, name, value)]
            c2 = {"cfg": cfg}

            def build(sym, trial=trial, c2=c2):
                built = c2["built"] = o.build(sym, run.variant, cfg)
                return built.violation + [
                    sym.c.eq(getattr(built.registers[i], f), sym.const(v, REGISTER_BITS[f]))
                    for i, f, v in trial]
            dd = decide(build, min(run.timeout, 2.0), name=f"{o.name}: plain {name} of REGISTER {index + 1}",
                        log=run.log)
            if dd.outcome.sat:
                chosen, best = trial, (dd, c2)
    return best
