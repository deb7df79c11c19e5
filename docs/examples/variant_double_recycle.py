"""A seeded bug, to show how a variant is written: every recycle hands the buffer back twice.

The patch's fuse_uring_recycle_buffer() writes the entry's buffer into slot
``tail % nbufs``, advances ``tail`` once and zeroes ``ent->payload_buf``. This
variant writes it twice, so ``tail`` runs two ahead for every buffer returned and
the ring believes it has more free buffers than exist. The explorer should find
the ring invariants broken within a few steps:

    bufring explore --variant docs/examples/variant_double_recycle.py:DoubleRecycle --scope enobufs
"""
from bufring.model.kernel import fuse_uring_recycle_buffer
from bufring.model.variant import V2


def recycle_twice(k, q, i):
    """fuse_uring_recycle_buffer() as in v2, run a second time for the same buffer.

    ``k`` is the step being built, ``q`` the queue (mutable for this step), ``i``
    the entry's index. The v2 function keeps its warnings (``recycle_full``) and
    the observation's ``recycled`` list up to date, so both recycles show.
    """
    held = q.ents[i].buf                       # buffer id in payload_buf (None: zeroed)
    fuse_uring_recycle_buffer(k, q, i)         # slot[tail % nbufs] = buf; tail++; zero payload_buf
    if held is not None and q.ents[i].buf is None:
        q.ents[i] = q.ents[i]._replace(buf=held)   # the seeded bug: the same buffer again
        fuse_uring_recycle_buffer(k, q, i)


DoubleRecycle = V2.derive(
    "double-recycle",
    "seeded bug: fuse_uring_recycle_buffer() returns each buffer to the ring twice",
    recycle_buffer=recycle_twice)
