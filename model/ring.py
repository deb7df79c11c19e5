"""Buffer ring of one queue (``struct fuse_bufring``, patch 10/14).

Free-running unsigned ``head``/``tail`` counters, physical slot = counter % nbufs,
``tail - head`` free buffers (SEMANTICS §1.4, §4.3, §8.2 items 11-12).

The arithmetic helpers take the C integer operations ``c`` and the counter width,
so the explorer (concrete ints) and the SMT engine (z3 terms) run the same code.
The kernel keeps ``head``, ``tail`` and ``nbufs`` as ``unsigned int``; the model
lets the counter width be smaller (``Config.counter_bits``) so that wraparound is
reachable in a few steps. ``nbufs`` itself is never wider than 16 bits.

A slot holds a copy of ``struct fuse_bufring_buf {addr, len, id}``. Every value
ever written to a slot is a copy of one of the buffers set up at REGISTER, so a
slot is represented by the buffer id alone; ``addr`` and ``len`` follow from it
(``buffer_addr``).
"""
from __future__ import annotations

from typing import NamedTuple

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


def select(ring: BufRing, bits: int) -> tuple[BufRing, int] | None:
    """Models the ring part of ``fuse_uring_select_buffer()``: take slot ``head % nbufs``.

    Returns the new ring and the buffer id, or None when the ring is empty (the
    caller turns that into ``-ENOBUFS``).
    """
    c = CONCRETE
    if is_empty(c, ring.head, ring.tail):
        return None
    buf_id = ring.slots[slot_index(c, ring.head, ring.nbufs, bits)]
    return ring._replace(head=next_counter(c, ring.head, bits)), buf_id


def recycle(ring: BufRing, buf_id: int, bits: int) -> tuple[BufRing, bool]:
    """Models the ring part of ``fuse_uring_recycle_buffer()``: write slot ``tail % nbufs``.

    Returns the new ring and whether the kernel's WARN_ON_ONCE (ring already full)
    fires. The kernel warns and writes anyway, and so does the model.
    """
    c = CONCRETE
    warned = recycle_warns(c, ring.head, ring.tail, ring.nbufs, bits)
    i = slot_index(c, ring.tail, ring.nbufs, bits)
    slots = ring.slots[:i] + (buf_id,) + ring.slots[i + 1:]
    return ring._replace(tail=next_counter(c, ring.tail, bits), slots=slots), warned


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
