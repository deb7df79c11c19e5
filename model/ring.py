"""Buffer ring of one queue (``struct fuse_bufring``, patch 10/14).

Free-running unsigned ``head``/``tail`` counters, physical slot = counter % nbufs,
``tail - head`` free buffers (SEMANTICS §1.4, §4.3, §8.2 items 11-12).

The ring part of select and recycle is written once, here, against the C integer
operations ``c`` (``model.cint``) and a slot interface ``a`` (``get``/``put``):
:func:`v2_select` and :func:`v2_recycle`, bundled as the :class:`RingLogic`
:data:`V2_RING`. The explorer runs them on concrete ints and a tuple of slots
(:func:`select`, :func:`recycle`: the variant hooks ``ring_select`` /
``ring_recycle``); the SMT engine runs the very same functions on z3 terms and a
z3 array of slots (``checker.smt.ring``). :func:`ring_hooks` turns any ring
logic into the two concrete hooks, tagged with the logic (``ring_logic``) so
that ``prove`` finds it again (docs/smt.md, "Which hooks prove reads").

The kernel keeps ``head``, ``tail`` and ``nbufs`` as ``unsigned int``; the model
lets the counter width be smaller (``Config.counter_bits``) so that wraparound is
reachable in a few steps. ``nbufs`` itself is never wider than 16 bits.

A slot holds a copy of ``struct fuse_bufring_buf {addr, len, id}``. Every value
ever written to a slot is a copy of one of the buffers set up at REGISTER, so a
slot is represented by the buffer id alone; ``addr`` and ``len`` follow from it
(``buffer_addr``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from bufring.model.cint import CONCRETE, U32, U64


class BufRing(NamedTuple):
    """The kernel's ``struct fuse_bufring`` plus the registration it came from.

    ``headers``, ``queue_depth``, ``nbufs``, ``head``, ``tail`` and ``slots`` are
    the kernel's fields. ``headers_len``, ``payload``, ``payload_len`` and
    ``buf_size`` are the creating REGISTER's values, which the kernel does not
    keep as such (it keeps them folded into ``bufs[]``); properties and the layout
    calculator read them.
    """

    headers: int            # user address of header slot 0 (iov[0].iov_base)
    queue_depth: int        # from the u16 init.queue_depth
    nbufs: int
    head: int               # counter_bits wide
    tail: int               # counter_bits wide
    slots: tuple[int, ...]  # buffer id held by each physical slot of bufs[]
    buf_size: int
    payload: int            # iov[1].iov_base: address of buffer 0
    headers_len: int        # iov[0].iov_len as registered (before import_iovec's cap)
    payload_len: int        # iov[1].iov_len as registered (before import_iovec's cap)


def free_count(c, head, tail, bits: int):
    """``tail - head`` in the counter width: the number of free buffers (§8.2 item 12)."""
    return c.sub(tail, head, bits)


def slot_index(c, counter, nbufs, bits: int):
    """``counter % nbufs``: the physical slot a head or tail counter names (§8.2 item 11)."""
    return c.urem(counter, nbufs, bits)


def is_empty(c, head, tail):
    """``tail == head``: ``fuse_uring_select_buffer()`` finds no buffer."""
    return c.eq(tail, head)


def recycle_warns(c, head, tail, nbufs, bits: int):
    """``tail - head >= nbufs``: the WARN_ON_ONCE of ``fuse_uring_recycle_buffer()``."""
    return c.uge(free_count(c, head, tail, bits), nbufs)


def next_counter(c, counter, bits: int):
    """``counter + 1``, wrapping at the counter width."""
    return c.add(counter, 1, bits)


def buffer_addr(c, payload, buf_size, buf_id):
    """``payload + id * buf_size`` as ``uintptr_t`` (the populate loop, §8.2 item 7)."""
    return c.add(payload, c.mul(c.zext(buf_size, U32, U64), c.zext(buf_id, U32, U64), U64), U64)


def initial_ring(headers: int, queue_depth: int, nbufs: int, buf_size: int, payload: int,
                 headers_len: int, payload_len: int, counter_start: int,
                 bits: int) -> BufRing:
    """The ring as ``fuse_uring_bufring_setup()`` leaves it, advanced to ``counter_start``.

    The kernel starts at ``head = 0, tail = nbufs`` with slot i holding buffer i.
    ``counter_start`` pre-advances both counters by that many select/recycle pairs
    of one entry, which leaves every slot holding its own buffer again (TRACE-FORMAT
    ``config.counter_start``); callers check ``counter_start + nbufs <= 2**bits``.
    """
    c = CONCRETE
    head = c.const(counter_start, bits)
    return BufRing(headers=headers, queue_depth=queue_depth, nbufs=nbufs,
                   head=head, tail=c.add(head, nbufs, bits), slots=tuple(range(nbufs)),
                   buf_size=buf_size, payload=payload, headers_len=headers_len,
                   payload_len=payload_len)


class RingVals(NamedTuple):
    """``head``, ``tail``, ``nbufs`` and the slots of ``struct fuse_bufring``: what
    the ring logic reads and writes, as ints or as z3 terms."""

    head: Any
    tail: Any
    nbufs: Any
    slots: Any


class TupleSlots:
    """Slots as the model keeps them (``BufRing.slots``): a tuple of buffer ids."""

    @staticmethod
    def get(slots: tuple[int, ...], i: int) -> int:
        return slots[i]

    @staticmethod
    def put(slots: tuple[int, ...], i: int, value: int) -> tuple[int, ...]:
        return slots[:i] + (value,) + slots[i + 1:]


def v2_select(c, a, r: RingVals, bits: int):
    """Models the ring part of ``fuse_uring_select_buffer()``: empty iff
    ``tail == head``; else the buffer in slot ``head % nbufs``, and ``head + 1``.

    Returns ``(empty, buf_id, ring')``; ``buf_id`` and ``ring'`` mean something only
    when not ``empty``. Concretely an empty ring reads no slot, as the kernel
    returns ``-ENOBUFS`` first; symbolically the read is a term like any other.
    """
    empty = is_empty(c, r.head, r.tail)
    if not c.symbolic and empty:
        return empty, None, r
    buf = a.get(r.slots, slot_index(c, r.head, r.nbufs, bits))
    return empty, buf, r._replace(head=next_counter(c, r.head, bits))


def v2_recycle(c, a, r: RingVals, buf, bits: int):
    """Models the ring part of ``fuse_uring_recycle_buffer()``: the WARN_ON_ONCE when
    ``tail - head >= nbufs``, then (the kernel writes anyway) slot ``tail % nbufs``
    and ``tail + 1``. Returns ``(warned, ring')``."""
    warned = recycle_warns(c, r.head, r.tail, r.nbufs, bits)
    slots = a.put(r.slots, slot_index(c, r.tail, r.nbufs, bits), buf)
    return warned, r._replace(tail=next_counter(c, r.tail, bits), slots=slots)


@dataclass(frozen=True)
class RingLogic:
    """The ring part of select and recycle, for every interpretation of ``c``.

    ``select(c, a, r, bits) -> (empty, buf_id, r')`` and
    ``recycle(c, a, r, buf_id, bits) -> (warned, r')``, where ``a`` is the slot
    interface (``get``/``put``) and ``r`` a :class:`RingVals`.
    """

    name: str
    doc: str
    select: Callable
    recycle: Callable
    concrete: dict = field(default_factory=dict, compare=False, repr=False)
    """Results on concrete rings already computed (:func:`select_with`,
    :func:`recycle_with`): the logic is a function of its inputs alone, which the
    SMT engine relies on too, and the explorer meets the same ring thousands of
    times. Emptied when it reaches :data:`CONCRETE_MEMO_SIZE` entries."""


V2_RING = RingLogic("v2", "the patch as posted: slot = counter % nbufs, 32-bit free-running counters",
                    v2_select, v2_recycle)


CONCRETE_MEMO_SIZE = 100_000
"""Entries of ``RingLogic.concrete`` before it is emptied (a bound on its memory)."""


def _remember(logic: RingLogic, key: tuple, result):
    memo = logic.concrete
    if len(memo) >= CONCRETE_MEMO_SIZE:
        memo.clear()
    memo[key] = result
    return result


def select_with(logic: RingLogic, ring: BufRing, bits: int) -> tuple[BufRing, int] | None:
    """``logic``'s select on a concrete ring: the new ring and the buffer id, or
    None when the ring is empty (the caller turns that into ``-ENOBUFS``)."""
    key = ("select", ring, bits)
    if key in logic.concrete:
        return logic.concrete[key]
    empty, buf, r = logic.select(CONCRETE, TupleSlots, RingVals(ring.head, ring.tail, ring.nbufs,
                                                                ring.slots), bits)
    if empty:
        return _remember(logic, key, None)
    return _remember(logic, key, (ring._replace(head=r.head, tail=r.tail, slots=r.slots), buf))


def recycle_with(logic: RingLogic, ring: BufRing, buf_id: int, bits: int) -> tuple[BufRing, bool]:
    """``logic``'s recycle on a concrete ring: the new ring and whether it WARNed."""
    key = ("recycle", ring, buf_id, bits)
    hit = logic.concrete.get(key)
    if hit is not None:
        return hit
    warned, r = logic.recycle(CONCRETE, TupleSlots, RingVals(ring.head, ring.tail, ring.nbufs,
                                                             ring.slots), buf_id, bits)
    return _remember(logic, key, (ring._replace(head=r.head, tail=r.tail, slots=r.slots), bool(warned)))


def select(ring: BufRing, bits: int) -> tuple[BufRing, int] | None:
    """Models the ring part of ``fuse_uring_select_buffer()`` (:data:`V2_RING`): take
    slot ``head % nbufs``. The new ring and the buffer id, or None when empty."""
    return select_with(V2_RING, ring, bits)


def recycle(ring: BufRing, buf_id: int, bits: int) -> tuple[BufRing, bool]:
    """Models the ring part of ``fuse_uring_recycle_buffer()`` (:data:`V2_RING`):
    write slot ``tail % nbufs``. The new ring and whether the kernel's WARN_ON_ONCE
    (ring already full) fires; the kernel warns and writes anyway, and so does the
    model."""
    return recycle_with(V2_RING, ring, buf_id, bits)


select.ring_logic = recycle.ring_logic = V2_RING


def ring_hooks(logic: RingLogic) -> dict[str, Callable]:
    """The concrete ``ring_select`` / ``ring_recycle`` hooks of ``logic``, for
    ``Variant.derive(**ring_hooks(logic))``, tagged with it (``ring_logic``)."""

    def ring_select(bufring: BufRing, bits: int) -> tuple[BufRing, int] | None:
        return select_with(logic, bufring, bits)

    def ring_recycle(bufring: BufRing, buf_id: int, bits: int) -> tuple[BufRing, bool]:
        return recycle_with(logic, bufring, buf_id, bits)

    ring_select.ring_logic = ring_recycle.ring_logic = logic
    ring_select.__doc__ = f"ring_select of ring logic {logic.name!r}: {logic.doc}"
    ring_recycle.__doc__ = f"ring_recycle of ring logic {logic.name!r}: {logic.doc}"
    return {"ring_select": ring_select, "ring_recycle": ring_recycle}


def free_window(ring: BufRing, bits: int) -> tuple[int, ...]:
    """Buffer ids in the free window ``[head, tail)``, in the order select takes them.

    All ``tail - head`` positions: a window longer than ``nbufs`` reads slots twice,
    and shows so (that is what ``ring.count_bounded`` and ``ring.conservation`` see).
    """
    c = CONCRETE
    out = []
    counter = ring.head
    for _ in range(free_count(c, ring.head, ring.tail, bits)):
        out.append(ring.slots[slot_index(c, counter, ring.nbufs, bits)])
        counter = next_counter(c, counter, bits)
    return tuple(out)
