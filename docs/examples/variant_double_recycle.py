"""A seeded bug, to show how a variant is written: recycle forgets to zero payload_buf.

The patch's fuse_uring_recycle_buffer() writes the entry's buffer into slot
``tail % nbufs``, advances ``tail`` and then zeroes ``ent->payload_buf``. This
variant leaves out the last step: the entry still "holds" the buffer it has just
handed back, so the next time it goes idle it recycles the same buffer again.

    bufring explore --variant docs/examples/variant_double_recycle.py:DoubleRecycle --scope enobufs
"""
from bufring.model.kernel import fuse_uring_recycle_buffer
from bufring.model.variant import V2


def recycle_keeps_payload_buf(k, q, i):
    """fuse_uring_recycle_buffer() as in v2, but payload_buf is not zeroed."""
    held = q.ents[i].buf                   # the buffer id payload_buf copies (None: zeroed)
    fuse_uring_recycle_buffer(k, q, i)     # v2: write the slot, tail++, zero payload_buf
    q.ents[i] = q.ents[i]._replace(buf=held)   # the seeded bug: undo the zeroing


DoubleRecycle = V2.derive(
    "double-recycle",
    "seeded bug: fuse_uring_recycle_buffer() does not zero payload_buf",
    recycle_buffer=recycle_keeps_payload_buf)
